"""OpenRouter ``GET /api/v1/models``: ``{"data": [model, ...]}``.

Prices are USD per token, as strings. The router pseudo-models (``openrouter/auto``,
``openrouter/pareto-code``, ...) carry ``"-1"``: OpenRouter publishes no price for them,
so their price is None; they are not invalid. A router is told from a model by OpenRouter's
own ``architecture.tokenizer: "Router"`` (``router``), not by its id: openrouter/owl-alpha
is a real model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from schema.feeds.adapters.common import (
    CACHED,
    INPUT,
    OUTPUT,
    PER_TOKEN,
    Flag,
    as_object,
    capabilities,
    collect,
    list_jobs,
    load_json,
    modality_flags,
    price_of,
    read_count,
    read_day,
    read_object,
    read_price,
    read_strings,
    read_text,
    require_id,
    to_unix_day,
    wrong_format,
)
from schema.feeds.records import FeedRecord, ParsedSnapshot

FEED = "openrouter"
NO_PUBLISHED_PRICE = "-1"
ROUTER_TOKENIZER = "Router"
PRICE_FIELDS = {"prompt": INPUT, "completion": OUTPUT, "input_cache_read": CACHED}
PARAMETER_CAPABILITIES = {
    "FUNCTION_CALLING": ("tools",),
    "TOOL_USE": ("tools",),
    "STRUCTURED_OUTPUTS": ("structured_outputs", "response_format"),
    "REASONING": ("reasoning",),
}
MODEL_PAGE = "https://openrouter.ai/{}"


def parse(raw: bytes, *, as_of: datetime | None = None) -> ParsedSnapshot:
    """``as_of`` is unused: the feed carries current prices only."""
    document = load_json(raw, FEED)
    models = document.get("data") if isinstance(document, dict) else None
    if not isinstance(models, list):
        raise wrong_format(FEED, 'an object with a "data" list of models')
    return collect(FEED, list_jobs(models, _record))


def _record(item: object) -> FeedRecord:
    model = as_object(item, "record")
    model_id = require_id(model.get("id"))
    architecture = read_object(model, "architecture")
    input_modalities = read_strings(architecture, "input_modalities", "architecture.")
    parameters = read_strings(model, "supported_parameters")
    pricing = read_object(model, "pricing")
    hints = (read_text(model, "canonical_slug"), read_text(model, "hugging_face_id"))
    created = model.get("created")
    return FeedRecord(
        provider=FEED,
        provider_model_id=model_id,
        name=read_text(model, "name"),
        provider_name="OpenRouter",
        creator=model_id.split("/", 1)[0] if "/" in model_id else None,
        identity_hints=tuple(dict.fromkeys(hint for hint in hints if hint and hint != model_id)),
        context_window=read_count(model, "context_length"),
        max_output_tokens=read_count(
            read_object(model, "top_provider"), "max_completion_tokens", "top_provider."
        ),
        input_modalities=input_modalities,
        output_modalities=read_strings(architecture, "output_modalities", "architecture."),
        capabilities=capabilities(_parameter_flags(parameters) + modality_flags(input_modalities)),
        released_on=None if created is None else to_unix_day(created, "created"),
        knowledge_cutoff=read_day(model, "knowledge_cutoff"),
        price=price_of({name: _price(pricing, key) for key, name in PRICE_FIELDS.items()}),
        url=MODEL_PAGE.format(model_id),
        router=_router(architecture),
    )


def _router(architecture: Mapping[str, Any]) -> bool | None:
    """OpenRouter names its routers' tokenizer "Router"; real models name their own."""
    tokenizer = architecture.get("tokenizer")
    return tokenizer == ROUTER_TOKENIZER if isinstance(tokenizer, str) else None


def _price(pricing: Mapping[str, Any], key: str) -> Decimal | None:
    if pricing.get(key) == NO_PUBLISHED_PRICE:
        return None
    return read_price(pricing, key, per_tokens=PER_TOKEN, path="pricing.")


def _parameter_flags(parameters: tuple[str, ...] | None) -> list[Flag]:
    if parameters is None:
        return []
    return [
        (name, any(parameter in parameters for parameter in names))
        for name, names in PARAMETER_CAPABILITIES.items()
    ]
