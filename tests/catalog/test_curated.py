"""The curated catalog: its facts land with their sources; a bad file writes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.importer import CURATED_PATH, import_curated
from schema.catalog.spec import CuratedFileError
from schema.db.base import Base
from schema.models import FactSource, LlmModel, Offering, Price


def _row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def _curated_with(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(CURATED_PATH.read_text())
    change(data)
    path = tmp_path / "curated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_curated_glm_4v_9b_is_from_its_primary_source(sessions: sessionmaker[Session]) -> None:
    report = import_curated(sessions)
    assert report.models >= 2
    with sessions() as session:
        glm = session.scalars(select(LlmModel).where(LlmModel.slug == "glm-4v-9b")).one()
        assert glm.context_window == 8192
        assert glm.input_modalities == ["text", "image"]
        assert glm.license == "GLM-4 Model License"
        context_source = session.scalars(
            select(FactSource).where(
                FactSource.model_id == glm.id, FactSource.field == "contextWindow"
            )
        ).one()
        assert context_source.value == "8192"
        assert context_source.url == "https://github.com/THUDM/GLM-4/blob/main/README_en.md"
        price = session.scalars(
            select(Price)
            .join(Offering)
            .where(Offering.model_id == glm.id, Price.effective_to.is_(None))
        ).one()
        assert (price.input_per_mtok, price.output_per_mtok) == (Decimal("0.05"), Decimal("0.25"))
        qwen = session.scalars(select(LlmModel).where(LlmModel.slug == "qwen3.5-4b")).one()
        assert (qwen.context_window, qwen.license, qwen.open_weights) == (
            262144,
            "Apache-2.0",
            True,
        )
        assert qwen.input_modalities == ["text", "image", "video"]


def test_reimporting_the_same_file_changes_nothing(sessions: sessionmaker[Session]) -> None:
    import_curated(sessions)
    before = _row_counts(sessions)
    report = import_curated(sessions)
    assert report.price_changes == 0
    assert _row_counts(sessions) == before


def _negative_price(data: dict) -> None:  # type: ignore[type-arg]
    data["models"][0]["offerings"][0]["price"]["input_per_mtok"] = "-0.05"


def _missing_name(data: dict) -> None:  # type: ignore[type-arg]
    del data["models"][1]["name"]


def _unknown_key(data: dict) -> None:  # type: ignore[type-arg]
    data["models"][0]["facts"]["context_windw"] = 8192


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_negative_price, "record models[0] (glm-4v-9b), field 'offerings.0.price.input_per_mtok'"),
        (_missing_name, "record models[1] (qwen3.5-4b), field 'name': Field required"),
        (_unknown_key, "record models[0] (glm-4v-9b), field 'facts.context_windw': Extra inputs"),
    ],
)
def test_a_bad_curated_file_is_rejected_whole(
    sessions: sessionmaker[Session],
    tmp_path: Path,
    change,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    import_curated(sessions)
    before = _row_counts(sessions)
    path = _curated_with(tmp_path, change)
    with pytest.raises(CuratedFileError) as raised:
        import_curated(sessions, path)
    message = str(raised.value)
    assert str(path) in message
    assert expected in message
    assert _row_counts(sessions) == before


def test_prices_keep_more_than_twelve_decimal_places(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    exact = "0.0000000000000123456789"

    def tiny_price(data: dict) -> None:  # type: ignore[type-arg]
        data["models"][0]["offerings"][0]["price"]["input_per_mtok"] = exact

    import_curated(sessions, _curated_with(tmp_path, tiny_price))
    with sessions() as session:
        stored = session.scalars(
            select(Price.input_per_mtok).where(Price.effective_to.is_(None))
        ).one()
    assert stored == Decimal(exact)
