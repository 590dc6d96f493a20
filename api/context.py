"""Per-request GraphQL context: settings, a session factory, and fresh loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cache import ComparisonCache
from api.events.hub import EventHub
from api.services.catalog_pages import CatalogPages
from api.services.loaders import Loaders
from schema.settings import Settings


@dataclass
class Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    loaders: Loaders
    now: datetime
    """The request's clock: every "price in force now" in one answer is at this moment."""
    cache: ComparisonCache
    enqueue_run: Callable[[int], Awaitable[None]]
    """Hand a committed feed run to the workers (or the embedded runner)."""
    publish: Callable[[Iterable[int]], Awaitable[None]]
    """After a commit that changed prices: publish events, bump these models' caches."""
    hub: EventHub
    """This process's price-change event reader (for subscriptions)."""
    pages: CatalogPages | None = None
    """The `models` pages this process keeps (None: none are, without Redis)."""
    request: Any = None
    response: Any = None
    connection_params: Any = None
    """The websocket connection_init payload (strawberry sets it)."""
