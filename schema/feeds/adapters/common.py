"""What every feed adapter shares: reading the JSON, walking records, reading fields.

An adapter turns its feed's top-level shape into a stream of jobs, one per record, and
hands them to :func:`collect`. A job reads one record with the ``read_*`` helpers below;
any field it cannot use raises :class:`RecordError`, which ``collect`` records as an
:class:`~schema.feeds.records.InvalidRecord` before carrying on with the next record.
Whole-snapshot problems (not JSON, wrong top-level shape) raise ``SnapshotError``.

Prices go through :func:`read_price`, the only place adapters convert units (by calling
``schema.domain.money.to_per_mtok``). JSON is read with ``parse_float=Decimal`` so no
float ever touches a price.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from schema.domain.money import PriceValueError, to_per_mtok
from schema.domain.observations import PriceObservation, PriceTierObservation
from schema.feeds.records import FeedRecord, InvalidRecord, ParsedSnapshot, SnapshotError

PER_TOKEN = 1
"""Feeds quoting USD per token (OpenRouter, LiteLLM)."""
PER_MTOK = 1_000_000
"""Feeds quoting USD per 1M tokens (models.dev, genai-prices, llm-prices)."""

INPUT = "input_per_mtok"
OUTPUT = "output_per_mtok"
CACHED = "cached_input_per_mtok"
"""Attribute names shared by PriceObservation and PriceTierObservation."""

Job = Callable[[], FeedRecord | None]
"""Reads one record; returns None for an entry outside the adapter's scope (not invalid)."""


class RecordError(Exception):
    """One record cannot be used because of one field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --- the snapshot -------------------------------------------------------------------------


def load_json(raw: bytes, feed: str) -> Any:
    """The parsed document; numbers with a fraction or exponent become Decimal."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        raise SnapshotError(
            f"{feed}: snapshot is not valid JSON (malformed or truncated): {error}"
        ) from None


def wrong_format(feed: str, expected: str) -> SnapshotError:
    return SnapshotError(f"{feed}: wrong format: expected {expected}")


def collect(feed: str, jobs: Iterable[tuple[str, Job]]) -> ParsedSnapshot:
    """Run each ``(label, job)``; a record that fails is reported under its label, and so
    is a second record for a (provider, model id) already seen (the first one is kept)."""
    snapshot = ParsedSnapshot(feed=feed)
    seen: set[tuple[str, str]] = set()
    for label, job in jobs:
        try:
            record = job()
        except RecordError as error:
            snapshot.invalid.append(InvalidRecord(label, error.field, error.reason))
        except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError) as error:
            reason = f"unreadable record ({type(error).__name__}: {error})"
            snapshot.invalid.append(InvalidRecord(label, "(record)", reason))
        else:
            if record is None:
                continue
            route = (record.provider, record.provider_model_id)
            if route in seen:
                reason = f"duplicate of an earlier record for provider {record.provider!r}"
                snapshot.invalid.append(InvalidRecord(label, "id", reason))
                continue
            seen.add(route)
            snapshot.records.append(record)
    return snapshot


def list_jobs(
    items: list[Any], build: Callable[[object], FeedRecord | None]
) -> Iterator[tuple[str, Job]]:
    """One job per item of a flat list of records, labelled by id or position."""
    for index, item in enumerate(items):
        yield label_of(item, index), partial(build, item)


MemberBuild = Callable[[str, Mapping[str, Any], str, object], FeedRecord | None]
"""Reads one member record: (group key, group, member key, member)."""


def member_jobs(
    groups: Iterable[tuple[str, object]], members: str, build: MemberBuild
) -> Iterator[tuple[str, Job]]:
    """One job per record of feeds that nest records in groups (providers, vendor files).

    A group's ``members`` is an object (member key -> record) or a list (keyed by each
    record's id or position). Jobs are labelled "<group>:<member>"; a group without
    members is reported as one invalid record.
    """
    for group_key, group in groups:
        found = group.get(members) if isinstance(group, Mapping) else None
        if isinstance(found, Mapping):
            items: Iterable[tuple[str, object]] = found.items()
        elif isinstance(found, list):
            items = ((label_of(item, index), item) for index, item in enumerate(found))
        else:
            yield group_key, fail(members, f"expected a {members} list or object")
            continue
        assert isinstance(group, Mapping)
        for member_key, member in items:
            yield f"{group_key}:{member_key}", partial(build, group_key, group, member_key, member)


def fail(field: str, reason: str) -> Job:
    """A job that reports a broken container (a provider without models, ...)."""

    def job() -> FeedRecord | None:
        raise RecordError(field, reason)

    return job


def label_of(item: object, index: int, key: str = "id") -> str:
    """The record's id when it has a usable one, else its position ("#3")."""
    if isinstance(item, Mapping):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return f"#{index}"


def resolve_as_of(as_of: datetime | None) -> datetime:
    """The moment "current" prices are chosen for: the given aware datetime, or now (UTC)."""
    if as_of is None:
        return datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return as_of.astimezone(UTC)


def parse_timestamp(value: object) -> datetime | None:
    """A snapshot's own ISO 8601 timestamp or date as aware UTC; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- fields of one record -------------------------------------------------------------------


def as_object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RecordError(field, f"expected an object, got {type(value).__name__}")
    return value


def read_object(container: Mapping[str, Any], key: str, path: str = "") -> Mapping[str, Any]:
    """A nested object; an empty one when absent or null."""
    value = container.get(key)
    return {} if value is None else as_object(value, path + key)


def require_id(value: object, field: str = "id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordError(field, "missing or empty id")
    return value


def read_text(container: Mapping[str, Any], key: str, path: str = "") -> str | None:
    value = container.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(path + key, f"expected text, got {value!r}")
    return value


def read_flag(container: Mapping[str, Any], key: str, path: str = "") -> bool | None:
    value = container.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(path + key, f"expected true or false, got {value!r}")


LARGEST_WHOLE = 10**15
"""Bigger token counts or timestamps are not plausible (and would be slow to convert)."""


def _whole(value: object, field: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RecordError(field, f"expected a {what}, got {value!r}")
    number: int | Decimal = value
    if not (isinstance(number, int) or number.is_finite()) or not (
        -LARGEST_WHOLE <= number <= LARGEST_WHOLE
    ):
        raise RecordError(field, f"{value!r} is not a plausible {what}")
    if number != int(number):
        raise RecordError(field, f"{value!r} is not a whole number")
    return int(number)


def to_count(value: object, field: str) -> int:
    """A whole, non-negative number of tokens (``256000.0`` is accepted, ``1.5`` is not)."""
    count = _whole(value, field, "token count")
    if count < 0:
        raise RecordError(field, f"{value!r} is negative")
    return count


def read_count(container: Mapping[str, Any], key: str, path: str = "") -> int | None:
    value = container.get(key)
    return None if value is None else to_count(value, path + key)


def read_strings(container: Mapping[str, Any], key: str, path: str = "") -> tuple[str, ...] | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RecordError(path + key, f"expected a list of text, got {value!r}")
    return tuple(value)


def read_price(
    container: Mapping[str, Any], key: str, *, per_tokens: int, path: str = ""
) -> Decimal | None:
    """A price field in the feed's unit, as USD per 1M tokens; None when the feed gives none."""
    value = container.get(key)
    if value is None:
        return None
    try:
        return to_per_mtok(value, per_tokens=per_tokens)
    except PriceValueError as error:
        raise RecordError(path + key, str(error)) from None
    except ArithmeticError:  # decimal.Overflow: an exponent beyond any real price
        raise RecordError(path + key, f"{value!r} is out of range") from None


def read_prices(
    container: Mapping[str, Any], fields: Mapping[str, str], *, per_tokens: int, path: str = ""
) -> dict[str, Decimal | None]:
    """``{attribute: price}`` for each ``{feed key: attribute}`` in ``fields``."""
    return {
        attribute: read_price(container, key, per_tokens=per_tokens, path=path)
        for key, attribute in fields.items()
    }


def to_day(value: object, field: str) -> date:
    """``2025-04-17`` or ``2025-04`` (the first of the month)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 7:
                return date.fromisoformat(text + "-01")
            if len(text) == 10:
                return date.fromisoformat(text)
        except ValueError:
            pass
    raise RecordError(field, f"expected a date YYYY-MM-DD or YYYY-MM, got {value!r}")


def read_day(container: Mapping[str, Any], key: str, path: str = "") -> date | None:
    value = container.get(key)
    return None if value is None or value == "" else to_day(value, path + key)


def start_of_day(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def to_unix_day(value: object, field: str) -> date:
    """The UTC calendar date of a unix timestamp in seconds."""
    seconds = _whole(value, field, "unix timestamp")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).date()
    except (ValueError, OverflowError, OSError):
        raise RecordError(field, f"{value!r} is not a usable unix timestamp") from None


# --- capabilities and prices ------------------------------------------------------------------


Flag = tuple[str, bool | None]
"""A capability name and what the feed says about it (None: it does not say)."""


def capabilities(flags: Iterable[Flag]) -> frozenset[str] | None:
    """The capabilities the feed says are present; None when it says nothing at all.

    A capability is present when any of its flags is True; absence is never stated.
    """
    known = [(name, flag) for name, flag in flags if flag is not None]
    if not known:
        return None
    return frozenset(name for name, flag in known if flag)


def modality_flags(input_modalities: tuple[str, ...] | None) -> list[Flag]:
    """Image input means VISION; more than one input modality means MULTIMODAL."""
    if input_modalities is None:
        return []
    return [
        ("VISION", "image" in input_modalities),
        ("MULTIMODAL", len(set(input_modalities)) > 1),
    ]


def tiers_from(
    entries: Iterable[tuple[int, str, Decimal | None]],
) -> tuple[PriceTierObservation, ...]:
    """Group ``(min_input_tokens, attribute, price)`` triples into tiers, lowest first."""
    table: dict[int, dict[str, Decimal]] = {}
    for start, attribute, value in entries:
        if value is not None:
            table.setdefault(start, {})[attribute] = value
    return tuple(
        PriceTierObservation(min_input_tokens=start, **table[start]) for start in sorted(table)
    )


def price_of(
    prices: Mapping[str, Decimal | None],
    tiers: tuple[PriceTierObservation, ...] = (),
    *,
    effective_from: datetime | None = None,
    effective_to: datetime | None = None,
) -> PriceObservation | None:
    """A price from ``{INPUT: ..., OUTPUT: ..., CACHED: ...}``; None when it states nothing."""
    if all(prices.get(name) is None for name in (INPUT, OUTPUT, CACHED)) and not tiers:
        return None
    return PriceObservation(
        input_per_mtok=prices.get(INPUT),
        output_per_mtok=prices.get(OUTPUT),
        cached_input_per_mtok=prices.get(CACHED),
        tiers=tiers,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def split_current(
    prices: Iterable[PriceObservation], as_of: datetime
) -> tuple[PriceObservation | None, tuple[PriceObservation, ...]]:
    """The price in force at ``as_of`` and the others (past and future), oldest first.

    A price is in force from ``effective_from`` (inclusive, None: always) until
    ``effective_to`` (exclusive, None: open); when several are, the latest-starting wins.
    """
    ordered = sorted(prices, key=_starts)
    current = None
    for price in ordered:
        started = price.effective_from is None or price.effective_from <= as_of
        ended = price.effective_to is not None and price.effective_to <= as_of
        if started and not ended:
            current = price
    return current, tuple(price for price in ordered if price is not current)


def _starts(price: PriceObservation) -> datetime:
    return price.effective_from or datetime.min.replace(tzinfo=UTC)
