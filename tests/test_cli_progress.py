"""The offline-load progress bar of `llmref serve` advances as each feed is done."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from api.cli import _load_offline_catalog
from schema.db.engine import make_engine, make_sessionmaker
from schema.feeds.sources import KNOWN_FEEDS
from schema.migrations import upgrade
from schema.settings import Settings

SHOWN = re.compile(r"Loading the offline catalog: (\S+).*?(\d+)/(\d+)")


def test_the_progress_bar_advances_per_feed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'llmref.db'}"
    upgrade(url)
    engine = make_engine(url)
    screen = io.StringIO()
    try:
        console = Console(file=screen, force_terminal=True, width=160, color_system=None)
        _load_offline_catalog(Settings(database_url=url), make_sessionmaker(engine), console)
    finally:
        engine.dispose()

    steps = ["curated", *(feed.slug for feed in KNOWN_FEEDS)]
    shown: dict[str, set[int]] = {}
    for step, completed, total in SHOWN.findall(screen.getvalue()):
        assert int(total) == len(steps)
        shown.setdefault(step, set()).add(int(completed))
    for index, step in enumerate(steps):
        # While a step runs the bar shows the steps done before it (a redraw between a
        # step's end and the next one's start may show one more).
        assert index in shown[step], (step, shown)
        assert shown[step] <= {index, index + 1}, (step, shown)
    assert shown["done"] == {len(steps)}
