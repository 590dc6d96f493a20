"""Automatic persisted queries, the protocol Apollo Client and urql speak.

A client sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}`` without
the document; if the server does not know the hash it answers ``PersistedQueryNotFound``
(code PERSISTED_QUERY_NOT_FOUND, HTTP 200 as Apollo Server does) and the client sends the
hash with the document once, which registers it. Documents are kept in this process and,
with Redis, under ``llmref:apq:v1:<hash>`` so a document registered through one API process
is known to all of them.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("llmref.persisted_queries")

LOCAL_DOCUMENTS = 4096
REDIS_TTL_SECONDS = 30 * 24 * 3600
NOT_FOUND = "PersistedQueryNotFound"


class PersistedQueryError(Exception):
    """A persisted-query request the server cannot answer: the GraphQL error to send."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def persisted_query_hash(extensions: Any) -> str | None:
    """The document hash of the request's persisted-query extension (checked); None when
    it has none."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    given = extensions["persistedQuery"]
    if not isinstance(given, dict) or given.get("version") != 1:
        raise PersistedQueryError(
            "unsupported persisted query version: only version 1 is known",
            "PERSISTED_QUERY_NOT_SUPPORTED",
            400,
        )
    digest = given.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be the 64 hex digits of the document's SHA-256",
            "BAD_USER_INPUT",
            400,
        )
    return digest.lower()


def document_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, redis_url: str | None) -> None:
        self._local: OrderedDict[str, str] = OrderedDict()
        self._redis = (
            aioredis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
            if redis_url
            else None
        )

    async def document(self, digest: str, query: Any) -> str:
        """The document to run: ``query`` (checked against the hash and registered) when
        given, else the one registered under the hash."""
        if isinstance(query, str):
            if document_hash(query) != digest:
                raise PersistedQueryError(
                    "provided sha does not match query", "BAD_USER_INPUT", 400
                )
            await self._register(digest, query)
            return query
        found = await self._lookup(digest)
        if found is None:
            raise PersistedQueryError(NOT_FOUND, "PERSISTED_QUERY_NOT_FOUND", 200)
        return found

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        self._local.move_to_end(digest)
        while len(self._local) > LOCAL_DOCUMENTS:
            self._local.popitem(last=False)

    async def _register(self, digest: str, query: str) -> None:
        if self._local.get(digest) == query:
            return
        self._remember(digest, query)
        if self._redis is not None:
            try:
                await self._redis.set(_redis_key(digest), query, ex=REDIS_TTL_SECONDS)
            except (RedisError, OSError) as error:
                log.warning("could not share persisted query %s: %s", digest, error)

    async def _lookup(self, digest: str) -> str | None:
        found = self._local.get(digest)
        if found is not None or self._redis is None:
            return found
        try:
            value = await self._redis.get(_redis_key(digest))
        except (RedisError, OSError) as error:
            log.warning("persisted queries unavailable in Redis: %s", error)
            return None
        if value is None:
            return None
        query = value.decode() if isinstance(value, bytes) else str(value)
        self._remember(digest, query)
        return query

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def _redis_key(digest: str) -> str:
    return f"llmref:apq:v1:{digest}"
