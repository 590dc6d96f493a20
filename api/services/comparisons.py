"""Comparisons for the API: resolve names, check the request, answer from the cache or
build the facts from the catalog and resolve them (schema.domain.comparison)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from api.cache import ComparisonCache
from api.services.loaders import Loaders
from api.services.models import resolve_model_names
from schema.cache import comparison_key, dumps, loads
from schema.domain.comparison import (
    BenchmarkFacts,
    Comparison,
    ModelFacts,
    PriceFacts,
    RouteFacts,
    resolve_comparison,
)
from schema.domain.comparison import comparison_key as canonical_key
from schema.domain.comparison_errors import ComparisonProblem, validate_request
from schema.domain.costs import Traffic
from schema.domain.facts import as_stated
from schema.domain.prices import PriceState
from schema.models import LlmModel
from schema.queries.catalog import select_siblings

RELATED_PER_MODEL = 2
RELATED_MAX = 6


@dataclass(frozen=True)
class RelatedLink:
    key: str
    model_ids: tuple[int, ...]


@dataclass(frozen=True)
class ComparisonAnswer:
    """What is cached: the resolved comparison and its related comparisons."""

    comparison: Comparison
    related: tuple[RelatedLink, ...]


@dataclass(frozen=True)
class Resolved:
    answer: ComparisonAnswer
    models_by_slug: dict[str, LlmModel]


async def compare(
    *,
    names: Sequence[str],
    traffic: Traffic,
    loaders: Loaders,
    cache: ComparisonCache,
    now: datetime,
    use_cache: bool = True,
) -> Resolved | ComparisonProblem:
    """Its reads share one session (`Loaders.sharing`)."""
    async with loaders.sharing():
        return await _compare(names, traffic, loaders, cache, now, use_cache)


async def _compare(
    names: Sequence[str],
    traffic: Traffic,
    loaders: Loaders,
    cache: ComparisonCache,
    now: datetime,
    use_cache: bool,
) -> Resolved | ComparisonProblem:
    async with loaders.session() as session:
        resolved = await resolve_model_names(session, names)
    problem = validate_request(
        names,
        {name: model.id if model else None for name, model in resolved.items()},
        traffic,
        slug_by_id={model.id: model.slug for model in resolved.values() if model},
    )
    if problem is not None:
        return problem
    models = [resolved[name] for name in names]
    assert all(model is not None for model in models)
    asked: list[LlmModel] = [model for model in models if model is not None]
    canonical = sorted(asked, key=lambda model: model.slug)
    by_slug = {model.slug: model for model in asked}
    generations = await cache.generations([model.id for model in canonical]) if use_cache else None
    key = None
    if generations is not None:
        order = [canonical.index(model) for model in asked]
        key = comparison_key(
            canonical_key([m.slug for m in canonical]), traffic, generations, order
        )
        cached = await cache.get(key)
        if cached is not None:
            return Resolved(loads(ComparisonAnswer, cached), by_slug)
    facts, related = await asyncio.gather(
        load_model_facts(loaders, asked), related_links(loaders, asked)
    )
    comparison = resolve_comparison(facts, traffic, now=now)
    answer = ComparisonAnswer(comparison, related)
    if key is not None:
        await cache.set(key, dumps(answer))
    return Resolved(answer, by_slug)


async def load_model_facts(loaders: Loaders, models: Sequence[LlmModel]) -> list[ModelFacts]:
    """Everything the comparison rules need, through the request's loaders (batched): the
    reads that do not depend on each other run at the same time, in two rounds. The rows
    read are kept in the loaders, so the fields resolved afterwards do not read them again."""
    ids = [model.id for model in models]
    for model in models:
        loaders.model_by_id.prime(model.id, model)
    offerings, creators, scores, reviewed = await asyncio.gather(
        loaders.offerings_by_model_id.load_many(ids),
        loaders.organization_by_id.load_many([m.creator_id or 0 for m in models]),
        loaders.scores_by_model_id.load_many(ids),
        loaders.last_reviewed_by_model_id.load_many(ids),
    )
    all_offerings = [offering for group in offerings for offering in group]
    for offering in all_offerings:
        loaders.offering_by_id.prime(offering.id, offering)
    price_rows, provider_rows, benchmark_rows = await asyncio.gather(
        loaders.current_price_by_offering_id.load_many([o.id for o in all_offerings]),
        loaders.provider_by_id.load_many(sorted({o.provider_id for o in all_offerings})),
        loaders.benchmark_by_id.load_many(
            sorted({score.benchmark_id for group in scores for score in group})
        ),
    )
    prices = dict(zip([o.id for o in all_offerings], price_rows, strict=True))
    providers = {row.id: row for row in provider_rows if row is not None}
    for provider in providers.values():
        loaders.provider_by_slug.prime(provider.slug, provider)
    benchmarks = {row.id: row for row in benchmark_rows if row is not None}
    facts = []
    for model, routes, creator, model_scores, last in zip(
        models, offerings, creators, scores, reviewed, strict=True
    ):
        facts.append(
            ModelFacts(
                id=model.id,
                slug=model.slug,
                name=model.name,
                creator_name=creator.name if creator is not None else None,
                released_on=as_stated(model.released_on, model.released_on_precision),
                context_window=model.context_window,
                max_output_tokens=model.max_output_tokens,
                parameters_billions=model.parameters_billions,
                architecture=model.architecture,
                license=model.license,
                open_weights=model.open_weights,
                input_modalities=tuple(model.input_modalities or ()),
                output_modalities=tuple(model.output_modalities or ()),
                capabilities=dict.fromkeys(model.capabilities or (), True),
                routes=tuple(
                    RouteFacts(
                        offering_id=offering.id,
                        provider_slug=providers[offering.provider_id].slug,
                        provider_name=providers[offering.provider_id].name,
                        provider_model_id=offering.provider_model_id,
                        region=offering.region or None,
                        active=offering.status == "ACTIVE",
                        price=_price_facts(prices.get(offering.id)),
                    )
                    for offering in routes
                ),
                benchmarks={
                    benchmarks[score.benchmark_id].slug: BenchmarkFacts(
                        slug=benchmarks[score.benchmark_id].slug,
                        name=benchmarks[score.benchmark_id].name,
                        higher_is_better=benchmarks[score.benchmark_id].higher_is_better,
                        score=float(score.score),
                    )
                    for score in model_scores
                },
                last_reviewed_on=last.date() if last is not None else None,
            )
        )
    return facts


def _price_facts(price: PriceState | None) -> PriceFacts | None:
    if price is None:
        return None
    return PriceFacts(
        input_per_mtok=price.input_per_mtok,
        output_per_mtok=price.output_per_mtok,
        cached_input_per_mtok=price.cached_input_per_mtok,
        tiers=tuple(price.tiers),
    )


async def related_links(loaders: Loaders, models: Sequence[LlmModel]) -> tuple[RelatedLink, ...]:
    """Comparisons one step away: each model swapped for a sibling from its creator, the
    nearest in context window (then the newest). The siblings are ranked from the few
    columns that rank them (a creator may have a hundred models: whole rows would cost a
    hundred ORM objects and their JSON lists); the rows of those linked are loaded into
    the loaders for the links' model fields."""
    creator_ids = {model.creator_id for model in models if model.creator_id is not None}
    if not creator_ids:
        return ()
    async with loaders.session() as session:
        siblings = list(
            await session.execute(select_siblings(creator_ids, {model.id for model in models}))
        )
    asked = [(model.id, model.slug) for model in models]
    links: list[RelatedLink] = []
    for position, model in enumerate(models):
        own = [s for s in siblings if s.creator_id == model.creator_id]
        own.sort(
            key=lambda s: (
                s.context_window is None or model.context_window is None,
                abs((s.context_window or 0) - (model.context_window or 0)),
                -(s.released_on.toordinal() if s.released_on else 0),
                s.slug,
            )
        )
        for sibling in own[:RELATED_PER_MODEL]:
            swapped = [*asked[:position], (sibling.id, sibling.slug), *asked[position + 1 :]]
            links.append(
                RelatedLink(
                    key=canonical_key(sorted(slug for _id, slug in swapped)),
                    model_ids=tuple(model_id for model_id, _slug in swapped),
                )
            )
    links = links[:RELATED_MAX]
    await loaders.model_by_id.load_many(sorted({i for link in links for i in link.model_ids}))
    return tuple(links)
