"""Statement builders for the catalog. They build SELECTs; callers execute them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    Numeric,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)

from schema.domain.names import alias_key
from schema.models import (
    FactSource,
    LlmModel,
    ModelAlias,
    ObservedPrice,
    Offering,
    Organization,
    Price,
    Provider,
)

ACTIVE = "ACTIVE"


def _numeric(column: Any) -> Any:
    """Compare money numerically on both databases (SQLite stores it as text)."""
    return cast(column, Numeric)


def in_force(now: datetime) -> Any:
    """The resolved price rows in force at ``now`` (a future-dated price is not yet)."""
    return and_(
        Price.effective_from <= now, or_(Price.effective_to.is_(None), Price.effective_to > now)
    )


def cheapest_output_subquery(now: datetime) -> Any:
    """The lowest output price in force among a model's active routes, per model."""
    return (
        select(func.min(_numeric(Price.output_per_mtok)))
        .join(Offering, Offering.id == Price.offering_id)
        .where(
            Offering.model_id == LlmModel.id,
            Offering.status == ACTIVE,
            in_force(now),
            Price.output_per_mtok.is_not(None),
        )
        .scalar_subquery()
    )


def model_filter_conditions(
    *,
    now: datetime,
    search: str | None = None,
    creator: str | None = None,
    provider: str | None = None,
    capabilities: Sequence[str] = (),
    min_context_window: int | None = None,
    max_output_price_per_mtok: Decimal | None = None,
) -> list[Any]:
    conditions: list[Any] = []
    if search:
        pattern = f"%{alias_key(search)}%"
        conditions.append(
            or_(
                func.lower(LlmModel.name).like(pattern),
                LlmModel.slug.like(pattern),
                exists().where(ModelAlias.model_id == LlmModel.id, ModelAlias.key.like(pattern)),
            )
        )
    if creator:
        conditions.append(
            exists().where(Organization.id == LlmModel.creator_id, Organization.slug == creator)
        )
    if provider:
        conditions.append(
            exists().where(
                Offering.model_id == LlmModel.id,
                Offering.status == ACTIVE,
                Offering.provider_id == Provider.id,
                Provider.slug == provider,
            )
        )
    conditions.extend(
        type_coerce(LlmModel.capabilities, Text).like(f'%"{capability}"%')
        for capability in capabilities
    )
    if min_context_window is not None:
        conditions.append(LlmModel.context_window >= min_context_window)
    if max_output_price_per_mtok is not None:
        conditions.append(cheapest_output_subquery(now) <= max_output_price_per_mtok)
    return conditions


def select_models_page(
    conditions: list[Any], order: str, *, now: datetime, offset: int, limit: int
) -> Select[LlmModel]:
    statement = select(LlmModel).where(and_(true(), *conditions))
    if order == "RELEASED_ON_DESC":
        statement = statement.order_by(LlmModel.released_on.desc().nulls_last(), LlmModel.slug)
    elif order == "CONTEXT_WINDOW_DESC":
        statement = statement.order_by(LlmModel.context_window.desc().nulls_last(), LlmModel.slug)
    elif order == "CHEAPEST_OUTPUT_PRICE":
        statement = statement.order_by(
            cheapest_output_subquery(now).asc().nulls_last(), LlmModel.slug
        )
    else:
        statement = statement.order_by(func.lower(LlmModel.name), LlmModel.slug)
    return statement.offset(offset).limit(limit)


def count_models(conditions: list[Any]) -> Select[int]:
    return select(func.count()).select_from(LlmModel).where(and_(true(), *conditions))


def among(column: Any, keys: Sequence[Any], dialect: str) -> Any:
    """``column IN (keys)``; on PostgreSQL ``column = ANY(:keys)``, one array parameter:
    the statement's text is then the same for any number of keys, so neither SQLAlchemy
    nor psycopg rewrites it per key (a models page asks for some 280 prices), and
    psycopg prepares it once it has run a few times."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(keys), type_=ARRAY(column.type)))
    return column.in_(keys)


def select_current_prices(
    offering_ids: Sequence[int], now: datetime, dialect: str
) -> Select[Price]:
    return select(Price).where(among(Price.offering_id, offering_ids, dialect), in_force(now))


def select_next_price_change(
    offering_ids: Sequence[int], now: datetime, dialect: str
) -> Select[datetime | None, datetime | None]:
    """The first start, and the first end, of any price of these routes after ``now``: until
    the earlier of the two, their prices in force stay the same."""
    of_routes = among(Price.offering_id, offering_ids, dialect)
    starts = select(func.min(Price.effective_from)).where(of_routes, Price.effective_from > now)
    ends = select(func.min(Price.effective_to)).where(of_routes, Price.effective_to > now)
    return select(starts.scalar_subquery(), ends.scalar_subquery())


ALIAS_PRIORITY = ("curated", "openrouter", "models.dev", "litellm", "genai-prices", "llm-prices")
"""Whose meaning of a name wins when sources use it for different models: OpenRouter's
``creator/model`` ids are the usual way to name a model by its creator."""


def select_models_named(
    keys: Collection[str], slugs: Collection[str]
) -> Select[LlmModel, str | None]:
    """The models whose slug is one of ``slugs`` or that a source calls by one of ``keys``,
    one row per such alias with its key (None for a match by slug only). The aliases come
    in the order their meanings win when sources use one name for different models:
    curated first, then the feeds in ALIAS_PRIORITY order."""
    by_slug = select(
        LlmModel.id.label("model_id"),
        null().label("key"),
        null().label("source"),
        null().label("alias_id"),
    ).where(LlmModel.slug.in_(slugs))
    by_alias = select(
        ModelAlias.model_id, ModelAlias.key, ModelAlias.source, ModelAlias.id.label("alias_id")
    ).where(ModelAlias.key.in_(keys))
    matches = union_all(by_slug, by_alias).subquery()
    rank = case(
        {source: index for index, source in enumerate(ALIAS_PRIORITY)},
        value=matches.c.source,
        else_=len(ALIAS_PRIORITY),
    )
    return (
        select(LlmModel, matches.c.key)
        .join(matches, matches.c.model_id == LlmModel.id)
        .order_by(rank, matches.c.source, matches.c.alias_id)
    )


def select_siblings(
    creator_ids: Collection[int], excluded_ids: Collection[int]
) -> Select[int, str, int | None, int | None, date | None]:
    """What ranks the creators' other models for related comparisons."""
    return select(
        LlmModel.id,
        LlmModel.slug,
        LlmModel.creator_id,
        LlmModel.context_window,
        LlmModel.released_on,
    ).where(LlmModel.creator_id.in_(creator_ids), LlmModel.id.not_in(excluded_ids))


def select_price_history(
    model_ids: Sequence[int], provider: str | None, since: datetime | None
) -> Select[Price, Offering]:
    statement = (
        select(Price, Offering)
        .join(Offering, Offering.id == Price.offering_id)
        .where(Offering.model_id.in_(model_ids))
        .order_by(Price.effective_from, Price.id)
    )
    if provider:
        statement = statement.join(Provider, Provider.id == Offering.provider_id).where(
            Provider.slug == provider
        )
    if since is not None:
        statement = statement.where(or_(Price.effective_to.is_(None), Price.effective_to > since))
    return statement


def select_last_reviewed(model_ids: Sequence[int]) -> Select[int, datetime]:
    """The newest data date of any fact or price per model (never a load time)."""
    facts = select(FactSource.model_id.label("model_id"), FactSource.stated_at.label("at")).where(
        FactSource.model_id.in_(model_ids)
    )
    prices = (
        select(Offering.model_id.label("model_id"), ObservedPrice.confirmed_at.label("at"))
        .join(Offering, Offering.id == ObservedPrice.offering_id)
        .where(Offering.model_id.in_(model_ids))
    )
    union = facts.union_all(prices).subquery()
    return select(union.c.model_id, func.max(union.c.at)).group_by(union.c.model_id)
