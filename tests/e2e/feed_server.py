"""A local HTTP server playing a price feed on 127.0.0.1, for the end-to-end tests and the
event benchmark: it serves recorded payloads (switchable between requests), answers a
conditional GET with 304 when the ETag matches, plays scripted faults (an error status, a
slow answer, other bytes) and logs every request."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

FEED_PATH = "/model_prices_and_context_window.json"


def read_payload(path: Path) -> bytes:
    """A recorded payload's bytes; .gz files are decompressed."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:20]}"'


@dataclass(frozen=True)
class Reply:
    """A one-off answer to the next request, before the served content resumes."""

    status: int = 200
    body: bytes | None = None
    """None: the content being served."""
    delay: float = 0.0
    """Seconds to wait before answering (a slow or hung feed)."""


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    if_none_match: str | None
    started: float
    """time.monotonic() when the request arrived."""
    status: int | None = None
    """What was answered; None while in flight, or when the client left first."""
    finished: float | None = None
    """time.monotonic() when the last byte of the answer was written."""


class FeedServer:
    """Use as a context manager; ``url`` is the feed's address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._body = b"{}"
        self._script: deque[Reply] = deque()
        self._log: list[LoggedRequest] = []
        self._logged = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="feed-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{FEED_PATH}"

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()  # cut scripted delays short
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- what to answer ------------------------------------------------------------------

    def serve(self, body: bytes) -> None:
        """Answer every later request with these bytes (and their ETag)."""
        with self._lock:
            self._body = body

    def serve_file(self, path: Path) -> bytes:
        body = read_payload(path)
        self.serve(body)
        return body

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order, then the served content again."""
        with self._lock:
            self._script.extend(replies)

    # --- what was asked ------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def wait_for_requests(
        self, count: int, *, timeout: float = 30, answered: bool = True
    ) -> list[LoggedRequest]:
        """Block until ``count`` requests arrived (and, by default, were answered in full)."""

        def enough() -> bool:
            done = [r for r in self._log if r.finished is not None] if answered else self._log
            return len(done) >= count

        with self._logged:
            if not self._logged.wait_for(enough, timeout=timeout):
                raise TimeoutError(f"the feed server saw {self._log!r}, wanted {count} requests")
            return list(self._log)

    # --- the handler ---------------------------------------------------------------------

    def _next_reply(self) -> tuple[Reply, bytes]:
        with self._lock:
            reply = self._script.popleft() if self._script else Reply()
            return reply, reply.body if reply.body is not None else self._body

    def _record(self, index: int, **changes: object) -> None:
        with self._logged:
            self._log[index] = replace(self._log[index], **changes)  # type: ignore[arg-type]
            self._logged.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # the http.server name
                if_none_match = self.headers.get("If-None-Match")
                with server._logged:
                    server._log.append(LoggedRequest(self.path, if_none_match, time.monotonic()))
                    index = len(server._log) - 1
                    server._logged.notify_all()
                reply, body = server._next_reply()
                if reply.delay and server._closing.wait(reply.delay):
                    return
                etag = etag_of(body)
                status = reply.status
                if status == 200 and self.path != FEED_PATH:
                    status, body = 404, b"not found"
                elif status == 200 and if_none_match == etag:
                    status, body = 304, b""
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Connection", "close")
                    if status in (200, 304):
                        self.send_header("ETag", etag)
                    if status != 304:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (a timeout): nothing was answered
                self.close_connection = True
                server._record(index, status=status, finished=time.monotonic())

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
