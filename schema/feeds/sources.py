"""The feed sources llmref knows out of the box, and the snapshots bundled for offline use."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

BUNDLED_DIR = Path(__file__).with_name("bundled")


@dataclass(frozen=True)
class KnownFeed:
    slug: str
    kind: str
    url: str


KNOWN_FEEDS = (
    KnownFeed("models.dev", "models.dev", "https://models.dev/api.json"),
    KnownFeed("openrouter", "openrouter", "https://openrouter.ai/api/v1/models"),
    KnownFeed(
        "litellm",
        "litellm",
        "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
    ),
    KnownFeed(
        "genai-prices",
        "genai-prices",
        "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json",
    ),
    KnownFeed("llm-prices", "llm-prices", "https://www.llm-prices.com/current-v1.json"),
)
"""In the order the offline catalog imports them: the feeds that create models first."""


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(
        (BUNDLED_DIR / "manifest.json").read_text(encoding="utf-8")
    )
    return manifest


def bundled_path(kind: str) -> Path:
    """The bundled snapshot the offline catalog uses for a feed kind."""
    name: str = _manifest()["catalog"][kind]
    return BUNDLED_DIR / name


def bundled_stated_at(path: Path) -> datetime | None:
    """The data date the manifest records for a bundled file (when its numbers were
    captured); None for a file that is not bundled."""
    try:
        relative = path.resolve().relative_to(BUNDLED_DIR.resolve()).as_posix()
    except ValueError:
        return None
    for item in _manifest()["files"]:
        if item["path"] == relative:
            return datetime.fromisoformat(item["stated_at"])
    return None


def read_snapshot_file(path: Path) -> bytes:
    """A snapshot's bytes; .gz files are decompressed."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def bundled_catalog_dates() -> dict[str, datetime]:
    """Each feed kind's data date in the offline catalog (its bundled snapshot's)."""
    manifest = _manifest()
    stated = {item["path"]: item["stated_at"] for item in manifest["files"]}
    return {
        kind: datetime.fromisoformat(stated[path]) for kind, path in manifest["catalog"].items()
    }
