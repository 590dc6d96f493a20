"""The exported SDL is fresh, and nothing in it breaks the client contract.

The contract lives in the repository (schema/contract.graphql) so that a clone anywhere can
check itself; where the project's shared folder sits beside the repository, a test keeps the
copy identical to it.
"""

from __future__ import annotations

import pytest
from graphql import build_schema as build_sdl
from graphql.utilities import find_breaking_changes

from api.graphql.schema import export_sdl
from tests.conftest import PROJECT_ROOT

CONTRACT = PROJECT_ROOT / "schema" / "contract.graphql"
SHARED_CONTRACT = PROJECT_ROOT.parent / "shared" / "contract.graphql"
SNAPSHOT = PROJECT_ROOT / "schema" / "schema.graphql"


def test_schema_snapshot_is_fresh() -> None:
    assert SNAPSHOT.read_text(encoding="utf-8") == export_sdl(), (
        "schema/schema.graphql is stale: run `llmref export-schema` and commit it"
    )


def test_no_breaking_change_against_the_whole_contract() -> None:
    contract = build_sdl(CONTRACT.read_text(encoding="utf-8"))
    ours = build_sdl(SNAPSHOT.read_text(encoding="utf-8"))
    assert [change.description for change in find_breaking_changes(contract, ours)] == []


def test_contract_copy_is_identical_to_the_shared_contract() -> None:
    if not SHARED_CONTRACT.is_file():
        pytest.skip(f"no shared contract beside the repository ({SHARED_CONTRACT} is absent)")
    assert CONTRACT.read_bytes() == SHARED_CONTRACT.read_bytes(), (
        f"schema/contract.graphql differs from {SHARED_CONTRACT}: copy it again"
    )
