"""Source priority follows a feed's kind, and an explicit rank overrides it.

A LiteLLM feed added under a new slug ranked after every known feed (priority went by
slug); now it ranks as LiteLLM does, and `update_feed_source(rank=...)` moves it, with the
shown prices resolved again at once (an event for each shown price that changes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.db.engine import session_scope
from schema.ingest.offline import import_snapshot_file
from schema.models import LlmModel, ObservedPrice, Offering, Price, PriceChangeEvent, Provider
from schema.services.feed_sources import KIND_RANK, add_feed_source, update_feed_source
from tests.conftest import PROJECT_ROOT

LITELLM_JULY_1 = PROJECT_ROOT / "schema/feeds/bundled/litellm/history/2026-07-01_f32e5ff0.json.gz"
AT = datetime(2026, 8, 21, tzinfo=UTC)
ROUTE = ("claude-sonnet-5", "anthropic")
"""LiteLLM of 2026-07-01 prices this route at 3/15; models.dev's bundled snapshot does
not agree, so which source wins is visible in the shown price."""


def _route(session: Session) -> int:
    model, provider = ROUTE
    return session.scalars(
        select(Offering.id)
        .join(LlmModel, Offering.model_id == LlmModel.id)
        .join(Provider, Offering.provider_id == Provider.id)
        .where(LlmModel.slug == model, Provider.slug == provider, Offering.region == "")
    ).one()


def _shown(sessions: sessionmaker[Session]) -> tuple[str, Decimal | None, Decimal | None]:
    with sessions() as session:
        row = session.scalars(
            select(Price).where(Price.offering_id == _route(session), Price.effective_to.is_(None))
        ).one()
        return row.source, row.input_per_mtok, row.output_per_mtok


def _observed(sessions: sessionmaker[Session], source: str) -> tuple[Decimal | None, ...]:
    with sessions() as session:
        row = session.scalars(
            select(ObservedPrice).where(
                ObservedPrice.offering_id == _route(session),
                ObservedPrice.source == source,
                ObservedPrice.effective_to.is_(None),
            )
        ).one()
        return row.input_per_mtok, row.output_per_mtok


def _events(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(PriceChangeEvent.id)).all())


def test_a_feed_under_a_new_slug_ranks_by_its_kind_and_a_set_rank_moves_it(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        add_feed_source(
            session,
            slug="litellm-mirror",
            kind="litellm",
            url="https://mirror.example.com/litellm.json",
            now=AT,
        )
    assert import_snapshot_file(sessions, "models.dev", now=lambda: AT).status == "SUCCEEDED"
    outcome = import_snapshot_file(sessions, "litellm-mirror", LITELLM_JULY_1, now=lambda: AT)
    assert outcome.status == "SUCCEEDED", outcome
    mirror, modelsdev = _observed(sessions, "litellm-mirror"), _observed(sessions, "models.dev")
    assert mirror == (Decimal(3), Decimal(15))
    assert mirror != modelsdev  # so the shown price tells which source won

    # kind litellm ranks before models.dev, whatever the slug
    assert _shown(sessions) == ("litellm-mirror", *mirror)

    before = _events(sessions)
    with session_scope(sessions) as session:
        moved = update_feed_source(session, "litellm-mirror", rank=45, now=AT)
        changed = [(e.kind, e.offering_id) for e in moved.events]
    assert _shown(sessions) == ("models.dev", *modelsdev)
    assert ("CHANGED", _route(sessions())) in changed
    assert _events(sessions) == before + len(changed)

    with session_scope(sessions) as session:
        update_feed_source(session, "litellm-mirror", rank=KIND_RANK, now=AT)
    assert _shown(sessions) == ("litellm-mirror", *mirror)

    with session_scope(sessions) as session:  # and the known feed itself moves the same way
        update_feed_source(session, "models.dev", rank=10, now=AT)
    assert _shown(sessions) == ("models.dev", *modelsdev)
