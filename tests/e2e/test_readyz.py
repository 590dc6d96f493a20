"""/healthz answers while the process lives; /readyz only while the database is at the
migration head and Redis (where configured) answers. The app runs under uvicorn as a
process of its own; its database and its Redis change state underneath it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from schema.migrations import alembic_config, head_revision, upgrade
from tests.e2e.processes import (
    RedisServer,
    postgres_database,
    running,
    start_uvicorn,
    wait_until_answers,
)


def _get(base: str, path: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base}{path}", timeout=10)
    return response.status_code, response.json()


def _wait_for_readyz(base: str, status: int, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        code, body = _get(base, "/readyz")
        if code == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz answered {code} {body}, wanted {status}")
        time.sleep(0.1)


def _previous_revision(database_url: str) -> str:
    """The revision just before the head."""
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    return previous


def _not_ready_until_migrated(tmp_path: Path, database_url: str, current: str | None) -> None:
    service, base = start_uvicorn(
        tmp_path, {"LLMREF_DATABASE_URL": database_url, "LLMREF_RUN_FEEDS": "false"}
    )
    with running(service):
        wait_until_answers(service, base)

        code, body = _get(base, "/readyz")
        assert code == 503
        head = head_revision(database_url)
        assert body == {
            "status": "unavailable",
            "database": f"at migration {current}, expected {head}: run `llmref migrate`",
        }
        code, body = _get(base, "/healthz")
        assert (code, body["status"]) == (200, "ok")

        upgrade(database_url)  # the same process becomes ready once migrated
        assert _wait_for_readyz(base, 200) == {"status": "ready"}


@pytest.mark.timeout(90)
def test_a_database_behind_the_migration_head_is_not_ready(tmp_path: Path) -> None:
    with postgres_database() as database_url:
        previous = _previous_revision(database_url)
        upgrade(database_url, previous)
        _not_ready_until_migrated(tmp_path, database_url, previous)


@pytest.mark.timeout(90)
def test_a_database_never_migrated_is_not_ready(tmp_path: Path) -> None:
    with postgres_database() as database_url:  # created, never migrated
        _not_ready_until_migrated(tmp_path, database_url, None)


@pytest.mark.timeout(90)
def test_redis_not_answering_is_not_ready(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        with postgres_database() as database_url:
            upgrade(database_url)
            service, base = start_uvicorn(
                tmp_path, {"LLMREF_DATABASE_URL": database_url, "LLMREF_REDIS_URL": redis.url()}
            )
            with running(service):
                wait_until_answers(service, base)
                # Both configured and answering.
                assert _get(base, "/readyz") == (200, {"status": "ready"})

                redis.stop()  # its port is closed now
                body = _wait_for_readyz(base, 503)
                assert set(body) == {"status", "redis"}  # the database is fine
                assert body["status"] == "unavailable"
                assert f"127.0.0.1:{redis.port}" in body["redis"]
                code, body = _get(base, "/healthz")
                assert (code, body["status"]) == (200, "ok")

                redis.start()
                assert _wait_for_readyz(base, 200) == {"status": "ready"}
    finally:
        redis.stop()
