"""graphql-transport-ws with keep-alive pings, a bounded connection lifetime, and event
payloads encoded once.

Strawberry sends keep-alive messages only for the older graphql-ws protocol; this handler
sends the new protocol's `ping` every few seconds so idle proxies keep the connection,
and closes a connection that has lived too long (clients reconnect and resume with
`after`). Everything a connection started is cancelled when it ends.

Subscriptions that share an event's execution (api/graphql/shared_events.py) get the same
`data` object; its JSON is made once and spliced into each subscriber's `next` message,
so an extra subscriber costs the encoding of its message id, not of the event.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, cast

import orjson
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

LIFETIME_CLOSE_CODE = 4000
ENCODED_PAYLOADS = 256
"""Payloads kept encoded: enough for every live selection of the last few events."""

_encoded: OrderedDict[int, tuple[object, orjson.Fragment]] = OrderedDict()
"""By the identity of the `data` encoded; the entry holds it, so that identity is not
reused while the entry lives."""


def encoded_once(payload: Mapping[str, object]) -> Mapping[str, object] | orjson.Fragment:
    """A `next` payload holding only data, as JSON made once per data object."""
    data = payload.get("data")
    if data is None or len(payload) != 1:
        return payload  # errors or extensions: per subscriber, rare
    found = _encoded.get(id(data))
    if found is None or found[0] is not data:
        found = (data, orjson.Fragment(orjson.dumps(payload)))
        _encoded[id(data)] = found
        while len(_encoded) > ENCODED_PAYLOADS:
            _encoded.popitem(last=False)
    return found[1]


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    ping_interval: float = 15
    max_lifetime: float = 3600

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._keep_alive = asyncio.create_task(self._ping())
        self._lifetime = asyncio.create_task(self._expire())

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            await self.send_message({"type": "ping"})

    async def _expire(self) -> None:
        await asyncio.sleep(self.max_lifetime)
        await self.websocket.close(
            code=LIFETIME_CLOSE_CODE, reason="connection lifetime reached: reconnect and resume"
        )

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next":
            message = cast("Message", {**message, "payload": encoded_once(message["payload"])})
        await super().send_message(message)

    async def shutdown(self) -> None:
        for task in (self._keep_alive, self._lifetime):
            task.cancel()
        await asyncio.gather(self._keep_alive, self._lifetime, return_exceptions=True)
        await super().shutdown()


def handler_class(ping_interval: float, max_lifetime: float) -> type[KeepAliveTransportWSHandler]:
    return type(
        "ConfiguredTransportWSHandler",
        (KeepAliveTransportWSHandler,),
        {"ping_interval": ping_interval, "max_lifetime": max_lifetime},
    )
