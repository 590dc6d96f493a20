"""The catalog generation (``schema.cache.CATALOG_GENERATION_KEY``) as this process reads it.

Ingest bumps it after each commit that changes the catalog and before announcing the
change (schema/events.py). What this process keeps of the catalog between requests (the
response cache's answers, the models pages' rows) is kept under the generation read before
it was loaded, and used again only while a read sent after the request arrived still gives
that generation.
"""

from __future__ import annotations

import asyncio
import logging

from api.redis_get import RedisGet, RedisUnavailable
from schema.cache import CATALOG_GENERATION_KEY

log = logging.getLogger("llmref.catalog_generation")


class CatalogGeneration:
    """The catalog generation, read from Redis. Every request waiting when a read is sent
    shares it, and no request uses a read sent before it asked, so it sees every bump made
    before it arrived (one round trip then serves many requests under load)."""

    def __init__(self, url: str) -> None:
        self._redis = RedisGet(url, CATALOG_GENERATION_KEY)
        self._waiting: asyncio.Future[int | None] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def read(self) -> int | None:
        """The current generation (0 before the first bump); None when Redis fails."""
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
            if self._reader is None:
                self._reader = asyncio.create_task(self._read_for_waiting())
        return await asyncio.shield(self._waiting)

    async def _read_for_waiting(self) -> None:
        try:
            while self._waiting is not None:
                answer, self._waiting = self._waiting, None
                try:
                    value = await self._redis.get()
                except RedisUnavailable as error:
                    log.warning("catalog generation unavailable, executing instead: %s", error)
                    answer.set_result(None)
                    continue
                answer.set_result(int(value or 0))
        finally:
            self._reader = None

    async def close(self) -> None:
        await self._redis.close()
