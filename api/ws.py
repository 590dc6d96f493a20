"""graphql-transport-ws with keep-alive pings and a bounded connection lifetime.

Strawberry sends keep-alive messages only for the older graphql-ws protocol; this handler
sends the new protocol's `ping` every few seconds so idle proxies keep the connection,
and closes a connection that has lived too long (clients reconnect and resume with
`after`). Everything a connection started is cancelled when it ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

LIFETIME_CLOSE_CODE = 4000


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
