"""`llmref apikey` and `llmref feeds` as a user runs them: the installed command in a
subprocess, against the test database on both backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from schema.auth import OPS_ROLE, ROLES
from schema.models import ApiKey, FeedSource
from tests.conftest import PROJECT_ROOT

LLMREF = Path(sys.executable).with_name("llmref")
FEED_SOURCES = "{ feedSources { slug } }"


def llmref(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LLMREF), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LLMREF_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def ask(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": FEED_SOURCES}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def columns(line: str) -> list[str]:
    """A table line's cells (cells are separated by at least two spaces)."""
    return re.split(r"\s{2,}", line.strip())


def feed_sources(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, int, bool]]:
    with sessions() as session:
        rows = session.execute(
            select(
                FeedSource.slug,
                FeedSource.kind,
                FeedSource.url,
                FeedSource.interval_seconds,
                FeedSource.enabled,
            ).order_by(FeedSource.slug)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


# --- API keys -----------------------------------------------------------------------------


async def test_a_created_key_is_shown_once_works_and_stops_working_when_revoked(
    database_url: str, client: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    created = llmref(database_url, "apikey", "create", "--role", "ops", "--name", "ops laptop")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]
    assert created.stdout == f"{key}\n", "the key alone on stdout's last (only) line"
    assert key.startswith("llmref_")
    assert key not in created.stderr

    body = await ask(client, key)
    assert "errors" not in body
    assert len(body["data"]["feedSources"]) == 5

    listed = llmref(database_url, "apikey", "list")
    assert listed.returncode == 0, listed.stderr
    with sessions() as session:
        row = session.scalars(select(ApiKey)).one()
    assert key not in listed.stdout + listed.stderr
    assert row.key_hash not in listed.stdout
    [header, line] = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "ROLE", "PREFIX", "CREATED", "REVOKED"]
    assert columns(line)[:4] == [str(row.id), "ops laptop", "ops", row.prefix]
    assert columns(line)[5] == "-", "not revoked"

    revoked = llmref(database_url, "apikey", "revoke", str(row.id))
    assert revoked.returncode == 0, revoked.stderr
    body = await ask(client, key)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    [_, line] = llmref(database_url, "apikey", "list").stdout.splitlines()
    assert columns(line)[5].endswith("Z"), "revoked at"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apikey", "create", "--role", "admin", "--name", "x"], "unknown role 'admin'"),
        (["apikey", "create", "--role", "ops", "--name", "  "], "a key needs a name"),
        (["apikey", "revoke", "4242"], "no API key with id 4242"),
    ],
)
def test_bad_apikey_input_fails_with_status_2_and_writes_nothing(
    database_url: str, sessions: sessionmaker[Session], args: list[str], message: str
) -> None:
    result = llmref(database_url, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    with sessions() as session:
        assert session.scalars(select(ApiKey)).all() == []


# --- feed sources -------------------------------------------------------------------------


def test_feeds_list_shows_each_source_and_its_last_run(database_url: str) -> None:
    result = llmref(database_url, "feeds", "list")
    assert result.returncode == 0, result.stderr
    [header, *lines] = result.stdout.splitlines()
    assert columns(header) == ["SLUG", "KIND", "URL", "INTERVAL", "ENABLED", "RANK", "LAST RUN"]
    assert columns(lines[3]) == [
        "models.dev",
        "models.dev",
        "https://models.dev/api.json",
        "3600",
        "yes",
        "40 (kind)",
        "-",
    ]
    assert len(lines) == 5


def test_feeds_add_then_disable_and_enable(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    url = "https://example.com/prices.json"
    added = llmref(
        database_url, "feeds", "add", "litellm-mirror", "--kind", "litellm", "--url", url
    )
    assert added.returncode == 0, added.stderr
    added_short = llmref(
        database_url,
        "feeds",
        "add",
        "openrouter.eu",
        "--kind",
        "openrouter",
        "--url",
        "http://example.org/or",
        "--interval",
        "60",
    )
    assert added_short.returncode == 0, added_short.stderr
    sources = {row[0]: row[1:] for row in feed_sources(sessions)}
    assert sources["litellm-mirror"] == ("litellm", url, 3600, True)
    assert sources["openrouter.eu"] == ("openrouter", "http://example.org/or", 60, True)

    for command, enabled in [("disable", False), ("enable", True), ("disable", False)]:
        result = llmref(database_url, "feeds", command, "litellm-mirror")
        assert result.returncode == 0, result.stderr
        assert {row[0]: row[4] for row in feed_sources(sessions)}["litellm-mirror"] is enabled

    listed = llmref(database_url, "feeds", "list").stdout
    assert ["litellm-mirror", "litellm", url, "3600", "no", "20 (kind)", "-"] in [
        columns(line) for line in listed.splitlines()
    ]


GOOD = {"slug": "mine", "kind": "litellm", "url": "https://example.com/x.json", "interval": "600"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"kind": "csv"}, "unknown kind 'csv' (kinds: genai-prices, litellm"),
        ({"url": "ftp://example.com/x.json"}, "is not an http(s) URL"),
        ({"url": "example.com/x.json"}, "is not an http(s) URL"),
        ({"url": "https://"}, "is not an http(s) URL"),
        ({"interval": "59"}, "interval must be at least 60 seconds, got 59"),
        ({"slug": "My Feed"}, "'My Feed' is not a valid slug"),
        ({"slug": "my--feed"}, "'my--feed' is not a valid slug"),
        ({"slug": "openrouter"}, "a feed source 'openrouter' already exists"),
    ],
)
def test_feeds_add_refuses_bad_input_and_writes_nothing(
    database_url: str, sessions: sessionmaker[Session], bad: dict[str, str], message: str
) -> None:
    before = feed_sources(sessions)
    given = {**GOOD, **bad}
    result = llmref(
        database_url,
        "feeds",
        "add",
        given["slug"],
        "--kind",
        given["kind"],
        "--url",
        given["url"],
        "--interval",
        given["interval"],
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Nothing was written." in result.stderr
    assert feed_sources(sessions) == before


@pytest.mark.parametrize("command", ["enable", "disable"])
def test_enabling_an_unknown_feed_fails_with_status_2(
    database_url: str, sessions: sessionmaker[Session], command: str
) -> None:
    before = feed_sources(sessions)
    result = llmref(database_url, "feeds", command, "no-such-feed")
    assert result.returncode == 2
    assert "unknown feed source 'no-such-feed'" in result.stderr
    assert feed_sources(sessions) == before


def _validators(sessions: sessionmaker[Session], slug: str) -> tuple[Any, ...]:
    with sessions() as session:
        row = session.scalars(select(FeedSource).where(FeedSource.slug == slug)).one()
        return (
            row.url,
            row.etag,
            row.last_modified,
            row.next_due_at,
            row.interval_seconds,
            row.enabled,
            row.rank,
        )


def test_feeds_set_repoints_a_feed_and_forgets_the_old_urls_validators(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    due = datetime(2030, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        session.execute(
            update(FeedSource)
            .where(FeedSource.slug == "litellm")
            .values(etag='"abc"', last_modified="Wed, 01 Jul 2026 00:00:00 GMT", next_due_at=due)
        )
    old_url = _validators(sessions, "litellm")[0]

    same = llmref(database_url, "feeds", "set", "litellm", "--url", old_url, "--interval", "120")
    assert same.returncode == 0, same.stderr
    # the same URL: its validators still hold
    assert _validators(sessions, "litellm")[1:5] == (
        '"abc"',
        "Wed, 01 Jul 2026 00:00:00 GMT",
        due,
        120,
    )

    mirror = "https://mirror.example.com/litellm.json"
    moved = llmref(database_url, "feeds", "set", "litellm", "--url", mirror, "--disabled")
    assert moved.returncode == 0, moved.stderr
    assert _validators(sessions, "litellm") == (mirror, None, None, None, 120, False, None)
    assert "validators reset" in moved.stderr

    ranked = llmref(database_url, "feeds", "set", "litellm", "--rank", "45", "--enabled")
    assert ranked.returncode == 0, ranked.stderr
    assert _validators(sessions, "litellm")[5:] == (True, 45)
    listed = llmref(database_url, "feeds", "list").stdout
    assert ["litellm", "litellm", mirror, "120", "yes", "45", "-"] in [
        columns(line) for line in listed.splitlines()
    ]
    back = llmref(database_url, "feeds", "set", "litellm", "--rank", "kind")
    assert back.returncode == 0, back.stderr
    assert _validators(sessions, "litellm")[6] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-feed", "--interval", "600"], "unknown feed source 'no-such-feed'"),
        (["litellm"], "nothing to change"),
        (["litellm", "--url", "ftp://example.com/x"], "is not an http(s) URL"),
        (["litellm", "--url", "not a url"], "is not an http(s) URL"),
        (["litellm", "--interval", "59"], "interval must be at least 60 seconds, got 59"),
        (["litellm", "--rank", "-1"], "rank must be between 0 and 1000, got -1"),
        (["litellm", "--rank", "first"], "rank must be an integer or 'kind', got 'first'"),
        (
            ["litellm", "--interval", "600", "--url", "x"],
            "is not an http(s) URL",
        ),
    ],
)
def test_feeds_set_refuses_bad_input_and_writes_nothing(
    database_url: str, sessions: sessionmaker[Session], args: list[str], message: str
) -> None:
    before = [_validators(sessions, slug) for slug, *_ in feed_sources(sessions)]
    result = llmref(database_url, "feeds", "set", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Nothing was written." in result.stderr
    assert [_validators(sessions, slug) for slug, *_ in feed_sources(sessions)] == before


PUBLIC_QUERY = '{ model(slug: "glm-4v-9b") { slug } }'


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_a_key_can_be_created_for_every_role_and_grants_exactly_that_role(
    database_url: str, client: httpx.AsyncClient, role: str
) -> None:
    created = llmref(database_url, "apikey", "create", "--role", role, "--name", f"{role} key")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]
    [_, line] = llmref(database_url, "apikey", "list").stdout.splitlines()
    assert columns(line)[1:3] == [f"{role} key", role]

    ops_answer = await ask(client, key)
    if role == OPS_ROLE:
        assert "errors" not in ops_answer
    else:
        assert ops_answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    public = await client.post(
        "/graphql", json={"query": PUBLIC_QUERY}, headers={"Authorization": f"Bearer {key}"}
    )
    assert "errors" not in public.json(), "a key of any role may do what anonymous callers do"


def test_the_role_option_lists_every_role() -> None:
    helped = subprocess.run(
        [str(LLMREF), "apikey", "create", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    for role in ROLES:
        assert role in helped.stdout
    assert ROLES.keys() >= {"ops", "client"}
