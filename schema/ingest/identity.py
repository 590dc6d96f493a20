"""Identity: which canonical provider, region and model a feed's record is about.

The rules are explicit and documented (docs/data.md, "Identity"); nothing here guesses
by similarity. Provider and creator names come from ``identity.yaml``; model names are
matched through the alias table (every name a feed has used) and model slugs.
"""

from __future__ import annotations

import re
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
    lab: str | None = None
    """The creator whose own API this provider is: its listings of that creator's models
    are first-party (they create the model and say who made it)."""


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
                lab=spec.get("lab"),
            )
            self.providers_by_slug[slug] = rules
            for feed, names in spec.get("aliases", {}).items():
                for name in names:
                    self._providers[(feed, name)] = rules
        self._creators: dict[str, Creator] = {}
        self._families: list[tuple[str, str]] = []
        self._creator_slugs = frozenset(data["creators"])
        for slug, spec in data["creators"].items():
            for name in [slug, *spec["aliases"]]:
                self._creators[alias_key(name)] = Creator(slug, spec["name"])
            self._families += [(prefix, slug) for prefix in spec.get("families", ())]
        self._families.sort(key=lambda pair: len(pair[0]), reverse=True)
        self.curated_aliases: dict[str, tuple[str, ...]] = {
            alias_key(entry["model"]): tuple(alias_key(name) for name in entry["names"])
            for entry in data.get("aliases", ())
        }
        self._distinct: dict[tuple[str, str, str], str] = {
            (entry["provider"], alias_key(entry["name"]), alias_key(entry["apart_from"])): entry[
                "reason"
            ]
            for entry in data.get("distinct", ())
        }

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

    def is_known_org(self, name: str) -> bool:
        """An organisation identity.yaml names as a creator (a Hugging Face organisation,
        OpenRouter's prefix for it, ...): a path segment that is not one ('accounts',
        'Pro', 'siliconflow') says nothing about who made a model."""
        return alias_key(name) in self._creators

    def family(self, name: str) -> str | None:
        """The creator of a model family by the start of its name ('qwen3.5-27b' is
        Alibaba's), from the curated ``families`` of identity.yaml."""
        bare = alias_key(name).rsplit("/", 1)[-1]
        return next((slug for prefix, slug in self._families if bare.startswith(prefix)), None)

    def distinct_reason(self, listing: Any, node: str) -> str | None:
        """The curated reason a listing must not join a node's model (``distinct``)."""
        target = node.split(":", 1)[1].rsplit(":", 1)[-1]
        provider = listing.route.provider.slug
        for name in (listing.own.split(":", 2)[2], listing.key):
            reason = self._distinct.get((provider, alias_key(name), target))
            if reason is not None:
                return f"curated: {reason}"
        return None

    def is_known_creator(self, slug: str) -> bool:
        """Whether ``slug`` is a creator this file lists (a lab, not a host's name)."""
        return slug in self._creator_slugs

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


@cache
def load_identity(path: Path = IDENTITY_PATH) -> Identity:
    return Identity(yaml.safe_load(path.read_text(encoding="utf-8")))
