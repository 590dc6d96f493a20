"""Hostile clients against `llmref serve` under uvicorn: while they send the amplification
queries, a 100,000-alias document and a 50 MB body in a loop, each is refused with its
code, /healthz keeps answering and a subscriber still receives price changes. (How fast:
bench/hostile.py; tests assert behaviour, not timings.)"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.api.hostile import AMPLIFICATION, AMPLIFICATION_WITH_FRAGMENTS, many_aliases
from tests.e2e.live import (
    LITELLM_JULY_1,
    TransportWS,
    load_catalog,
    redis_database,
    wait_subscribers,
)
from tests.e2e.processes import llmref_serve

REDIS_DATABASES = (14, 15, 13, 12)
ATTACKS = [
    (json.dumps({"query": AMPLIFICATION}).encode(), {"200 QUERY_TOO_COSTLY"}),
    (json.dumps({"query": AMPLIFICATION_WITH_FRAGMENTS}).encode(), {"200 QUERY_TOO_COSTLY"}),
    (json.dumps({"query": many_aliases(100_000)}).encode(), {"413 PAYLOAD_TOO_LARGE"}),
    # the server may answer 413 and close while the client still sends the body
    (b" " * 50_000_000, {"413 PAYLOAD_TOO_LARGE", "closed"}),
]


async def _attack(base: str, stop: asyncio.Event, answers: Counter[tuple[int, str]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while not stop.is_set():
            for index, (payload, _expected) in enumerate(ATTACKS):
                try:
                    response = await http.post(
                        "/graphql", content=payload, headers={"content-type": "application/json"}
                    )
                    code = response.json()["errors"][0]["extensions"]["code"]
                    answers[(index, f"{response.status_code} {code}")] += 1
                except httpx.TransportError:
                    answers[(index, "closed")] += 1


@pytest.mark.timeout(240)
async def test_hostile_clients_are_refused_while_others_are_served(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'llmref.db'}"
    with redis_database(REDIS_DATABASES) as redis_url:
        load_catalog(database_url, redis_url=redis_url, snapshots=(("models.dev", None),))
        env = {"LLMREF_DATABASE_URL": database_url, "LLMREF_REDIS_URL": redis_url}
        with llmref_serve(tmp_path, env=env) as base:
            async with await TransportWS.open(base) as ws:
                subscription = await ws.price_changes()
                await wait_subscribers(base, 1)
                stop = asyncio.Event()
                answers: Counter[tuple[int, str]] = Counter()
                attackers = [asyncio.create_task(_attack(base, stop, answers)) for _ in range(3)]
                try:
                    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                        health = [(await http.get("/healthz")).status_code for _ in range(20)]
                        catalog = (
                            await http.post(
                                "/graphql", json={"query": "{ models(first: 5) { totalCount } }"}
                            )
                        ).json()
                    # a LiteLLM snapshot adds routes: events, published as the workers do
                    await asyncio.to_thread(
                        load_catalog,
                        database_url,
                        redis_url=redis_url,
                        snapshots=(("litellm", LITELLM_JULY_1),),
                    )
                    event = await subscription.event(timeout=60)
                finally:
                    stop.set()
                    await asyncio.gather(*attackers)
    assert health == [200] * 20
    assert catalog["data"]["models"]["totalCount"] > 100
    assert event["kind"] in ("ADDED", "CHANGED")
    for index, (_payload, expected) in enumerate(ATTACKS):
        seen = {answer for (attack, answer) in answers if attack == index}
        assert seen and seen <= expected, (index, seen)
