"""`llmref serve` killed in the middle of a feed run and started again: the interrupted run
is ended FAILED once its lease has passed, a new run replaces it and succeeds, and
resyncFeed never answers the dead run again."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.feed_server import FeedServer, Reply
from tests.e2e.live import LITELLM_JULY_3
from tests.e2e.processes import (
    create_ops_key,
    llmref_command,
    running,
    start_serve,
    wait_until_answers,
)

RESYNC = 'mutation { resyncFeed(source: "litellm") { run { id status } } }'
RUNS = '{ feedRuns(source: "litellm") { id status error } }'


def _graphql(base: str, key: str, query: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


@pytest.mark.timeout(240)
def test_a_run_interrupted_by_a_restart_is_reclaimed_and_replaced(tmp_path: Path) -> None:
    database = {"LLMREF_DATABASE_URL": f"sqlite:///{tmp_path / 'llmref.db'}"}
    env = {
        **database,
        "LLMREF_LOAD_CATALOG_ON_START": "false",
        "LLMREF_RUN_LEASE_SECONDS": "2",
        "LLMREF_FETCH_READ_TIMEOUT_SECONDS": "600",  # the hung fetch waits, it does not fail
    }
    key = create_ops_key(database["LLMREF_DATABASE_URL"], tmp_path)
    with FeedServer() as feed:
        feed.serve_file(LITELLM_JULY_3)
        feed.script(Reply(delay=600))  # the first fetch hangs until the process dies
        for slug in ("models.dev", "openrouter", "genai-prices", "llm-prices"):
            llmref_command("feeds", "set", slug, "--disabled", cwd=tmp_path, env=database)
        llmref_command(
            "feeds", "set", "litellm", "--url", feed.url, "--disabled", cwd=tmp_path, env=database
        )

        first, base = start_serve(tmp_path, env)
        with running(first):
            wait_until_answers(first, base)
            interrupted = _graphql(base, key, RESYNC)["resyncFeed"]["run"]["id"]
            feed.wait_for_requests(1, answered=False)  # the run is in its fetch
            first.kill(signal.SIGKILL)

        second, base = start_serve(tmp_path, env)
        with running(second):
            wait_until_answers(second, base)
            deadline = time.monotonic() + 60
            while (answer := _graphql(base, key, RESYNC)["resyncFeed"]["run"])["id"] == interrupted:
                assert time.monotonic() < deadline, "resyncFeed still answers the dead run"
                time.sleep(0.5)
            replacement = answer["id"]
            while (runs := {r["id"]: r for r in _graphql(base, key, RUNS)["feedRuns"]})[
                replacement
            ]["status"] in ("QUEUED", "RUNNING"):
                assert time.monotonic() < deadline, runs
                time.sleep(0.5)

    assert runs[interrupted]["status"] == "FAILED"
    assert runs[interrupted]["error"].startswith("interrupted: the process running it stopped")
    assert runs[replacement]["status"] == "SUCCEEDED", runs
    assert len(feed.requests) == 2  # the hung fetch, then the replacement's
