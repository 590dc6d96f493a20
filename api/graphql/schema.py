"""The GraphQL schema object, with the limits that keep hostile documents cheap."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from api.graphql.queries import Query
from api.graphql.scalars import DecimalScalar
from schema.settings import Settings


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        ],
    )


def export_sdl() -> str:
    """The SDL committed as schema/schema.graphql (limits do not change the SDL)."""
    return build_schema(Settings()).as_str() + "\n"
