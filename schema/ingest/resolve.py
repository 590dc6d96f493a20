"""Which model each feed name is: resolved over the latest snapshot of every feed at once.

A pure function of its inputs (every feed's latest records, identity.yaml, the curated
models and the slugs of the models that exist), so the catalog does not depend on the
order in which feeds arrive (docs/data.md, "Identity"). Names are joined by evidence only,
as edges between name nodes:

* ``P:<provider>:<id>``: a provider's own model id (the same id at the same provider in
  two feeds is one route, so one model);
* ``hf:<org>/<name>``: a Hugging Face repository (OpenRouter's ``hugging_face_id``, a
  host's id of that shape from a known organisation);
* ``md:<lab>/<model>``: models.dev's ``base_model``;
* ``k:<name>``: a bare name in its usual spelling (schema/ingest/notation.py);
* ``c:<slug>``: a curated or existing model.

Edges, in the order the rules are documented: a feed's own ties (a record's ids, its
OpenRouter ``canonical_slug`` and ``hugging_face_id``, its models.dev ``base_model``), the
provider's tie of an undated name to its one dated snapshot at the same price, curated
aliases, and last the normalised bare names. Ties and normalised names pass the merge
guard first: two names that a provider lists side by side at different prices or context
windows are two models, whatever their spelling.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import chain

from schema.domain.names import alias_key
from schema.domain.slugs import slugify
from schema.feeds.records import FeedRecord
from schema.ingest.identity import Creator, Identity, Route
from schema.ingest.notation import local_name, normalise

FEED_ORDER = ("models.dev", "openrouter", "litellm", "genai-prices", "llm-prices")
"""Feeds in the order their listings are considered (ties in names, slugs, creators)."""
MODEL_AUTHORITIES = ("models.dev", "openrouter")
"""Feeds whose every listing may create a model."""
LAB_LISTING_FEEDS = ("litellm", "genai-prices")
"""Feeds whose listing of a model on its creator's own API creates it (a lab's price list
names its new models before the model catalogues do); hosts and routers never create."""
PRICE_TOLERANCE = Decimal("0.10")
"""Merge guard: prices that differ by more than 10% (input or output) disagree (feeds
copy a lab's price with some lag and rounding; a moving alias and an older snapshot, or a
faster tier, differ by far more)."""
CONTEXT_TOLERANCE = Decimal("0.10")
"""Merge guard: context windows that differ by more than 10% disagree."""
ROUTERS = frozenset({"openrouter", "vercel", "github-copilot"})
"""Providers whose ``org/name`` ids are their own catalogue, not Hugging Face repositories."""
_DATED = re.compile(r"^(?P<undated>.+)-(?P<date>\d{8}|\d{4}-\d{2}-\d{2}|\d{3,4})$")
"""A dated or numbered snapshot: -20250929, -2024-07-18, -0709 (MMDD or YYMM), -001."""
_FULL_DATE = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")
"""A snapshot's full date: the only kind a host's listing ties (an open model's -0324 is
a release of its own, DeepSeek-V3-0324, not a snapshot of DeepSeek-V3)."""

UNMATCHED = "UNMATCHED"
HELD_APART = "HELD_APART"


@dataclass(frozen=True)
class Listing:
    """One feed record as identity sees it."""

    feed: str
    record: FeedRecord
    route: Route
    own: str
    """The node of the provider's own id."""
    local: str
    """The provider's id without its decorations (variant, version, region), lower case:
    two listings of one provider with the same ``local`` are one route."""
    key: str
    """The bare name in its usual spelling."""
    hf: tuple[str, ...]
    ties: tuple[str, ...]
    """Nodes the feed ties to the record (canonical slug, base model, Hugging Face id)."""
    family: str | None
    first_party: bool

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        return (
            0 if self.first_party else 1,
            FEED_ORDER.index(self.feed) if self.feed in FEED_ORDER else len(FEED_ORDER),
            self.route.provider.slug,
            self.record.provider_model_id,
        )

    @property
    def creates(self) -> bool:
        return self.feed in MODEL_AUTHORITIES or (
            self.first_party and self.feed in LAB_LISTING_FEEDS
        )


@dataclass(frozen=True)
class NameNote:
    """A feed name for ops: unmatched (no model) or held apart from a model (and why)."""

    feed: str
    name: str
    provider: str
    kind: str
    reason: str


@dataclass
class ModelSpec:
    slug: str
    name: str
    creator: Creator | None
    listings: list[Listing] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    """Slugs of models that exist and whose names are in this model's group (a model
    renamed by new evidence keeps its row)."""
    curated: bool = False


@dataclass
class Resolution:
    models: dict[str, ModelSpec]
    """By slug."""
    slug_of: dict[tuple[str, str, str], str]
    """(feed, feed's provider id, feed's model id) -> model slug."""
    notes: list[NameNote]

    def model_of(self, feed: str, record: FeedRecord) -> str | None:
        return self.slug_of.get((feed, record.provider, record.provider_model_id))


Place = tuple[str, str, str]
"""(feed, provider, region): where one feed lists one provider's routes."""


class _Groups:
    """Union-find over name nodes; each group knows the listings in it by place, so that
    a guarded join can be refused when it would put into one model two names that a lab
    lists side by side on its own API at disagreeing prices or context windows."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, dict[Place, list[Listing]]] = {}
        self.dated: dict[str, dict[str, set[str]]] = {}
        """Per group: undated name -> the dated snapshots of it in the group."""

    def find(self, node: str) -> str:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def add(self, listing: Listing) -> None:
        place = (listing.feed, listing.route.provider.slug, listing.route.region)
        root = self.find(listing.own)
        self.members.setdefault(root, {}).setdefault(place, []).append(listing)
        match = _DATED.match(listing.key)
        if match:
            self.dated.setdefault(root, {}).setdefault(match["undated"], set()).add(listing.key)

    def conflict(self, first: str, second: str) -> str | None:
        """Why the groups of two nodes cannot be one model, or None."""
        dated_a, dated_b = (
            self.dated.get(self.find(first), {}),
            self.dated.get(self.find(second), {}),
        )
        for undated in dated_a.keys() & dated_b.keys():
            snapshots = sorted(dated_a[undated] | dated_b[undated])
            if len(snapshots) > 1:
                return f"two dated snapshots of {undated}: {' and '.join(snapshots)}"
        a, b = self.members.get(self.find(first), {}), self.members.get(self.find(second), {})
        for place in a.keys() & b.keys():
            for one in a[place]:
                for other in b[place]:
                    if one.first_party and other.first_party and one.local != other.local:
                        why = _prices_disagree(one.record, other.record, contexts=True)
                        if why is not None:
                            return (
                                f"{place[0]} lists {one.record.provider_model_id!r} and "
                                f"{other.record.provider_model_id!r} at {place[1]}: {why}"
                            )
        return None

    def union(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a == b:
            return
        root, child = min(a, b), max(a, b)
        self.parent[child] = root
        merged = self.members.setdefault(root, {})
        for place, items in self.members.pop(child, {}).items():
            merged.setdefault(place, []).extend(items)
        dated = self.dated.setdefault(root, {})
        for undated, snapshots in self.dated.pop(child, {}).items():
            dated.setdefault(undated, set()).update(snapshots)


@lru_cache(maxsize=32768)
def listing_of(identity: Identity, feed: str, record: FeedRecord) -> Listing | None:
    """What identity needs of a record; None for a router's pseudo-model (a route the
    feed does not mark as a real model: OpenRouter's owl-alpha is one, its auto is not).
    Kept per process: records are frozen, and every apply resolves every feed's records
    again."""
    route = identity.route(feed, record)
    if route.pseudo and record.router is not False:
        return None
    provider = route.provider.slug
    model_id = route.model_id.lower()
    last = model_id.rsplit("/", 1)[-1]
    key = normalise(last, provider)
    hf = tuple(_hf_nodes(identity, provider, model_id, record, feed))
    ties = [*hf]
    if feed == "openrouter":
        ties += [f"P:openrouter:{alias_key(hint)}" for hint in record.identity_hints]
    if feed == "models.dev":
        ties += [f"md:{alias_key(hint)}" for hint in record.identity_hints]
    family = identity.family(key)
    return Listing(
        feed=feed,
        record=record,
        route=route,
        own=f"P:{provider}:{_undecorated(route, model_id)}",
        local=local_name(last, provider),
        key=key,
        hf=hf,
        ties=tuple(dict.fromkeys(ties)),
        family=family,
        first_party=family is not None and route.provider.lab == family,
    )


def _undecorated(route: Route, model_id: str) -> str:
    rules = route.provider
    if rules.slug == "openrouter" and rules.version_suffix is not None:
        return rules.version_suffix.sub("", model_id)
    return model_id


def _hf_nodes(
    identity: Identity, provider: str, model_id: str, record: FeedRecord, feed: str
) -> Iterable[str]:
    if feed == "openrouter":  # its canonical_slug and hugging_face_id (told apart by nothing)
        for hint in record.identity_hints:
            if "/" in hint:
                yield f"hf:{alias_key(hint)}"
    parts = model_id.split("/")
    if provider not in ROUTERS and len(parts) >= 2 and identity.is_known_org(parts[-2]):
        yield f"hf:{parts[-2]}/{parts[-1]}"


def _prices_disagree(first: FeedRecord, second: FeedRecord, *, contexts: bool = True) -> str | None:
    """Why two listings of one provider cannot be one model, or None. Context windows
    are compared only within one feed (feeds count them differently: input or total)."""
    a, b = first.price, second.price
    if a is not None and b is not None:
        for part in ("input_per_mtok", "output_per_mtok"):
            x, y = getattr(a, part), getattr(b, part)
            if x is not None and y is not None and _apart(x, y, PRICE_TOLERANCE):
                return f"{part.split('_')[0]} price {x} vs {y} per 1M tokens"
    x_ctx, y_ctx = first.context_window, second.context_window
    if contexts and x_ctx and y_ctx and _apart(Decimal(x_ctx), Decimal(y_ctx), CONTEXT_TOLERANCE):
        return f"context window {x_ctx} vs {y_ctx}"
    return None


def _apart(x: Decimal, y: Decimal, tolerance: Decimal) -> bool:
    high = max(x, y)
    return high > 0 and abs(x - y) / high > tolerance


def resolve(
    records_by_feed: Mapping[str, Sequence[FeedRecord]],
    identity: Identity,
    *,
    curated: Mapping[str, Sequence[str]] = {},
    existing: Iterable[str] = (),
) -> Resolution:
    """Resolve every feed's names at once. ``curated``: curated model slug -> its names;
    ``existing``: slugs of models that exist (a name spelled as one joins it)."""
    listings = sorted(
        (
            listing
            for feed, records in records_by_feed.items()
            for record in records
            if (listing := listing_of(identity, feed, record)) is not None
        ),
        key=lambda item: item.sort_key,
    )
    groups = _Groups()
    notes: list[NameNote] = []
    anchors: dict[str, tuple[str, bool]] = {}
    curated_names = {
        slug: [f"k:{normalise(alias_key(name).rsplit('/', 1)[-1])}" for name in [slug, *names]]
        for slug, names in curated.items()
    }
    aliases = [
        (f"k:{normalise(target)}", f"k:{normalise(name)}")
        for target, names in identity.curated_aliases.items()
        for name in names
    ]
    edges = [*_provider_dated_ties(listings), *_guarded_edges(listings)]
    named = {listing.own for listing in listings} | {node for _, node in edges}
    named |= {node for nodes in curated_names.values() for node in nodes}
    named |= {node for pair in aliases for node in pair}
    for slug in existing:
        # a model no name can reach stays a group of its own: leaving it out changes
        # nothing, and a large catalog holds many more models than the feeds name
        if f"k:{slug}" in named or slug in curated:
            anchors[f"c:{slug}"] = (slug, False)
            groups.union(f"c:{slug}", f"k:{slug}")
    for slug, nodes in curated_names.items():
        anchors[f"c:{slug}"] = (slug, True)
        for node in nodes:
            groups.union(f"c:{slug}", node)
    for first, second in aliases:
        groups.union(first, second)
    for listing in listings:
        groups.add(listing)
    for listing, node in edges:
        if groups.find(listing.own) == groups.find(node):
            continue  # joined already: nothing to check
        reason = identity.distinct_reason(listing, node) or groups.conflict(listing.own, node)
        if reason is None:
            groups.union(listing.own, node)
        else:
            _hold(notes, listing, node, reason)
    return _models(listings, groups, identity, anchors, notes)


def _guarded_edges(listings: list[Listing]) -> list[tuple[Listing, str]]:
    """The joins the merge guard checks, in the order they are tried: the feeds' ties,
    then the usual spelling of the names they tie, then the records' own names in their
    usual spelling (a name already spelled that way first)."""
    ties = [(item, node) for item in listings for node in item.ties]
    tied_names = [
        (item, f"k:{normalise(node.rsplit('/', 1)[-1])}") for item in listings for node in item.ties
    ]
    names = [(item, f"k:{item.key}") for item in listings]
    names.sort(key=lambda edge: (edge[0].local != edge[1][2:], edge[0].sort_key))
    return ties + tied_names + names


def _provider_dated_ties(listings: list[Listing]) -> list[tuple[Listing, str]]:
    """At one provider, an undated name and the one dated snapshot listed beside it at
    the same price (at a host: one with a full date) are one model (claude-haiku-4-5 and
    claude-haiku-4-5-20251001, in one feed or two: every feed's price for both must
    agree); with two dated snapshots at that price the undated name is a moving alias of
    neither, and one priced differently is another model."""
    by_place: dict[tuple[str, str], dict[str, list[Listing]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for item in listings:
        by_place[(item.route.provider.slug, item.route.region)][item.key].append(item)
    ties: list[tuple[Listing, str]] = []
    for names in by_place.values():
        dated_by_undated: dict[str, list[Listing]] = defaultdict(list)
        for key, items in names.items():
            match = _DATED.match(key)
            undated = names.get(match["undated"], []) if match else []
            if not (items[0].first_party or _FULL_DATE.search(key)):
                continue
            if undated and not any(
                _prices_disagree(one.record, other.record, contexts=one.feed == other.feed)
                for one in undated
                for other in items
            ):
                dated_by_undated[undated[0].own].append(items[0])
        ties += [
            (dated[0], undated_own)
            for undated_own, dated in dated_by_undated.items()
            if len(dated) == 1
        ]
    ties.sort(key=lambda tie: tie[0].sort_key)
    return ties


def _hold(notes: list[NameNote], item: Listing, node: str, reason: str) -> None:
    target = node.split(":", 1)[1] if node.startswith("k:") else node.rsplit(":", 1)[-1]
    notes.append(
        NameNote(
            item.feed,
            item.record.provider_model_id,
            item.route.provider.slug,
            HELD_APART,
            f"held apart from {target}: {reason}",
        )
    )


def _models(
    listings: list[Listing],
    nodes: _Groups,
    identity: Identity,
    anchors: dict[str, tuple[str, bool]],
    notes: list[NameNote],
) -> Resolution:
    groups: dict[str, list[Listing]] = defaultdict(list)
    for item in listings:
        groups[nodes.find(item.own)].append(item)
    anchored: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for node, (slug, is_curated) in anchors.items():
        anchored[nodes.find(node)].append((not is_curated, slug))
    models: dict[str, ModelSpec] = {}
    slug_of: dict[tuple[str, str, str], str] = {}
    ordered = sorted(groups.items(), key=lambda group: group[1][0].sort_key)
    for root, members in ordered:
        found = sorted(anchored.get(root, ()))
        if not found and not any(item.creates for item in members):
            notes.extend(
                NameNote(
                    item.feed,
                    item.record.provider_model_id,
                    item.route.provider.slug,
                    UNMATCHED,
                    f"no model: {item.feed} creates models only from a lab's own API, "
                    "and no feed that creates models ties this name to one",
                )
                for item in members
            )
            continue
        curated_slug = next((slug for later, slug in found if not later), None)
        slug = curated_slug or _free_slug(members, models, [slug for _, slug in found])
        spec = ModelSpec(
            slug=slug,
            name=_display_name(members, slug),
            creator=_creator(members, identity, slug),
            listings=members,
            existing=[slug for _, slug in found],
            curated=curated_slug is not None,
        )
        models[slug] = spec
        for item in members:
            slug_of[(item.feed, item.record.provider, item.record.provider_model_id)] = slug
    return Resolution(models=models, slug_of=slug_of, notes=notes)


def _free_slug(members: list[Listing], taken: Mapping[str, object], existing: list[str]) -> str:
    """The model's slug: the first creating listing's own id (without its provider's
    decorations), else its usual spelling, else an existing model's slug."""
    candidates = chain(
        (slugify(item.local) for item in members if item.creates),
        (slugify(item.key) for item in members if item.creates),
        existing,
        (slugify(item.local) for item in members),
        (slugify(item.own.split(":", 2)[2]) for item in members),
    )
    first = None
    for candidate in candidates:
        first = candidate if first is None else first
        if candidate and candidate not in taken:
            return candidate
    base = first or "model"
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _display_name(members: list[Listing], slug: str) -> str:
    """The model's name as feeds show it: OpenRouter's (without its 'Creator: '), then the
    lab's own listing, then models.dev's and the others'; never a provider path."""
    ranked = sorted(
        members,
        key=lambda item: (item.feed != "openrouter", not item.first_party, item.sort_key),
    )
    for item in ranked:
        name = item.record.name
        if not name:
            continue
        name = name.split(": ", 1)[1] if ": " in name else name
        if "/" not in name:
            return name
    return slug


def _creator(members: list[Listing], identity: Identity, slug: str) -> Creator | None:
    """The creator from evidence, best first: the lab whose own API lists the model,
    OpenRouter's id prefix, models.dev's base model lab, a Hugging Face organisation,
    then the curated family of the name (identity.yaml ``families``)."""
    for item in members:
        if item.first_party and item.route.provider.lab:
            return identity.creator(item.route.provider.lab)
    for item in members:
        prefix = item.record.provider_model_id.split("/", 1)[0]
        if item.feed == "openrouter" and "/" in item.record.provider_model_id:
            return identity.creator(prefix)
    for item in members:
        for tie in item.ties:
            kind, _, name = tie.partition(":")
            if kind in ("md", "hf") and "/" in name:
                org = name.split("/", 1)[0]
                if kind == "md" or identity.is_known_org(org):
                    return identity.creator(org)
    for item in members:
        for node in item.hf:
            return identity.creator(node.removeprefix("hf:").split("/", 1)[0])
    family = next((item.family for item in members if item.family), None) or identity.family(slug)
    return identity.creator(family) if family else None
