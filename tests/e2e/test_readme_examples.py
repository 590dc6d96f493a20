"""Every GraphQL example in README.md, run against a freshly loaded offline catalog.

The README shows each example as a ```graphql block followed by a ```json block with the
answer; this test runs each one on a new `llmref serve` (its own SQLite file, the offline
catalog loaded at start, no feed polling) and compares the whole answer. A query is POSTed
and its answer compared; a subscription's answer is the list of the first `next` payloads.

The one thing compared by shape rather than by value: `occurredAt`, the time the event
was recorded, which is the moment of the load (checked to be an ISO-8601 UTC timestamp).
Ids are compared by value: the offline catalog loads in a fixed order, so a fresh
catalog numbers its events the same way every time.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import PROJECT_ROOT
from tests.e2e.live import TransportWS
from tests.e2e.processes import llmref_serve

README = PROJECT_ROOT / "README.md"
FENCED = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RECORDED_AT = {"occurredAt"}
"""Keys whose value is the load time: compared as "an ISO-8601 UTC timestamp"."""


def readme_examples() -> list[tuple[str, Any]]:
    """(GraphQL document, the answer shown after it) for every ```graphql block."""
    blocks = FENCED.findall(README.read_text(encoding="utf-8"))
    examples = []
    for index, (language, body) in enumerate(blocks):
        if language != "graphql":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else ("", "")
        assert following[0] == "json", f"README example without a ```json answer after it:\n{body}"
        examples.append((body, json.loads(following[1])))
    return examples


EXAMPLES = readme_examples()


def as_shown(value: Any, key: str | None = None) -> Any:
    """The answer with each recorded-at time replaced by what the README may promise."""
    if key in RECORDED_AT:
        moment = datetime.fromisoformat(value)
        return "<UTC timestamp>" if moment.utcoffset() == UTC.utcoffset(None) else value
    if isinstance(value, dict):
        return {k: as_shown(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [as_shown(item) for item in value]
    return value


@pytest.fixture(scope="module")
def fresh_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llmref_serve(
        tmp_path_factory.mktemp("readme"), env={"LLMREF_RUN_FEEDS": "false"}, timeout=240
    ) as base:
        yield base


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 7
    assert any(document.lstrip().startswith("subscription") for document, _ in EXAMPLES)


async def _first_payloads(base: str, document: str, count: int) -> list[Any]:
    async with await TransportWS.open(base) as client:
        operation = await client.subscribe(document)
        messages = [await operation.message(timeout=30) for _ in range(count)]
    assert all(message["type"] == "next" for message in messages), messages
    return [message["payload"] for message in messages]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("document", "shown"), EXAMPLES, ids=[f"example-{i}" for i in range(1, len(EXAMPLES) + 1)]
)
def test_readme_example_answers_as_shown(fresh_catalog: str, document: str, shown: Any) -> None:
    if document.lstrip().startswith("subscription"):
        assert isinstance(shown, list), "a subscription's answer is the list of its payloads"
        answer: Any = asyncio.run(_first_payloads(fresh_catalog, document, len(shown)))
    else:
        response = httpx.post(f"{fresh_catalog}/graphql", json={"query": document}, timeout=30)
        assert response.status_code == 200, response.text
        answer = response.json()
    assert as_shown(answer) == as_shown(shown)


def test_recorded_at_times_are_compared_by_shape() -> None:
    shown = {"occurredAt": "2026-11-29T09:53:35.379406+00:00", "id": "1"}
    assert as_shown(shown) == as_shown({"occurredAt": "2027-01-01T00:00:00+00:00", "id": "1"})
    assert as_shown(shown) != as_shown({"occurredAt": "2027-01-01T00:00:00+02:00", "id": "1"})
    assert as_shown(shown) != as_shown({"occurredAt": "2027-01-01T00:00:00+00:00", "id": "2"})
