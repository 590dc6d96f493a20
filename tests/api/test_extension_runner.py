"""Each streamed result of a subscription passes the stream-result hooks of that
operation's extensions (looked up once per operation: api/graphql/extension_runner.py),
so every event's unexpected error is masked, not only the first."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult

from api.graphql.errors import INTERNAL, MaskUnexpectedErrors
from api.graphql.schema import LlmrefSchema


@strawberry.type
class Query:
    ready: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def numbers(self) -> AsyncGenerator[int, None]:
        for number in range(3):
            yield number

    @strawberry.subscription
    async def failing(self) -> AsyncGenerator[int, None]:
        yield 1
        raise RuntimeError("secret detail")


async def test_every_result_passes_the_hooks_of_its_own_operations_extensions() -> None:
    seen: list[tuple[str, SchemaExtension, Any]] = []

    class Recorder(SchemaExtension):
        def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
            seen.append(("before", self, result.data))
            yield
            seen.append(("after", self, result.data))

    schema = LlmrefSchema(query=Query, subscription=Subscription, extensions=[Recorder])
    per_operation: list[SchemaExtension] = []  # holds the instances, so neither address is reused
    for _ in range(2):
        seen.clear()
        results = await schema.subscribe("subscription { numbers }")
        assert [r.data async for r in results] == [{"numbers": n} for n in range(3)]  # type: ignore[union-attr]
        recorders = {recorder for _, recorder, _ in seen}
        assert len(recorders) == 1
        per_operation.append(recorders.pop())
        assert [(when, data) for when, _, data in seen] == [
            (when, {"numbers": n}) for n in range(3) for when in ("before", "after")
        ]
    assert per_operation[0] is not per_operation[1]  # each operation's own extension instance


async def test_an_unexpected_error_in_a_later_result_is_masked() -> None:
    schema = LlmrefSchema(query=Query, subscription=Subscription, extensions=[MaskUnexpectedErrors])
    results = await schema.subscribe("subscription { failing }")
    received = [result async for result in results]  # type: ignore[union-attr]
    assert received[0].data == {"failing": 1}
    [error] = received[1].errors or []
    assert error.extensions is not None and error.extensions["code"] == INTERNAL
    assert "secret detail" not in error.message
