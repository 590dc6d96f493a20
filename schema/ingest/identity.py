"""Identity: which canonical provider, region and model a feed's record is about.

The rules are explicit and documented (docs/data.md, "Identity"); nothing here guesses
by similarity. Provider and creator names come from ``identity.yaml``; model names are
matched through the alias table (every name a feed has used) and model slugs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from schema.domain.names import alias_key
from schema.domain.slugs import slugify
from schema.feeds.records import FeedRecord

IDENTITY_PATH = Path(__file__).with_name("identity.yaml")
PREFIXING_FEEDS = frozenset({"litellm"})
"""Feeds that put a routing prefix before the provider's own model id."""


@dataclass(frozen=True)
class ProviderRules:
    slug: str
    name: str
    url: str | None = None
    regions: dict[str, str] = field(default_factory=dict)
    route_prefixes: tuple[str, ...] = ()
    model_id_regions: tuple[str, ...] = ()
    vendor_prefix: bool = False
    version_suffix: re.Pattern[str] | None = None
    path_region: re.Pattern[str] | None = None
    pseudo_model_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    """Where a record's route goes: provider, region ('' when it has one site) and the
    provider's own model id; ``bare`` is the model's name without any decoration."""

    provider: ProviderRules
    region: str
    model_id: str
    bare: str
    pseudo: bool


@dataclass(frozen=True)
class Creator:
    slug: str
    name: str


class Identity:
    """The rules of identity.yaml, ready to apply."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._providers: dict[tuple[str, str], ProviderRules] = {}
        self.providers_by_slug: dict[str, ProviderRules] = {}
        for slug, spec in data["providers"].items():
            suffix, path_region = spec.get("version_suffix"), spec.get("path_region")
            rules = ProviderRules(
                slug=slug,
                name=spec["name"],
                url=spec.get("url"),
                regions=dict(spec.get("regions", {})),
                route_prefixes=tuple(spec.get("route_prefixes", ())),
                model_id_regions=tuple(spec.get("model_id_regions", ())),
                vendor_prefix=bool(spec.get("vendor_prefix", False)),
                version_suffix=re.compile(suffix) if suffix else None,
                path_region=re.compile(path_region) if path_region else None,
                pseudo_model_prefixes=tuple(spec.get("pseudo_model_prefixes", ())),
            )
            self.providers_by_slug[slug] = rules
            for feed, names in spec.get("aliases", {}).items():
                for name in names:
                    self._providers[(feed, name)] = rules
        self._creators: dict[str, Creator] = {}
        for slug, spec in data["creators"].items():
            for name in spec["aliases"]:
                self._creators[alias_key(name)] = Creator(slug, spec["name"])

    def provider(self, feed: str, name: str, display_name: str | None = None) -> ProviderRules:
        """The canonical provider for a feed's provider id; unknown ids are their own."""
        known = self._providers.get((feed, name))
        if known is not None:
            return known
        slug = slugify(name.replace("_", "-"))
        return self.providers_by_slug.get(slug) or ProviderRules(
            slug=slug, name=display_name or name
        )

    def creator(self, name: str) -> Creator:
        return self._creators.get(alias_key(name)) or Creator(slugify(name), name)

    def route(self, feed: str, record: FeedRecord) -> Route:
        provider = self.provider(feed, record.provider, record.provider_name)
        model_id = record.provider_model_id
        if feed in PREFIXING_FEEDS:
            model_id = _strip_prefix(model_id, (*provider.route_prefixes, f"{record.provider}/"))
        region = provider.regions.get(record.provider, "")
        first, slash, remainder = model_id.partition("/")
        if not region and slash and provider.path_region and provider.path_region.match(first):
            region, model_id = first, remainder
        head, dot, rest = model_id.partition(".")
        if not region and dot and head in provider.model_id_regions:
            region = head
            model_id = rest
        bare = model_id.rsplit("/", 1)[-1]
        if provider.vendor_prefix and "." in bare:
            bare = bare.split(".", 1)[1]
        if provider.version_suffix is not None:
            bare = provider.version_suffix.sub("", bare)
        pseudo = any(model_id.startswith(prefix) for prefix in provider.pseudo_model_prefixes)
        return Route(provider=provider, region=region, model_id=model_id, bare=bare, pseudo=pseudo)


def _strip_prefix(model_id: str, prefixes: tuple[str, ...]) -> str:
    for prefix in sorted(prefixes, key=len, reverse=True):
        if model_id.startswith(prefix) and len(model_id) > len(prefix):
            return model_id[len(prefix) :]
    return model_id


def model_name_keys(record: FeedRecord, route: Route) -> Iterator[str]:
    """The lookup keys of a record's model, most specific first: the feed's own id, the
    provider's model id, the names the feed itself ties to it (hints), then the bare names
    (the last path segment: 'Qwen/Qwen3.5-27B' -> 'qwen3.5-27b')."""
    hints = [hint for hint in record.identity_hints if hint]
    seen: set[str] = set()
    for name in [
        record.provider_model_id,
        route.model_id,
        *hints,
        route.bare,
        *(h.rsplit("/", 1)[-1] for h in hints),
    ]:
        key = alias_key(name)
        if key and key not in seen:
            seen.add(key)
            yield key


def display_name(record: FeedRecord, route: Route) -> str:
    """The model's name as the feed shows it, without OpenRouter's 'Creator: ' prefix."""
    name = record.name or route.bare
    return name.split(": ", 1)[1] if ": " in name else name


def creator_name(record: FeedRecord) -> str | None:
    """The creator a record names: its own field, else the first segment of a hint."""
    if record.creator:
        return record.creator
    for hint in record.identity_hints:
        if "/" in hint:
            return hint.split("/", 1)[0]
    return None


@cache
def load_identity(path: Path = IDENTITY_PATH) -> Identity:
    return Identity(yaml.safe_load(path.read_text(encoding="utf-8")))
