"""Resolve the names people and feeds use for models to canonical models."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from schema.domain.names import name_lookup_keys
from schema.domain.slugs import slugify
from schema.ingest.notation import normalise_any
from schema.models import LlmModel
from schema.queries.catalog import select_models_named


async def resolve_model_names(
    session: AsyncSession, names: Sequence[str]
) -> dict[str, LlmModel | None]:
    """Each name's model by the documented rules (docs/data.md, "Identity"): for each of
    its lookup keys in turn (the name, without leading path segments, then the same in
    their usual spelling: kimi-k2p5 -> kimi-k2.5), a model with that slug, a model some
    source calls by that name (curated first, then OpenRouter, models.dev, LiteLLM,
    genai-prices, llm-prices), or a model whose slug is the key as a slug. One statement
    for any number of names."""
    keys_by_name = {name: _lookup_keys(name) for name in names}
    keys = sorted({key for name_keys in keys_by_name.values() for key in name_keys})
    slugs = sorted({*keys, *map(slugify, keys)})
    alias_ids: dict[str, int] = {}
    by_slug: dict[str, LlmModel] = {}
    by_id: dict[int, LlmModel] = {}
    for row, alias_key in await session.execute(select_models_named(keys, slugs)):
        by_slug[row.slug] = by_id[row.id] = row
        if alias_key is not None:
            alias_ids.setdefault(alias_key, row.id)

    def find(key: str) -> LlmModel | None:
        alias_id = alias_ids.get(key)
        return (
            by_slug.get(key)
            or (by_id.get(alias_id) if alias_id else None)
            or by_slug.get(slugify(key))
        )

    return {
        name: next((model for key in name_keys if (model := find(key)) is not None), None)
        for name, name_keys in keys_by_name.items()
    }


def _lookup_keys(name: str) -> list[str]:
    keys = name_lookup_keys(name)
    return list(dict.fromkeys([*keys, *(normalise_any(key) for key in keys)]))
