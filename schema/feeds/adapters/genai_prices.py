"""pydantic/genai-prices v2 ``data.json``: ``[{id, name, pricing_urls, models: [model]}]``.

``*_mtok`` prices are USD per 1M tokens (``units.yml``: ``per: 1_000_000``). A price is a
number or ``{"base": n, "tiers": [{"start": tokens, "price": n}]}`` (tiers with
``min_input_tokens`` = start). ``prices`` is an object, or a list of conditional prices
where, as in genai-prices itself, the last entry whose constraint holds applies:

* ``{"start_date": d}`` entries are dated prices: the one in force at ``as_of`` is the
  price, the others (past and future) go to ``price_history`` with ``effective_from``/
  ``effective_to`` (the next entry's start date).
* ``{"start_time", "end_time"}`` daily windows (DeepSeek off-peak) cannot be expressed as
  one price: the price is the one in force for most of the UTC day (DeepSeek: the
  00:30-16:30 standard price, not the unconstrained off-peak discount); others are dropped.

An empty ``prices`` object states no token price: price None (never read as free).
Model ``match`` clauses of kind ``equals`` are exact names the feed ties to the model and
become identity hints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from schema.domain.observations import PriceObservation
from schema.feeds.adapters.common import (
    CACHED,
    INPUT,
    OUTPUT,
    PER_MTOK,
    RecordError,
    as_object,
    collect,
    label_of,
    load_json,
    member_jobs,
    price_of,
    read_count,
    read_price,
    read_text,
    require_id,
    resolve_as_of,
    split_current,
    start_of_day,
    tiers_from,
    to_count,
    to_day,
    wrong_format,
)
from schema.feeds.records import FeedRecord, ParsedSnapshot

FEED = "genai-prices"
PRICE_FIELDS = {"input_mtok": INPUT, "output_mtok": OUTPUT, "cache_read_mtok": CACHED}
DAY = timedelta(hours=24)


def parse(raw: bytes, *, as_of: datetime | None = None) -> ParsedSnapshot:
    """``as_of`` (default: now, UTC) decides which dated price is current."""
    document = load_json(raw, FEED)
    if not isinstance(document, list) or not any(
        isinstance(provider, dict) and isinstance(provider.get("models"), list)
        for provider in document
    ):
        raise wrong_format(FEED, 'a list of providers {"id", "models": [...]}')
    providers = ((label_of(provider, index), provider) for index, provider in enumerate(document))
    return collect(
        FEED, member_jobs(providers, "models", partial(_record, as_of=resolve_as_of(as_of)))
    )


def _record(
    provider_key: str,
    provider: Mapping[str, Any],
    model_key: str,
    value: object,
    *,
    as_of: datetime,
) -> FeedRecord:
    model = as_object(value, "model")
    model_id = require_id(model.get("id"))
    price, history = _prices(model.get("prices"), as_of)
    urls = provider.get("pricing_urls")
    return FeedRecord(
        provider=require_id(provider.get("id"), "provider.id"),
        provider_model_id=model_id,
        name=read_text(model, "name"),
        provider_name=read_text(provider, "name", "provider."),
        identity_hints=tuple(
            name for name in dict.fromkeys(_exact_names(model.get("match"))) if name != model_id
        ),
        context_window=read_count(model, "context_window"),
        price=price,
        price_history=history,
        url=urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else None,
    )


def _exact_names(clause: object) -> Iterator[str]:
    if isinstance(clause, Mapping):
        if isinstance(clause.get("equals"), str):
            yield clause["equals"]
        for key in ("or", "and"):
            for part in clause.get(key) or ():
                yield from _exact_names(part)


def _prices(
    value: object, as_of: datetime
) -> tuple[PriceObservation | None, tuple[PriceObservation, ...]]:
    if not isinstance(value, list):
        return _observation(value, "prices."), ()
    periods = _periods(value)
    observations = []
    for index, (start, prices, path) in enumerate(periods):
        end = periods[index + 1][0] if index + 1 < len(periods) else None
        observation = _observation(
            prices, path, effective_from=start_of_day(start), effective_to=start_of_day(end)
        )
        if observation is not None:
            observations.append(observation)
    return split_current(observations, as_of)


Period = tuple[date | None, object, str]
"""(start date or None for the undated price, the prices object, its path for errors)."""


def _periods(entries: list[Any]) -> list[Period]:
    """The undated price (the last one, or the window price in force most of the day)
    followed by the dated prices in start order."""
    undated: Period | None = None
    dated: list[Period] = []
    longest_window: tuple[timedelta, Period | None] = (timedelta(0), None)
    for index, item in enumerate(entries):
        path = f"prices[{index}]."
        entry = as_object(item, path.rstrip("."))
        constraint = entry.get("constraint")
        period = (None, entry.get("prices"), path + "prices.")
        if constraint is None:
            undated = period
        elif isinstance(constraint, Mapping) and "start_date" in constraint:
            start = to_day(constraint["start_date"], path + "constraint.start_date")
            dated.append((start, *period[1:]))
        elif isinstance(constraint, Mapping) and "start_time" in constraint:
            length = _window_length(constraint, path + "constraint.")
            if length > longest_window[0]:
                longest_window = (length, period)
        else:
            raise RecordError(path + "constraint", f"unknown constraint {constraint!r}")
    if longest_window[0] * 2 > DAY:
        undated = longest_window[1]
    dated.sort(key=lambda period: period[0] or date.min)
    return ([undated] if undated else []) + dated


def _window_length(constraint: Mapping[str, Any], path: str) -> timedelta:
    start, end = (
        _time_of_day(constraint.get(key), path + key) for key in ("start_time", "end_time")
    )
    length = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    return length if length > timedelta(0) else length + DAY


def _time_of_day(value: object, field: str) -> time:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            pass
    raise RecordError(field, f"expected a time of day, got {value!r}")


def _observation(
    value: object,
    path: str,
    *,
    effective_from: datetime | None = None,
    effective_to: datetime | None = None,
) -> PriceObservation | None:
    if value is None:
        return None
    prices = as_object(value, path.rstrip("."))
    base: dict[str, Decimal | None] = {}
    tiers: list[tuple[int, str, Decimal | None]] = []
    for key, name in PRICE_FIELDS.items():
        field = prices.get(key)
        if isinstance(field, Mapping):
            base[name] = read_price(field, "base", per_tokens=PER_MTOK, path=f"{path}{key}.")
            tiers.extend(_tiers(field.get("tiers"), name, f"{path}{key}.tiers"))
        else:
            base[name] = read_price(prices, key, per_tokens=PER_MTOK, path=path)
    return price_of(
        base, tiers_from(tiers), effective_from=effective_from, effective_to=effective_to
    )


def _tiers(value: object, name: str, path: str) -> Iterator[tuple[int, str, Decimal | None]]:
    if not isinstance(value, list):
        raise RecordError(path, "expected a list of tiers")
    for index, item in enumerate(value):
        tier = as_object(item, f"{path}[{index}]")
        start = to_count(tier.get("start"), f"{path}[{index}].start")
        yield start, name, read_price(tier, "price", per_tokens=PER_MTOK, path=f"{path}[{index}].")
