"""The static gates run with the tests: ruff's lint and format, and mypy (strict, per
pyproject.toml). Each fails with the tool's own report; each keeps its cache in the
repository (.ruff_cache, .mypy_cache, both git-ignored), so a repeated run is quick."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / tool), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(result.args)} (exit {result.returncode}):\n{result.stdout}{result.stderr}"


def test_ruff_lint_is_clean() -> None:
    result = _run("ruff", "check", "--output-format", "concise", ".")
    assert result.returncode == 0, _report(result)
    assert result.stderr == "", _report(result)  # e.g. a rule or setting ruff warns about


def test_ruff_format_is_clean() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, _report(result)
    assert result.stderr == "", _report(result)


@pytest.mark.timeout(600)  # a cold cache checks every module (about 15 s alone, more under load)
def test_mypy_is_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, _report(result)
    assert result.stdout.startswith("Success: no issues found"), _report(result)


@pytest.mark.parametrize("cache", [".ruff_cache", ".mypy_cache"])
def test_tool_caches_are_ignored_by_git(cache: str) -> None:
    git = shutil.which("git")
    if git is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout (or no git command)")
    ignored = subprocess.run(
        [git, "check-ignore", "--no-index", "-q", f"{cache}/anything"],
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert ignored.returncode == 0, f"{cache} is not ignored by .gitignore"
