"""One execution per subscription event and selection, shared by the process's subscribers.

graphql-core executes a subscription's selection once per event for each subscription. When
a thousand clients subscribe with the same document, every event would run the same
selection (and its loads) a thousand times. This execution context runs it once per
(operation, variables, presented key, event id) and hands every subscription asking the
same the same result, so an extra subscriber costs a lookup and the sending of its message.
The presented key is part of the identity because what a caller sees depends on its role
(``PriceChangeEvent.feedRun``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Hashable
from typing import Any

from graphql import ExecutionResult, OperationDefinitionNode, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.auth import presented_key

SHARED_EXECUTIONS = 1024
"""Results kept: enough for every live selection of the last few events."""

Shared = tuple[OperationDefinitionNode, "asyncio.Future[Any] | Any"]
_executions: OrderedDict[Hashable, Shared] = OrderedDict()
"""Keyed by the operation's identity: the entry holds the operation, so that identity is
not reused while the entry lives."""


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        key = self._event_key()
        if key is None:
            return super().execute_operation(serially)
        found = _executions.get(key)
        if found is None:
            result = super().execute_operation(serially)
            if self.is_awaitable(result):
                result = asyncio.ensure_future(result)
            _executions[key] = (self.operation, result)
            while len(_executions) > SHARED_EXECUTIONS:
                _executions.popitem(last=False)
        else:
            result = found[1]
        if isinstance(result, asyncio.Future):
            return _shielded(result)
        return result

    def _event_key(self) -> Hashable | None:
        event_id = getattr(self.root_value, "id", None)
        if self.operation.operation is not OperationType.SUBSCRIPTION or event_id is None:
            return None
        return (
            id(self.operation),
            repr(sorted(self.variable_values.coerced.items())),
            presented_key(self.context_value),
            str(event_id),
        )


async def _shielded(result: Awaitable[ExecutionResult]) -> ExecutionResult:
    """One subscriber going away does not cancel the execution the others wait for."""
    return await asyncio.shield(result)
