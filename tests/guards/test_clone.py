"""What a clone needs: no file the running service leaves behind shows up as a change."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT

SQLITE_FILES = [
    "llmref.db",
    "llmref.db-wal",
    "llmref.db-shm",
    "llmref.db-journal",
    "llmref.db.setup-lock",
]


@pytest.mark.parametrize("name", SQLITE_FILES)
def test_sqlite_files_are_ignored_by_git(name: str) -> None:
    git = shutil.which("git")
    if git is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout (or no git command)")
    for path in (name, f"somewhere/{name}"):
        ignored = subprocess.run(
            [git, "check-ignore", "--no-index", "-q", path], cwd=PROJECT_ROOT, check=False
        )
        assert ignored.returncode == 0, f"{path} is not ignored by .gitignore"
