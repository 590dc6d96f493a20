"""A wrong setting stops every `llmref` command before it does anything, with a message
naming the variable, instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from api.cli import app
from api.graphql.types.catalog import MODEL_LISTS_PAGE, PROVIDER_OFFERINGS_PAGE
from schema.settings import Settings


def test_a_page_size_below_the_largest_default_page_is_refused() -> None:
    """The bound in schema/settings.py is the largest of the API's default pages."""
    largest = max(PROVIDER_OFFERINGS_PAGE, MODEL_LISTS_PAGE)
    with pytest.raises(ValidationError, match=f"greater than or equal to {largest}"):
        Settings(max_page_size=largest - 1)
    assert Settings(max_page_size=largest).max_page_size == largest


@pytest.mark.parametrize("command", [["migrate"], ["feeds", "list"]])
def test_wrong_settings_are_named_and_nothing_runs(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "llmref.db"
    env = {
        "LLMREF_DATABASE_URL": f"sqlite:///{database}",
        "LLMREF_MAX_PAGE_SIZE": "50",
        "LLMREF_MAX_ALIASES": "lots",
    }
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2
    assert "LLMREF_MAX_PAGE_SIZE='50' is not accepted" in result.stderr
    assert "greater than or equal to 100" in result.stderr
    assert "LLMREF_MAX_ALIASES='lots' is not accepted" in result.stderr
    assert "Traceback" not in result.output
    assert not database.exists()
