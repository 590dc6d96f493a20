"""The GraphQL schema object, with the limits that keep hostile documents cheap."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.graphql.ops import Mutation, OpsQuery
from api.graphql.queries import Query
from api.graphql.scalars import DecimalScalar
from api.graphql.shared_events import SharedEventExecutionContext
from api.graphql.subscriptions import Subscription
from schema.settings import Settings

CACHED_DOCUMENTS = 256
"""Frontends send the same few documents again and again: each is parsed and validated
once (the cache key includes the limit rules, built once per schema for that reason)."""

RootQuery = merge_types("Query", (Query, OpsQuery))
"""The catalog fields and the ops fields (which check the caller's role) under one root."""


def build_schema(settings: Settings) -> strawberry.Schema:
    limits = [
        max_depth_rule(settings.max_query_depth, None, None),
        max_aliases_rule(settings.max_aliases),
    ]
    return strawberry.Schema(
        query=RootQuery,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        execution_context_class=SharedEventExecutionContext,
        extensions=[
            lambda: AddValidationRules(limits),
            lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
            lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        ],
    )


def export_sdl() -> str:
    """The SDL committed as schema/schema.graphql (limits do not change the SDL)."""
    return build_schema(Settings()).as_str() + "\n"
