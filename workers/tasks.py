"""Thin task wrappers: ids in, the core's functions do the work."""

from __future__ import annotations

from collections.abc import Iterable

from celery import Task

from schema.db.base import utcnow
from schema.events import publisher
from schema.feeds.fetch import TransientFetchError
from schema.ingest.sync import run_feed
from schema.jobs import (
    activate_prices,
    dispatch_due,
    http_fetcher,
    retry_delay_or_give_up,
    sweep,
)
from schema.tasks import ACTIVATE_DUE_PRICES, DISPATCH_DUE, RUN_FEED, SWEEP
from workers.celery_app import app
from workers.db import sessions, settings


def _publish(model_ids: Iterable[int], *, catalog_changed: bool = True) -> None:
    publisher(sessions(), redis_url=settings().redis_url, now=utcnow)(
        model_ids, catalog_changed=catalog_changed
    )


@app.task(name=RUN_FEED, bind=True, acks_late=True, reject_on_worker_lost=True)
def run(self: Task, run_id: int) -> str:
    config = settings()
    try:
        outcome = run_feed(
            sessions(),
            run_id,
            fetch=http_fetcher(config),
            after_commit=_publish,
            implausible_factor=config.implausible_price_factor,
            lease_seconds=config.run_lease_seconds,
        )
    except TransientFetchError as error:
        delay = retry_delay_or_give_up(
            sessions(), config, run_id, error, attempt=self.request.retries
        )
        if delay is None:
            return "FAILED"
        raise self.retry(exc=error, countdown=delay, max_retries=config.fetch_retries) from error
    return outcome.status


@app.task(name=DISPATCH_DUE)
def dispatch() -> list[int]:
    queued = dispatch_due(sessions(), now=utcnow())
    for run_id in queued:  # after the commit: the rows are the outbox
        run.delay(run_id)
    return queued


@app.task(name=SWEEP)
def sweep_runs() -> list[int]:
    again = sweep(sessions(), settings(), publish=_publish, now=utcnow())
    for run_id in again:
        run.delay(run_id)
    return again


@app.task(name=ACTIVATE_DUE_PRICES)
def activate() -> int:
    return activate_prices(sessions(), publish=_publish, now=utcnow())
