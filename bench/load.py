"""Sustained load: many HTTP clients on mixed queries, resyncs that change prices, and open
subscriptions that must each receive every event, in order; the server's memory meanwhile.

Usage: .venv/bin/python bench/load.py [--seconds 60] [--clients 200] [--subscribers 100]
       [--resync-every 5] [--setting LLMREF_NAME=VALUE ...]

The real stack, as in bench/events.py and the end-to-end tests: a scratch PostgreSQL
database with the offline catalog (curated file and bundled feeds) and then the LiteLLM
snapshot of 2026-07-01, a redis-server of its own on a free port, one Celery worker
(`llmref worker --concurrency 1`), one `llmref serve` (one uvicorn process) and a local
HTTP server playing the LiteLLM feed. Before each resync the feed server switches between
the recorded snapshots of 2026-07-01 and 2026-07-03 (schema/feeds/bundled/litellm/history),
so every run that fetches changes prices (claude-sonnet-5's routes among others).

For ``--seconds``:

- ``--clients`` HTTP clients (httpx, one asyncio loop, one connection each, reused while
  idle under 2 s, below uvicorn's 5 s keep-alive) send queries back to back, each in turn one of: the whole-page comparison with a traffic
  (bench/comparison_query.graphql; a pair and a traffic from small pools, so some answers
  are cache hits and some are not), models(first: 50) with offerings and prices
  (bench/models_query.graphql), model(slug) with its routes and prices, resolveModel(name)
  and providers;
- one ops client calls `resyncFeed(source: "litellm")` every ``--resync-every`` seconds
  with an ops key made by `llmref apikey create --role ops`;
- ``--subscribers`` graphql-transport-ws connections (the `websockets` library) hold one
  unfiltered priceChanges subscription each, opened before the load starts;
- the server's RSS (/proc/<pid>/status of the uvicorn process) is sampled about once a second
  (the sampler shares the clients' event loop, so it runs late under load).

Then, with the load stopped, it waits for the last run to finish and its events to be
delivered, and reports: requests and errors by kind (transport exception, HTTP status,
GraphQL extensions.code), latency p50/p99 per query kind (nearest-rank, request sent to
answer read, so client-side queueing on the shared CPU is included), runs by status,
events published (the Redis stream and the database) against events received by each
subscriber (no loss: every subscriber saw exactly the published ids, in stream order),
RSS at the start, its maximum, at the end of the load and after the drain, and the
warnings and errors in the server's log. "executed" per query kind is how many reached the
GraphQL view (/metrics, cache="miss"), "cache hits" how many the response cache answered
(a stored answer, or another request's execution shared).

Rate limits: one address sends every mutation and opens every subscription here, so the
server runs with LLMREF_RATE_LIMIT_MUTATIONS=0 and LLMREF_RATE_LIMIT_SUBSCRIPTIONS=0
(queries are not rate limited); ``--setting NAME=VALUE`` passes more. Everything listens on
127.0.0.1; the processes, the Redis server and the database are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.comparison import offline_catalog_database
from bench.subscriptions import SELECTIONS, Clients, percentile, raise_file_limit
from schema.db.base import utcnow
from schema.db.engine import make_engine, make_sessionmaker, session_scope
from schema.events import STREAM, publish_pending
from schema.ingest.offline import import_snapshot_file
from schema.ingest.scheduling import postpone_all
from tests.e2e.feed_server import FeedServer, read_payload
from tests.e2e.live import (
    LITELLM_JULY_1,
    LITELLM_JULY_3,
    RESYNC,
    RUN_STATUS,
    event_rows,
    last_event_id,
    rss_bytes,
    set_feed_url,
    wait_subscribers,
)
from tests.e2e.processes import (
    WORKER_READY,
    create_ops_key,
    redis_server,
    running,
    start_serve,
    start_worker,
    wait_until_answers,
)

ROOT = Path(__file__).resolve().parent.parent
COMPARISON = (ROOT / "bench" / "comparison_query.graphql").read_text()
MODELS = (ROOT / "bench" / "models_query.graphql").read_text()
MODEL = """query Model($slug: String!) { model(slug: $slug) { slug name contextWindow
  offerings { providerModelId region provider { slug } price { inputPerMTok outputPerMTok } } } }"""
RESOLVE = "query Resolve($name: String!) { resolveModel(name: $name) { slug name } }"
PROVIDERS = "query Providers { providers(first: 100) { slug name } }"
KINDS = ("comparison", "models", "model", "resolveModel", "providers")
OPERATIONS = ("Compare", "Models", "Model", "Resolve", "Providers")
TRAFFICS = [
    {"inputTokensPerMonth": 560e6, "outputTokensPerMonth": 300e6},
    {"inputTokensPerMonth": 1e8, "outputTokensPerMonth": 2e7, "cachedInputShare": 0.5},
    {"inputTokensPerMonth": 5e9, "outputTokensPerMonth": 1e9, "averageInputTokensPerRequest": 4000},
]
PRICED_PAIR = ["claude-sonnet-5", "gpt-5"]
"""Compared in every other comparison: their prices change at each run."""
MAX_REQUESTS_PER_CLIENT = 100_000
KEEPALIVE_SECONDS = 2.0
"""The clients reuse a connection idle this long at most: below uvicorn's 5 s keep-alive
timeout (httpx's default, 5 s too, races the server closing it: a request sent on a
connection the server is closing ends in a ReadError)."""
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b(.*)")
REQUEST_ID = re.compile(r" \[[0-9a-f-]*\]")
REQUEST_TIMEOUT = 60.0
DRAIN_TIMEOUT = 180.0


def prepare_catalog(database_url: str) -> None:
    """The offline catalog is loaded; add LiteLLM of 2026-07-01 (the first resync serves
    07-03), publish nothing (no Redis yet) and make every source due an interval from now,
    so nothing but the resyncs fetches."""
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        outcome = import_snapshot_file(sessions, "litellm", LITELLM_JULY_1)
        assert outcome.status in ("SUCCEEDED", "UNCHANGED"), outcome
        publish_pending(sessions, bump=lambda ids: None, xadd=lambda messages: None, now=utcnow)
        with session_scope(sessions) as session:
            postpone_all(session, now=utcnow())
    finally:
        engine.dispose()


def published_in_database(database_url: str, after_id: int) -> list[int]:
    return [row.id for row in event_rows(database_url, after=after_id) if row.published]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


METRIC = re.compile(
    r'^llmref_graphql_request(s_total|_seconds_sum)\{operation="([^"]*)"[^}]*'
    r'cache="(hit|miss)"\} (\S+)$'
)


async def executed(base: str) -> dict[str, tuple[float, float, float]]:
    """Per operation name, from the server's /metrics: requests that reached the GraphQL
    view (cache="miss"), their seconds in it, and requests the response cache answered
    (cache="hit": a stored answer, or another request's execution shared)."""
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        text = (await http.get("/metrics")).text
    found: dict[str, tuple[float, float, float]] = defaultdict(lambda: (0.0, 0.0, 0.0))
    for line in text.splitlines():
        if match := METRIC.match(line):
            kind, operation, cache, value = match[1], match[2], match[3], float(match[4])
            count, seconds, hits = found[operation]
            if cache == "hit":
                hits += value if kind == "s_total" else 0.0
            elif kind == "s_total":
                count += value
            else:
                seconds += value
            found[operation] = (count, seconds, hits)
    return found


def stream_ids(redis_url: str, after: str) -> list[int]:
    """The event ids on the stream past the stream entry ``after``, in stream order."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        return [int(fields["id"]) for _, fields in client.xrange(STREAM, min=f"({after}")]


def stream_tail(redis_url: str) -> str:
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        last = client.xrevrange(STREAM, count=1)
    return last[0][0] if last else "0-0"


class Subscribers(Clients):
    """bench/subscriptions.py's clients, also keeping each connection's ids in order."""

    def __init__(self, base: str) -> None:
        super().__init__(base, SELECTIONS["nested"])
        self.sequences: dict[int, list[int]] = defaultdict(list)
        self.failures: Counter[str] = Counter()

    async def _read(self, connection: Any) -> None:
        sequence = self.sequences[id(connection)]
        try:
            async for raw in connection:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await connection.send('{"type": "pong"}')
                elif message["type"] == "next" and "errors" not in message["payload"]:
                    sequence.append(int(message["payload"]["data"]["priceChanges"]["id"]))
                else:
                    self.failures[f"{message['type']}: {json.dumps(message)[:200]}"] += 1
        except Exception as error:  # noqa: BLE001 - counted and reported
            self.failures[f"{type(error).__name__}: {error}"] += 1

    def in_order(self) -> list[list[int]]:
        """Per connection, the event ids received, in order."""
        return [self.sequences[id(c)] for c in self.connections]


class Load:
    """The clients, the ops client and the RSS sampler; what they saw."""

    def __init__(self, base: str, ops_key: str, feed: FeedServer, payloads: list[bytes]) -> None:
        self.base = base
        self.ops_key = ops_key
        self.feed = feed
        self.payloads = payloads
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.requests = 0
        self.runs: list[int] = []
        self.resync_errors: Counter[str] = Counter()
        self.rss: list[tuple[float, int]] = []
        self.slugs: list[str] = []
        self.names: list[str] = []

    def pick(self, rng: random.Random, kind: str) -> dict[str, Any]:
        if kind == "comparison":
            models = PRICED_PAIR if rng.random() < 0.5 else rng.sample(self.slugs[:12], 2)
            return {
                "query": COMPARISON,
                "variables": {"models": models, "traffic": rng.choice(TRAFFICS)},
            }
        if kind == "models":
            return {"query": MODELS, "variables": {"first": 50}}
        if kind == "model":
            return {"query": MODEL, "variables": {"slug": rng.choice(self.slugs)}}
        if kind == "resolveModel":
            return {"query": RESOLVE, "variables": {"name": rng.choice(self.names)}}
        return {"query": PROVIDERS}

    async def learn_models(self, http: httpx.AsyncClient) -> None:
        """Slugs and names to ask about: the first 50 models and the priced pair."""
        answer = (await http.post("/graphql", json=self.pick(random.Random(0), "models"))).json()
        nodes = [edge["node"] for edge in answer["data"]["models"]["edges"]]
        self.slugs = PRICED_PAIR + [node["slug"] for node in nodes]
        self.names = [node["name"] for node in nodes] + [s.upper() for s in PRICED_PAIR]

    async def client(self, http: httpx.AsyncClient, number: int, deadline: float) -> None:
        rng = random.Random(number)
        for count in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            kind = KINDS[(number + count) % len(KINDS)]
            started = time.perf_counter()
            self.requests += 1
            try:
                response = await http.post("/graphql", json=self.pick(rng, kind))
                body = response.json()
            except (httpx.HTTPError, ValueError) as error:
                self.errors[f"{kind}: {type(error).__name__}"] += 1
                continue
            self.latencies[kind].append(time.perf_counter() - started)
            if response.status_code != 200:
                self.errors[f"{kind}: HTTP {response.status_code}"] += 1
            for graphql_error in body.get("errors") or []:
                self.errors[f"{kind}: {(graphql_error.get('extensions') or {}).get('code')}"] += 1
            result = (body.get("data") or {}).get("comparison") or {}
            if "code" in result:
                self.errors[f"{kind}: ComparisonError {result['code']}"] += 1

    async def ops(self, every: float, deadline: float) -> None:
        async with httpx.AsyncClient(
            base_url=self.base,
            timeout=REQUEST_TIMEOUT,
            headers={"Authorization": f"Bearer {self.ops_key}"},
        ) as http:
            for count in range(int((deadline - time.monotonic()) / every) + 1):
                await asyncio.sleep(max(0.0, min(every, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    return
                # The next fetch gets the other snapshot (a run still queued or running
                # is returned by resyncFeed instead of a new one; it fetches this one).
                self.feed.serve(self.payloads[(count + 1) % 2])
                response = await http.post(
                    "/graphql", json={"query": RESYNC, "variables": {"source": "litellm"}}
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    self.resync_errors[f"HTTP {response.status_code} {body.get('errors')}"] += 1
                    continue
                run_id = int(body["data"]["resyncFeed"]["run"]["id"])
                if run_id not in self.runs:
                    self.runs.append(run_id)

    async def sample_rss(self, pid: int, stop: asyncio.Event) -> None:
        started = time.monotonic()
        for _ in range(100_000):
            self.rss.append((time.monotonic() - started, rss_bytes(pid)))
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
                return
            except TimeoutError:
                pass


async def wait_runs(base: str, key: str, runs: list[int], timeout: float) -> Counter[str]:
    """Until every run has finished; their statuses."""
    deadline = time.monotonic() + timeout
    statuses: Counter[str] = Counter()
    async with httpx.AsyncClient(
        base_url=base, timeout=REQUEST_TIMEOUT, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        for run_id in runs:
            while time.monotonic() < deadline:
                answer = await http.post(
                    "/graphql", json={"query": RUN_STATUS, "variables": {"id": str(run_id)}}
                )
                run = answer.json()["data"]["feedRun"]
                if run["status"] not in ("QUEUED", "RUNNING"):
                    statuses[run["status"]] += 1
                    break
                await asyncio.sleep(0.2)
            else:
                statuses["UNFINISHED"] += 1
    return statuses


async def drain(
    redis_url: str,
    database_url: str,
    stream_after: str,
    event_after: int,
    subscribers: Subscribers,
    timeout: float,
) -> tuple[list[int], list[int]]:
    """Until the stream holds every published event and each subscriber has received as
    many as the stream holds (or ``timeout``): (stream ids, database ids)."""
    deadline = time.monotonic() + timeout
    while True:
        on_stream = await asyncio.to_thread(stream_ids, redis_url, stream_after)
        in_database = await asyncio.to_thread(published_in_database, database_url, event_after)
        settled = sorted(on_stream) == in_database and all(
            len(received) >= len(on_stream) for received in subscribers.in_order()
        )
        if settled or time.monotonic() > deadline:
            return on_stream, in_database
        await asyncio.sleep(0.5)


async def run_load(
    args: argparse.Namespace,
    base: str,
    pid: int,
    key: str,
    feed: FeedServer,
    payloads: list[bytes],
    redis_url: str,
    database_url: str,
) -> dict[str, Any]:
    load = Load(base, key, feed, payloads)
    limits = httpx.Limits(
        max_connections=args.clients,
        max_keepalive_connections=args.clients,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as http:
        await load.learn_models(http)
        subscribers = Subscribers(base)
        await subscribers.open(args.subscribers)
        try:
            await wait_subscribers(base, args.subscribers, timeout=120)
            stream_after = await asyncio.to_thread(stream_tail, redis_url)
            event_after = await asyncio.to_thread(last_event_id, database_url)
            stop_rss = asyncio.Event()
            sampler = asyncio.create_task(load.sample_rss(pid, stop_rss))
            print(f"load for {args.seconds} s...", file=sys.stderr)
            started = time.monotonic()
            cpu = (cpu_seconds(pid), time.process_time())
            before = await executed(base)
            deadline = started + args.seconds
            await asyncio.gather(
                load.ops(args.resync_every, deadline),
                *(load.client(http, number, deadline) for number in range(args.clients)),
            )
            elapsed = time.monotonic() - started
            rss_at_end = rss_bytes(pid)
            server_cpu, client_cpu = cpu_seconds(pid) - cpu[0], time.process_time() - cpu[1]
            after = await executed(base)
            print("load stopped; waiting for the runs and their events...", file=sys.stderr)
            runs = await wait_runs(base, key, load.runs, DRAIN_TIMEOUT)
            on_stream, in_database = await drain(
                redis_url, database_url, stream_after, event_after, subscribers, DRAIN_TIMEOUT
            )
            stop_rss.set()
            await sampler
            received = subscribers.in_order()
        finally:
            await subscribers.close()
    return {
        "elapsed": elapsed,
        "load": load,
        "runs": runs,
        "on_stream": on_stream,
        "in_database": in_database,
        "received": received,
        "subscription_failures": subscribers.failures,
        "rss_at_end": rss_at_end,
        "executed": {
            name: tuple(now - then for now, then in zip(after[name], before[name], strict=True))
            for name in after
        },
        "cpu": (server_cpu / elapsed, client_cpu / elapsed),
    }


def server_problems(log: str) -> Counter[str]:
    """The server log's warnings and errors, by level and message (its first 120 characters,
    without the request id)."""
    return Counter(
        f"{match[1]}{REQUEST_ID.sub('', match[2])[:120]}"
        for line in log.splitlines()
        if (match := PROBLEM.search(line))
    )


def report(
    args: argparse.Namespace, result: dict[str, Any], load_before: str, problems: Counter[str]
) -> None:
    load: Load = result["load"]
    requests = load.requests
    mib = 1024 * 1024
    print(
        f"{args.clients} clients, {args.subscribers} subscribers, resync every "
        f"{args.resync_every} s, {result['elapsed']:.1f} s; load average before {load_before},"
        f" after {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        + (f"; settings {' '.join(args.setting)}" if args.setting else "")
    )
    server_cpu, client_cpu = result["cpu"]
    print(
        f"CPU during the load, in cores: server {server_cpu:.2f}, this process (clients and"
        f" subscribers) {client_cpu:.2f}"
    )
    print(
        f"requests {requests} ({requests / result['elapsed']:.1f}/s), errors {sum(load.errors.values())}"
    )
    for kind, count in sorted(load.errors.items()):
        print(f"  error {kind}: {count}")
    print(
        f"{'query':<14}{'count':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
        f"{'executed':>10}{'mean in view ms':>17}{'cache hits':>12}"
    )
    for kind, operation in zip(KINDS, OPERATIONS, strict=True):
        values = load.latencies.get(kind) or [0.0]
        count, seconds, hits = result["executed"].get(operation, (0.0, 0.0, 0.0))
        print(
            f"{kind:<14}{len(load.latencies.get(kind, [])):>8}{percentile(values, 0.5) * 1000:>10.1f}"
            f"{percentile(values, 0.99) * 1000:>10.1f}{max(values) * 1000:>10.1f}"
            f"{count:>10.0f}{seconds / max(count, 1) * 1000:>17.1f}{hits:>12.0f}"
        )
    print(
        f"resyncs: {len(load.runs)} runs ({dict(result['runs'])}), resync errors "
        f"{dict(load.resync_errors) or 0}"
    )
    on_stream, in_database, received = (
        result["on_stream"],
        result["in_database"],
        result["received"],
    )
    exact = sum(1 for sequence in received if sequence == on_stream)
    counts = sorted(len(sequence) for sequence in received)
    print(
        f"events: published {len(on_stream)} on the stream, {len(in_database)} in the database"
        f" (same ids: {sorted(on_stream) == in_database}); per subscriber received min "
        f"{counts[0] if counts else 0} max {counts[-1] if counts else 0}; subscribers with "
        f"exactly the stream's ids in order: {exact}/{len(received)}; subscription failures "
        f"{dict(result['subscription_failures']) or 0}"
    )
    samples = [rss for _, rss in load.rss]
    print(
        f"server RSS MiB: start {samples[0] / mib:.1f}, max {max(samples) / mib:.1f}, end of load "
        f"{result['rss_at_end'] / mib:.1f}, after the drain {samples[-1] / mib:.1f} "
        f"({len(samples)} samples, about one a second)"
    )
    every = max(1, len(samples) // 12)
    print("  by time: " + ", ".join(f"{t:.0f}s {rss / mib:.0f}" for t, rss in load.rss[::every]))
    print(f"server log: {sum(problems.values())} warnings and errors")
    for message, count in problems.most_common(10):
        print(f"  {count} x {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--resync-every", type=float, default=5)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment setting for `llmref serve` (e.g. LLMREF_DATABASE_POOL_SIZE=20)",
    )
    args = parser.parse_args()
    raise_file_limit(4 * (args.clients + args.subscribers) + 1024)
    payloads = [read_payload(LITELLM_JULY_1), read_payload(LITELLM_JULY_3)]
    with ExitStack() as stack:
        cwd = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="llmref-load-")))
        print("loading the offline catalog...", file=sys.stderr)
        database_url = stack.enter_context(offline_catalog_database())
        prepare_catalog(database_url)
        key = create_ops_key(database_url, cwd, name="load")
        redis_url = stack.enter_context(redis_server(cwd)).url()
        feed = stack.enter_context(FeedServer())
        set_feed_url(database_url, "litellm", feed.url)
        env = {"LLMREF_DATABASE_URL": database_url, "LLMREF_REDIS_URL": redis_url}
        worker = stack.enter_context(running(start_worker(cwd, env)))
        serve, base = start_serve(
            cwd,
            {
                **env,
                "LLMREF_LOAD_CATALOG_ON_START": "false",
                "LLMREF_RATE_LIMIT_MUTATIONS": "0",
                "LLMREF_RATE_LIMIT_SUBSCRIPTIONS": "0",
                **dict(setting.split("=", 1) for setting in args.setting),
            },
        )
        stack.enter_context(running(serve))
        worker.wait_for_log(WORKER_READY)
        wait_until_answers(serve, base)
        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        result = asyncio.run(
            run_load(args, base, serve.pid, key, feed, payloads, redis_url, database_url)
        )
        problems = server_problems(serve.log())
    report(args, result, load_before, problems)


if __name__ == "__main__":
    main()
