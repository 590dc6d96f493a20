"""Lookup keys for names that feeds and people use for models."""

from __future__ import annotations


def alias_key(name: str) -> str:
    """Names match case-insensitively and ignoring surrounding space."""
    return name.strip().lower()


def name_lookup_keys(name: str) -> list[str]:
    """The keys tried, in order, for a name a person or feed gives: the whole name, then
    without its leading path segments one by one (router, provider and creator prefixes:
    'openrouter/qwen/qwen3.5-27b' -> 'qwen/qwen3.5-27b' -> 'qwen3.5-27b')."""
    parts = alias_key(name).split("/")
    keys = ["/".join(parts[index:]) for index in range(len(parts))]
    return [key for index, key in enumerate(keys) if key and key not in keys[:index]]
