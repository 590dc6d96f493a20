"""LiteLLM ``model_prices_and_context_window.json``: a flat object of model key -> entry.

Scope: entries whose ``mode`` is chat, completion or responses and that state a per-token
price (``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost``
or a ``tiered_pricing`` list). Other entries (embeddings, images, audio, per-second or
per-character pricing, the ``fireworks-ai-*`` size buckets without a mode) are skipped,
not counted invalid. Prices are USD per token.

Long-context prices come in two shapes: ``<field>_above_<N>[k|m]_tokens`` keys, and
``tiered_pricing: [{"range": [start, end], <fields>...}]`` where the range starting at 0
is the base price. Both become tiers with ``min_input_tokens`` = the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from schema.domain.observations import PriceObservation
from schema.feeds.adapters.common import (
    CACHED,
    INPUT,
    OUTPUT,
    PER_TOKEN,
    RecordError,
    as_object,
    capabilities,
    collect,
    load_json,
    modality_flags,
    parse_timestamp,
    price_of,
    read_count,
    read_flag,
    read_price,
    read_prices,
    read_strings,
    read_text,
    require_id,
    tiers_from,
    to_count,
    wrong_format,
)
from schema.feeds.records import FeedRecord, ParsedSnapshot

FEED = "litellm"
META_KEYS = frozenset({"sample_spec", "fallback_generalizations", "last_updated"})
TEXT_MODES = frozenset({"chat", "completion", "responses"})
PRICE_FIELDS = {
    "input_cost_per_token": INPUT,
    "output_cost_per_token": OUTPUT,
    "cache_read_input_token_cost": CACHED,
}
TIER_KEY = re.compile(
    r"^(?P<field>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost)"
    r"_above_(?P<amount>\d+(?:\.\d+)?)(?P<unit>[km]?)_tokens$"
)
UNIT_TOKENS = {"": 1, "k": 1_000, "m": 1_000_000}
CAPABILITY_FLAGS = {
    "supports_vision": "VISION",
    "supports_function_calling": "FUNCTION_CALLING",
    "supports_reasoning": "REASONING",
    "supports_response_schema": "STRUCTURED_OUTPUTS",
    "supports_tool_choice": "TOOL_USE",
}
FEED_FILE = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"


def parse(raw: bytes, *, as_of: datetime | None = None) -> ParsedSnapshot:
    """``as_of`` is unused: the file carries current prices only."""
    document = load_json(raw, FEED)
    if not isinstance(document, dict) or not any(
        isinstance(entry, dict) and "litellm_provider" in entry
        for key, entry in document.items()
        if key not in META_KEYS
    ):
        raise wrong_format(FEED, "an object of model key -> entry with a litellm_provider")
    snapshot = collect(
        FEED,
        (
            (key, partial(_record, key, entry))
            for key, entry in document.items()
            if key not in META_KEYS
        ),
    )
    snapshot.published_at = parse_timestamp(document.get("last_updated"))
    return snapshot


def _record(key: str, value: object) -> FeedRecord | None:
    entry = as_object(value, "entry")
    mode = entry.get("mode")
    if not isinstance(mode, str) or mode not in TEXT_MODES:
        return None
    if not any(name in entry for name in PRICE_FIELDS) and "tiered_pricing" not in entry:
        return None
    input_modalities = read_strings(entry, "supported_modalities")
    flags = [(name, read_flag(entry, key)) for key, name in CAPABILITY_FLAGS.items()]
    return FeedRecord(
        provider=require_id(entry.get("litellm_provider"), "litellm_provider"),
        provider_model_id=require_id(key),
        context_window=read_count(entry, "max_input_tokens"),
        max_output_tokens=read_count(entry, "max_output_tokens"),
        input_modalities=input_modalities,
        output_modalities=read_strings(entry, "supported_output_modalities"),
        capabilities=capabilities(flags + modality_flags(input_modalities)),
        price=_price(entry),
        url=read_text(entry, "source") or FEED_FILE,
    )


def _price(entry: Mapping[str, Any]) -> PriceObservation | None:
    base = read_prices(entry, PRICE_FIELDS, per_tokens=PER_TOKEN)
    tiers = [
        (
            _threshold(match),
            PRICE_FIELDS[match["field"]],
            read_price(entry, key, per_tokens=PER_TOKEN),
        )
        for key in entry
        if (match := TIER_KEY.match(key))
    ]
    ranges = entry.get("tiered_pricing")
    if ranges is not None:
        if not isinstance(ranges, list):
            raise RecordError("tiered_pricing", "expected a list of ranges")
        for index, item in enumerate(ranges):
            start, prices = _range(item, f"tiered_pricing[{index}].")
            if start == 0:
                base.update({name: value for name, value in prices.items() if base[name] is None})
            else:
                tiers.extend((start, name, value) for name, value in prices.items())
    return price_of(base, tiers_from(tiers))


def _range(item: object, path: str) -> tuple[int, dict[str, Decimal | None]]:
    tier = as_object(item, path.rstrip("."))
    bounds = tier.get("range")
    if not isinstance(bounds, list) or not bounds:
        raise RecordError(path + "range", f"expected [start, end], got {bounds!r}")
    prices = read_prices(tier, PRICE_FIELDS, per_tokens=PER_TOKEN, path=path)
    return to_count(bounds[0], path + "range"), prices


def _threshold(match: re.Match[str]) -> int:
    return int(Decimal(match["amount"]) * UNIT_TOKENS[match["unit"]])
