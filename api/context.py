"""Per-request GraphQL context: settings, a session factory, and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.graphql.loaders import Loaders
from schema.settings import Settings


@dataclass
class Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    loaders: Loaders
    request: Any = None
    response: Any = None
