"""The ops fields over GraphQL, in-process, on both databases: API-key auth (UNAUTHENTICATED,
FORBIDDEN), feed sources and runs, re-sync, held price changes, unmatched names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import LlmrefGraphQL
from api.auth import caller_role
from api.services.loaders import Loaders, create_loaders
from schema.auth import create_api_key, hash_key, revoke_api_key
from schema.db.engine import make_async_engine, make_async_sessionmaker
from schema.domain.prices import PriceState
from schema.feeds.sources import KNOWN_FEEDS
from schema.models import (
    ApiKey,
    FeedRun,
    FeedSource,
    HeldPriceChange,
    LlmModel,
    Offering,
    PriceChangeEvent,
    Provider,
    UnmatchedName,
)
from schema.settings import Settings

AT = datetime(2026, 7, 1, 12, tzinfo=UTC)
SEEDED_FEEDS = ["genai-prices", "litellm", "llm-prices", "models.dev", "openrouter"]
SOURCE_URLS = {feed.slug: feed.url for feed in KNOWN_FEEDS}


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def enqueued(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session]
) -> list[tuple[int, str]]:
    """Records each `context.enqueue_run(run_id)` with the run's status as another session
    sees it then (so a run enqueued before its commit would show up as missing)."""
    calls: list[tuple[int, str]] = []
    get_context = LlmrefGraphQL.get_context

    async def enqueue_run(run_id: int) -> None:
        with sessions() as session:
            run = session.get(FeedRun, run_id)
            calls.append((run_id, run.status if run is not None else "NOT COMMITTED"))

    async def with_recorder(self: LlmrefGraphQL, request: Any, response: Any) -> Any:
        context = await get_context(self, request, response)
        context.enqueue_run = enqueue_run  # type: ignore[attr-defined]
        return context

    monkeypatch.setattr(LlmrefGraphQL, "get_context", with_recorder)
    return calls


@dataclass(frozen=True)
class Keys:
    ops: str
    revoked: str
    other_role: str


@pytest.fixture
def keys(sessions: sessionmaker[Session]) -> Keys:
    with sessions.begin() as session:
        _, ops = create_api_key(session, name="ops tooling", role="ops", now=AT)
        revoked_row, revoked = create_api_key(session, name="old laptop", role="ops", now=AT)
        revoke_api_key(session, revoked_row.id, now=AT + timedelta(days=1))
        # A role that create_api_key does not offer (yet): written directly.
        other_role = "llmref_0a1b2c3d_a-key-with-some-other-role"
        session.add(
            ApiKey(
                name="dashboard",
                role="viewer",
                prefix="0a1b2c3d",
                key_hash=hash_key(other_role),
                created_at=AT,
            )
        )
    return Keys(ops=ops, revoked=revoked, other_role=other_role)


@dataclass(frozen=True)
class Rows:
    openrouter_run: int
    litellm_run: int
    event: int
    pending_hold: int
    approved_hold: int


def _price(input_per_mtok: str, output_per_mtok: str, source: str) -> PriceState:
    return PriceState(Decimal(input_per_mtok), Decimal(output_per_mtok), None, (), source, AT)


@pytest.fixture
def rows(sessions: sessionmaker[Session]) -> Rows:
    """A route with a recorded event, runs of two feeds, held changes, unmatched names."""
    with sessions.begin() as session:
        source_ids = dict(session.execute(select(FeedSource.slug, FeedSource.id)).all())
        model = LlmModel(slug="acme-1", name="Acme 1")
        provider = Provider(slug="openrouter", name="OpenRouter")
        session.add_all([model, provider])
        session.flush()
        offering = Offering(model_id=model.id, provider_id=provider.id, provider_model_id="acme/1")
        older = FeedRun(
            source_id=source_ids["openrouter"],
            status="SUCCEEDED",
            queued_at=AT,
            finished_at=AT + timedelta(minutes=1),
            seen=10,
            added=2,
            held=1,
        )
        session.add_all([offering, older])
        session.flush()
        newer = FeedRun(
            source_id=source_ids["litellm"],
            status="FAILED",
            queued_at=AT + timedelta(hours=1),
            error="HTTP 503",
        )
        session.add(newer)
        session.flush()
        event = PriceChangeEvent(
            kind="ADDED",
            offering_id=offering.id,
            model_id=model.id,
            provider_id=provider.id,
            current=_price("1", "2", "openrouter"),
            occurred_at=AT,
            feed_run_id=older.id,
        )
        approved = HeldPriceChange(
            offering_id=offering.id,
            source="litellm",
            current=_price("1", "2", "litellm"),
            proposed=_price("0.001", "2", "litellm"),
            reason="input price fell by 99.9%",
            status="APPROVED",
            held_at=AT,
            decided_at=AT + timedelta(hours=2),
        )
        pending = HeldPriceChange(
            offering_id=offering.id,
            source="openrouter",
            current=_price("1", "2", "openrouter"),
            proposed=_price("100", "2", "openrouter"),
            reason="input price rose 100-fold",
            status="PENDING",
            held_at=AT + timedelta(minutes=1),
            feed_run_id=older.id,
        )
        session.add_all([event, approved, pending])
        session.add_all(
            UnmatchedName(
                name=name,
                source=source,
                provider_slug=provider_slug,
                first_seen_at=AT,
                last_seen_at=seen,
            )
            for name, source, provider_slug, seen in [
                ("mystery-7b", "openrouter", "openrouter", AT),
                ("acme-2-preview", "openrouter", None, AT + timedelta(hours=1)),
                ("mystery-7b", "litellm", None, AT),
            ]
        )
        session.flush()
        return Rows(older.id, newer.id, event.id, pending.id, approved.id)


async def ask(
    client: httpx.AsyncClient,
    query: str,
    *,
    key: str | None = None,
    authorization: str | None = None,
    variables: dict[str, object] | None = None,
) -> dict[str, Any]:
    """POST a document, with `Authorization: Bearer <key>` (or the raw header given)."""
    header = authorization if authorization is not None else (key and f"Bearer {key}")
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": header} if header else {},
    )
    assert response.status_code == 200, response.text
    return response.json()


def error_code(body: dict[str, Any]) -> str:
    [error] = body["errors"]
    return error["extensions"]["code"]


def _state(sessions: sessionmaker[Session]) -> tuple[int, list[tuple[Any, ...]], list[Any]]:
    with sessions() as session:
        runs = session.scalar(select(func.count()).select_from(FeedRun)) or 0
        holds = session.execute(
            select(HeldPriceChange.id, HeldPriceChange.status).order_by(HeldPriceChange.id)
        )
        sources = session.execute(
            select(
                FeedSource.slug,
                FeedSource.url,
                FeedSource.interval_seconds,
                FeedSource.enabled,
                FeedSource.rank,
                FeedSource.etag,
                FeedSource.last_modified,
            ).order_by(FeedSource.slug)
        )
        return runs, [tuple(row) for row in holds], [tuple(row) for row in sources]


# --- auth ---------------------------------------------------------------------------------

OPS_OPERATIONS = {
    "feedSources": "{ feedSources { slug } }",
    "feedRun": '{ feedRun(id: "1") { id } }',
    "feedRuns": "{ feedRuns { id } }",
    "heldPriceChanges": "{ heldPriceChanges { id } }",
    "unmatchedNames": "{ unmatchedNames { name } }",
    "resyncFeed": 'mutation { resyncFeed(source: "litellm") { run { id } } }',
    "setFeedSource": 'mutation { setFeedSource(slug: "litellm", rank: 1) { slug } }',
    "approvePriceChange": "mutation($id: ID!) { approvePriceChange(id: $id) { status } }",
    "rejectPriceChange": "mutation($id: ID!) { rejectPriceChange(id: $id) { status } }",
}

CALLERS = {
    "no key": (lambda keys: None, "UNAUTHENTICATED"),
    "unknown key": (lambda keys: "Bearer llmref_deadbeef_not-a-key-we-made", "UNAUTHENTICATED"),
    "not a key of ours": (lambda keys: "Bearer hello", "UNAUTHENTICATED"),
    "not a bearer": (lambda keys: f"Basic {keys.ops}", "UNAUTHENTICATED"),
    "revoked key": (lambda keys: f"Bearer {keys.revoked}", "UNAUTHENTICATED"),
    "key without the role": (lambda keys: f"Bearer {keys.other_role}", "FORBIDDEN"),
}


@pytest.mark.parametrize("operation", OPS_OPERATIONS)
@pytest.mark.parametrize("caller", CALLERS)
async def test_ops_fields_refuse_other_callers_and_change_nothing(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    rows: Rows,
    enqueued: list[tuple[int, str]],
    caller: str,
    operation: str,
) -> None:
    header_of, code = CALLERS[caller]
    before = _state(sessions)
    body = await ask(
        client,
        OPS_OPERATIONS[operation],
        authorization=header_of(keys) or "",
        variables={"id": str(rows.pending_hold)} if operation.endswith("PriceChange") else None,
    )
    assert not any((body["data"] or {}).values()), "no answer (feedRun is nullable: null)"
    assert error_code(body) == code
    assert _state(sessions) == before
    assert enqueued == []


async def test_a_key_in_the_websocket_connection_params_is_read(
    settings: Settings, keys: Keys
) -> None:
    """Over websockets the key may come in the connection_init payload, which strawberry
    stores as the context's `connection_params`."""

    @dataclass
    class WebSocketContext:
        loaders: Loaders
        request: Any = None
        connection_params: Any = None

    engine = make_async_engine(settings.database_url)
    try:
        context = WebSocketContext(loaders=create_loaders(make_async_sessionmaker(engine), AT))
        assert await caller_role(context) is None  # type: ignore[arg-type]
        context.connection_params = {"authorization": f"Bearer {keys.ops}"}
        assert await caller_role(context) == "ops"  # type: ignore[arg-type]
        context.connection_params = {"authorization": f"Bearer {keys.revoked}"}
        assert await caller_role(context) is None  # type: ignore[arg-type]
    finally:
        await engine.dispose()


# --- feed sources and runs ----------------------------------------------------------------


async def test_feed_sources_list_the_seeded_feeds_with_their_last_run(
    client: httpx.AsyncClient, keys: Keys, rows: Rows
) -> None:
    body = await ask(
        client,
        "{ feedSources { slug kind url intervalSeconds enabled lastRun { id status } } }",
        key=keys.ops,
    )
    sources = {source["slug"]: source for source in body["data"]["feedSources"]}
    assert list(sources) == SEEDED_FEEDS
    assert sources["openrouter"]["lastRun"] == {
        "id": str(rows.openrouter_run),
        "status": "SUCCEEDED",
    }
    assert sources["litellm"]["lastRun"] == {"id": str(rows.litellm_run), "status": "FAILED"}
    assert sources["models.dev"] == {
        "slug": "models.dev",
        "kind": "models.dev",
        "url": "https://models.dev/api.json",
        "intervalSeconds": 3600,
        "enabled": True,
        "lastRun": None,
    }


RESYNC = "mutation($source: String!) { resyncFeed(source: $source) { run { id status source { slug } } } }"


async def test_resync_queues_one_run_and_returns_it_again_while_it_is_open(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    enqueued: list[tuple[int, str]],
) -> None:
    first = await ask(client, RESYNC, key=keys.ops, variables={"source": "litellm"})
    run = first["data"]["resyncFeed"]["run"]
    assert run["status"] == "QUEUED"
    assert run["source"] == {"slug": "litellm"}
    second = await ask(client, RESYNC, key=keys.ops, variables={"source": "litellm"})
    assert second["data"]["resyncFeed"]["run"] == run
    assert _state(sessions)[0] == 1
    assert enqueued == [(int(run["id"]), "QUEUED")], "enqueued once, after the commit"


async def test_a_failed_enqueue_still_answers_the_committed_run(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run row is the durable record: the sweep hands a run left QUEUED to a worker."""
    get_context = LlmrefGraphQL.get_context

    async def broken_enqueue(run_id: int) -> None:
        raise ConnectionError("broker down")

    async def with_broken_queue(self: LlmrefGraphQL, request: Any, response: Any) -> Any:
        context = await get_context(self, request, response)
        context.enqueue_run = broken_enqueue
        return context

    monkeypatch.setattr(LlmrefGraphQL, "get_context", with_broken_queue)
    body = await ask(client, RESYNC, key=keys.ops, variables={"source": "litellm"})
    run = body["data"]["resyncFeed"]["run"]
    with sessions() as session:
        assert session.get_one(FeedRun, int(run["id"])).status == run["status"] == "QUEUED"


def _running_run(sessions: sessionmaker[Session], *, lease_left: timedelta) -> int:
    """A RUNNING openrouter run whose lease ends ``lease_left`` from now."""
    with sessions.begin() as session:
        source_id = session.scalar(select(FeedSource.id).where(FeedSource.slug == "openrouter"))
        running = FeedRun(
            source_id=source_id,
            status="RUNNING",
            queued_at=AT,
            started_at=AT,
            lease_expires_at=datetime.now(UTC) + lease_left,
        )
        session.add(running)
        session.flush()
        return running.id


async def test_resync_returns_the_running_run_while_its_worker_is_alive(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    enqueued: list[tuple[int, str]],
) -> None:
    running_id = _running_run(sessions, lease_left=timedelta(minutes=1))  # worker alive
    body = await ask(client, RESYNC, key=keys.ops, variables={"source": "openrouter"})
    assert body["data"]["resyncFeed"]["run"]["id"] == str(running_id)
    assert body["data"]["resyncFeed"]["run"]["status"] == "RUNNING"
    assert enqueued == []


async def test_resync_replaces_a_running_run_whose_process_is_gone(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    enqueued: list[tuple[int, str]],
) -> None:
    stale_id = _running_run(sessions, lease_left=timedelta(seconds=-1))  # nobody renews it
    body = await ask(client, RESYNC, key=keys.ops, variables={"source": "openrouter"})
    run = body["data"]["resyncFeed"]["run"]
    assert run["id"] != str(stale_id)
    assert run["status"] == "QUEUED"
    assert enqueued == [(int(run["id"]), "QUEUED")]
    with sessions() as session:
        old = session.get_one(FeedRun, stale_id)
        assert old.status == "FAILED"
        assert old.error is not None and "interrupted" in old.error


async def test_resync_of_an_unknown_source_is_not_found_and_queues_nothing(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    enqueued: list[tuple[int, str]],
) -> None:
    body = await ask(client, RESYNC, key=keys.ops, variables={"source": "no-such-feed"})
    assert body["data"] is None
    assert error_code(body) == "NOT_FOUND"
    assert "no-such-feed" in body["errors"][0]["message"]
    assert _state(sessions)[0] == 0
    assert enqueued == []


async def test_feed_run_answers_its_counts_and_source(
    client: httpx.AsyncClient, keys: Keys, rows: Rows
) -> None:
    body = await ask(
        client,
        """query($id: ID!) { feedRun(id: $id) { id status queuedAt startedAt finishedAt seen added
        changed removed unmatched invalid held error source { slug } } }""",
        key=keys.ops,
        variables={"id": str(rows.openrouter_run)},
    )
    assert body["data"]["feedRun"] == {
        "id": str(rows.openrouter_run),
        "status": "SUCCEEDED",
        "queuedAt": "2026-07-01T12:00:00+00:00",
        "startedAt": None,
        "finishedAt": "2026-07-01T12:01:00+00:00",
        "seen": 10,
        "added": 2,
        "changed": 0,
        "removed": 0,
        "unmatched": 0,
        "invalid": 0,
        "held": 1,
        "error": None,
        "source": {"slug": "openrouter"},
    }


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("query($id: ID!) { feedRun(id: $id) { id } }", {"id": "999999"}),
        ("query($id: ID!) { feedRun(id: $id) { id } }", {"id": "not-a-number"}),
        ("query($id: ID!) { feedRun(id: $id) { id } }", {"id": "99999999999999999999"}),
        ("query($s: String) { feedRuns(source: $s) { id } }", {"s": "no-such-feed"}),
        ("query($s: String) { unmatchedNames(source: $s) { name } }", {"s": "no-such-feed"}),
    ],
)
async def test_unknown_ids_and_sources_are_not_found(
    client: httpx.AsyncClient,
    keys: Keys,
    rows: Rows,
    document: str,
    variables: dict[str, object],
) -> None:
    body = await ask(client, document, key=keys.ops, variables=variables)
    assert not any((body["data"] or {}).values())
    assert error_code(body) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("source", "expected"),
    [(None, ["litellm_run", "openrouter_run"]), ("openrouter", ["openrouter_run"])],
)
async def test_feed_runs_newest_first_optionally_for_one_source(
    client: httpx.AsyncClient, keys: Keys, rows: Rows, source: str | None, expected: list[str]
) -> None:
    body = await ask(
        client,
        "query($s: String) { feedRuns(source: $s) { id } }",
        key=keys.ops,
        variables={"s": source},
    )
    assert [run["id"] for run in body["data"]["feedRuns"]] == [
        str(getattr(rows, name)) for name in expected
    ]


@pytest.mark.parametrize("field", ["feedRuns", "heldPriceChanges", "unmatchedNames"])
async def test_first_is_bounded(
    client: httpx.AsyncClient, keys: Keys, rows: Rows, field: str
) -> None:
    selection = "name" if field == "unmatchedNames" else "id"
    body = await ask(client, f"{{ {field}(first: 201) {{ {selection} }} }}", key=keys.ops)
    assert error_code(body) == "BAD_USER_INPUT"
    body = await ask(client, f"{{ {field}(first: 1) {{ {selection} }} }}", key=keys.ops)
    assert len(body["data"][field]) == 1


# --- held changes and unmatched names -----------------------------------------------------

HELD = """query($status: HeldChangeStatus) { heldPriceChanges(status: $status) {
  id source status reason heldAt decidedAt offering { providerModelId }
  current { inputPerMTok outputPerMTok source } proposed { inputPerMTok complete }
  feedRun { id } } }"""


async def test_held_price_changes_are_pending_ones_unless_asked(
    client: httpx.AsyncClient, keys: Keys, rows: Rows
) -> None:
    pending = await ask(client, HELD, key=keys.ops)
    assert pending["data"]["heldPriceChanges"] == [
        {
            "id": str(rows.pending_hold),
            "source": "openrouter",
            "status": "PENDING",
            "reason": "input price rose 100-fold",
            "heldAt": "2026-07-01T12:01:00+00:00",
            "decidedAt": None,
            "offering": {"providerModelId": "acme/1"},
            "current": {"inputPerMTok": "1", "outputPerMTok": "2", "source": "openrouter"},
            "proposed": {"inputPerMTok": "100", "complete": True},
            "feedRun": {"id": str(rows.openrouter_run)},
        }
    ]
    approved = await ask(client, HELD, key=keys.ops, variables={"status": "APPROVED"})
    [hold] = approved["data"]["heldPriceChanges"]
    assert (hold["id"], hold["decidedAt"], hold["feedRun"]) == (
        str(rows.approved_hold),
        "2026-07-01T14:00:00+00:00",
        None,
    )


async def test_held_price_changes_are_newest_first(
    client: httpx.AsyncClient, sessions: sessionmaker[Session], keys: Keys, rows: Rows
) -> None:
    with sessions.begin() as session:
        session.get_one(HeldPriceChange, rows.approved_hold).status = "PENDING"
    body = await ask(client, "{ heldPriceChanges { id } }", key=keys.ops)
    assert [hold["id"] for hold in body["data"]["heldPriceChanges"]] == [
        str(rows.pending_hold),
        str(rows.approved_hold),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            None,
            [
                ("acme-2-preview", "openrouter", None),
                ("mystery-7b", "litellm", None),
                ("mystery-7b", "openrouter", "openrouter"),
            ],
        ),
        ("litellm", [("mystery-7b", "litellm", None)]),
        ("genai-prices", []),
    ],
)
async def test_unmatched_names_optionally_for_one_source(
    client: httpx.AsyncClient,
    keys: Keys,
    rows: Rows,
    source: str | None,
    expected: list[tuple[str, str, str | None]],
) -> None:
    body = await ask(
        client,
        "query($s: String) { unmatchedNames(source: $s) { name source providerSlug firstSeenAt } }",
        key=keys.ops,
        variables={"s": source},
    )
    names = body["data"]["unmatchedNames"]
    assert [(n["name"], n["source"], n["providerSlug"]) for n in names] == expected
    assert all(n["firstSeenAt"] == "2026-07-01T12:00:00+00:00" for n in names)


PAGE = """query($after: String, $kind: UnmatchedNameKind) {
  unmatchedNames(first: 1, after: $after, kind: $kind) { name source kind reason cursor }
}"""


async def test_unmatched_names_page_with_cursors_and_filter_by_kind(
    client: httpx.AsyncClient, sessions: sessionmaker[Session], keys: Keys, rows: Rows
) -> None:
    with sessions.begin() as session:
        session.add(
            UnmatchedName(
                name="acme-2-latest",
                source="litellm",
                provider_slug="acme",
                kind="HELD_APART",
                reason="held apart from acme-2: prices differ",
                first_seen_at=AT,
                last_seen_at=AT,
            )
        )
    seen: list[tuple[str, str, str]] = []
    after = None
    for _ in range(6):
        body = await ask(client, PAGE, key=keys.ops, variables={"after": after, "kind": None})
        page = body["data"]["unmatchedNames"]
        if not page:
            break
        [item] = page
        seen.append((item["name"], item["source"], item["kind"]))
        after = item["cursor"]
    assert seen == [
        ("acme-2-preview", "openrouter", "UNMATCHED"),
        ("acme-2-latest", "litellm", "HELD_APART"),
        ("mystery-7b", "litellm", "UNMATCHED"),
        ("mystery-7b", "openrouter", "UNMATCHED"),
    ]
    body = await ask(client, PAGE, key=keys.ops, variables={"after": None, "kind": "HELD_APART"})
    assert body["data"]["unmatchedNames"][0]["reason"] == "held apart from acme-2: prices differ"
    body = await ask(client, PAGE, key=keys.ops, variables={"after": "nonsense", "kind": None})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- PriceChangeEvent.feedRun -------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "sees_the_run"),
    [("no key", False), ("key without the role", False), ("revoked key", False), ("ops", True)],
)
async def test_an_events_feed_run_is_shown_to_ops_only(
    client: httpx.AsyncClient, keys: Keys, rows: Rows, caller: str, sees_the_run: bool
) -> None:
    header = f"Bearer {keys.ops}" if caller == "ops" else CALLERS[caller][0](keys)
    body = await ask(
        client,
        "{ priceChanges { id feedRun { id source { slug } } } }",
        authorization=header or "",
    )
    assert "errors" not in body
    run = {"id": str(rows.openrouter_run), "source": {"slug": "openrouter"}}
    assert body["data"]["priceChanges"] == [
        {"id": str(rows.event), "feedRun": run if sees_the_run else None}
    ]


# --- decisions on held changes ------------------------------------------------------------

DECIDE = {
    "approvePriceChange": "APPROVED",
    "rejectPriceChange": "REJECTED",
}


@pytest.mark.parametrize("mutation", DECIDE)
async def test_deciding_a_hold_once_then_conflict(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    rows: Rows,
    mutation: str,
) -> None:
    document = f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id status decidedAt }} }}"
    variables = {"id": str(rows.pending_hold)}
    body = await ask(client, document, key=keys.ops, variables=variables)
    decided = body["data"][mutation]
    assert (decided["id"], decided["status"]) == (str(rows.pending_hold), DECIDE[mutation])
    assert decided["decidedAt"] is not None
    with sessions() as session:
        assert session.get_one(HeldPriceChange, rows.pending_hold).status == DECIDE[mutation]

    again = await ask(client, document, key=keys.ops, variables=variables)
    assert again["data"] is None
    assert error_code(again) == "CONFLICT"


@pytest.mark.parametrize("mutation", DECIDE)
@pytest.mark.parametrize("hold_id", ["999999", "not-a-number"])
async def test_deciding_an_unknown_hold_is_not_found(
    client: httpx.AsyncClient, keys: Keys, rows: Rows, mutation: str, hold_id: str
) -> None:
    document = f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}"
    body = await ask(client, document, key=keys.ops, variables={"id": hold_id})
    assert body["data"] is None
    assert error_code(body) == "NOT_FOUND"


async def test_an_approved_hold_becomes_the_price_with_its_event(
    client: httpx.AsyncClient, keys: Keys, rows: Rows
) -> None:
    """The resolver commits the whole decision: the held price is the route's price now,
    and the change is recorded as an event of the run that observed it."""
    document = "mutation($id: ID!) { approvePriceChange(id: $id) { status } }"
    body = await ask(client, document, key=keys.ops, variables={"id": str(rows.pending_hold)})
    assert body["data"] == {"approvePriceChange": {"status": "APPROVED"}}
    body = await ask(
        client,
        """{ model(slug: "acme-1") { offerings { price { inputPerMTok source } } }
        priceChanges { current { inputPerMTok } feedRun { id } } }""",
        key=keys.ops,
    )
    assert body["data"]["model"]["offerings"] == [
        {"price": {"inputPerMTok": "100", "source": "openrouter"}}
    ]
    assert body["data"]["priceChanges"][-1] == {
        "current": {"inputPerMTok": "100"},
        "feedRun": {"id": str(rows.openrouter_run)},
    }


# --- setFeedSource ----------------------------------------------------------------------

SET_SOURCE = """mutation($slug: String!, $url: String, $interval: Int, $enabled: Boolean, $rank: Int) {
  setFeedSource(slug: $slug, url: $url, intervalSeconds: $interval, enabled: $enabled,
                rank: $rank) { slug kind url intervalSeconds enabled rank rankOverride } }"""


def _validators(sessions: sessionmaker[Session], slug: str) -> tuple[Any, ...]:
    with sessions() as session:
        row = session.scalars(select(FeedSource).where(FeedSource.slug == slug)).one()
        return row.etag, row.last_modified, row.next_due_at


async def test_set_feed_source_repoints_reranks_and_resets_validators(
    client: httpx.AsyncClient, sessions: sessionmaker[Session], keys: Keys
) -> None:
    with sessions.begin() as session:
        source = session.scalars(select(FeedSource).where(FeedSource.slug == "litellm")).one()
        source.etag, source.last_modified, source.next_due_at = '"v1"', "Wed, 01 Jul 2026", AT
    body = await ask(
        client,
        SET_SOURCE,
        key=keys.ops,
        variables={"slug": "litellm", "interval": 900, "enabled": False, "rank": 45},
    )
    assert body["data"]["setFeedSource"] == {
        "slug": "litellm",
        "kind": "litellm",
        "url": SOURCE_URLS["litellm"],
        "intervalSeconds": 900,
        "enabled": False,
        "rank": 45,
        "rankOverride": 45,
    }
    assert _validators(sessions, "litellm") == ('"v1"', "Wed, 01 Jul 2026", AT)  # same URL

    mirror = "https://mirror.example.com/litellm.json"
    body = await ask(
        client, SET_SOURCE, key=keys.ops, variables={"slug": "litellm", "url": mirror, "rank": None}
    )
    answer = body["data"]["setFeedSource"]
    assert (answer["url"], answer["rank"], answer["rankOverride"]) == (mirror, 20, None)
    assert (answer["intervalSeconds"], answer["enabled"]) == (900, False)  # left as they were
    assert _validators(sessions, "litellm") == (None, None, None)


@pytest.mark.parametrize(
    ("variables", "code", "message"),
    [
        ({"slug": "no-such-feed", "rank": 3}, "NOT_FOUND", "unknown feed source 'no-such-feed'"),
        ({"slug": "litellm"}, "BAD_USER_INPUT", "nothing to change"),
        ({"slug": "litellm", "url": "ftp://x.example"}, "BAD_USER_INPUT", "not an http(s) URL"),
        ({"slug": "litellm", "url": ""}, "BAD_USER_INPUT", "not an http(s) URL"),
        ({"slug": "litellm", "interval": 0}, "BAD_USER_INPUT", "at least 60 seconds, got 0"),
        ({"slug": "litellm", "rank": -5}, "BAD_USER_INPUT", "between 0 and 1000, got -5"),
        ({"slug": "litellm", "rank": 2, "interval": 5}, "BAD_USER_INPUT", "got 5"),
    ],
)
async def test_set_feed_source_refuses_bad_input_and_changes_nothing(
    client: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    keys: Keys,
    variables: dict[str, object],
    code: str,
    message: str,
) -> None:
    before = _state(sessions)
    body = await ask(client, SET_SOURCE, key=keys.ops, variables=variables)
    assert body["data"] is None
    assert error_code(body) == code
    assert message in body["errors"][0]["message"]
    assert _state(sessions) == before


async def test_set_feed_source_refuses_null_for_a_field_that_cannot_be_null(
    client: httpx.AsyncClient, sessions: sessionmaker[Session], keys: Keys
) -> None:
    before = _state(sessions)
    for name in ("url", "interval", "enabled"):
        body = await ask(
            client, SET_SOURCE, key=keys.ops, variables={"slug": "litellm", name: None, "rank": 3}
        )
        assert error_code(body) == "BAD_USER_INPUT"
        assert "cannot be null" in body["errors"][0]["message"]
    assert _state(sessions) == before
