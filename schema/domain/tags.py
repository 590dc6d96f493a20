"""Decision tags: short labels derived from a model's facts."""

from __future__ import annotations

from collections.abc import Sequence

LONG_CONTEXT_TOKENS = 100_000


def decision_tags(context_window: int | None, input_modalities: Sequence[str]) -> list[str]:
    """Exactly these, in this order: 'Long context' (a window of at least 100,000 tokens),
    'Vision' (accepts image input)."""
    tags = []
    if context_window is not None and context_window >= LONG_CONTEXT_TOKENS:
        tags.append("Long context")
    if "image" in input_modalities:
        tags.append("Vision")
    return tags
