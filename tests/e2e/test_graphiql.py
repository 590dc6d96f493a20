"""GraphiQL works offline: a headless Chromium loads it from llmref alone, a comparison
query is typed into its editor and run, and the rendered result shows the comparison."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import chromium_page, find_chromium
from tests.e2e.processes import llmref_command, llmref_serve

QUERY = """{ comparison(models: ["glm-4v-9b", "qwen3.5-4b"]) {
... on Comparison { key recommended { slug } monthlyCosts { model { slug } monthlyUsd } }
... on ComparisonError { code message } } }"""

CTRL = 2
"""The DevTools protocol's modifier bit for Control."""

RESULT_TEXT = (
    "(() => { const e = document.querySelector('.result-window .CodeMirror');"
    " return e && e.CodeMirror ? e.CodeMirror.getValue() : ''; })()"
)
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"


@pytest.fixture
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        reason = (
            "no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it); "
            "set LLMREF_TEST_CHROMIUM to a Chromium binary to run this test"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: missing there is a broken CI, not a skip
        pytest.skip(reason)
    return binary


@pytest.mark.timeout(180)
def test_graphiql_runs_a_comparison_offline(tmp_path: Path, chromium: str) -> None:
    database = {"LLMREF_DATABASE_URL": f"sqlite:///{tmp_path / 'llmref.db'}"}
    llmref_command("import", "--curated", cwd=tmp_path, env=database)
    env = {**database, "LLMREF_RUN_FEEDS": "false"}
    with llmref_serve(tmp_path, env=env) as base:
        page_html = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}).text
        assert "https://" not in page_html and "//unpkg" not in page_html
        result, requests = asyncio.run(_run_in_graphiql(chromium, tmp_path / "profile", base))

    answer = json.loads(result)
    comparison = answer["data"]["comparison"]
    assert comparison["key"] == "glm-4v-9b-vs-qwen3.5-4b"
    assert comparison["recommended"] == {"slug": "qwen3.5-4b"}
    assert [cost["model"]["slug"] for cost in comparison["monthlyCosts"]] == [
        "glm-4v-9b",
        "qwen3.5-4b",
    ]
    # Everything the page loaded came from llmref itself (no CDN, no other host).
    assert requests, "the page made no request at all"
    assert [url for url in requests if not url.startswith((base, "data:"))] == []
    assert f"{base}/graphiql/graphiql.min.js" in requests


async def _run_in_graphiql(chromium: str, profile: Path, base: str) -> tuple[str, list[str]]:
    async with chromium_page(chromium, profile) as page:
        await page.send("Page.navigate", url=f"{base}/graphql")
        await page.wait_for(f"document.querySelector('{QUERY_EDITOR}') !== null")
        await page.click(QUERY_EDITOR)
        await page.key("a", "KeyA", 65, modifiers=CTRL)  # select the example query...
        await page.type_text(QUERY)  # ...and type ours over it
        typed = await page.evaluate(
            f"document.querySelector('{QUERY_EDITOR}').CodeMirror.getValue()"
        )
        assert typed == QUERY
        await page.click(".graphiql-execute-button")
        result = await page.wait_for(
            f"(() => {{ const t = {RESULT_TEXT}; return t.includes('recommended') && t; }})()"
        )
        visible = await page.evaluate("document.querySelector('.result-window').innerText")
        assert "qwen3.5-4b" in visible  # rendered, not only held in the editor's model
        return str(result), list(page.requests)
