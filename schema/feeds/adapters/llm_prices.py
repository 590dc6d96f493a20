"""simonw/llm-prices (llm-prices.com). Prices are USD per 1M tokens. Three shapes, told
apart by their keys:

* the live ``current-v1.json``: ``{"updated_at", "prices": [{id, vendor, name, input,
  output, input_cached}]}``, current prices only;
* one vendor file of the repository, ``data/<vendor>.json``: ``{"vendor", "models": [{id,
  name, price_history: [{input, output, input_cached, from_date, to_date}]}]}``;
* ``{"vendors": [<vendor file>, ...]}``, the vendor files combined (what the bundled
  offline snapshot holds, to keep the dated history).

In price histories ``from_date`` is inclusive and ``to_date`` exclusive (the repository's
data/README.md); the price in force at ``as_of`` is the price, the others go to
``price_history``. The vendor is the provider and, since llm-prices lists each vendor's own
models, also the creator.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    list_jobs,
    load_json,
    member_jobs,
    parse_timestamp,
    price_of,
    read_day,
    read_prices,
    read_text,
    require_id,
    resolve_as_of,
    split_current,
    start_of_day,
    wrong_format,
)
from schema.feeds.records import FeedRecord, ParsedSnapshot

FEED = "llm-prices"
PRICE_FIELDS = {"input": INPUT, "output": OUTPUT, "input_cached": CACHED}
SITE = "https://www.llm-prices.com/"
SHAPES = 'an object with "prices", "vendors" or "vendor" and "models"'


def parse(raw: bytes, *, as_of: datetime | None = None) -> ParsedSnapshot:
    """``as_of`` (default: now, UTC) decides which dated price of a history is current."""
    document = load_json(raw, FEED)
    if not isinstance(document, dict):
        raise wrong_format(FEED, SHAPES)
    if isinstance(document.get("prices"), list):
        snapshot = collect(FEED, list_jobs(document["prices"], _current_record))
        snapshot.published_at = parse_timestamp(document.get("updated_at"))
        return snapshot
    if isinstance(document.get("vendors"), list):
        vendors = document["vendors"]
    elif "vendor" in document and isinstance(document.get("models"), list):
        vendors = [document]
    else:
        raise wrong_format(FEED, SHAPES)
    groups = (
        (label_of(vendor, index, key="vendor"), vendor) for index, vendor in enumerate(vendors)
    )
    build = partial(_history_record, as_of=resolve_as_of(as_of))
    return collect(FEED, member_jobs(groups, "models", build))


def _current_record(value: object) -> FeedRecord:
    item = as_object(value, "record")
    vendor = require_id(item.get("vendor"), "vendor")
    return _record(
        vendor, item, price=price_of(read_prices(item, PRICE_FIELDS, per_tokens=PER_MTOK))
    )


def _history_record(
    vendor_key: str,
    vendor_file: Mapping[str, Any],
    model_key: str,
    value: object,
    *,
    as_of: datetime,
) -> FeedRecord:
    model = as_object(value, "record")
    vendor = require_id(vendor_file.get("vendor"), "vendor")
    history = model.get("price_history")
    if not isinstance(history, list):
        raise RecordError("price_history", "expected a list of dated prices")
    observations = [_dated(item, f"price_history[{index}].") for index, item in enumerate(history)]
    price, past_and_future = split_current(
        [item for item in observations if item is not None], as_of
    )
    return _record(vendor, model, price=price, price_history=past_and_future)


def _dated(value: object, path: str) -> PriceObservation | None:
    item = as_object(value, path.rstrip("."))
    return price_of(
        read_prices(item, PRICE_FIELDS, per_tokens=PER_MTOK, path=path),
        effective_from=start_of_day(read_day(item, "from_date", path)),
        effective_to=start_of_day(read_day(item, "to_date", path)),
    )


def _record(
    vendor: str,
    item: Mapping[str, Any],
    *,
    price: PriceObservation | None,
    price_history: tuple[PriceObservation, ...] = (),
) -> FeedRecord:
    return FeedRecord(
        provider=vendor,
        provider_model_id=require_id(item.get("id")),
        name=read_text(item, "name"),
        creator=vendor,
        price=price,
        price_history=price_history,
        url=SITE,
    )
