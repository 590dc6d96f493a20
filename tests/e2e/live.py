"""Helpers for the live-subscription end-to-end tests and benchmark: a graphql-transport-ws
client (the `websockets` library), `llmref serve` / `llmref worker` processes that are
always stopped, a Redis database of the tests' own, a catalog to change, and the feed runs
that change it through the real pipeline (ops mutation -> Celery worker -> local feed
server -> apply -> publish)."""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from tests.e2e.processes import (
    WORKER_READY,
    Service,
    running,
    start_serve,
    start_worker,
    wait_until_answers,
)

SUBPROTOCOL = Subprotocol("graphql-transport-ws")

# --- Redis: a database number of the tests' own on the shared server ----------------------

REDIS_SERVER = os.environ.get("LLMREF_TEST_REDIS_SERVER", "redis://127.0.0.1:6379")


def redis_db_url(db: int) -> str:
    """A database of its own on the shared server (flush it with ``flush_redis``)."""
    return f"{REDIS_SERVER}/{db}"


def flush_redis(url: str) -> None:
    with redis.Redis.from_url(url, socket_timeout=5) as client:
        client.flushdb()


@contextmanager
def redis_database(preferred: Sequence[int], *, timeout: float = 600) -> Iterator[str]:
    """The URL of a database number on the shared Redis server that no other test session
    on this machine holds (a lock file per number, released when the holder ends or dies),
    flushed before use and after. Several sessions may run at once (engineers share the
    machine); without this, they would flush each other's stream and take each other's
    tasks off the broker queue."""
    deadline = time.monotonic() + timeout
    while True:
        for db in preferred:
            handle = (Path(tempfile.gettempdir()) / f"llmref-test-redis-db-{db}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            url = redis_db_url(db)
            try:
                flush_redis(url)
                yield url
                flush_redis(url)
            finally:
                handle.close()  # releases the lock
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Redis databases {list(preferred)} all held by other sessions")
        time.sleep(0.5)


# --- processes ----------------------------------------------------------------------------


@contextmanager
def serving(cwd: Path, env: dict[str, str], timeout: float = 90) -> Iterator[tuple[Service, str]]:
    """`llmref serve` on a free port, answering /healthz; the service (its pid is the
    uvicorn process) and base URL; stopped afterwards whatever happens."""
    service, base = start_serve(cwd, env)
    with running(service):
        wait_until_answers(service, base, timeout=timeout)
        yield service, base


@contextmanager
def working(cwd: Path, env: dict[str, str], timeout: float = 60) -> Iterator[Service]:
    """`llmref worker` (a real Celery worker on the Redis broker), ready; stopped afterwards."""
    service = start_worker(cwd, env, name="subs-worker")
    with running(service):
        service.wait_for_log(WORKER_READY, timeout=timeout)
        yield service


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# --- data: a catalog to change, and snapshots that change it -----------------------------

HISTORY = Path(__file__).resolve().parents[2] / "schema/feeds/bundled/litellm/history"
LITELLM_JULY_1 = HISTORY / "2026-07-01_f32e5ff0.json.gz"
LITELLM_JULY_3 = HISTORY / "2026-07-03_f6ae3781.json.gz"
"""A real price-change pair: every claude-sonnet-5 route goes from 3/15 to 2/10 USD per 1M
tokens (and back when the older one is applied again)."""


def load_catalog(
    database_url: str,
    *,
    redis_url: str | None,
    snapshots: Sequence[tuple[str, Path | None]] = (
        ("models.dev", None),
        ("litellm", None),
        ("litellm", LITELLM_JULY_1),
    ),
) -> None:
    """Migrate, then import feed snapshots (None: the bundled one) in-process, publishing
    their events as `llmref import` does (bump, mark published, XADD when Redis is set)."""
    from schema.db.base import utcnow
    from schema.db.engine import make_engine, make_sessionmaker
    from schema.events import publisher
    from schema.ingest.offline import import_snapshot_file
    from schema.migrations import upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        publish = publisher(sessions, redis_url=redis_url, now=utcnow)
        for slug, path in snapshots:
            outcome = import_snapshot_file(sessions, slug, path, after_commit=publish)
            assert outcome.status == "SUCCEEDED", outcome
    finally:
        engine.dispose()


def set_feed_url(database_url: str, slug: str, url: str) -> None:
    from sqlalchemy import update

    from schema.db.engine import make_engine, make_sessionmaker, session_scope
    from schema.models import FeedSource

    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            session.execute(update(FeedSource).where(FeedSource.slug == slug).values(url=url))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class EventRow:
    id: int
    model: str
    provider: str
    offering_id: int
    feed_run_id: int | None
    published: bool


def event_rows(
    database_url: str, *, after: int = 0, feed_run_id: int | None = None
) -> list[EventRow]:
    """Price-change events as the database has them, in id order."""
    from sqlalchemy import select

    from schema.db.engine import make_engine, make_sessionmaker
    from schema.models import LlmModel, PriceChangeEvent, Provider

    statement = (
        select(
            PriceChangeEvent.id,
            LlmModel.slug,
            Provider.slug,
            PriceChangeEvent.offering_id,
            PriceChangeEvent.feed_run_id,
            PriceChangeEvent.published_at,
        )
        .join(LlmModel, LlmModel.id == PriceChangeEvent.model_id)
        .join(Provider, Provider.id == PriceChangeEvent.provider_id)
        .where(PriceChangeEvent.id > after)
        .order_by(PriceChangeEvent.id)
    )
    if feed_run_id is not None:
        statement = statement.where(PriceChangeEvent.feed_run_id == feed_run_id)
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return [
                EventRow(id_, model, provider, offering_id, run_id, published is not None)
                for id_, model, provider, offering_id, run_id, published in session.execute(
                    statement
                )
            ]
    finally:
        engine.dispose()


def last_event_id(database_url: str) -> int:
    from sqlalchemy import func, select

    from schema.db.engine import make_engine, make_sessionmaker
    from schema.models import PriceChangeEvent

    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.max(PriceChangeEvent.id))) or 0)
    finally:
        engine.dispose()


# --- GraphQL over HTTP --------------------------------------------------------------------


class GraphQLErrors(AssertionError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(json.dumps(errors))
        self.errors = errors


async def graphql(
    base: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    no_cache: bool = False,
    timeout: float = 30,
) -> dict[str, Any]:
    """POST a document; its data (GraphQLErrors when it answered errors)."""
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if no_cache:
        headers["Cache-Control"] = "no-cache"
    async with httpx.AsyncClient(timeout=timeout) as http:
        response = await http.post(
            f"{base}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
    body = response.json()
    if body.get("errors"):
        raise GraphQLErrors(body["errors"])
    assert response.status_code == 200, response.text
    return body["data"]  # type: ignore[no-any-return]


async def healthz(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{base}/healthz")).json()  # type: ignore[no-any-return]


PRICE_CHANGE_FIELDS = """
  id kind occurredAt
  model { slug } provider { slug } offering { id }
  previous { inputPerMTok outputPerMTok }
  current { inputPerMTok outputPerMTok }
"""
"""What the tests select of an event, over the websocket and from Query.priceChanges alike."""

PRICE_CHANGES_QUERY = (
    "query($after: ID, $first: Int) { priceChanges(after: $after, first: $first) {"
    + PRICE_CHANGE_FIELDS
    + "} }"
)


async def query_price_changes(base: str, after: int) -> list[dict[str, Any]]:
    """Every recorded event after ``after`` from Query.priceChanges, paging through."""
    found: list[dict[str, Any]] = []
    while True:
        page = (await graphql(base, PRICE_CHANGES_QUERY, {"after": str(after), "first": 200}))[
            "priceChanges"
        ]
        found.extend(page)
        if len(page) < 200:
            return found
        after = int(page[-1]["id"])


# --- feed runs through the real pipeline --------------------------------------------------

RESYNC = "mutation($source: String!) { resyncFeed(source: $source) { run { id status } } }"
RUN_STATUS = "query($id: ID!) { feedRun(id: $id) { id status error changed } }"


@dataclass
class Pipeline:
    """Changes prices as production does: the litellm FeedSource points at a local feed
    server; each ``apply_next`` serves the other snapshot of the July pair, asks for a
    re-sync with the ops mutation (the API enqueues `feeds.run` for the Celery worker, which
    fetches, applies and publishes), and waits for the run to finish."""

    database_url: str
    feed: Any  # tests.e2e.feed_server.FeedServer
    ops_key: str
    snapshots: Sequence[Path] = (LITELLM_JULY_3, LITELLM_JULY_1)
    runs: list[int] = field(default_factory=list)
    _turn: Iterator[Path] = field(init=False)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.snapshots)

    async def start_next(self, base: str) -> int:
        """Serve the next snapshot and queue a run of it; the run id (not waiting for it)."""
        self.feed.serve_file(next(self._turn))
        data = await graphql(base, RESYNC, {"source": "litellm"}, key=self.ops_key)
        run_id = int(data["resyncFeed"]["run"]["id"])
        self.runs.append(run_id)
        return run_id

    async def finish(self, base: str, run_id: int, timeout: float = 60) -> list[EventRow]:
        """Wait for the run to succeed; its events (all published), in id order."""
        deadline = time.monotonic() + timeout
        while True:
            run = (await graphql(base, RUN_STATUS, {"id": str(run_id)}, key=self.ops_key))[
                "feedRun"
            ]
            if run["status"] not in ("QUEUED", "RUNNING"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"feed run {run_id} still {run['status']}")
            await asyncio.sleep(0.1)
        assert run["status"] == "SUCCEEDED", run
        while True:
            rows = await asyncio.to_thread(event_rows, self.database_url, feed_run_id=run_id)
            if rows and all(row.published for row in rows):
                return rows
            if time.monotonic() > deadline:
                raise TimeoutError(f"events of run {run_id} not published: {rows}")
            await asyncio.sleep(0.05)

    async def apply_next(self, base: str) -> list[EventRow]:
        return await self.finish(base, await self.start_next(base))


# --- graphql-transport-ws client ----------------------------------------------------------


class SubscriptionEnded(AssertionError):
    """The server ended an operation: an `error` message, a `next` carrying errors, or a
    `complete`; ``errors`` holds the GraphQL errors (empty for a plain complete)."""

    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__(json.dumps(message))
        self.message = message
        payload = message.get("payload")
        if message["type"] == "error":
            self.errors: list[dict[str, Any]] = list(payload or [])
        elif message["type"] == "next":
            self.errors = list((payload or {}).get("errors") or [])
        else:
            self.errors = []

    @property
    def code(self) -> str | None:
        return self.errors[0].get("extensions", {}).get("code") if self.errors else None


class Closed(AssertionError):
    """The websocket closed while an operation waited for a message."""


def price_changes_subscription(fields: str = PRICE_CHANGE_FIELDS) -> str:
    return (
        "subscription($models: [String!], $providers: [String!], $after: ID) {"
        " priceChanges(models: $models, providers: $providers, after: $after) {" + fields + "} }"
    )


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


class TransportWS:
    """One graphql-transport-ws connection. A background reader answers the server's
    `ping` with `pong` (counting them) and sorts operation messages by id; a client made
    with ``read=False`` reads nothing at all until ``start_reading``."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pings = 0
        self.inboxes: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.closed: asyncio.Future[tuple[int | None, str | None]] = (
            asyncio.get_running_loop().create_future()
        )
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)

    @classmethod
    async def open(
        cls,
        base: str,
        *,
        payload: dict[str, Any] | None = None,
        read: bool = True,
        receive_buffer: int | None = None,
        max_queue: int = 16,
        timeout: float = 15,
    ) -> TransportWS:
        """Connect, send connection_init, wait for connection_ack. ``receive_buffer``: a
        small SO_RCVBUF on the client socket (set before connecting, so that a client that
        stops reading stops the server's writes soon); ``max_queue``: how many messages the
        websockets library buffers before it stops reading the socket."""
        url = ws_url(base)
        sock = None
        if receive_buffer is not None:
            parts = urlsplit(url)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        connection = await connect(
            url,
            subprotocols=[SUBPROTOCOL],
            sock=sock,
            max_queue=max_queue,
            open_timeout=timeout,
            close_timeout=2,
        )
        client = cls(connection)
        try:
            await client.send({"type": "connection_init", "payload": payload or {}})
            async with asyncio.timeout(timeout):
                while True:
                    message = json.loads(await connection.recv())
                    if message["type"] == "ping":
                        client.pings += 1
                        await client.send({"type": "pong"})
                        continue
                    assert message["type"] == "connection_ack", message
                    break
        except BaseException:
            await connection.close()
            raise
        if read:
            client.start_reading()
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    def start_reading(self) -> None:
        assert self._reader is None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    self.pings += 1
                    await self.send({"type": "pong"})
                elif kind == "pong":
                    continue
                else:
                    self._inbox(message["id"]).put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.connection.close_code, self.connection.close_reason))

    def _inbox(self, operation_id: str) -> asyncio.Queue[dict[str, Any]]:
        return self.inboxes.setdefault(operation_id, asyncio.Queue())

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, operation_id: str | None = None
    ) -> Operation:
        operation_id = operation_id or str(next(self._ids))
        self._inbox(operation_id)
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return Operation(self, operation_id)

    async def price_changes(
        self,
        *,
        models: list[str] | None = None,
        providers: list[str] | None = None,
        after: str | None = None,
        fields: str = PRICE_CHANGE_FIELDS,
    ) -> Operation:
        return await self.subscribe(
            price_changes_subscription(fields),
            {"models": models, "providers": providers, "after": after},
        )

    async def close(self) -> None:
        await self.connection.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def wait_closed(self, timeout: float) -> tuple[int | None, str | None]:
        """Until the server closes the connection: its close code and reason."""
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self.closed)

    async def __aenter__(self) -> TransportWS:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


@dataclass
class Operation:
    client: TransportWS
    id: str

    @property
    def inbox(self) -> asyncio.Queue[dict[str, Any]]:
        return self.client.inboxes[self.id]

    async def message(self, timeout: float) -> dict[str, Any]:
        """The operation's next message (TimeoutError after ``timeout``; Closed when the
        connection ended first)."""
        if not self.inbox.empty():
            return self.inbox.get_nowait()
        getter = asyncio.ensure_future(self.inbox.get())
        waited: set[asyncio.Future[Any]] = {getter, self.client.closed}
        try:
            done, _ = await asyncio.wait(
                waited, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                return getter.result()
        finally:
            getter.cancel()
        if self.client.closed.done():
            raise Closed(f"connection closed: {self.client.closed.result()}")
        raise TimeoutError(f"no message for operation {self.id} within {timeout}s")

    async def event(self, timeout: float = 30) -> dict[str, Any]:
        """The next price-change event; SubscriptionEnded when the server ended it instead."""
        message = await self.message(timeout)
        if message["type"] == "next" and not message["payload"].get("errors"):
            return message["payload"]["data"]["priceChanges"]  # type: ignore[no-any-return]
        raise SubscriptionEnded(message)

    async def events(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The next ``count`` events, within ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        return [await self.event(max(0.01, deadline - time.monotonic())) for _ in range(count)]

    async def events_through(self, last_id: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Events until (and including) the one with id ``last_id``."""
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        while not found or int(found[-1]["id"]) < last_id:
            found.append(await self.event(max(0.01, deadline - time.monotonic())))
        return found

    def pending(self) -> list[dict[str, Any]]:
        """Messages already received and not yet taken."""
        found = []
        while not self.inbox.empty():
            found.append(self.inbox.get_nowait())
        return found

    async def ended(self, timeout: float = 30) -> SubscriptionEnded:
        """Wait for the server to end the operation (no event may come first)."""
        message = await self.message(timeout)
        ended = SubscriptionEnded(message)
        assert message["type"] in ("error", "complete") or ended.errors, message
        return ended

    async def complete(self) -> None:
        await self.client.send({"id": self.id, "type": "complete"})


class StalledClient:
    """graphql-transport-ws on a plain socket that reads nothing unless asked to: the
    websockets sans-I/O protocol does the framing, so no library reads ahead into its own
    buffers; only the kernel's receive buffer (made small before connecting) holds what the
    server wrote. Use it for a client that stops reading."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.received: list[dict[str, Any]] = []
        self._partial: list[bytes] = []

    @classmethod
    async def open(
        cls, base: str, *, receive_buffer: int = 4096, timeout: float = 15
    ) -> StalledClient:
        url = ws_url(base)
        parts = urlsplit(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        client = cls(
            sock, ClientProtocol(parse_uri(url), subprotocols=[SUBPROTOCOL], max_size=None)
        )
        try:
            async with asyncio.timeout(timeout):
                await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
                client.protocol.send_request(client.protocol.connect())
                await client._flush()
                while client.protocol.handshake_exc is None and client.protocol.state is not OPEN:
                    await client._receive()
                if client.protocol.handshake_exc is not None:
                    raise client.protocol.handshake_exc
                await client.send({"type": "connection_init", "payload": {}})
                while not any(m["type"] == "connection_ack" for m in client.received):
                    await client._receive()
                client.received = [m for m in client.received if m["type"] != "connection_ack"]
        except BaseException:
            sock.close()
            raise
        return client

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def _receive(self) -> None:
        data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        if not data:
            self.protocol.receive_eof()
        else:
            self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.CONT):
                self._partial.append(bytes(event.data))
                if event.fin:
                    message = json.loads(b"".join(self._partial))
                    self._partial.clear()
                    if message.get("type") == "ping":
                        self.protocol.send_text(json.dumps({"type": "pong"}).encode())
                    else:
                        self.received.append(message)
        await self._flush()  # pongs (websocket and graphql-transport-ws ones)
        if not data:
            raise Closed("the server closed the connection")

    async def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        await self._flush()

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables},
            }
        )

    async def message(self, timeout: float) -> dict[str, Any]:
        """The next operation message, reading from the socket as needed."""
        async with asyncio.timeout(timeout):
            while not self.received:
                await self._receive()
        return self.received.pop(0)

    def close(self) -> None:
        self.sock.close()


async def wait_subscribers(base: str, count: int, timeout: float = 15) -> None:
    """Until the API process reports ``count`` subscribers on its event hub (a subscription
    is registered asynchronously after its `subscribe` message)."""
    deadline = time.monotonic() + timeout
    while True:
        health = await healthz(base)
        if health["subscribers"] == count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base} has {health['subscribers']} subscribers, not {count}")
        await asyncio.sleep(0.05)
