"""Model facts as the API names them, and their text form for provenance rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from schema.domain.money import format_decimal

CAPABILITIES = (
    "VISION",
    "MULTIMODAL",
    "REASONING",
    "FUNCTION_CALLING",
    "TOOL_USE",
    "STRUCTURED_OUTPUTS",
    "CODE_EXECUTION",
)
"""The capabilities the API names, in the order it lists them."""


class MonthDate(date):
    """A date a source states to the month only ('2025-04'); kept as the first of the
    month, and written back as the month."""

    def isoformat(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    __str__ = isoformat


def parse_partial_date(text: str) -> date:
    """'2025-04-17' as a day, '2025-04' as a MonthDate; ValueError otherwise."""
    value = text.strip()
    if len(value) == 7:
        day = date.fromisoformat(value + "-01")
        return MonthDate(day.year, day.month, 1)
    if len(value) == 10:
        return date.fromisoformat(value)
    raise ValueError(f"expected a date YYYY-MM-DD or YYYY-MM, got {text!r}")


def precision_of(day: date | None) -> str | None:
    """'MONTH' for a month-precision date, 'DAY' for a day, None for none."""
    if day is None:
        return None
    return "MONTH" if isinstance(day, MonthDate) else "DAY"


def as_stated(day: date | None, precision: str | None) -> date | None:
    """A stored date with its precision: a MonthDate for 'MONTH' (prints '2025-04')."""
    if day is None or precision != "MONTH":
        return day
    return MonthDate(day.year, day.month, 1)


def api_field_name(attribute: str) -> str:
    """'context_window' -> 'contextWindow' (the field name Source.field uses)."""
    head, *rest = attribute.split("_")
    return head + "".join(part.capitalize() for part in rest)


def fact_text(value: object) -> str:
    """What a source claims, as text: '8192', 'text, image', 'true', '2024-06-05'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(str(item) for item in value)
    return str(value)
