"""The HTTP side of /graphql: request ids, the body limit, transport errors as GraphQL JSON,
the per-operation timeout and the request metrics. The GraphQL work itself is Strawberry's.

Every answer carries `X-Request-ID`. A request that is not a GraphQL operation at all (no
JSON, a batch, a form, a body over LLMREF_MAX_BODY_BYTES, a document over
LLMREF_MAX_DOCUMENT_BYTES, an empty query) answers
`{"errors": [{"message": ..., "extensions": {"code": ...}}]}` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.context import Context
from api.graphql.limits import too_large
from api.logs import new_request_id, request_id
from api.metrics import Metrics
from schema.settings import Settings

logger = logging.getLogger("llmref.http")

_CODES_BY_STATUS = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}

_operation: ContextVar[str | None] = ContextVar("llmref_operation", default=None)
_outcome: ContextVar[str] = ContextVar("llmref_outcome", default="ok")


class TransportError(HTTPException):
    """A request that cannot be a GraphQL operation, with its code."""

    def __init__(self, status_code: int, code: str, reason: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


def transport_error_response(error: HTTPException) -> Response:
    code = getattr(error, "code", None) or _CODES_BY_STATUS.get(error.status_code, "BAD_REQUEST")
    body = {"errors": [{"message": error.reason, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=error.status_code)


class OperationName(SchemaExtension):
    """Remembers the operation's name (from the request or the document) for the metrics."""

    def on_operation(self) -> Iterator[None]:
        yield
        _operation.set(self.execution_context.operation_name)


class GuardedGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with the limits and error shapes above."""

    settings: Settings
    metrics: Metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            new_request_id()
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        rid = new_request_id(request.headers.get("x-request-id"))
        _operation.set(None)
        _outcome.set("ok")
        try:
            if request.method == "POST":
                await self._read_body(request)
            response = await self.run(request)
        except HTTPException as error:
            _outcome.set("rejected")
            logger.info("request refused (%s): %s", error.status_code, error.reason)
            response = transport_error_response(error)
        response.headers["X-Request-ID"] = rid
        self.metrics.observe_request(
            _operation.get(), _outcome.get(), time.perf_counter() - started
        )
        await response(scope, receive, send)

    async def _read_body(self, request: Request) -> None:
        """Read the body into the request (Strawberry reads it from there), refusing one
        over the limit before reading it when it says its length, else once it passes it."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(int(declared), limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(size, limit)
            chunks.append(chunk)
        request._body = b"".join(chunks)

    async def parse_http_body(self, request: Any) -> Any:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            raise TransportError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"send the operation as application/json, not {content_type or 'no content type'}",
            )
        data = await super().parse_http_body(request)
        query = getattr(data, "query", None)
        limit = self.settings.max_document_bytes
        if isinstance(query, str) and (size := len(query.encode())) > limit:
            raise TransportError(413, "DOCUMENT_TOO_LARGE", too_large(size, limit).message)
        return data

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise TransportError(
                400, "INVALID_JSON", f"the body is not valid JSON: {error}"
            ) from None
        if isinstance(value, list):
            raise TransportError(
                400,
                "BATCH_NOT_SUPPORTED",
                "send one operation per request: batching is not supported",
            )
        if not isinstance(value, dict):
            raise TransportError(400, "BAD_REQUEST", "expected a JSON object")
        return value

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        seconds = self.settings.operation_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                return await super().execute_single(*args, **kwargs)
        except TimeoutError:
            logger.warning("operation %s ended after %s s", _operation.get() or "-", seconds)
            error = GraphQLError(
                f"the operation took longer than {seconds:g} s and was stopped",
                extensions={"code": "TIMEOUT", "requestId": request_id.get()},
            )
            return ExecutionResult(data=None, errors=[error])
        except HTTPException as error:
            if isinstance(error.__cause__, MissingQueryError):
                raise TransportError(400, "MISSING_QUERY", error.reason) from error
            raise

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            _outcome.set("error")
        return await super().process_result(request, result)


def _too_large(size: int, limit: int) -> TransportError:
    return TransportError(
        413, "PAYLOAD_TOO_LARGE", f"the body is {size} bytes, more than the {limit} accepted"
    )
