"""models.dev ``api.json``: ``{provider id: {id, name, doc, ..., models: {model id: model}}}``.

Costs are USD per 1M tokens. Long-context prices: ``cost.tiers`` entries
``{"tier": {"type": "context", "size": N}, input, output, cache_read}`` (``type`` may be
absent, meaning context) become tiers with ``min_input_tokens`` = N; tiers of any other
type are skipped. The older ``cost.context_over_200k`` object is read as a 200,000-token
tier when there are no ``tiers``. Only ``cache_read`` is read as the cached-input price.
VISION comes from image input modality (``attachment`` alone may mean PDFs only).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from schema.domain.observations import PriceObservation
from schema.feeds.adapters.common import (
    CACHED,
    INPUT,
    OUTPUT,
    PER_MTOK,
    Flag,
    RecordError,
    as_object,
    capabilities,
    collect,
    load_json,
    member_jobs,
    modality_flags,
    price_of,
    read_count,
    read_day,
    read_flag,
    read_object,
    read_prices,
    read_strings,
    read_text,
    require_id,
    tiers_from,
    to_count,
    wrong_format,
)
from schema.feeds.records import FeedRecord, ParsedSnapshot

FEED = "models.dev"
COST_FIELDS = {"input": INPUT, "output": OUTPUT, "cache_read": CACHED}
OVER_200K = 200_000
CONTEXT_TIER = "context"


def parse(raw: bytes, *, as_of: datetime | None = None) -> ParsedSnapshot:
    """``as_of`` is unused: the feed carries current prices only."""
    document = load_json(raw, FEED)
    if not isinstance(document, dict) or not any(
        isinstance(provider, dict) and isinstance(provider.get("models"), dict)
        for provider in document.values()
    ):
        raise wrong_format(FEED, 'an object of provider id -> {"models": {model id: model}}')
    return collect(FEED, member_jobs(document.items(), "models", _record))


def _record(
    provider_key: str, provider: Mapping[str, Any], model_key: str, value: object
) -> FeedRecord:
    model = as_object(value, "model")
    model_id = require_id(model_key)
    base_model = read_text(model, "base_model")
    lab = base_model or model_id
    limit = read_object(model, "limit")
    modalities = read_object(model, "modalities")
    input_modalities = read_strings(modalities, "input", "modalities.")
    flags: list[Flag] = [
        ("REASONING", read_flag(model, "reasoning")),
        ("STRUCTURED_OUTPUTS", read_flag(model, "structured_output")),
        *_tool_flags(model),
        *modality_flags(input_modalities),
    ]
    return FeedRecord(
        provider=require_id(provider_key, "provider"),
        provider_model_id=model_id,
        name=read_text(model, "name"),
        provider_name=read_text(provider, "name", "provider."),
        creator=lab.split("/", 1)[0] if "/" in lab else None,
        identity_hints=(base_model,) if base_model and base_model != model_id else (),
        context_window=read_count(limit, "context", "limit."),
        max_output_tokens=read_count(limit, "output", "limit."),
        input_modalities=input_modalities,
        output_modalities=read_strings(modalities, "output", "modalities."),
        capabilities=capabilities(flags),
        released_on=read_day(model, "release_date"),
        knowledge_cutoff=read_day(model, "knowledge"),
        license=read_text(model, "license"),
        open_weights=read_flag(model, "open_weights"),
        price=_price(read_object(model, "cost")),
        url=read_text(provider, "doc", "provider."),
    )


def _tool_flags(model: Mapping[str, Any]) -> list[Flag]:
    """``tool_call`` is a boolean or ``{"supported": bool, ...}``."""
    tool_call = model.get("tool_call")
    if isinstance(tool_call, Mapping):
        supported = read_flag(tool_call, "supported", "tool_call.")
    else:
        supported = read_flag(model, "tool_call")
    return [("FUNCTION_CALLING", supported), ("TOOL_USE", supported)]


def _price(cost: Mapping[str, Any]) -> PriceObservation | None:
    tiers: list[tuple[int, str, Decimal | None]] = []
    listed = cost.get("tiers")
    if listed is not None:
        if not isinstance(listed, list):
            raise RecordError("cost.tiers", "expected a list of tiers")
        for index, item in enumerate(listed):
            tiers.extend(_tier(item, f"cost.tiers[{index}]"))
    elif cost.get("context_over_200k") is not None:
        over = as_object(cost["context_over_200k"], "cost.context_over_200k")
        tiers.extend(_prices_at(OVER_200K, over, "cost.context_over_200k."))
    return price_of(
        read_prices(cost, COST_FIELDS, per_tokens=PER_MTOK, path="cost."), tiers_from(tiers)
    )


def _tier(item: object, path: str) -> list[tuple[int, str, Decimal | None]]:
    tier = as_object(item, path)
    condition = as_object(tier.get("tier"), path + ".tier")
    if condition.get("type", CONTEXT_TIER) != CONTEXT_TIER:
        return []
    size = to_count(condition.get("size"), path + ".tier.size")
    return _prices_at(size, tier, path + ".")


def _prices_at(
    start: int, prices: Mapping[str, Any], path: str
) -> list[tuple[int, str, Decimal | None]]:
    found = read_prices(prices, COST_FIELDS, per_tokens=PER_MTOK, path=path)
    return [(start, name, value) for name, value in found.items()]
