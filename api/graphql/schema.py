"""The GraphQL schema object, with the limits that keep hostile documents cheap."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.graphql.errors import MaskUnexpectedErrors, log_errors
from api.graphql.extension_runner import ExtensionsRunner
from api.graphql.http import OperationName
from api.graphql.limits import DocumentCache, DocumentLimits
from api.graphql.ops import Mutation, OpsQuery
from api.graphql.queries import Query
from api.graphql.scalars import DecimalScalar
from api.graphql.shared_events import SharedEventExecutionContext
from api.graphql.subscriptions import Subscription
from api.ratelimit import RateLimiter, RateLimits
from schema.settings import Settings

RootQuery = merge_types("Query", (Query, OpsQuery))
"""The catalog fields and the ops fields (which check the caller's role) under one root."""


class LlmrefSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors)


def build_schema(
    settings: Settings, *, rate_limiter: RateLimiter | None = None
) -> strawberry.Schema:
    rules: list[type[ASTValidationRule]] = [
        max_depth_rule(settings.max_query_depth, None, None),
        max_aliases_rule(settings.max_aliases),
    ]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentCache()  # one per schema: the rules above are part of what it caches
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        MaskUnexpectedErrors,
        OperationName,
        lambda: AddValidationRules(rules),
        lambda: DocumentLimits(settings, documents),
    ]
    if rate_limiter is not None:
        extensions.append(lambda: RateLimits(rate_limiter))
    return LlmrefSchema(
        query=RootQuery,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        execution_context_class=SharedEventExecutionContext,
        extensions=extensions,
    )


def export_sdl() -> str:
    """The SDL committed as schema/schema.graphql (limits do not change the SDL)."""
    return build_schema(Settings()).as_str() + "\n"
