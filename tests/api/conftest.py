"""Fixtures of the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.live import redis_database

REDIS_DATABASES = (5, 6, 9, 4)
"""Numbers on the shared Redis server these tests may use (the first free one)."""


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_database(REDIS_DATABASES) as url:
        yield url
