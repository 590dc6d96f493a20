"""The one normalized record shape that every feed adapter produces.

Adapters are pure functions ``parse(raw: bytes) -> ParsedSnapshot``. They normalize units
(through ``schema.domain.money.to_per_mtok``) and field names, but they do not decide
identity: which canonical model or provider a record belongs to is decided later by
``schema.ingest.identity`` from ``provider``, ``provider_model_id`` and ``identity_hints``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from schema.domain.observations import (
    BenchmarkObservation,
    PriceObservation,
)


class SnapshotError(Exception):
    """A snapshot that cannot be used at all (malformed, truncated, empty, wrong format,
    too large, too many invalid records). The run fails whole and nothing changes."""


@dataclass(frozen=True)
class FeedRecord:
    """One route as one feed describes it: a provider serving a model under an id.

    None means "the feed does not say"; it never means false or zero.
    """

    provider: str
    """The feed's own id for the provider ('bedrock_converse', 'amazon-bedrock', 'openrouter')."""
    provider_model_id: str
    """The model id exactly as the feed gives it for this provider."""
    name: str | None = None
    provider_name: str | None = None
    creator: str | None = None
    """The creator as the feed names it ('qwen', 'Qwen', 'anthropic'), when it says."""
    identity_hints: tuple[str, ...] = ()
    """Other names the feed itself ties to this model (OpenRouter canonical_slug and
    hugging_face_id, models.dev base_model, ...). Identity rules use them; never guesses."""
    context_window: int | None = None
    max_output_tokens: int | None = None
    input_modalities: tuple[str, ...] | None = None
    output_modalities: tuple[str, ...] | None = None
    capabilities: frozenset[str] | None = None
    """Names of schema capability enum members: VISION, REASONING, FUNCTION_CALLING, ..."""
    released_on: date | None = None
    knowledge_cutoff: date | None = None
    license: str | None = None
    open_weights: bool | None = None
    benchmarks: tuple[BenchmarkObservation, ...] = ()
    price: PriceObservation | None = None
    """The price the feed says is in force now; None when it publishes none."""
    price_history: tuple[PriceObservation, ...] = ()
    """Dated prices the feed carries besides the current one (past and future)."""
    url: str | None = None
    """Where a person can check this record (the feed's page or file for it)."""


@dataclass(frozen=True)
class InvalidRecord:
    """A record skipped as unusable, with the field at fault and why."""

    record: str
    field: str
    reason: str

    def describe(self, feed: str) -> str:
        return f"{feed}: record {self.record!r}, field {self.field!r}: {self.reason}"


@dataclass
class ParsedSnapshot:
    feed: str
    records: list[FeedRecord] = field(default_factory=list)
    invalid: list[InvalidRecord] = field(default_factory=list)
    published_at: datetime | None = None
    """The snapshot's own timestamp, where it carries one."""
