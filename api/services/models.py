"""Resolve the names people and feeds use for models to canonical models."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from schema.domain.names import name_lookup_keys
from schema.domain.slugs import slugify
from schema.ingest.notation import normalise_any
from schema.models import LlmModel
from schema.queries.catalog import select_alias_matches, select_models_named


async def resolve_model_names(
    session: AsyncSession, names: Sequence[str]
) -> dict[str, LlmModel | None]:
    """Each name's model by the documented rules (docs/data.md, "Identity"): for each of
    its lookup keys in turn (the name, without leading path segments, then the same in
    their usual spelling: kimi-k2p5 -> kimi-k2.5), a model with that slug, a model some
    source calls by that name (curated first, then OpenRouter, models.dev, LiteLLM,
    genai-prices, llm-prices), or a model whose slug is the key as a slug. Two statements
    for any number of names."""
    keys_by_name = {name: _lookup_keys(name) for name in names}
    keys = sorted({key for name_keys in keys_by_name.values() for key in name_keys})
    alias_ids: dict[str, int] = {}
    for key, model_id, _source in await session.execute(select_alias_matches(keys)):
        alias_ids.setdefault(key, model_id)
    rows = list(
        await session.scalars(
            select_models_named(slugs={*keys, *map(slugify, keys)}, ids=set(alias_ids.values()))
        )
    )
    by_slug = {row.slug: row for row in rows}
    by_id = {row.id: row for row in rows}

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
