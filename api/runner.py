"""The embedded runner: without Redis, `llmref serve` runs the same task bodies as the
Celery workers, in this process, on the same schedule, and delivers their events here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session, sessionmaker

from schema.cache import LocalCache
from schema.db.base import utcnow
from schema.events import publisher
from schema.feeds.fetch import TransientFetchError
from schema.ingest.sync import run_feed
from schema.jobs import activate_prices, dispatch_due, http_fetcher, retry_delay_or_give_up, sweep
from schema.settings import Settings
from schema.tasks import (
    ACTIVATE_EVERY_SECONDS,
    BEAT_TICK_SECONDS,
    SWEEP_EVERY_SECONDS,
)

log = logging.getLogger("llmref.runner")


class EmbeddedRunner:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        cache: LocalCache,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self._publish = publisher(
            sessions, redis_url=None, local_cache=cache, notify=notify, now=utcnow
        )
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._attempts: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def enqueue(self, run_id: int) -> None:
        self._queue.put_nowait(run_id)

    def publish(self, model_ids: Iterable[int], *, catalog_changed: bool = True) -> None:
        self._publish(model_ids, catalog_changed=catalog_changed)

    def start(self) -> None:
        self._event_loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._loop(), name="llmref-embedded-runner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        next_sweep = next_activation = time.monotonic()
        while True:
            try:
                for run_id in await asyncio.to_thread(dispatch_due, self.sessions, now=utcnow()):
                    self._queue.put_nowait(run_id)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
                    for run_id in await asyncio.to_thread(
                        sweep, self.sessions, self.settings, publish=self.publish, now=utcnow()
                    ):
                        self._queue.put_nowait(run_id)
                if time.monotonic() >= next_activation:
                    next_activation = time.monotonic() + ACTIVATE_EVERY_SECONDS
                    await asyncio.to_thread(
                        activate_prices, self.sessions, publish=self.publish, now=utcnow()
                    )
                await self._drain(deadline=time.monotonic() + BEAT_TICK_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep serving; the next tick tries again
                log.exception("embedded runner tick failed")
                await asyncio.sleep(BEAT_TICK_SECONDS)

    async def _drain(self, deadline: float) -> None:
        while (left := deadline - time.monotonic()) > 0:
            try:
                run_id = await asyncio.wait_for(self._queue.get(), timeout=left)
            except TimeoutError:
                return
            await asyncio.to_thread(self._run, run_id)

    def _run(self, run_id: int) -> None:
        try:
            run_feed(
                self.sessions,
                run_id,
                fetch=http_fetcher(self.settings),
                after_commit=self.publish,
                implausible_factor=self.settings.implausible_price_factor,
                lease_seconds=self.settings.run_lease_seconds,
            )
            self._attempts.pop(run_id, None)
        except TransientFetchError as error:
            attempt = self._attempts.pop(run_id, 0)
            delay = retry_delay_or_give_up(
                self.sessions, self.settings, run_id, error, attempt=attempt
            )
            if delay is None:
                return
            self._attempts[run_id] = attempt + 1
            # this runs in a worker thread: schedule the retry on the event loop
            self._event_loop.call_soon_threadsafe(
                self._event_loop.call_later, delay, self._queue.put_nowait, run_id
            )
