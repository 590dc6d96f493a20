"""The comparison cache as the API uses it: Redis when configured, else in-process.

Redis trouble never reaches a client: the API logs it and answers from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from schema.cache import LocalCache, generation_key

log = logging.getLogger("llmref.cache")
TTL_SECONDS = 24 * 3600


class ComparisonCache(Protocol):
    async def generations(self, model_ids: Sequence[int]) -> list[int] | None: ...
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str) -> None: ...
    async def close(self) -> None: ...


class LocalComparisonCache:
    """The embedded default: one LocalCache per app, shared with its in-process runner."""

    def __init__(self, cache: LocalCache) -> None:
        self.local = cache
        self._cache = cache

    async def generations(self, model_ids: Sequence[int]) -> list[int] | None:
        return self._cache.generations(model_ids)

    async def get(self, key: str) -> str | None:
        return self._cache.get(key)

    async def set(self, key: str, value: str) -> None:
        self._cache.set(key, value)

    async def close(self) -> None:
        return None


class RedisComparisonCache:
    """None from ``generations`` means "cache unavailable": compute, do not store."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    async def generations(self, model_ids: Sequence[int]) -> list[int] | None:
        try:
            values = await self._redis.mget([generation_key(model_id) for model_id in model_ids])
        except (RedisError, OSError) as error:
            log.warning("comparison cache unavailable, answering from the database: %s", error)
            return None
        return [int(value) if value is not None else 0 for value in values]

    async def get(self, key: str) -> str | None:
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as error:
            log.warning("comparison cache read failed: %s", error)
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str) -> None:
        try:
            await self._redis.set(key, value, ex=TTL_SECONDS)
        except (RedisError, OSError) as error:
            log.warning("comparison cache write failed: %s", error)

    async def close(self) -> None:
        await self._redis.aclose()


def create_cache(redis_url: str | None) -> ComparisonCache:
    return RedisComparisonCache(redis_url) if redis_url else LocalComparisonCache(LocalCache())
