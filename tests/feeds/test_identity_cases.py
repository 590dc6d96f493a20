"""The identity test set of issue 9 (identity_cases.yaml) against the full offline catalog.

Every group's names resolve, through the public ``resolveModel`` query, to one and the same
model; the two names of a pair never resolve to the same model. The catalog (curated file
and the five bundled feeds) is imported once for the module into a PostgreSQL database and
all names are resolved up front, in batches of aliased ``resolveModel`` fields, so each case
is its own test without a catalog per test.

The set itself is checked too: its size, that every group spans two feeds, that every class
of case issue 9 names is present, and that every name is in the bundled snapshot of its feed
(read through the adapters, so nothing here depends on ../shared).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from feed_helpers import build_offline_catalog

from schema.feeds.parse import parse_snapshot
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, read_snapshot_file
from schema.settings import Settings
from tests.conftest import (
    _create_postgres_database,
    _drop_postgres_database,
    graphql,
)

pytestmark = pytest.mark.timeout(900)  # the first test waits for the catalog import

CASES_PATH = Path(__file__).with_name("identity_cases.yaml")
CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(CASES_PATH.read_text(encoding="utf-8"))
GROUPS = CASES["groups"]
PAIRS = CASES["pairs"]

MIN_GROUPS = 120
MIN_PAIRS = 120
GROUP_CLASSES = {"split", "vendor-notation", "dated-snapshot", "new-model"}
PAIR_CLASSES = {
    "false-merge",
    "tier",
    "size",
    "modality",
    "base-instruct",
    "thinking",
    "version",
    "dated-pair",
}
NEW_MODELS = {"gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "claude-opus-5", "gemini-3.6-flash"}
"""Models of issue 9 point 4 that two feeds list (kimi-k3 and glm-5.3: genai-prices only)."""
ISSUE_EXAMPLES = {
    "groups": {
        "kimi-k2.6",
        "claude-sonnet-4.5",
        "claude-sonnet-4.5-bedrock-vertex",
        "qwen3-coder-480b",
        "llama-3.3-70b",
        "deepseek-v3.1",
        "kimi-k2.5-fireworks",
        "deepseek-v3.2-fireworks",
        "deepseek-v3.2-bedrock-vertex",
        "llama-3.3-70b-bedrock",
        "nova-pro",
        "gpt-oss-120b",
        "mistral-small-3.2",
        "open-mistral-7b",
        "qwen3-32b-cerebras",
        "claude-haiku-4.5-llm-prices",
    },
    "pairs": {
        "o1-preview-vs-o1",
        "gpt-5-1-codex-max-vs-gpt-5.1",
        "gpt-5.5-codex-vs-gpt-5.5",
        "gpt-4o-mini-search-preview-vs-gpt-4o-mini",
        "gemini-2.5-flash-preview-09-2025-vs-gemini-2.5-flash",
        "minimax-m2.1-vs-minimax-m2",
        "minimax-m2.1-fast-vs-minimax-m2",
        "openrouter-deepseek-chat-vs-deepseek-api",
        "qwen2.5-7b-vs-72b",
    },
}
"""Cases that issue 9 names one by one (the class counts cover the rest)."""


def _names() -> list[str]:
    names = {name["name"] for group in GROUPS for name in group["names"]}
    names |= {pair[side]["name"] for pair in PAIRS for side in ("a", "b")}
    return sorted(names)


async def _resolve_all(settings: Settings, names: list[str]) -> dict[str, str | None]:
    """The slug resolveModel gives each name (None: no model), asked in documents of at
    most ``max_aliases`` aliased fields each."""
    from api.app import create_app

    app = create_app(settings)
    slugs: dict[str, str | None] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://llmref.test") as http:
            for start in range(0, len(names), settings.max_aliases):
                batch = names[start : start + settings.max_aliases]
                variables = ", ".join(f"$n{index}: String!" for index in range(len(batch)))
                fields = " ".join(
                    f"m{index}: resolveModel(name: $n{index}) {{ slug }}"
                    for index in range(len(batch))
                )
                body = await graphql(
                    http,
                    f"query Resolve({variables}) {{ {fields} }}",
                    {f"n{index}": name for index, name in enumerate(batch)},
                )
                assert "errors" not in body, body
                data = body["data"]
                assert isinstance(data, dict)
                for index, name in enumerate(batch):
                    model = data[f"m{index}"]
                    slugs[name] = model["slug"] if model is not None else None
    return slugs


@pytest.fixture(scope="module")
def resolved() -> Iterator[dict[str, str | None]]:
    """Every name of the set, resolved on the full offline catalog (PostgreSQL, built once)."""
    pg_name, url = _create_postgres_database()
    try:
        build_offline_catalog(url)
        settings = Settings(database_url=url, run_feeds=False, event_poll_seconds=3600)
        yield asyncio.run(_resolve_all(settings, _names()))
    finally:
        _drop_postgres_database(pg_name)


def _label(name: dict[str, Any]) -> str:
    return f"{name['feed']}:{name['provider']}:{name['name']}"


@pytest.mark.parametrize(
    "group", GROUPS, ids=[f"group-{index:03d}-{g['id']}" for index, g in enumerate(GROUPS, 1)]
)
def test_group_resolves_to_one_model(
    group: dict[str, Any], resolved: dict[str, str | None]
) -> None:
    slugs = {_label(name): resolved[name["name"]] for name in group["names"]}
    unresolved = [label for label, slug in slugs.items() if slug is None]
    assert not unresolved, f"{group['id']}: no model for {unresolved}; resolved: {slugs}"
    assert len(set(slugs.values())) == 1, f"{group['id']} is split: {slugs}"


@pytest.mark.parametrize(
    "pair", PAIRS, ids=[f"pair-{index:03d}-{p['id']}" for index, p in enumerate(PAIRS, 1)]
)
def test_pair_resolves_to_two_models(pair: dict[str, Any], resolved: dict[str, str | None]) -> None:
    a, b = pair["a"], pair["b"]
    slug_a, slug_b = resolved[a["name"]], resolved[b["name"]]
    for name, slug in ((a, slug_a), (b, slug_b)):
        assert slug is not None or name.get("optional"), (
            f"{pair['id']}: no model for {_label(name)}"
        )
    assert slug_a is None or slug_a != slug_b, (
        f"{pair['id']}: {_label(a)} and {_label(b)} both resolve to {slug_a}"
    )


def _bundled_names() -> dict[tuple[str, str], set[str]]:
    """Per (feed, provider): every record id and every name a record ties to itself."""
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for feed in KNOWN_FEEDS:
        snapshot = parse_snapshot(feed.kind, read_snapshot_file(bundled_path(feed.kind)))
        for record in snapshot.records:
            names[(feed.slug, record.provider)].add(record.provider_model_id)
            names[(feed.slug, record.provider)].update(record.identity_hints)
    return names


def test_the_set_is_large_covers_every_class_and_every_name_is_in_its_feed() -> None:
    assert len(GROUPS) >= MIN_GROUPS
    assert len(PAIRS) >= MIN_PAIRS
    ids = [case["id"] for case in [*GROUPS, *PAIRS]]
    assert [i for i, count in Counter(ids).items() if count > 1] == []

    for group in GROUPS:
        assert group["reason"].strip() and "\n" not in group["reason"].strip(), group["id"]
        assert len(group["names"]) >= 2, group["id"]
        assert len({name["feed"] for name in group["names"]}) >= 2, group["id"]
        assert not any(name.get("optional") for name in group["names"]), group["id"]
    for pair in PAIRS:
        assert pair["reason"].strip() and "\n" not in pair["reason"].strip(), pair["id"]
        assert pair["a"]["name"] != pair["b"]["name"], pair["id"]

    assert {group["class"] for group in GROUPS} >= GROUP_CLASSES
    assert {pair["class"] for pair in PAIRS} >= PAIR_CLASSES
    assert {g["id"] for g in GROUPS if g["class"] == "new-model"} >= NEW_MODELS
    assert ISSUE_EXAMPLES["groups"] <= {group["id"] for group in GROUPS}
    assert ISSUE_EXAMPLES["pairs"] <= {pair["id"] for pair in PAIRS}

    bundled = _bundled_names()
    named = [name for group in GROUPS for name in group["names"]]
    named += [pair[side] for pair in PAIRS for side in ("a", "b")]
    missing = [
        _label(name)
        for name in named
        if name["name"] not in bundled[(name["feed"], name["provider"])]
    ]
    assert missing == []
