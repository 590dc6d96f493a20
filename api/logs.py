"""Logging with request ids: text for a terminal, one JSON object per line in production."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from schema.settings import Settings

request_id: ContextVar[str] = ContextVar("llmref_request_id", default="-")
"""The id of the HTTP request or websocket connection being served ("-" outside one)."""

_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id(given: str | None = None) -> str:
    """A caller's X-Request-ID when it is a short plain token, else a fresh one; it becomes
    the current request id."""
    value = given if given and _GIVEN_ID.match(given) else uuid.uuid4().hex
    request_id.set(value)
    return value


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, request_id, and the traceback
    (whole) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Root logging for `llmref serve`: every record carries the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JsonFormatter() if settings.json_logs else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
