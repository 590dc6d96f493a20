"""Rate limits for mutations and new subscriptions, per API key and per client address.

A fixed window: one counter per (kind, caller, window) in Redis (INCR, EXPIRE on the first
hit), shared by every API process; without Redis the counters live in this process. Over
the limit an operation is refused before it runs with RATE_LIMITED, the seconds until the
window ends in `extensions.retryAfterSeconds` and, over HTTP, a Retry-After header. When
Redis does not answer the limit is not applied (logged), so an outage does not stop ops.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.auth import presented_key
from schema.settings import Settings

logger = logging.getLogger("llmref.ratelimit")

KEY_PREFIX = "llmref:ratelimit:v1"


@dataclass
class RateLimiter:
    """Counts hits per (kind, caller) in fixed windows of ``window_seconds``."""

    limits: dict[str, int]
    """Hits allowed per window by kind ("mutation", "subscription"); 0 is unlimited."""
    window_seconds: int
    redis_url: str | None = None
    clock: Callable[[], float] = time.time
    _local: dict[str, int] = field(default_factory=dict)
    _redis: aioredis.Redis | None = None

    async def retry_after(self, kind: str, callers: list[str]) -> int | None:
        """Count one hit for each caller; the seconds to wait when any is over its limit."""
        limit = self.limits.get(kind, 0)
        if limit <= 0 or not callers:
            return None
        now = self.clock()
        window = int(now // self.window_seconds)
        keys = [f"{KEY_PREFIX}:{kind}:{caller}:{window}" for caller in callers]
        counts = await self._increment(keys, window)
        if counts is None or max(counts) <= limit:
            return None
        return max(1, int((window + 1) * self.window_seconds - now + 0.999))

    async def _increment(self, keys: list[str], window: int) -> list[int] | None:
        if self.redis_url is None:
            current = f":{window}"
            for stale in [key for key in self._local if not key.endswith(current)]:
                del self._local[stale]
            for key in keys:
                self._local[key] = self._local.get(key, 0) + 1
            return [self._local[key] for key in keys]
        if self._redis is None:
            self._redis = aioredis.Redis.from_url(
                self.redis_url, socket_timeout=1, socket_connect_timeout=1
            )
        try:
            pipeline = self._redis.pipeline(transaction=False)
            for key in keys:
                pipeline.incr(key)
                pipeline.expire(key, self.window_seconds * 2, nx=True)
            results = await pipeline.execute()
        except (aioredis.RedisError, OSError) as error:
            logger.warning("rate limits not applied: Redis did not answer (%s)", error)
            return None
        return [int(count) for count in results[::2]]

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def create_rate_limiter(settings: Settings) -> RateLimiter:
    return RateLimiter(
        limits={
            "mutation": settings.rate_limit_mutations,
            "subscription": settings.rate_limit_subscriptions,
        },
        window_seconds=settings.rate_limit_window_seconds,
        redis_url=settings.redis_url,
    )


def callers_of(context: Any) -> list[str]:
    """Who a limit counts: the API key (hashed) when one is presented, and the address."""
    callers = []
    key = presented_key(context)
    if key is not None:
        callers.append("key:" + hashlib.sha256(key.encode()).hexdigest()[:32])
    client = getattr(context.request, "client", None)
    if client is not None and client.host:
        callers.append("addr:" + client.host)
    return callers


def rate_limited(retry_after: int, kind: str) -> GraphQLError:
    return GraphQLError(
        f"too many {kind}s from this API key or address; retry in {retry_after} s",
        extensions={"code": "RATE_LIMITED", "retryAfterSeconds": retry_after},
    )


_KINDS = {OperationType.MUTATION: "mutation", OperationType.SUBSCRIPTION: "subscription"}


class RateLimits(SchemaExtension):
    """Refuses a valid mutation or subscription over the caller's limit (it runs after the
    document limits, which leave validation errors in the execution context)."""

    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__()
        self.limiter = limiter

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors:
            kind = _KINDS.get(context.operation_type)
            if kind is not None:
                wait = await self.limiter.retry_after(kind, callers_of(context.context))
                if wait is not None:
                    context.pre_execution_errors = [rate_limited(wait, kind)]
                    response = getattr(context.context, "response", None)
                    if isinstance(response, Response):  # HTTP, not a websocket
                        response.headers["Retry-After"] = str(wait)
        yield
