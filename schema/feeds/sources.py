"""The feed sources llmref knows out of the box, and the snapshots bundled for offline use."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

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


def bundled_path(kind: str) -> Path:
    """The bundled snapshot the offline catalog uses for a feed kind."""
    manifest = json.loads((BUNDLED_DIR / "manifest.json").read_text(encoding="utf-8"))
    return BUNDLED_DIR / manifest["catalog"][kind]


def read_snapshot_file(path: Path) -> bytes:
    """A snapshot's bytes; .gz files are decompressed."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data
