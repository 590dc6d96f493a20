"""Resolver fields whose value the parent object may already hold.

A page loads its rows' related rows in one batch each (a model's offerings, an offering's
provider and price) and hands them to the objects it builds. Such a field keeps its
resolver, which answers from the value in hand or else loads it; it also names, in its
metadata (`in_hand("attribute")`), the private attribute that holds the value. Where the
query gives the field no arguments, the executor (api/graphql/execution.py) reads that
attribute instead of calling the resolver through Strawberry's and graphql-core's
per-field layers, and calls the resolver only while the attribute is `NOT_IN_HAND`. So
the attribute must hold exactly what the resolver answers for the field's default
arguments.
"""

from __future__ import annotations

from enum import Enum
from typing import Final


class NotInHand(Enum):
    NOT_IN_HAND = "not in hand"


NOT_IN_HAND: Final = NotInHand.NOT_IN_HAND
"""The value of an in-hand attribute that has not been handed a value (None may be one)."""

IN_HAND = "llmref.in_hand"
"""The metadata key naming a field's in-hand attribute."""


def in_hand(attribute: str) -> dict[str, str]:
    """The metadata of a field whose value at its default arguments the attribute may hold."""
    return {IN_HAND: attribute}
