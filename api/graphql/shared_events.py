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
from collections.abc import Hashable
from typing import Any

from graphql import OperationDefinitionNode, OperationType

from api.auth import presented_key
from api.graphql.execution import PlainFieldsExecutionContext

SHARED_EXECUTIONS = 1024
"""Results kept: enough for every live selection of the last few events."""

Shared = tuple[OperationDefinitionNode, "asyncio.Future[Any] | Any"]
_executions: OrderedDict[Hashable, Shared] = OrderedDict()
"""Keyed by the operation's identity: the entry holds the operation, so that identity is
not reused while the entry lives."""


class SharedEventExecutionContext(PlainFieldsExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What a subscription's events share on besides the event: known when it starts and
        # copied into each event's executor, so an event costs its subscribers no key work.
        self._selection = self._selection_key()

    def __copy__(self) -> SharedEventExecutionContext:
        """Each event's executor is a copy of the subscription's (graphql-core's
        build_per_event_executor): copied attribute by attribute, which costs a fraction
        of copy.copy's generic protocol for each subscriber."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def execute_operation(self, serially: bool | None = None) -> Any:
        event_id = getattr(self.root_value, "id", None)
        if self._selection is None or event_id is None:
            return super().execute_operation(serially)
        key = (self._selection, str(event_id))
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
            # One subscriber going away does not cancel the execution the others wait for.
            return asyncio.shield(result)
        return result

    def _selection_key(self) -> Hashable | None:
        if self.operation.operation is not OperationType.SUBSCRIPTION:
            return None
        return (
            id(self.operation),
            repr(sorted(self.variable_values.coerced.items())),
            presented_key(self.context_value),
        )
