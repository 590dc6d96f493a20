"""The exported SDL is fresh, and nothing in it breaks the client contract."""

from __future__ import annotations

import re

from graphql import build_schema as build_sdl
from graphql.utilities import BreakingChange, BreakingChangeType, find_breaking_changes

from api.graphql.schema import export_sdl
from tests.conftest import PROJECT_ROOT

CONTRACT = PROJECT_ROOT.parent / "shared" / "contract.graphql"
SNAPSHOT = PROJECT_ROOT / "schema" / "schema.graphql"

# Contract parts that later work adds; this set only shrinks, until it is empty.
NOT_YET_BUILT = {
    "Subscription",
}


def test_schema_snapshot_is_fresh() -> None:
    assert SNAPSHOT.read_text(encoding="utf-8") == export_sdl(), (
        "schema/schema.graphql is stale: run `llmref export-schema` and commit it"
    )


def _missing(change: BreakingChange) -> str | None:
    """The type or field a change says is absent ('Comparison', 'Query.comparison'), or None
    for any other kind of breaking change (those are never allowed)."""
    if change.type not in (BreakingChangeType.TYPE_REMOVED, BreakingChangeType.FIELD_REMOVED):
        return None
    match = re.match(r"(?:Field )?(\w+(?:\.\w+)?) was removed\.", change.description)
    return match.group(1) if match else None


def test_no_breaking_change_against_the_contract() -> None:
    contract = build_sdl(CONTRACT.read_text(encoding="utf-8"))
    ours = build_sdl(SNAPSHOT.read_text(encoding="utf-8"))
    breaking = find_breaking_changes(contract, ours)
    unexpected = [c.description for c in breaking if _missing(c) not in NOT_YET_BUILT]
    assert unexpected == []
    still_missing = {_missing(c) for c in breaking}
    assert still_missing == NOT_YET_BUILT, (
        "NOT_YET_BUILT lists parts that now exist: remove them so the contract test covers them"
    )
