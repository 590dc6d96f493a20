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
