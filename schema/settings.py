"""Settings: one pydantic-settings class, prefix LLMREF_, passed explicitly to whoever needs it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///llmref.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LLMREF_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL. sqlite:///path (embedded default) or postgresql+psycopg://...",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the comparison cache (and later the broker and events); unset keeps the cache in-process.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed by CORS, comma-separated; empty allows none, * all.",
    )
    max_page_size: int = Field(default=200, description="The largest `first` a list accepts.")
    max_query_depth: int = Field(default=12, description="Deepest selection nesting accepted.")
    max_aliases: int = Field(default=30, description="Most field aliases one document may use.")
    load_catalog_on_start: bool = Field(
        default=True,
        description="`llmref serve` loads the offline catalog (curated file and bundled feeds) into an empty database.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value
