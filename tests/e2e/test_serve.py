"""`llmref serve` with no configuration: a SQLite file here, migrated, curated, serving."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import llmref_serve

QUERY = """{ model(slug: "glm-4v-9b") { contextWindow decisionTags sources { name url }
  offerings { provider { name } price { inputPerMTok outputPerMTok complete } } } }"""


def _glm(base: str) -> dict[str, object]:
    response = httpx.post(f"{base}/graphql", json={"query": QUERY}, timeout=10)
    return response.json()["data"]["model"]  # type: ignore[no-any-return]


@pytest.mark.timeout(120)
def test_serve_starts_with_no_configuration(tmp_path: Path) -> None:
    with llmref_serve(tmp_path) as base:
        model = _glm(base)
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
        ide = httpx.get(f"{base}/graphql", headers={"accept": "text/html"})
        assert "graphiql" in ide.text.lower()
    assert (tmp_path / "llmref.db").exists()
    assert model["contextWindow"] == 8192
    assert model["decisionTags"] == ["Vision"]
    assert model["offerings"] == [
        {
            "provider": {"name": "Replicate"},
            "price": {"inputPerMTok": "0.05", "outputPerMTok": "0.25", "complete": True},
        }
    ]
    assert all(source["url"].startswith("https://") for source in model["sources"])  # type: ignore[attr-defined]


@pytest.mark.timeout(120)
def test_serve_on_postgresql(tmp_path: Path, empty_postgres_url: str) -> None:
    with llmref_serve(tmp_path, env={"LLMREF_DATABASE_URL": empty_postgres_url}) as base:
        assert _glm(base)["contextWindow"] == 8192
