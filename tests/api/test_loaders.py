"""The request's BatchLoader: one fetch for the keys asked for together, each key once; and
the request's reads taking turns on one session inside `Loaders.sharing()`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from api.services.loaders import BatchLoader, Loaders


class Fetches:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail

    async def __call__(self, keys: list[int]) -> list[str]:
        self.calls.append(keys)
        if self.fail:
            raise LookupError("database down")
        return [f"row {key}" for key in keys]


async def test_keys_asked_for_together_are_fetched_in_one_call_each_once() -> None:
    fetches = Fetches()
    loader = BatchLoader(fetches)

    async def caller(keys: list[int]) -> list[str]:
        return await loader.load_many(keys)

    answers = await asyncio.gather(caller([3, 1]), caller([1, 2]), caller([3]))
    assert list(answers) == [["row 3", "row 1"], ["row 1", "row 2"], ["row 3"]]
    again = await loader.load(2)
    later = await loader.load(4)
    assert (again, later) == ("row 2", "row 4")
    assert fetches.calls == [[3, 1, 2], [4]]


async def test_a_primed_key_is_not_fetched() -> None:
    fetches = Fetches()
    loader = BatchLoader(fetches)
    loader.prime(7, "held")
    assert await loader.load_many([7, 8]) == ["held", "row 8"]
    assert fetches.calls == [[8]]


async def test_every_caller_of_a_failed_batch_gets_the_error() -> None:
    loader = BatchLoader(Fetches(fail=True))
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [str(result) for result in results] == ["database down", "database down"]
    with pytest.raises(LookupError):
        await loader.load(1)


async def test_a_failed_batch_under_load_many_leaves_no_error_unseen() -> None:
    """The first key's error is raised; the others' count as seen, so asyncio reports no
    "Future exception was never retrieved" when they are collected."""
    reports: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reports.append(context["message"]))
    try:
        loader = BatchLoader(Fetches(fail=True))
        with pytest.raises(LookupError):
            await loader.load_many([1, 2, 3])
        del loader
        for _ in range(2):  # the failed batch's futures are in a reference cycle
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert reports == []


class Sessions:
    """Stands for the request's session factory: counts the sessions opened and the reads
    running in each at once."""

    def __init__(self) -> None:
        self.opened: list[object] = []
        self.closed: list[object] = []

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[object]:
        session = object()
        self.opened.append(session)
        try:
            yield session
        finally:
            self.closed.append(session)


def _loaders(sessions: Sessions) -> Loaders:
    return Loaders(sessions, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]


async def test_reads_inside_sharing_take_turns_on_one_session() -> None:
    sessions = Sessions()
    loaders = _loaders(sessions)
    used: list[object] = []
    running: list[int] = [0, 0]  # now, most at once

    async def read() -> None:
        async with loaders.session() as session:
            running[0] += 1
            running[1] = max(running)
            await asyncio.sleep(0)
            used.append(session)
            running[0] -= 1

    async with loaders.sharing():
        async with loaders.sharing():  # inside another: the outer one's session
            await asyncio.gather(read(), read(), read())
        assert sessions.closed == []
    assert used == [sessions.opened[0]] * 3 and running[1] == 1
    assert sessions.closed == sessions.opened
    await read()  # afterwards, a session of its own
    assert len(sessions.opened) == 2 and used[-1] is sessions.opened[1]


async def test_a_failed_read_stops_sharing_its_session() -> None:
    sessions = Sessions()
    loaders = _loaders(sessions)
    async with loaders.sharing():
        with pytest.raises(LookupError):
            async with loaders.session():
                raise LookupError("statement failed")
        async with loaders.session() as session:
            assert session is not sessions.opened[0]
    assert sessions.closed == [sessions.opened[1], sessions.opened[0]]
