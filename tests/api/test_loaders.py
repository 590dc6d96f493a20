"""The request's BatchLoader: one fetch for the keys asked for together, each key once."""

from __future__ import annotations

import asyncio

import pytest

from api.services.loaders import BatchLoader


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
