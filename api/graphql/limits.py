"""Bounded work per operation: a size gate before parsing, parsing and validation off the
event loop for large documents, and the cost limit before execution.

Small documents (what frontends send again and again) are parsed and validated on the
event loop once and then served from a bounded cache; larger ones, up to
LLMREF_MAX_DOCUMENT_BYTES, go to a worker thread and are never cached, so neither the loop
nor the cache pays for a hostile document. Parsing stops at LLMREF_MAX_DOCUMENT_TOKENS.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, GraphQLSyntaxError, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from api.graphql.cost import operation_cost
from schema.settings import Settings

SMALL_DOCUMENT_BYTES = 8 * 1024
"""Documents up to this size are handled on the event loop and cached (a few ms of work at
most); larger ones go to a worker thread and skip the cache."""

CACHED_DOCUMENTS = 256
"""Distinct small documents kept parsed and validated (at most ~256 x 8 KiB of text)."""


def too_large(size: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"the document is {size} bytes, more than the {limit} this server accepts",
        extensions={"code": "DOCUMENT_TOO_LARGE", "size": size, "limit": limit},
    )


def too_costly(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"the operation would cost {cost}, more than the limit of {limit}: ask for fewer "
        "items with `first`, or fewer nested lists",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )


class DocumentCache:
    """Parsed and validated small documents, by text, least recently used out first."""

    def __init__(self, size: int = CACHED_DOCUMENTS) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()

    def get(self, query: str) -> tuple[DocumentNode, list[GraphQLError]] | None:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
        return entry

    def put(self, query: str, document: DocumentNode, errors: list[GraphQLError]) -> None:
        self._entries[query] = (document, errors)
        self._entries.move_to_end(query)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class DocumentLimits(SchemaExtension):
    """Size gate, parse, validate and cost check (one instance per operation)."""

    def __init__(self, settings: Settings, cache: DocumentCache) -> None:
        super().__init__()
        self.settings = settings
        self.cache = cache

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            size = len(query.encode())
            if size > self.settings.max_document_bytes:
                raise too_large(size, self.settings.max_document_bytes)
            cached = self.cache.get(query) if size <= SMALL_DOCUMENT_BYTES else None
            if cached is not None:
                context.graphql_document = cached[0]
            elif size <= SMALL_DOCUMENT_BYTES:
                context.graphql_document = self._parse(query)
            else:
                context.graphql_document = await asyncio.to_thread(self._parse, query)
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        query = context.query or ""
        small = len(query.encode()) <= SMALL_DOCUMENT_BYTES
        schema = context.schema._schema
        arguments = (schema, document, context.validation_rules)
        cached = self.cache.get(query) if small and query else None
        if cached is not None and cached[0] is document:
            errors = cached[1]
        elif small:
            errors = _validate(*arguments)
            if query:
                self.cache.put(query, document, errors)
        else:
            errors = await asyncio.to_thread(_validate, *arguments)
        if not errors:
            errors = self._cost_errors(schema, document, context.operation_name, context.variables)
        context.pre_execution_errors = errors
        yield

    def _parse(self, query: str) -> DocumentNode:
        """The document; a syntax error with its code (it is raised from this hook, so
        nothing downstream adds one)."""
        try:
            return parse(query, max_tokens=self.settings.max_document_tokens)
        except GraphQLSyntaxError as error:
            over = "tokens. Parsing aborted" in error.message  # graphql-core's token limit
            code = "DOCUMENT_TOO_LARGE" if over else "GRAPHQL_PARSE_FAILED"
            raise GraphQLError(
                error.message,
                source=error.source,
                positions=error.positions,
                extensions={"code": code},
            ) from None

    def _cost_errors(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> list[GraphQLError]:
        cost = operation_cost(
            schema,
            document,
            operation_name,
            variables,
            max_page_size=self.settings.max_page_size,
        )
        if cost > self.settings.max_query_cost:
            return [too_costly(cost, self.settings.max_query_cost)]
        return []


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return list(validate_document(schema, document, rules))
