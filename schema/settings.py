"""Settings: one pydantic-settings class, prefix LLMREF_, passed explicitly to whoever needs it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schema.tasks import DEFAULT_RUN_LEASE_SECONDS

DEFAULT_DATABASE_URL = "sqlite:///llmref.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LLMREF_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL. sqlite:///path (embedded default) or postgresql+psycopg://...",
    )
    database_pool_size: int = Field(
        default=5,
        ge=1,
        description="PostgreSQL connections each API process keeps open for queries (a query's data loaders may hold several at once).",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        description="PostgreSQL connections an API process may open beyond the pool under load (closed when returned).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the broker, the event stream, the comparison cache, cache generations, the response cache's validation and persisted queries; unset keeps the comparison cache in-process and turns the response cache off.",
    )
    task_soft_time_limit_seconds: int = Field(
        default=240, description="A feed run is asked to stop after this long."
    )
    task_time_limit_seconds: int = Field(
        default=300, description="A feed run is killed after this long; the sweep reclaims it."
    )
    run_lease_seconds: float = Field(
        default=DEFAULT_RUN_LEASE_SECONDS,
        gt=0,
        description="A running feed run's process renews its lease this often x3; a run whose lease has passed lost its process and is reclaimed (ended FAILED, a new run queued).",
    )
    visibility_timeout_seconds: int = Field(
        default=3600,
        description="Redis broker: an unacknowledged task is redelivered after this long (keep it above the hard limit).",
    )
    fetch_retries: int = Field(
        default=5, description="Retries of a feed fetch that failed transiently."
    )
    retry_backoff_seconds: float = Field(
        default=30,
        description="First retry delay; doubles each attempt (with jitter), capped at 10 minutes.",
    )
    fetch_connect_timeout_seconds: float = Field(
        default=10, description="Feed fetch connect timeout."
    )
    fetch_read_timeout_seconds: float = Field(default=30, description="Feed fetch read timeout.")
    fetch_max_bytes: int = Field(
        default=64 * 1024 * 1024, description="Largest feed snapshot accepted."
    )
    implausible_price_factor: Decimal = Field(
        default=Decimal(10),
        description="A feed's price moving more than this many times (or a paid price to zero) is held for review.",
    )
    run_feeds: bool = Field(
        default=True,
        description="`llmref serve` without Redis polls the feed sources on their schedule in-process.",
    )
    event_retention_days: int = Field(
        default=30, ge=1, description="Price-change events are kept (and replayable) this long."
    )
    event_poll_seconds: float = Field(
        default=3,
        description="Each API process also checks for new events this often without a wake-up.",
    )
    subscriber_queue_size: int = Field(
        default=1000,
        description="Events buffered per subscriber; a client that falls further behind is ended with SLOW_CONSUMER.",
    )
    max_subscriptions_per_connection: int = Field(
        default=20, description="Subscriptions one websocket may hold."
    )
    ws_ping_interval_seconds: float = Field(
        default=15, description="graphql-transport-ws keep-alive ping interval."
    )
    ws_max_connection_seconds: float = Field(
        default=3600,
        description="A websocket is closed after this long; clients reconnect and resume with `after`.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed by CORS, comma-separated; empty allows none, * all.",
    )
    max_page_size: int = Field(
        default=200,
        ge=100,
        description="The largest `first` a list accepts; at least 100, the largest default page.",
    )
    page_cache_rows: int = Field(
        default=20_000,
        ge=0,
        description="Rows (models, offerings, providers, prices; about 1.8 KB each) of `models` pages each API process keeps between requests, checked against the catalog generation (needs Redis); 0 keeps none.",
    )
    max_query_depth: int = Field(default=12, description="Deepest selection nesting accepted.")
    max_aliases: int = Field(default=30, description="Most field aliases one document may use.")
    max_body_bytes: int = Field(
        default=1024 * 1024,
        description="Largest HTTP request body accepted on /graphql (413 PAYLOAD_TOO_LARGE beyond).",
    )
    max_document_bytes: int = Field(
        default=32 * 1024,
        description="Largest GraphQL document accepted, checked before parsing (DOCUMENT_TOO_LARGE).",
    )
    max_document_tokens: int = Field(
        default=5000, description="Most lexical tokens a document may have; parsing stops there."
    )
    max_query_cost: int = Field(
        default=250_000,
        description="Most work an operation may ask for: every field counts once per item of the lists around it (QUERY_TOO_COSTLY).",
    )
    operation_timeout_seconds: float = Field(
        default=15,
        description="A query or mutation still running after this long is ended (TIMEOUT).",
    )
    env: Literal["development", "production"] = Field(
        default="development",
        description="production turns introspection, GraphiQL and text logs off unless set explicitly.",
    )
    introspection: bool | None = Field(
        default=None, description="Allow schema introspection; unset: on except in production."
    )
    graphiql: bool | None = Field(
        default=None, description="Serve GraphiQL at GET /graphql; unset: on except in production."
    )
    log_format: Literal["text", "json"] | None = Field(
        default=None, description="Log lines as text or as JSON objects; unset: json in production."
    )
    rate_limit_window_seconds: int = Field(
        default=60, ge=1, description="Length of the fixed window the rate limits count in."
    )
    rate_limit_mutations: int = Field(
        default=60,
        ge=0,
        description="Mutations one API key, and one client address, may send per window (0: no limit).",
    )
    rate_limit_subscriptions: int = Field(
        default=120,
        ge=0,
        description="Subscriptions one API key, and one client address, may start per window (0: no limit).",
    )
    load_catalog_on_start: bool = Field(
        default=True,
        description="`llmref serve` loads the offline catalog (curated file and bundled feeds) into an empty database.",
    )

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else self.env != "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.env != "production"

    @property
    def json_logs(self) -> bool:
        return (self.log_format or ("json" if self.env == "production" else "text")) == "json"

    @model_validator(mode="after")
    def _limits_are_ordered(self) -> Settings:
        if (
            not self.task_soft_time_limit_seconds
            < self.task_time_limit_seconds
            < self.visibility_timeout_seconds
        ):
            raise ValueError(
                "need task_soft_time_limit_seconds < task_time_limit_seconds < visibility_timeout_seconds"
            )
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value
