"""Lookup keys for names that feeds and people use for models."""

from __future__ import annotations


def alias_key(name: str) -> str:
    """Names match case-insensitively and ignoring surrounding space."""
    return name.strip().lower()
