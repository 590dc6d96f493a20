"""The exported SDL is fresh, and nothing in it breaks the client contract."""

from __future__ import annotations

from graphql import build_schema as build_sdl
from graphql.utilities import find_breaking_changes

from api.graphql.schema import export_sdl
from tests.conftest import PROJECT_ROOT

CONTRACT = PROJECT_ROOT.parent / "shared" / "contract.graphql"
SNAPSHOT = PROJECT_ROOT / "schema" / "schema.graphql"


def test_schema_snapshot_is_fresh() -> None:
    assert SNAPSHOT.read_text(encoding="utf-8") == export_sdl(), (
        "schema/schema.graphql is stale: run `llmref export-schema` and commit it"
    )


def test_no_breaking_change_against_the_whole_contract() -> None:
    contract = build_sdl(CONTRACT.read_text(encoding="utf-8"))
    ours = build_sdl(SNAPSHOT.read_text(encoding="utf-8"))
    assert [change.description for change in find_breaking_changes(contract, ours)] == []
