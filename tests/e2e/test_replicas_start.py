"""Several `llmref serve` replicas starting at once on one empty database set it up once:
one migrates it and loads the offline catalog, the others wait and then serve it."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.processes import postgres_database, running, start_serve, wait_until_answers

LOADED = "Offline catalog loaded"


@pytest.mark.timeout(400)
def test_two_replicas_on_an_empty_postgresql_database_load_the_catalog_once(
    tmp_path: Path,
) -> None:
    with postgres_database(prefix="llmref_replicas") as url, ExitStack() as stack:
        env = {"LLMREF_DATABASE_URL": url, "LLMREF_RUN_FEEDS": "false"}
        replicas = []
        for name in ("a", "b"):
            workdir = tmp_path / name
            workdir.mkdir()
            replicas.append(start_serve(workdir, env))  # both start before either is done
        for service, _ in replicas:
            stack.enter_context(running(service))
        for service, base in replicas:
            wait_until_answers(service, base, timeout=300)
            answer = httpx.post(
                f"{base}/graphql",
                json={"query": '{ model(slug: "glm-4v-9b") { contextWindow } }'},
                timeout=30,
            ).json()
            assert answer == {"data": {"model": {"contextWindow": 8192}}}, service.log()

        logs = [service.log() for service, _ in replicas]
        assert sum(LOADED in log for log in logs) == 1, logs
        assert all("Traceback" not in log for log in logs), logs
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                runs = connection.execute(
                    text(
                        "SELECT s.slug, count(r.id) FROM feed_sources s "
                        "LEFT JOIN feed_runs r ON r.source_id = s.id GROUP BY s.slug"
                    )
                ).all()
        finally:
            engine.dispose()
        assert dict(runs) == {
            "genai-prices": 1,
            "litellm": 1,
            "llm-prices": 1,
            "models.dev": 1,
            "openrouter": 1,
        }
