"""The catalog at 100 times its size, and the cold benchmarks on it.

Usage:
  .venv/bin/python bench/scale.py generate URL [--factor 100] [--history 10000000]
  .venv/bin/python bench/scale.py bench URL [--seconds 8] [--pair a,b]...
  .venv/bin/python bench/scale.py inprocess URL [--repeat 50] [--pair a,b]...
  .venv/bin/python bench/scale.py explain URL [--pair a,b] [--feed litellm]

`generate` creates the PostgreSQL database URL names when it is missing and refuses one
that holds models; it migrates it, loads the real offline catalog (the curated file and
the five bundled feeds) and adds ``factor - 1`` synthetic copies of it, with multi-row
INSERT ... SELECT statements run by PostgreSQL (no rows travel through Python). Copy k of
a row has the slug, name, key or provider model id of the real one with the suffix
``-s{k:05d}`` (``glm-4v-9b-s00042``), its own organizations and providers, and rows a
source owns (aliases, listings, observed prices, the origin of facts) under the source
``synthetic-<source>``, so a real feed's ingest never claims or removes them. Every
synthetic route with a price also gets an older price history: a number of rows drawn
from an exponential distribution (so most routes have a few and some have hundreds),
sized so that the prices table holds about ``--history`` rows, spread over 0.5 to 5.7
years before the route's first real price, older prices higher. Release dates move back
by up to four years. Then VACUUM ANALYZE. Feed runs, snapshots, unmatched names and
held changes are feed state and are not copied.

`bench` serves the database with `llmref serve` (one uvicorn worker, feeds not polled,
a Redis database of its own) and measures with wrk and one connection, every cache
bypassed (`Cache-Control: no-cache`): the whole-page comparison of each pair
(bench/comparison_query.graphql) and models(first: 50) with offerings and prices
(bench/models_query.graphql).

`inprocess` sends the same requests to the app in process (httpx over ASGI) and reports
the median wall and CPU milliseconds per request: on a shared machine the process's CPU
time moves far less with the load than wrk's latencies.

`explain` runs the same requests in process and a full re-apply of one feed's bundled
snapshot (its records in new bytes, as bench/ingest.py's "same rec." column), records
every SQL statement with its time, and prints EXPLAIN (ANALYZE, BUFFERS) of each SELECT
the requests ran and of the slowest SELECTs of the ingest, with the ingest's time.

Drop the database when done: `psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE name'`;
`generate` builds it again in a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.comparison import BIN, QUERY, serving, wrk
from bench.harness import free_port
from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, read_snapshot_file
from schema.ingest.offline import import_offline_catalog, import_snapshot_file
from schema.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
MODELS_QUERY = (ROOT / "bench" / "models_query.graphql").read_text()
REAL_PAIR = "glm-4v-9b,qwen3.5-4b"
SUFFIX = "'-s' || lpad(k::text, 5, '0')"
"""SQL for copy k's suffix; ``k`` is the copy number from generate_series."""
SOURCE = "'synthetic-' || {column}"
Statement = tuple[str, Any, float, bool]
BATCH = 10
"""Copies per transaction (one progress line each)."""

COPIES = {
    "organizations": """
        INSERT INTO organizations (id, slug, name, url)
        SELECT o.id + k * {organizations}, o.slug || {suffix}, o.name || ' ' || k, o.url
        FROM organizations o, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE o.id <= {organizations}""",
    "providers": """
        INSERT INTO providers (id, slug, name, url)
        SELECT p.id + k * {providers}, p.slug || {suffix}, p.name || ' ' || k, p.url
        FROM providers p, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE p.id <= {providers}""",
    "llm_models": """
        INSERT INTO llm_models (id, slug, name, creator_id, released_on, context_window,
            max_output_tokens, parameters_billions, architecture, license, open_weights,
            knowledge_cutoff, released_on_precision, knowledge_cutoff_precision,
            input_modalities, output_modalities, capabilities, created_at, updated_at)
        SELECT m.id + k * {llm_models}, m.slug || {suffix}, m.name || ' ' || k,
            m.creator_id + k * {organizations}, m.released_on - (k * 7919) %% 1461,
            m.context_window, m.max_output_tokens, m.parameters_billions, m.architecture,
            m.license, m.open_weights, m.knowledge_cutoff - (k * 7919) %% 1461,
            m.released_on_precision, m.knowledge_cutoff_precision, m.input_modalities,
            m.output_modalities, m.capabilities, now(), now()
        FROM llm_models m, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE m.id <= {llm_models}""",
    "model_aliases": """
        INSERT INTO model_aliases (id, model_id, name, key, source)
        SELECT a.id + k * {model_aliases}, a.model_id + k * {llm_models}, a.name || {suffix},
            a.key || {suffix}, {a_source}
        FROM model_aliases a, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE a.id <= {model_aliases}""",
    "fact_sources": """
        INSERT INTO fact_sources (id, model_id, source, origin, url, field, value,
            retrieved_at, stated_at, from_creator)
        SELECT f.id + k * {fact_sources}, f.model_id + k * {llm_models}, f.source,
            {f_origin}, f.url, f.field, f.value, f.retrieved_at, f.stated_at, f.from_creator
        FROM fact_sources f, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE f.id <= {fact_sources}""",
    "benchmark_scores": """
        INSERT INTO benchmark_scores (id, model_id, benchmark_id, score, source, url)
        SELECT b.id + k * {benchmark_scores}, b.model_id + k * {llm_models}, b.benchmark_id,
            b.score, b.source, b.url
        FROM benchmark_scores b, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE b.id <= {benchmark_scores}""",
    "offerings": """
        INSERT INTO offerings (id, model_id, provider_id, region, provider_model_id,
            context_window, status, created_at, updated_at)
        SELECT o.id + k * {offerings}, o.model_id + k * {llm_models},
            o.provider_id + k * {providers}, o.region, o.provider_model_id || {suffix},
            o.context_window, o.status, now(), now()
        FROM offerings o, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE o.id <= {offerings}""",
    "offering_listings": """
        INSERT INTO offering_listings (id, offering_id, source, provider_model_id,
            context_window, first_seen_at, last_seen_at)
        SELECT l.id + k * {offering_listings}, l.offering_id + k * {offerings}, {l_source},
            l.provider_model_id || {suffix}, l.context_window, l.first_seen_at, l.last_seen_at
        FROM offering_listings l, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE l.id <= {offering_listings}""",
    "observed_prices": """
        INSERT INTO observed_prices (id, offering_id, source, dated, stated_from, observed_at,
            feed_run_id, input_per_mtok, output_per_mtok, cached_input_per_mtok, tiers,
            effective_from, effective_to, stated_at, confirmed_at)
        SELECT p.id + k * {observed_prices}, p.offering_id + k * {offerings}, {p_source},
            p.dated, p.stated_from, p.observed_at, NULL, p.input_per_mtok, p.output_per_mtok,
            p.cached_input_per_mtok, p.tiers, p.effective_from, p.effective_to, p.stated_at,
            p.confirmed_at
        FROM observed_prices p, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE p.id <= {observed_prices}""",
    "prices": """
        INSERT INTO prices (id, offering_id, source, created_at, input_per_mtok,
            output_per_mtok, cached_input_per_mtok, tiers, effective_from, effective_to,
            stated_at, confirmed_at, tiers_source)
        SELECT p.id + k * {prices}, p.offering_id + k * {offerings}, p.source, now(),
            p.input_per_mtok, p.output_per_mtok, p.cached_input_per_mtok, p.tiers,
            p.effective_from, p.effective_to, p.stated_at, p.confirmed_at, p.tiers_source
        FROM prices p, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE p.id <= {prices}""",
    "price_change_events": """
        INSERT INTO price_change_events (id, kind, offering_id, model_id, provider_id,
            previous, current, occurred_at, feed_run_id, published_at)
        SELECT e.id + k * {price_change_events}, e.kind, e.offering_id + k * {offerings},
            e.model_id + k * {llm_models}, e.provider_id + k * {providers}, e.previous,
            e.current, e.occurred_at, NULL, e.published_at
        FROM price_change_events e, generate_series(%(k0)s::int, %(k1)s::int) k
        WHERE e.id <= {price_change_events}""",
}
"""Copies k0..k1 of every real row; ``{table}`` is that table's largest real id."""

HISTORY = """
    INSERT INTO prices (offering_id, source, created_at, input_per_mtok, output_per_mtok,
        cached_input_per_mtok, tiers, effective_from, effective_to, stated_at, confirmed_at)
    SELECT r.offering_id + r.k * {offerings}, r.source, now(),
        trim_scale(round((r.input_per_mtok * r.markup)::numeric, 4)),
        trim_scale(round((r.output_per_mtok * r.markup)::numeric, 4)),
        trim_scale(round((r.cached_input_per_mtok * r.markup)::numeric, 4)),
        r.tiers, r.effective_from, r.effective_to, r.effective_from, r.effective_to
    FROM (
        SELECT f.*, k, i.n,
            date_trunc('second', f.first_from - h.span * ((h.rows - i.n + 1)::float / h.rows))
                AS effective_from,
            date_trunc('second', f.first_from - h.span * ((h.rows - i.n)::float / h.rows))
                AS effective_to,
            (1 + 0.8 * (h.rows - i.n + 1)::float / h.rows) * (0.9 + 0.2 * random()) AS markup
        FROM first_prices f
        CROSS JOIN generate_series(%(k0)s::int, %(k1)s::int) k
        CROSS JOIN LATERAL (
            SELECT floor(0.5 - ln(1 - random()) * %(mean)s)::int AS rows,
                (180 + random() * 1900) * interval '1 day' AS span, k AS copy
        ) h
        CROSS JOIN LATERAL generate_series(1, h.rows) i(n)
    ) r"""
"""Older prices of copies k0..k1 of every real route with a price: ``rows`` per route
(exponential, mean ``mean``), ending where the route's first real price starts."""

FIRST_PRICES = """
    CREATE TEMPORARY TABLE first_prices AS
    SELECT DISTINCT ON (p.offering_id) p.offering_id, p.source, p.input_per_mtok,
        p.output_per_mtok, p.cached_input_per_mtok, p.tiers, p.effective_from AS first_from
    FROM prices p
    ORDER BY p.offering_id, p.effective_from"""


def psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the database ``url`` names when it does not exist."""
    name = make_url(url).database
    admin = psycopg_url(str(make_url(url).set(database="postgres")))
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        connection.execute(f'CREATE DATABASE "{name}"')
        print(f"created database {name}", file=sys.stderr)


def load_real_catalog(url: str) -> None:
    """Refuse a database that holds models (before touching it); migrate; load the
    offline catalog."""
    with psycopg.connect(psycopg_url(url)) as connection:
        found = connection.execute("SELECT to_regclass('llm_models') IS NOT NULL").fetchone()
        models = (
            connection.execute("SELECT count(*) FROM llm_models").fetchone()
            if found and found[0]
            else None
        )
    if models and models[0]:
        raise SystemExit(
            f"{make_url(url).database} already holds {models[0]} models: give an empty "
            "database (drop it, or name another; generate creates it)"
        )
    upgrade(url)
    started = time.perf_counter()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    import_curated(sessions)
    import_offline_catalog(sessions, on_feed=lambda slug: progress(f"loading {slug}", started))
    engine.dispose()
    progress("real catalog loaded", started)


def multiply(url: str, factor: int, history: int) -> dict[str, int]:
    """Add copies 1..factor-1 of the real catalog and the price history; the row counts."""
    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url)) as connection:
        strides = {
            table: connection.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in COPIES
        }
        statements = {
            table: sql.format(
                suffix=SUFFIX,
                a_source=SOURCE.format(column="a.source"),
                f_origin=SOURCE.format(column="f.origin"),
                l_source=SOURCE.format(column="l.source"),
                p_source=SOURCE.format(column="p.source"),
                **strides,
            )
            for table, sql in COPIES.items()
        }
        connection.execute("SELECT setseed(0.42)")
        connection.execute(FIRST_PRICES)
        routes = connection.execute("SELECT count(*) FROM first_prices").fetchone()[0]  # type: ignore[index]
        real_prices = connection.execute("SELECT count(*) FROM prices").fetchone()[0]  # type: ignore[index]
        mean = max(0.0, (history - real_prices * factor) / max(1, routes * (factor - 1)))
        # history rows take ids after every copy's
        connection.execute(
            "SELECT setval(pg_get_serial_sequence('prices', 'id'), %s)",
            [strides["prices"] * factor + 1],
        )
        history_sql = HISTORY.format(offerings=strides["offerings"])
        connection.commit()
        for k0 in range(1, factor, BATCH):
            k1 = min(k0 + BATCH - 1, factor - 1)
            with connection.transaction():
                for statement in statements.values():
                    connection.execute(statement, {"k0": k0, "k1": k1})
                connection.execute(history_sql, {"k0": k0, "k1": k1, "mean": mean})
            progress(f"copies {k0}-{k1} of {factor - 1}", started)
        for table in COPIES:
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                f" (SELECT max(id) FROM {table}))"
            )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
        progress("vacuumed and analyzed", started)
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in COPIES
        }


def progress(what: str, started: float) -> None:
    print(f"{time.perf_counter() - started:7.1f} s  {what}", file=sys.stderr, flush=True)


def generate(args: argparse.Namespace) -> None:
    ensure_database(args.url)
    load_real_catalog(args.url)
    counts = multiply(args.url, args.factor, args.history)
    for table, count in counts.items():
        print(f"{table:<22}{count:>12,}")


def comparison_body(pair: str) -> str:
    return json.dumps({"query": QUERY, "variables": {"models": pair.split(",")}})


def models_body() -> str:
    return json.dumps({"query": MODELS_QUERY, "variables": {"first": 50}})


def bench(args: argparse.Namespace) -> None:
    from tests.e2e.live import redis_database

    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database((12, 11, 10)))
        env = {
            "LLMREF_DATABASE_URL": args.url,
            "LLMREF_REDIS_URL": redis_url,
            "LLMREF_RUN_FEEDS": "false",
        }
        port = free_port()
        command = [str(BIN / "llmref"), "serve", "--no-access-log", "--port", str(port)]
        base = stack.enter_context(serving(command, env, port))
        no_cache = {"Cache-Control": "no-cache"}
        cases = [(f"cold comparison {pair}", comparison_body(pair)) for pair in args.pair]
        cases.append(("models(first: 50)", models_body()))
        print(f"{'case':<52}{'req/s':>9}{'p50':>10}{'p99':>10}{'non-2xx':>9}")
        for name, body in cases:
            answer = httpx.post(
                f"{base}/graphql",
                content=body,
                headers={"content-type": "application/json", **no_cache},
                timeout=60,
            )
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
            row = wrk(base, body, no_cache, args.seconds, 1)
            print(f"{name:<52}{row['rps']:>9}{row['p50']:>10}{row['p99']:>10}{row['errors']:>9}")


@contextmanager
def recorded_statements() -> Iterator[list[Statement]]:
    """Every statement any engine runs meanwhile: its text, parameters, seconds, and
    whether the main thread ran it (a feed run renews its lease from another thread)."""
    statements: list[Statement] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        conn.info["started"] = time.perf_counter()

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seconds = time.perf_counter() - conn.info["started"]
        main = threading.current_thread() is threading.main_thread()
        statements.append((statement, parameters, seconds, main))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)


def explain(url: str, statement: str, parameters: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a SELECT, in a transaction rolled back."""
    with psycopg.connect(psycopg_url(url)) as connection:
        rows = connection.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement,  # type: ignore[arg-type]
            parameters or None,
        ).fetchall()
        connection.rollback()
    return "\n".join(row[0] for row in rows)


async def requests(url: str, bodies: list[str], repeat: int = 1) -> list[tuple[float, float]]:
    """Each body ``repeat`` times through the app in process, caches bypassed; the wall
    and CPU seconds of each request."""
    from tests.conftest import app_settings, asgi_client

    timings = []
    async with asgi_client(app_settings(url)) as http:
        for body in bodies:
            for _ in range(repeat):
                started, cpu = time.perf_counter(), time.process_time()
                answer = await http.post(
                    "/graphql",
                    content=body,
                    headers={"content-type": "application/json", "Cache-Control": "no-cache"},
                )
                timings.append((time.perf_counter() - started, time.process_time() - cpu))
                assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return timings


def in_process(args: argparse.Namespace) -> None:
    """Median wall and CPU ms per cold request in process: on a shared machine CPU time
    moves less with the load than wrk's latencies."""
    cases = [(f"cold comparison {pair}", comparison_body(pair)) for pair in args.pair]
    cases.append(("models(first: 50)", models_body()))
    asyncio.run(requests(args.url, [body for _, body in cases]))  # imports, parse caches
    print(
        f"{'case (in process, ' + str(args.repeat) + ' requests)':<52}{'wall p50':>10}{'cpu p50':>10}"
    )
    for name, body in cases:
        timings = asyncio.run(requests(args.url, [body], args.repeat))
        wall = statistics.median(wall for wall, _ in timings) * 1000
        cpu = statistics.median(cpu for _, cpu in timings) * 1000
        print(f"{name:<52}{wall:>8.1f}ms{cpu:>8.1f}ms")


def show(url: str, title: str, statements: list[Statement]) -> None:
    total = sum(seconds for _, _, seconds, _ in statements) * 1000
    print(f"\n=== {title}: {len(statements)} statements, {total:.1f} ms")
    for statement, parameters, seconds, _main in statements:
        print(f"\n--- {seconds * 1000:.2f} ms\n{statement.strip()}")
        if statement.lstrip().upper().startswith("SELECT"):
            print(explain(url, statement, parameters))


def reapply(sessions: sessionmaker[Session], slug: str) -> tuple[float, float]:
    """Wall and CPU seconds (this process's) to import a feed's bundled snapshot in bytes
    not seen before (whitespace added): parsed and applied in full, changing nothing."""
    kind = next(feed.kind for feed in KNOWN_FEEDS if feed.slug == slug)
    padding = b"\n" + b" " * (time.time_ns() % 100_000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.json"
        path.write_bytes(read_snapshot_file(bundled_path(kind)) + padding)
        started, cpu = time.perf_counter(), time.process_time()
        outcome = import_snapshot_file(sessions, slug, path)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert outcome.report is not None and not outcome.report.events, outcome
    return seconds, cpu


def explain_all(args: argparse.Namespace) -> None:
    bodies = [comparison_body(pair) for pair in args.pair]
    asyncio.run(requests(args.url, bodies))  # warm the process (imports, parse caches)
    with recorded_statements() as compared:
        asyncio.run(requests(args.url, bodies))
    with recorded_statements() as listed:
        asyncio.run(requests(args.url, [models_body()]))
    engine = make_engine(args.url)
    sessions = make_sessionmaker(engine)
    with recorded_statements() as ingested:
        seconds, cpu = reapply(sessions, args.feed)
    engine.dispose()
    show(args.url, f"cold comparison {', '.join(args.pair)}", compared)
    show(args.url, "models(first: 50)", listed)
    own = sorted((item for item in ingested if item[3]), key=lambda item: -item[2])
    print(
        f"\n=== ingest of {args.feed} (same records, new bytes): {seconds:.2f} s, cpu {cpu:.2f} s"
    )
    show(args.url, f"its {args.top} slowest statements of {len(own)}", own[: args.top])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generating = commands.add_parser("generate", help="create and fill the database")
    generating.add_argument("url")
    generating.add_argument("--factor", type=int, default=100)
    generating.add_argument("--history", type=int, default=10_000_000)
    benching = commands.add_parser("bench", help="cold latency with wrk, one connection")
    benching.add_argument("url")
    benching.add_argument("--seconds", type=int, default=8)
    benching.add_argument("--pair", action="append")
    timing = commands.add_parser("inprocess", help="cold requests in process: wall and CPU")
    timing.add_argument("url")
    timing.add_argument("--pair", action="append")
    timing.add_argument("--repeat", type=int, default=50)
    explaining = commands.add_parser("explain", help="statements and their plans")
    explaining.add_argument("url")
    explaining.add_argument("--pair", action="append")
    explaining.add_argument("--feed", default="litellm")
    explaining.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    if args.command == "generate":
        generate(args)
        return
    args.pair = args.pair or [REAL_PAIR]
    {"bench": bench, "inprocess": in_process, "explain": explain_all}[args.command](args)


if __name__ == "__main__":
    main()
