"""The Celery app: Redis broker, late acknowledgement, time limits, and a beat that only
ticks (the database decides what is due). Start it with `llmref worker` / `llmref beat`,
or `celery -A workers.celery_app worker`."""

from __future__ import annotations

from celery import Celery

from schema.settings import Settings
from schema.tasks import (
    ACTIVATE_DUE_PRICES,
    ACTIVATE_EVERY_SECONDS,
    BEAT_TICK_SECONDS,
    DISPATCH_DUE,
    SWEEP,
    SWEEP_EVERY_SECONDS,
)


def create_celery(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise SystemExit("LLMREF_REDIS_URL is required for the worker and beat (the broker).")
    celery = Celery("llmref", broker=settings.redis_url, include=["workers.tasks"])
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_seconds},
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            "dispatch due feeds": {"task": DISPATCH_DUE, "schedule": float(BEAT_TICK_SECONDS)},
            "sweep": {"task": SWEEP, "schedule": float(SWEEP_EVERY_SECONDS)},
            "activate due prices": {
                "task": ACTIVATE_DUE_PRICES,
                "schedule": float(ACTIVATE_EVERY_SECONDS),
            },
        },
    )
    return celery


app = create_celery(Settings())
