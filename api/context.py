"""Per-request GraphQL context: settings, a session factory, and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cache import ComparisonCache
from api.graphql.loaders import Loaders
from schema.settings import Settings


@dataclass
class Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    loaders: Loaders
    now: datetime
    cache: ComparisonCache
    """The request's clock: every "price in force now" in one answer is at this moment."""
    request: Any = None
    response: Any = None
