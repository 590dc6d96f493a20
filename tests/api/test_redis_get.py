"""The response cache's Redis read (api/redis_get.py) against real redis-servers: the value
of the key in the URL's database, None for a missing key, authentication, a clear failure
when the server is gone or answers an error, and a new connection once it is back."""

from __future__ import annotations

import pytest
import redis

from api.redis_get import RedisGet, RedisUnavailable
from tests.redis_server import PrivateRedis, private_redis


async def test_reads_the_key_in_the_urls_database(redis_url: str) -> None:
    reader = RedisGet(redis_url, "llmref:test:generation")
    try:
        assert await reader.get() is None
        client = redis.Redis.from_url(redis_url)
        client.set("llmref:test:generation", 41)
        assert await reader.get() == b"41"
        client.incr("llmref:test:generation")
        assert await reader.get() == b"42"
        client.set("llmref:test:generation", b"")
        assert await reader.get() == b""
        # the same key in database 0 is another key
        other = RedisGet(redis_url.rsplit("/", 1)[0] + "/0", "llmref:test:generation")
        assert await other.get() is None
        await other.close()
    finally:
        await reader.close()


async def test_an_error_reply_fails_with_its_message(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).rpush("llmref:test:list", "a")
    reader = RedisGet(redis_url, "llmref:test:list")
    with pytest.raises(RedisUnavailable, match="WRONGTYPE"):
        await reader.get()
    await reader.close()


def _protected(server: PrivateRedis) -> str:
    redis.Redis.from_url(server.url).config_set("requirepass", "s3cret")
    return server.url.replace("redis://", "redis://:s3cret@")


async def test_authenticates_with_the_urls_password() -> None:
    with private_redis() as server:
        url = _protected(server)
        redis.Redis.from_url(url).set("generation", 7)
        reader = RedisGet(url, "generation")
        assert await reader.get() == b"7"
        await reader.close()
        wrong = RedisGet(server.url.replace("redis://", "redis://:wrong@"), "generation")
        with pytest.raises(RedisUnavailable, match=r"WRONGPASS|invalid password"):
            await wrong.get()
        anonymous = RedisGet(server.url, "generation")
        with pytest.raises(RedisUnavailable, match="NOAUTH"):
            await anonymous.get()


async def test_a_stopped_server_fails_fast_and_a_restarted_one_answers_again() -> None:
    with private_redis() as server:
        reader = RedisGet(server.url, "generation", timeout=1)
        redis.Redis.from_url(server.url).set("generation", 3)
        assert await reader.get() == b"3"
        server.stop()
        with pytest.raises(RedisUnavailable):
            await reader.get()
        with pytest.raises(RedisUnavailable):  # no server to connect to
            await reader.get()
        server.start()
        redis.Redis.from_url(server.url).set("generation", 4)
        assert await reader.get() == b"4"
        await reader.close()
