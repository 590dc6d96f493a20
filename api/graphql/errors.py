"""GraphQL errors with a machine-readable extensions.code, and what clients and logs see.

Expected errors (bad input, a refused key, a document over a limit, a syntax or validation
error) keep their message and code and are logged as one line. Anything else that escapes
a resolver is unexpected: the client gets a generic message with the request id and
`INTERNAL`, the log gets the whole traceback once, under that id.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from api.logs import request_id

logger = logging.getLogger("llmref.graphql")

INTERNAL = "INTERNAL"


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def is_unexpected(error: GraphQLError) -> bool:
    """An exception that is not a GraphQL error, raised while resolving a field (or by the
    machinery before it); a scalar refusing an input value (ValueError or TypeError before
    execution) is the client's mistake."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return error.path is not None or not isinstance(original, ValueError | TypeError)


def error_code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if is_unexpected(error):
        return INTERNAL
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


def log_errors(errors: list[GraphQLError]) -> None:
    """Each error once: unexpected ones whole (with the traceback), the rest as one line."""
    for error in errors:
        where = ".".join(str(part) for part in error.path) if error.path else "-"
        if is_unexpected(error):
            original = error.original_error
            assert original is not None
            logger.error(
                "unexpected error at %s (request id %s): %r",
                where,
                request_id.get(),
                original,
                exc_info=(type(original), original, original.__traceback__),
            )
        else:
            logger.info("%s at %s: %s", error_code(error), where, error.message)


class MaskUnexpectedErrors(MaskErrors):
    """Clients see unexpected errors as INTERNAL with the request id, expected ones with
    their code (added where graphql-core gives none)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not is_unexpected(error):
            extensions = {**(error.extensions or {}), "code": error_code(error)}
            return _at_same_place(error, error.message, extensions, error.original_error)
        rid = request_id.get()
        message = f"Internal server error; quote request id {rid} when reporting it."
        return _at_same_place(error, message, {"code": INTERNAL, "requestId": rid}, None)

    def _process_result(self, result: object) -> None:
        """As MaskErrors does, without its isinstance check against a runtime Protocol: that
        check costs more than the rest of an event's result handling for each subscriber."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


def _at_same_place(
    error: GraphQLError,
    message: str,
    extensions: dict[str, object],
    original: Exception | None,
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )
