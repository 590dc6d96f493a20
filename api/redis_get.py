"""One Redis key read over a connection of its own, in plain RESP.

The response cache reads the catalog generation for every request it might answer
(api/response_cache.py), so that read is the hot path's only round trip. redis-py spends
55 to 90 us of CPU per GET here (its pool, retries, timeouts and parser); this client
writes one fixed command and reads one bulk reply in about 20 us (bench/README.md, "Warm
hits"). It sends one command at a time and reconnects after any failure. It speaks what a
``redis://`` or ``rediss://`` URL can ask for (host, port, TLS, user, password, database);
``unix://`` URLs use the socket path.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url


class RedisUnavailable(Exception):
    """The read failed: no connection, no answer in time, or an answer that is an error or
    not a reply this client reads (the message says which)."""


def _command(*parts: bytes) -> bytes:
    header = b"*%d\r\n" % len(parts)
    return header + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)


class RedisGet:
    """``GET key`` against the server of ``url``; raises ``RedisUnavailable`` when it cannot
    answer (the next call connects again)."""

    def __init__(self, url: str, key: str, *, timeout: float = 1.0) -> None:
        self._options: dict[str, Any] = dict(parse_url(url))
        self._command = _command(b"GET", key.encode())
        self._timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self) -> bytes | None:
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = self._reader, self._writer
                if reader is None or writer is None:
                    reader, writer = await self._connect()
                writer.write(self._command)
                return await _reply(reader)
        except BaseException as error:
            self._drop()  # a reply may be left half read: start clean next time
            if isinstance(error, Exception) and not isinstance(error, RedisUnavailable):
                raise RedisUnavailable(f"{type(error).__name__}: {error}") from error
            raise

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        options = self._options
        if options.get("connection_class") is UnixDomainSocketConnection:
            reader, writer = await asyncio.open_unix_connection(options["path"])
        else:
            tls = (
                ssl.create_default_context()
                if options.get("connection_class") is SSLConnection
                else None
            )
            reader, writer = await asyncio.open_connection(
                options.get("host", "localhost"), options.get("port", 6379), ssl=tls
            )
        self._reader, self._writer = reader, writer
        password, username = options.get("password"), options.get("username")
        if password is not None:
            credentials = [username.encode()] if username else []
            writer.write(_command(b"AUTH", *credentials, password.encode()))
            await _reply(reader)
        if options.get("db"):
            writer.write(_command(b"SELECT", str(options["db"]).encode()))
            await _reply(reader)
        return reader, writer

    def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()

    async def close(self) -> None:
        writer = self._writer
        self._drop()
        if writer is not None:
            with contextlib.suppress(OSError):  # already gone: nothing left to release
                await writer.wait_closed()


async def _reply(reader: asyncio.StreamReader) -> bytes | None:
    """A simple-string or bulk reply's bytes (None for a missing key)."""
    line = await reader.readuntil(b"\r\n")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        return (await reader.readexactly(size + 2))[:-2]
    if kind == b"-":
        raise RedisUnavailable(rest.decode(errors="replace"))
    raise RedisUnavailable(f"unexpected reply {line[:40]!r}")
