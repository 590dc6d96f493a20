"""Start the real pieces as child processes and wait until they answer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.feed_server import FeedServer

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _without_llmref_settings(environ: os._Environ[str]) -> dict[str, str]:
    """The test's own LLMREF_* variables must not leak into a "no configuration" start."""
    return {name: value for name, value in environ.items() if not name.startswith("LLMREF_")}


@contextmanager
def llmref_serve(
    cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[str]:
    """Run `llmref serve` on a free port; yield its base URL; stop it afterwards."""
    port = free_port()
    log = (cwd / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "llmref"), "serve", "--port", str(port)],
        cwd=cwd,
        env={**_without_llmref_settings(os.environ), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llmref serve exited: {(cwd / log.name).read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"llmref serve did not answer: {Path(log.name).read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        terminate(process)
        log.close()


def terminate(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL when the process has not ended within ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


# --- the rest of the stack: databases, Redis, Celery worker and beat, uvicorn -----------

POSTGRES_ADMIN_URL = os.environ.get(
    "LLMREF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_execute(statement: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@contextmanager
def postgres_database(*, template: str | None = None, prefix: str = "llmref_e2e") -> Iterator[str]:
    """A new, empty PostgreSQL database (or a copy of ``template``, a database name);
    yield its URL; drop it afterwards, whoever is still connected."""
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def llmref_command(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed `llmref` command to completion; fail on a non-zero exit."""
    done = subprocess.run(
        [str(BIN / "llmref"), *args],
        cwd=cwd,
        env={**_without_llmref_settings(os.environ), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"llmref {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def create_ops_key(database_url: str, cwd: Path, name: str = "e2e") -> str:
    """`llmref apikey create --role ops`: the key is alone on the last line of stdout."""
    done = llmref_command(
        "apikey",
        "create",
        "--role",
        "ops",
        "--name",
        name,
        cwd=cwd,
        env={"LLMREF_DATABASE_URL": database_url},
    )
    return done.stdout.strip().splitlines()[-1]


class Service:
    """A child process in its own process group (so that it and its children can be
    signalled together), logging to a file; ``ready`` waits until it says it is up."""

    def __init__(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**_without_llmref_settings(os.environ), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60, *, after: int = 0) -> None:
        """Until ``text`` appears in the log (past its first ``after`` characters)."""
        deadline = time.monotonic() + timeout
        while text not in self.log()[after:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} never logged {text!r}:\n{self.log()}")
            time.sleep(0.1)

    def children(self) -> list[int]:
        """Pids of this process's direct children (a Celery worker's pool processes)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                found.append(int(stat.parent.name))
        return found

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the process and every child it started)."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, sig)
        if sig == signal.SIGKILL:
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to the group, then SIGKILL when it has not gone within ``timeout``."""
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill(signal.SIGKILL)  # stragglers in the group, even when the leader is gone
        self._log.close()


@contextmanager
def running(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        service.stop()


def start_worker(cwd: Path, env: dict[str, str], name: str = "worker") -> Service:
    """`llmref worker` (one pool process, no gossip/mingle: the tests run one worker)."""
    import uuid

    node = f"llmref-{name}-{uuid.uuid4().hex[:6]}@%h"
    return Service(
        name,
        [
            str(BIN / "llmref"),
            "worker",
            "--concurrency",
            "1",
            "-n",
            node,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd,
        env,
    )


def start_beat(cwd: Path, env: dict[str, str]) -> Service:
    return Service(
        "beat",
        [str(BIN / "llmref"), "beat", "--schedule", str(cwd / "celerybeat-schedule")],
        cwd,
        env,
    )


WORKER_READY = " ready."
BEAT_READY = "beat: Starting..."


def start_serve(cwd: Path, env: dict[str, str]) -> tuple[Service, str]:
    """`llmref serve` on a free port: the service and its base URL."""
    port = free_port()
    service = Service(
        f"serve-{port}", [str(BIN / "llmref"), "serve", "--port", str(port)], cwd, env
    )
    return service, f"http://127.0.0.1:{port}"


UVICORN_APP = (
    "import sys, uvicorn\n"
    "from api.app import create_app\n"
    "from schema.settings import Settings\n"
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port=int(sys.argv[1]))\n"
)


def start_uvicorn(cwd: Path, env: dict[str, str]) -> tuple[Service, str]:
    """The app under uvicorn as is, without `llmref serve`'s migration and catalog load."""
    port = free_port()
    service = Service(f"uvicorn-{port}", [sys.executable, "-c", UVICORN_APP, str(port)], cwd, env)
    return service, f"http://127.0.0.1:{port}"


def wait_until_answers(service: Service, base: str, timeout: float = 60) -> None:
    """Until GET /healthz answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited:\n{service.log()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service.name} did not answer:\n{service.log()}")
        time.sleep(0.1)


class RedisServer:
    """A redis-server of the test's own on a free port (never the shared one), to stop
    and start again: nothing is persisted, so a restart comes back empty."""

    def __init__(self, cwd: Path) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.service: Service | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10) -> None:
        import redis

        assert self.service is None
        self.service = Service(
            f"redis-{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.cwd),
            ],
            self.cwd,
            {},
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with redis.Redis.from_url(self.url(), socket_connect_timeout=0.5) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.service.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server did not start:\n{self.service.log()}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None


@contextmanager
def redis_server(cwd: Path) -> Iterator[RedisServer]:
    server = RedisServer(cwd)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- a whole stack for the worker tests and the event benchmark -------------------------

LITELLM_HISTORY = (
    Path(__file__).resolve().parents[2] / "schema" / "feeds" / "bundled" / "litellm" / "history"
)
LITELLM_JULY_1 = next(LITELLM_HISTORY.glob("2026-07-01_*.json.gz"))
LITELLM_JULY_3 = next(LITELLM_HISTORY.glob("2026-07-03_*.json.gz"))

WORKER_SETTINGS = {
    "LLMREF_RETRY_BACKOFF_SECONDS": "0.2",
    "LLMREF_FETCH_RETRIES": "2",
    "LLMREF_FETCH_CONNECT_TIMEOUT_SECONDS": "2",
    "LLMREF_FETCH_READ_TIMEOUT_SECONDS": "2",
    "LLMREF_TASK_SOFT_TIME_LIMIT_SECONDS": "30",
    "LLMREF_TASK_TIME_LIMIT_SECONDS": "40",
    "LLMREF_VISIBILITY_TIMEOUT_SECONDS": "60",
}
"""Short retries and timeouts, so that faults play out in seconds."""


@contextmanager
def catalog_template(cwd: Path, *litellm_snapshots: Path) -> Iterator[tuple[str, str]]:
    """A PostgreSQL database to copy for each test: migrated, holding models.dev's models
    (its bundled snapshot) and then the given LiteLLM snapshots, every event already
    published, every source next due an interval from now (so beat queues nothing by
    itself), and an ops key made by `llmref apikey create`. Yields (its name, the key)."""
    from schema.db.base import utcnow
    from schema.db.engine import make_engine, make_sessionmaker, session_scope
    from schema.events import publish_pending
    from schema.ingest.offline import import_snapshot_file
    from schema.ingest.scheduling import postpone_all
    from schema.migrations import upgrade

    with postgres_database(prefix="llmref_e2e_template") as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            sessions = make_sessionmaker(engine)
            for slug, path in [
                ("models.dev", None),
                *(("litellm", snapshot) for snapshot in litellm_snapshots),
            ]:
                outcome = import_snapshot_file(sessions, slug, path)
                assert outcome.status == "SUCCEEDED", outcome
            publish_pending(sessions, bump=lambda ids: None, xadd=lambda messages: None, now=utcnow)
            with session_scope(sessions) as session:
                postpone_all(session, now=utcnow())
        finally:
            engine.dispose()
        key = create_ops_key(url, cwd)
        yield database_name(url), key


class Stack:
    """PostgreSQL (a copy of a catalog template), Redis (a database of its own, flushed),
    the feed server playing LiteLLM, a Celery worker and `llmref serve` with Redis; beat
    when asked for. The `litellm` source's URL points at the feed server."""

    def __init__(
        self,
        cwd: Path,
        *,
        database_url: str,
        redis_url: str,
        ops_key: str,
        feed: FeedServer,
        worker_env: dict[str, str],
    ) -> None:
        from schema.db.engine import make_engine, make_sessionmaker

        self.cwd = cwd
        self.database_url = database_url
        self.redis_url = redis_url
        self.ops_key = ops_key
        self.feed = feed
        self.env = {
            "LLMREF_DATABASE_URL": database_url,
            "LLMREF_REDIS_URL": redis_url,
            **WORKER_SETTINGS,
            **worker_env,
        }
        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.api = ""
        self.workers: list[Service] = []

    # --- processes -----------------------------------------------------------------------

    def start_worker(self) -> Service:
        worker = start_worker(self.cwd, self.env, name=f"worker-{len(self.workers) + 1}")
        self.workers.append(worker)
        return worker

    @property
    def worker(self) -> Service:
        return self.workers[-1]

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()

    # --- the API -------------------------------------------------------------------------

    def graphql(
        self, query: str, variables: dict[str, object] | None = None, *, ops: bool = True
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.ops_key}"} if ops else {}
        response = httpx.post(
            f"{self.api}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def resync(self, source: str = "litellm") -> int:
        data = self.graphql(
            "mutation($s: String!) { resyncFeed(source: $s) { run { id status } } }", {"s": source}
        )
        return int(data["resyncFeed"]["run"]["id"])

    def wait_for_run(self, run_id: int, timeout: float = 60) -> dict[str, Any]:
        """The run, through the API, once it is finished."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.graphql(FEED_RUN, {"id": str(run_id)})["feedRun"]
            if run["status"] in ("SUCCEEDED", "UNCHANGED", "FAILED"):
                return run  # type: ignore[no-any-return]
            if time.monotonic() > deadline:
                logs = "\n".join(worker.log()[-4000:] for worker in self.workers)
                raise TimeoutError(f"run {run_id} is still {run['status']}:\n{logs}")
            time.sleep(0.1)

    # --- the database and the stream -----------------------------------------------------

    def sql(self, statement: str, **params: object) -> list[Any]:
        from sqlalchemy import text

        with self.engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    def wait_for_stream(self, event_ids: list[int], timeout: float = 30) -> list[int]:
        """The event ids on the stream, once it holds all of ``event_ids``. A run's events
        are published just after its commit (bump the cache generations, mark them
        published, XADD), so a run seen finished may not have published yet."""
        deadline = time.monotonic() + timeout
        while True:
            on_stream = [int(fields["id"]) for _, fields in self.stream()]
            if set(event_ids) <= set(on_stream):
                return on_stream
            if time.monotonic() > deadline:
                raise TimeoutError(f"events {sorted(set(event_ids) - set(on_stream))} unpublished")
            time.sleep(0.05)

    def stream(self) -> list[tuple[str, dict[str, str]]]:
        """Every entry of the event stream: (stream id, fields)."""
        import redis

        from schema.events import STREAM

        with redis.Redis.from_url(self.redis_url, decode_responses=True) as client:
            return [(entry_id, fields) for entry_id, fields in client.xrange(STREAM)]


FEED_RUN = """query($id: ID!) { feedRun(id: $id) { id status seen added changed removed
  unmatched invalid held error startedAt finishedAt } }"""


@contextmanager
def worker_stack(
    cwd: Path,
    *,
    template: str,
    ops_key: str,
    worker_env: dict[str, str] | None = None,
    redis: RedisServer | None = None,
    beat: bool = False,
) -> Iterator[Stack]:
    """Everything started and answering; everything stopped and dropped afterwards.

    Redis is a redis-server of the stack's own (or ``redis``, started by the caller), not
    the shared one: the broker queue, the stream and the cache generations use fixed key
    names, so test sessions running at the same time on one server would take each
    other's tasks."""
    with ExitStack() as cleanup:
        if redis is None:
            redis = cleanup.enter_context(redis_server(cwd))
        redis_url = redis.url()
        database_url = cleanup.enter_context(postgres_database(template=template))
        feed = cleanup.enter_context(FeedServer())
        stack = Stack(
            cwd,
            database_url=database_url,
            redis_url=redis_url,
            ops_key=ops_key,
            feed=feed,
            worker_env=worker_env or {},
        )
        cleanup.callback(stack.engine.dispose)
        stack.sql("UPDATE feed_sources SET url = :url WHERE slug = 'litellm'", url=feed.url)
        cleanup.callback(stack.stop_workers)
        worker = stack.start_worker()
        serve, stack.api = start_serve(
            cwd,
            {
                "LLMREF_DATABASE_URL": database_url,
                "LLMREF_REDIS_URL": redis_url,
                "LLMREF_LOAD_CATALOG_ON_START": "false",
            },
        )
        cleanup.enter_context(running(serve))
        if beat:
            cleanup.enter_context(running(start_beat(cwd, stack.env))).wait_for_log(BEAT_READY)
        worker.wait_for_log(WORKER_READY)
        wait_until_answers(serve, stack.api)
        yield stack


Price3 = tuple[Decimal | None, Decimal | None, Decimal | None]
EventSignature = tuple[str, str, str, str | None, Price3 | None, Price3 | None]
"""(kind, model slug, provider slug, region, previous, current); a price is (input,
output, cached input) per 1M tokens. What makes two events the same change."""


def _price3(state: Any) -> Price3 | None:
    if state is None:
        return None
    return (state.input_per_mtok, state.output_per_mtok, state.cached_input_per_mtok)


def events_of_run(sessions: Any, run_id: int) -> list[tuple[int, EventSignature]]:
    """A run's events from the database, in id order: (id, signature)."""
    from sqlalchemy import select

    from schema.models import LlmModel, Offering, PriceChangeEvent, Provider

    with sessions() as session:
        rows = session.execute(
            select(PriceChangeEvent, LlmModel.slug, Provider.slug, Offering.region)
            .join(Offering, Offering.id == PriceChangeEvent.offering_id)
            .join(LlmModel, LlmModel.id == PriceChangeEvent.model_id)
            .join(Provider, Provider.id == PriceChangeEvent.provider_id)
            .where(PriceChangeEvent.feed_run_id == run_id)
            .order_by(PriceChangeEvent.id)
        ).all()
        return [
            (
                event.id,
                (
                    event.kind,
                    model,
                    provider,
                    region or None,
                    _price3(event.previous),
                    _price3(event.current),
                ),
            )
            for event, model, provider, region in rows
        ]


def api_event_signature(event: dict[str, Any]) -> EventSignature:
    """The signature of a Query.priceChanges item (see PRICE_CHANGES)."""

    def price(value: dict[str, Any] | None) -> Price3 | None:
        if value is None:
            return None
        return tuple(  # type: ignore[return-value]
            None if value[name] is None else Decimal(value[name])
            for name in ("inputPerMTok", "outputPerMTok", "cachedInputPerMTok")
        )

    return (
        event["kind"],
        event["model"]["slug"],
        event["provider"]["slug"],
        event["offering"]["region"],
        price(event["previous"]),
        price(event["current"]),
    )


PRICE_CHANGES = """query($after: ID) { priceChanges(after: $after, first: 200) { id kind
  model { slug } provider { slug } offering { region }
  previous { inputPerMTok outputPerMTok cachedInputPerMTok }
  current { inputPerMTok outputPerMTok cachedInputPerMTok } feedRun { id } } }"""


def clean_apply(template: str, *snapshots: Path) -> list[EventSignature]:
    """The events that clean, in-process LiteLLM runs of ``snapshots`` on a copy of the
    template record in the last run: what a run through the workers must record, whatever
    happened to it on the way."""
    from schema.db.engine import make_engine, make_sessionmaker
    from schema.ingest.offline import import_snapshot_file

    with postgres_database(template=template, prefix="llmref_e2e_reference") as url:
        engine = make_engine(url)
        try:
            sessions = make_sessionmaker(engine)
            for snapshot in snapshots:
                outcome = import_snapshot_file(sessions, "litellm", snapshot)
                assert outcome.status == "SUCCEEDED", outcome
            return [signature for _, signature in events_of_run(sessions, outcome.run_id)]
        finally:
            engine.dispose()
