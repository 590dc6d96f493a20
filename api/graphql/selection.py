"""What a query selects below the field being resolved, so a resolver can load related rows
with its own rows and leave its children plain values (no awaitable per child field)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection


def selected_below(info: Info[Any, Any], *path: str) -> set[str]:
    """The names of the fields selected under this field (through fragments), or under the
    field reached from it by `path` (field names, not aliases). A field under a @skip or
    @include directive counts as selected: at worst its rows are loaded for nothing."""
    fields: list[SelectedField] = list(_fields(info.selected_fields))
    for name in path:
        fields = [child for f in fields for child in _fields(f.selections) if child.name == name]
    return {child.name for f in fields for child in _fields(f.selections)}


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # a fragment spread or an inline fragment
            yield from _fields(selection.selections)
