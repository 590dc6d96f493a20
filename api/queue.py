"""Handing a queued feed run to whoever runs it: Celery workers (by task name, never by
importing workers/), or the embedded runner of this process."""

from __future__ import annotations

import asyncio
from typing import Protocol

from celery import Celery

from schema.tasks import RUN_FEED


class RunQueue(Protocol):
    async def enqueue(self, run_id: int) -> None: ...


class CeleryRunQueue:
    def __init__(self, broker_url: str) -> None:
        self._celery = Celery("llmref-api", broker=broker_url)

    async def enqueue(self, run_id: int) -> None:
        await asyncio.to_thread(self._celery.send_task, RUN_FEED, args=[run_id])
