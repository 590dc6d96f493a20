"""Fetch a feed over HTTP: timeouts, a size cap, conditional GET.

Transient trouble (transport errors, timeouts, 5xx, 429) raises TransientFetchError so
that the task retries; anything else that cannot give a snapshot raises FetchError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
USER_AGENT = "llmref (+https://github.com/llmref/llmref)"


class FetchError(Exception):
    """The feed answered, but not with a usable snapshot (4xx, too large)."""


class TransientFetchError(FetchError):
    """Worth retrying: the network or the server failed this time."""


@dataclass(frozen=True)
class FetchResult:
    """``raw`` is None when the server says the content is unchanged (304)."""

    raw: bytes | None
    etag: str | None
    last_modified: str | None
    stated_at: datetime | None = None
    """When the transport says the content dates from: the HTTP Last-Modified time, or a
    bundled file's recorded data date; None when it says nothing."""


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES


def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = FetchLimits(),
) -> FetchResult:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return FetchResult(None, etag, last_modified)
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientFetchError(f"{url} answered HTTP {response.status_code}")
            if response.status_code >= 400:
                raise FetchError(f"{url} answered HTTP {response.status_code}")
            body = _read_capped(response, url, limits.max_bytes)
            modified = response.headers.get("last-modified")
            return FetchResult(body, response.headers.get("etag"), modified, http_date(modified))
    except httpx.TransportError as error:  # connect errors, timeouts, broken reads
        raise TransientFetchError(f"{url}: {type(error).__name__}: {error}") from error


def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{url}: {int(declared):,} bytes, over the {max_bytes:,}-byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: over the {max_bytes:,}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def http_date(value: str | None) -> datetime | None:
    """An HTTP date header as aware UTC; None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
