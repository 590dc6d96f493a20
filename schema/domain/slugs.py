"""Slugs: lowercase, dots kept ('glm-4v-9b', 'qwen3.5-4b')."""

from __future__ import annotations

import re

_SLUG = re.compile(r"^[a-z0-9]+(?:[.\-_][a-z0-9]+)*$")
_SEPARATORS = re.compile(r"[^a-z0-9.]+")


def slugify(name: str) -> str:
    """'Qwen3.5-4B' -> 'qwen3.5-4b'; 'GLM 4V 9B' -> 'glm-4v-9b'."""
    slug = _SEPARATORS.sub("-", name.strip().lower())
    return re.sub(r"-{2,}", "-", slug).strip("-.")


def is_slug(value: str) -> bool:
    return bool(_SLUG.match(value))
