"""Final response bytes of public GraphQL queries, served without parsing, validating or
executing them again.

An entry is keyed by the normalized document (printed from its parse, so spacing and
comments do not matter; a persisted query is resolved to its document first), the
operation name, the variables and the caller's visibility (only callers without an
``Authorization`` header are served from here, so no ops data is ever cached). It holds the
bytes and the catalog generation (``schema.cache.CATALOG_GENERATION_KEY``) read before the
response was executed. Ingest bumps it, with the changed models' generations, after commit
and before it announces the change on the event stream (schema/events.py). A hit reads it
from Redis with a read sent after the request arrived and serves the bytes only if it did
not move, so a client that has heard of a change from any process never gets an answer
from before it, from any process. Requests waiting at the same moment share one read.
Entries live in this process (bounded, least recently used out, expiring); bench/README.md
gives the measurements behind that choice.

Every cached answer depends on the catalog generation, comparisons included: a comparison's
selection can reach the live catalog beyond the compared models (creators, related models,
shared providers, routes), so the compared models' generations alone would not make its
bytes safe. Those still key the comparison result underneath (api/services/comparisons.py),
so after an ingest elsewhere a comparison is re-rendered from that cache, not recomputed.

Not cached: mutations, subscriptions, ops fields and priceChanges, callers with a key,
``Cache-Control: no-cache`` requests, answers with errors, and everything when Redis is not
configured (the embedded default has no generations shared between processes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.catalog_generation import CatalogGeneration
from api.metrics import Metrics
from api.persisted_queries import PersistedQueries, PersistedQueryError, persisted_query_hash


class Cacheable(NamedTuple):
    digest: str
    """SHA-256 of the printed document."""
    operation_name: str | None
    """The operation's name (the metrics label it under)."""


CacheableDigest = Callable[[str, str | None], Cacheable | None]
"""The key of a document and operation name when its answer may be cached, else None
(api/graphql/cacheable.py: this module reads no GraphQL itself)."""

MAX_BYTES = 64 << 20
"""What the answers kept in one process may add up to (least recently used out first)."""
MAX_BODY_BYTES = 1 << 20
"""A larger answer is not kept."""
TTL_SECONDS = 3600
"""Generations keep entries correct; the time limit only bounds how long memory is held."""
REQUEST_PLANS = 256
PLANNED_BYTES = 4 << 10
"""Plans of the last ``REQUEST_PLANS`` request bodies (or GET query strings) of up to this
size are kept, so a request repeated byte for byte skips its JSON parse, the document's
digest and the response key. Each plan holds its body and their parse: a few MiB in all
for ordinary queries, under 25 MiB even for variables of thousands of empty lists (JSON
grows about 22-fold into Python objects at worst)."""
HTTP_CACHE_CONTROL = b"public, no-cache"
"""A CDN or browser may keep a GET or persisted-query answer but must revalidate it (with
If-None-Match) every time: prices can change at any moment."""


@dataclasses.dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: bytes
    generation: int
    """The catalog generation read before the response was executed."""
    expires: float


class ResponseStore:
    """Bounded in bytes, least recently used out, entries expire."""

    def __init__(self, max_bytes: int = MAX_BYTES, ttl_seconds: float = TTL_SECONDS) -> None:
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._ttl = ttl_seconds

    def get(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, body: bytes, generation: int) -> CachedResponse:
        entry = CachedResponse(
            body=body,
            etag=b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"',
            generation=generation,
            expires=time.monotonic() + self._ttl,
        )
        self._drop(key)
        self._entries[key] = entry
        self._bytes += len(body)
        while self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))
        return entry

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def __len__(self) -> int:
        return len(self._entries)


@dataclasses.dataclass(frozen=True)
class Uncached:
    """An answer the view gave that is not kept (an error, a status other than 200, a body
    over ``MAX_BODY_BYTES``): the requests that shared its execution get it as it is."""

    start: Message
    body: bytes
    outcome: str
    """How the requests sharing it count in the metrics: "error" (an error or a status
    other than 200), else "ok"."""


Answer = CachedResponse | Uncached


class SingleFlight:
    """One execution per key at a time: the first request that misses runs it, the others
    missing the same key meanwhile await its answer. When the first raises, they raise the
    same; when it is cancelled, the next of them runs it. Holds only executions in
    progress (at most one per key, removed when it ends)."""

    def __init__(self) -> None:
        self._flights: dict[tuple[str, int], asyncio.Future[Answer | None]] = {}

    async def run(
        self, key: tuple[str, int], execute: Callable[[], Awaitable[Answer]]
    ) -> tuple[Answer, bool]:
        """The answer, and whether it came from another request's execution."""
        while (flight := self._flights.get(key)) is not None:
            answer = await asyncio.shield(flight)  # a waiter's cancellation leaves it be
            if answer is not None:
                return answer, True
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            answer = await execute()
        except asyncio.CancelledError:
            flight.set_result(None)  # the next waiter executes
            raise
        except BaseException as error:
            flight.set_exception(error)
            flight.exception()  # marked retrieved: no warning when nobody waited
            raise
        else:
            flight.set_result(answer)
        finally:
            del self._flights[key]
        return answer, False

    def __len__(self) -> int:
        return len(self._flights)


@dataclasses.dataclass(frozen=True)
class GraphQLHttpRequest:
    method: str
    query: Any
    variables: Any
    operation_name: Any
    extensions: Any

    @classmethod
    def parse(cls, method: str, raw: bytes) -> GraphQLHttpRequest | None:
        """The parameters of a POST body or a GET query string, or None for anything but
        one GraphQL request as JSON (POST) or URL parameters (GET); those go to the GraphQL
        view as they came."""
        try:
            if method == "POST":
                data = orjson.loads(raw)
                if not isinstance(data, dict):
                    return None
                return cls(
                    "POST",
                    data.get("query"),
                    data.get("variables"),
                    data.get("operationName"),
                    data.get("extensions"),
                )
            params = dict(urllib.parse.parse_qsl(raw.decode()))
            return cls(
                "GET",
                params.get("query"),
                orjson.loads(params["variables"]) if "variables" in params else None,
                params.get("operationName"),
                orjson.loads(params["extensions"]) if "extensions" in params else None,
            )
        except (orjson.JSONDecodeError, UnicodeDecodeError):
            return None

    def forwarded(self, scope: Scope) -> tuple[Scope, bytes]:
        """The scope and body that carry this request (its document filled in)."""
        data = {
            "query": self.query,
            "variables": self.variables,
            "operationName": self.operation_name,
        }
        if self.method == "POST":
            body = orjson.dumps(data)
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            return {**scope, "headers": headers}, body
        params = {
            key: value if isinstance(value, str) else orjson.dumps(value).decode()
            for key, value in data.items()
            if value is not None
        }
        return {**scope, "query_string": urllib.parse.urlencode(params).encode()}, b""


class Plan(NamedTuple):
    """What a request asks, worked out from its bytes alone (the caller's headers and the
    persisted-query store are looked at per request)."""

    request: GraphQLHttpRequest
    key: str | None
    """The response key when the answer may be kept, else None."""
    operation_name: str | None
    """The operation's name, for the metrics of a hit."""


class ResponseCachingGraphQL:
    """The /graphql HTTP endpoint: persisted queries, then the response cache, in front of
    the GraphQL view (which gets every request it does not answer itself, as it came)."""

    def __init__(
        self,
        view: ASGIApp,
        *,
        generation: CatalogGeneration | None,
        persisted: PersistedQueries,
        digest: CacheableDigest,
        metrics: Metrics,
        max_body_bytes: int,
        store: ResponseStore | None = None,
    ) -> None:
        self.view = view
        self.max_body_bytes = max_body_bytes
        self.generation = generation
        self.persisted = persisted
        self.digest = digest
        self.metrics = metrics
        self.store = store or ResponseStore()
        self.flights = SingleFlight()
        self._plan_small = functools.lru_cache(maxsize=REQUEST_PLANS)(self._plan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "POST")
            or (_declared_length(scope) > self.max_body_bytes)
        ):  # the view answers it (a body over the limit: 413 before it is read)
            await self.view(scope, receive, send)
            return
        body = await _read_body(receive, self.max_body_bytes) if scope["method"] == "POST" else b""
        raw = body if scope["method"] == "POST" else scope["query_string"]
        if len(raw) > self.max_body_bytes:  # the view answers it: 413
            await self.view(scope, _replay(body), send)
            return
        plans = self._plan_small if len(raw) <= PLANNED_BYTES else self._plan
        plan = plans(scope["method"], raw)
        if plan is None:  # the view answers it as it came
            await self.view(scope, _replay(body), send)
            return
        request = plan.request
        try:
            persisted = persisted_query_hash(request.extensions)
            if persisted is not None and not isinstance(request.query, str):
                query = await self.persisted.document(persisted, None)
                request = dataclasses.replace(request, query=query)
                scope, body = request.forwarded(scope)
                plan = self._planned(request)
            elif persisted is not None:
                await self.persisted.document(persisted, request.query)
        except PersistedQueryError as error:
            await _send_error(send, error)
            return
        headers = dict(scope["headers"])
        if b"authorization" in headers or b"no-cache" in headers.get(b"cache-control", b""):
            plan = None  # a caller with a key, or one asking for a fresh answer
        generation = None
        if self.generation is not None and plan is not None and plan.key is not None:
            generation = await self.generation.read()
        if plan is None or plan.key is None or generation is None:
            await self.view(scope, _replay(body), send)
            return
        key = plan.key
        http_cacheable = request.method == "GET" or persisted is not None
        entry = self.store.get(key)
        answer: Answer
        if entry is not None and entry.generation == generation:
            answer, hit = entry, True
        else:

            async def execute() -> Answer:
                # executed after the generation was read: if it moves meanwhile, the answer
                # is stored under the old number and never served
                start, executed = await _run(self.view, scope, body)
                if start["status"] != 200 or "errors" in orjson.loads(executed):
                    return Uncached(start, executed, "error")
                if len(executed) > MAX_BODY_BYTES:
                    return Uncached(start, executed, "ok")
                return self.store.put(key, executed, generation)

            # a request that ran it was counted by the view; the others are hits
            answer, hit = await self.flights.run((key, generation), execute)
        await _send(send, answer, headers, http_cacheable)
        if hit:
            self.metrics.observe_request(
                plan.operation_name,
                answer.outcome if isinstance(answer, Uncached) else "ok",
                time.perf_counter() - started,
                cache="hit",
            )

    def _plan(self, method: str, raw: bytes) -> Plan | None:
        request = GraphQLHttpRequest.parse(method, raw)
        return None if request is None else self._planned(request)

    def _planned(self, request: GraphQLHttpRequest) -> Plan:
        if (
            not isinstance(request.query, str)
            or not isinstance(request.operation_name, str | None)
            or not isinstance(request.variables, dict | None)
        ):
            return Plan(request, None, None)
        cacheable = self.digest(request.query, request.operation_name)
        if cacheable is None:
            return Plan(request, None, None)
        key = _response_key(cacheable.digest, request)
        return Plan(request, key, cacheable.operation_name)

    async def close(self) -> None:
        await self.persisted.close()
        if self.generation is not None:
            await self.generation.close()


def _response_key(digest: str, request: GraphQLHttpRequest) -> str:
    material = b"\0".join(
        [
            digest.encode(),
            (request.operation_name or "").encode(),
            b"public",  # the caller's visibility: only callers without a key are cached
            orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS),
        ]
    )
    return hashlib.sha256(material).hexdigest()


def _declared_length(scope: Scope) -> int:
    value = dict(scope["headers"]).get(b"content-length", b"0")
    return int(value) if value.isdigit() else 0


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, read no further than one chunk past ``limit`` bytes."""
    chunks = []
    size = 0
    while size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _run(view: ASGIApp, scope: Scope, body: bytes) -> tuple[Message, bytes]:
    """Run the GraphQL view; its response start message and body."""
    started: list[Message] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await view(scope, _replay(body), capture)
    return started[0], b"".join(chunks)


async def _send(
    send: Send, answer: Answer, headers: dict[bytes, bytes], http_cacheable: bool
) -> None:
    if isinstance(answer, Uncached):
        await send(answer.start)
        await send({"type": "http.response.body", "body": answer.body})
    else:
        await _send_cached(send, answer, headers, http_cacheable)


async def _send_cached(
    send: Send, entry: CachedResponse, headers: dict[bytes, bytes], http_cacheable: bool
) -> None:
    response_headers = [(b"content-type", b"application/json"), (b"etag", entry.etag)]
    if http_cacheable:
        response_headers += [(b"cache-control", HTTP_CACHE_CONTROL), (b"vary", b"authorization")]
        if entry.etag in _etags(headers.get(b"if-none-match", b"")):
            await send({"type": "http.response.start", "status": 304, "headers": response_headers})
            await send({"type": "http.response.body", "body": b""})
            return
    response_headers.append((b"content-length", str(len(entry.body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": response_headers})
    await send({"type": "http.response.body", "body": entry.body})


def _etags(if_none_match: bytes) -> list[bytes]:
    return [tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")]


async def _send_error(send: Send, error: PersistedQueryError) -> None:
    body = orjson.dumps(
        {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"private, no-cache, must-revalidate"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
