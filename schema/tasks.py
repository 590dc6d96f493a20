"""Task names and the retry policy, shared by the Celery worker, the API (which enqueues by
name) and the embedded runner."""

from __future__ import annotations

import random

RUN_FEED = "feeds.run"
DISPATCH_DUE = "feeds.dispatch_due"
SWEEP = "feeds.sweep"
ACTIVATE_DUE_PRICES = "prices.activate_due"

BEAT_TICK_SECONDS = 15
SWEEP_EVERY_SECONDS = 60
ACTIVATE_EVERY_SECONDS = 60
REQUEUE_QUEUED_AFTER_SECONDS = 120
"""A run still QUEUED after this long lost its message; the sweep hands it out again."""
MAX_RETRY_DELAY_SECONDS = 600
DEFAULT_RUN_LEASE_SECONDS = 30.0
"""A running feed run's lease (LLMREF_RUN_LEASE_SECONDS): renewed three times per period."""


def retry_delay(attempt: int, *, base: float, cap: float = MAX_RETRY_DELAY_SECONDS) -> float:
    """Exponential backoff with jitter: about base x 2^attempt, between half and all of it."""
    return min(cap, base * 2.0**attempt) * random.uniform(0.5, 1.0)
