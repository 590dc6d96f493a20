"""Execution that completes plain attribute fields without graphql-core's per-field layers.

Most fields of an answer (some 2,700 of the 3,300 in fifty models with their offerings and
prices) are Strawberry fields with no resolver, no permission classes and no extensions:
their value is ``getattr(source, python_name)`` and they never see the resolve info. For
each of them graphql-core still builds a ``GraphQLResolveInfo``, calls Strawberry's
wrapper, checks the result for awaitables twice and dispatches ``complete_value`` on the
type, once more for non-null. This execution context reads such a field's attribute and
completes the value directly when the value is a regular one for its type: a leaf (scalar
or enum, coerced by the type as graphql-core coerces it), an object type without
``is_type_of``, or a list of either. The objects and lists that resolver fields return
skip ``complete_value``'s dispatch the same way.

Anything else takes graphql-core's own code path: resolver fields themselves, abstract
types, nested lists, and every irregular value (null for a non-null type, a value that
does not coerce, an exception, an awaitable, an iterable that is not a list or tuple). The
fast path decides that before anything has run for the value; for a field graphql-core
then starts over (reading an attribute again has no effect), so errors, their paths and
null propagation are graphql-core's. With middleware (a schema extension with a
``resolve`` hook) or incremental delivery directives in the schema, every field takes
graphql-core's path.

Resolver fields that name an in-hand attribute (api/graphql/in_hand.py) and are given no
arguments take the fast path too, reading that attribute; while it holds ``NOT_IN_HAND``
they take graphql-core's path, which calls the resolver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, cast
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.graphql.in_hand import IN_HAND, NOT_IN_HAND

LEAF, LEAF_LIST, OBJECT, OBJECT_LIST = range(4)

PLAIN_VALUES = frozenset({str, int, float, bool, Decimal, datetime, date, time})
"""Types of values that are never null, undefined, an exception or awaitable: a leaf of
one of them only needs its coercion."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How a value of one output type completes on the fast path."""

    kind: int
    return_type: GraphQLOutputType
    nullable: bool
    """The value may be null."""
    item_type: GraphQLOutputType | None = None
    """For lists: the type of the items (non-null or not)."""
    item_nullable: bool = True
    object_type: GraphQLObjectType | None = None
    """For objects and lists of objects: the object type completed."""
    coerce: Callable[[Any], Any] | None = None
    """For leaves and lists of leaves: the type's coerce_output_value."""
    same: type | None = None
    """For leaves: a value of exactly this type coerces to itself (str for String and ID,
    bool for Boolean)."""


@dataclass(frozen=True, slots=True)
class PlainField:
    """A field whose value is an attribute of its source, and how the value completes
    (no shape: ``__typename``, the parent type's name)."""

    attribute: str
    shape: Shape | None
    in_hand: bool = False
    """A resolver field's in-hand attribute: the fast path only where the field is given
    no arguments, and only while the attribute holds a value."""


TYPENAME = PlainField("__typename", None)


@dataclass(slots=True)
class SchemaPlan:
    """What the fast path knows of one schema, filled as types are met."""

    fields: dict[str, dict[str, PlainField]]
    """Per object type name: its fields that take the fast path."""
    shapes: dict[int, tuple[GraphQLOutputType, Shape | None]]
    """Per output type (by identity, the type kept with it): its shape, if any."""


_plans: WeakKeyDictionary[GraphQLSchema, SchemaPlan] = WeakKeyDictionary()

IRREGULAR: Any = object()
"""What the fast path answers for a value it leaves to graphql-core, before anything has
run for it (for a field, graphql-core then reads it again)."""

Planned = tuple[str, FieldDetailsList, PlainField | None]
"""A field of a selection: its response name, its nodes, how it completes if plain."""
Selection = tuple[GroupedFieldSet, GraphQLObjectType, list[Planned]]
"""A grouped field set met in this execution, the type it was met on and its plan."""


def schema_plan(schema: GraphQLSchema) -> SchemaPlan:
    plan = _plans.get(schema)
    if plan is None:
        plan = _plans[schema] = SchemaPlan({}, {})
    return plan


def _is_attribute_field(field: Any) -> bool:
    """A Strawberry field whose resolver is Strawberry's for basic fields, which returns
    ``getattr(source, field.python_name)`` and never looks at the info."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    return (
        isinstance(definition, StrawberryField)
        and type(definition).get_result is StrawberryField.get_result
        and definition.is_basic_field
        and definition.default_resolver is getattr
        and not field.args
        and getattr(resolve, "__name__", None) == "_get_basic_result"
        and getattr(resolve, "_is_default", False) is True
    )


def _in_hand_attribute(field: Any) -> str | None:
    """The in-hand attribute a Strawberry resolver field names, unless reading it would skip
    something of the field's own (permission classes, field extensions)."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(definition, StrawberryField)
        or definition.permission_classes
        or definition.extensions
    ):
        return None
    attribute = definition.metadata.get(IN_HAND)
    return attribute if isinstance(attribute, str) else None


def _leaf(kind: int, leaf: GraphQLLeafType) -> dict[str, Any]:
    same: type | None = str if leaf is GraphQLString or leaf is GraphQLID else None
    if leaf is GraphQLBoolean:
        same = bool
    return {"kind": kind, "coerce": leaf.coerce_output_value, "same": same}


def _plain_object(named: Any) -> bool:
    return is_object_type(named) and named.is_type_of is None


def shape_of(return_type: GraphQLOutputType) -> Shape | None:
    """The shape of a leaf, an object type without ``is_type_of`` or a list of either."""
    nullable = not is_non_null_type(return_type)
    named: Any = return_type if nullable else cast("GraphQLNonNull[Any]", return_type).of_type
    common: dict[str, Any] = {"return_type": return_type, "nullable": nullable}
    if is_leaf_type(named):
        return Shape(**common, **_leaf(LEAF, named))
    if _plain_object(named):
        return Shape(**common, kind=OBJECT, object_type=named)
    if not is_list_type(named):
        return None
    item_type = named.of_type
    item_nullable = not is_non_null_type(item_type)
    item = item_type if item_nullable else item_type.of_type
    listed: dict[str, Any] = {**common, "item_type": item_type, "item_nullable": item_nullable}
    if is_leaf_type(item):
        return Shape(**listed, **_leaf(LEAF_LIST, item))
    if _plain_object(item):
        return Shape(**listed, kind=OBJECT_LIST, object_type=item)
    return None


def plain_fields(schema: GraphQLSchema, parent_type: GraphQLObjectType) -> dict[str, PlainField]:
    """The fields of ``parent_type`` that take the fast path, by field name."""
    by_type = schema_plan(schema).fields
    fields = by_type.get(parent_type.name)
    if fields is None:
        fields = {"__typename": TYPENAME}
        for name, field in parent_type.fields.items():
            if _is_attribute_field(field):
                shape = shape_of(field.type)
                if shape is not None:
                    attribute = field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
                    fields[name] = PlainField(attribute.python_name, shape)
            elif (in_hand := _in_hand_attribute(field)) is not None:
                shape = shape_of(field.type)
                if shape is not None and shape.kind != LEAF:
                    fields[name] = PlainField(in_hand, shape, in_hand=True)
        by_type[parent_type.name] = fields
    return fields


def _plain_here(plain: PlainField | None, details: FieldDetailsList) -> PlainField | None:
    """How the field completes where the selection asks for it: an in-hand field given
    arguments is its resolver's to answer."""
    if plain is not None and plain.in_hand and any(detail.node.arguments for detail in details):
        return None
    return plain


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with attribute fields and regular values completed on the
    fast path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        schema = self.schema
        fast = not (
            (middleware is not None and middleware.middlewares)
            or schema.get_directive("defer")
            or schema.get_directive("stream")
        )
        self._shapes = schema_plan(schema).shapes
        self._selections: dict[int, Selection] | None = {} if fast else None

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[Planned]:
        """The fields of a selection with how each completes; memoized on the identity of
        the grouped field set (graphql-core memoizes those per type and selection)."""
        selections = self._selections
        assert selections is not None
        found = selections.get(id(fields))
        if found is not None and found[0] is fields and found[1] is parent_type:
            return found[2]
        plain = plain_fields(self.schema, parent_type)
        plan = [
            (name, details, _plain_here(plain.get(details[0].node.name.value), details))
            for name, details in fields.items()
        ]
        selections[id(fields)] = (fields, parent_type, plan)  # keeps the identity from reuse
        return plan

    def _shape(self, return_type: GraphQLOutputType) -> Shape | None:
        found = self._shapes.get(id(return_type))
        if found is None or found[0] is not return_type:
            found = (return_type, shape_of(return_type))
            self._shapes[id(return_type)] = found
        return found[1]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_fields, with the plain fields completed here."""
        if self._selections is None or position_context is not None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for response_name, field_details_list, plain in self._plan(
                parent_type, grouped_field_set
            ):
                if plain is None:
                    result = IRREGULAR
                elif (shape := plain.shape) is None:
                    results[response_name] = type_name
                    continue
                elif shape.kind == LEAF:
                    try:
                        value = getattr(source_value, plain.attribute)
                    except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
                        value = IRREGULAR
                    if type(value) is shape.same:
                        results[response_name] = value
                        continue
                    if value is None:
                        result = None if shape.nullable else IRREGULAR
                    elif value is IRREGULAR:
                        result = IRREGULAR
                    else:
                        result = self._leaf(shape, value)
                else:
                    result = self._execute_plain_field(
                        shape,
                        source_value,
                        plain.attribute,
                        field_details_list,
                        Path(path, response_name, type_name),
                    )
                if result is IRREGULAR:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, type_name),
                        None,
                    )
                    if result is Undefined:
                        continue
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            self._settle(results, awaitable_fields)
            raise
        return self._completed(results, awaitable_fields)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's complete_value, with regular objects and lists of them (as
        resolvers return them) completed without its dispatch on the type."""
        if self._selections is not None and position_context is None and result is not None:
            shape = self._shape(return_type)
            if shape is not None and shape.kind >= OBJECT:
                completed = self._complete_regular(shape, field_details_list, path, result)
                if completed is not IRREGULAR:
                    return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _execute_plain_field(
        self,
        shape: Shape,
        source: Any,
        attribute: str,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        """What execute_field answers for a plain object or list field; IRREGULAR, before
        anything has run, when graphql-core's path is to complete it."""
        try:
            value = getattr(source, attribute)
        except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
            return IRREGULAR
        if value is None:
            return None if shape.nullable else IRREGULAR
        if value is NOT_IN_HAND:
            return IRREGULAR
        try:
            completed = self._complete_regular(shape, field_details_list, path, value)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core: a field error
            self.handle_field_error(raw_error, shape.return_type, field_details_list, path)
            return None
        if completed is not IRREGULAR and self.is_awaitable(completed):
            return self._await_field(completed, shape.return_type, field_details_list, path)
        return completed

    def _complete_regular(
        self, shape: Shape, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        """complete_value for a value that is not null, of an object, list of objects or
        list of leaves; IRREGULAR, before anything has run, when the value is not a regular
        one for the shape. Errors of the subfields are raised as graphql-core's
        complete_value raises them."""
        kind = shape.kind
        if kind == OBJECT:
            if self._irregular(value):
                return IRREGULAR
            return self._subfields(shape, field_details_list, path, value)
        if type(value) is not list and type(value) is not tuple:
            return IRREGULAR
        if kind == LEAF_LIST:
            completed = [self._leaf(shape, item) for item in value]
            if any(item is IRREGULAR for item in completed):
                return IRREGULAR
            return completed
        for item in value:
            if item is None:
                if not shape.item_nullable:
                    return IRREGULAR
            elif self._irregular(item):
                return IRREGULAR
        return self._complete_items(shape, field_details_list, path, value)

    def _leaf(self, shape: Shape, value: Any) -> Any:
        """complete_leaf_value (null for a null item of a nullable list), or IRREGULAR
        where graphql-core would fail or take another path."""
        kind_of_value = type(value)
        if kind_of_value is shape.same:
            return value
        if kind_of_value not in PLAIN_VALUES:
            if value is None:
                return None if shape.item_nullable else IRREGULAR
            if self._irregular(value):
                return IRREGULAR
        assert shape.coerce is not None
        try:
            coerced = shape.coerce(value)
        except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
            return IRREGULAR
        if coerced is None or coerced is Undefined:
            return IRREGULAR
        return coerced

    def _irregular(self, value: Any) -> bool:
        """Undefined, an exception or an awaitable: graphql-core's path completes it."""
        return value is Undefined or isinstance(value, Exception) or self.is_awaitable(value)

    def _subfields(
        self, shape: Shape, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        assert shape.object_type is not None
        return self.collect_and_execute_subfields(
            shape.object_type, field_details_list, path, value, None
        )

    def _complete_items(
        self,
        shape: Shape,
        field_details_list: FieldDetailsList,
        path: Path,
        items: Sequence[Any],
    ) -> Any:
        """complete_iterable_value and complete_list_item_value for object items."""
        item_type = shape.item_type
        assert item_type is not None
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        append_completed = completed_results.append
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                if item is None:
                    append_completed(None)
                    continue
                try:
                    completed = self._subfields(shape, field_details_list, item_path, item)
                    if is_awaitable(completed):
                        append_completed(
                            self._await_field(completed, item_type, field_details_list, item_path)
                        )
                        awaitable_indices.append(index)
                    else:
                        append_completed(completed)
                except Exception as raw_error:  # noqa: BLE001 - as graphql-core: a field error
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    append_completed(None)
        except Exception:
            self._settle(completed_results, awaitable_indices)
            raise
        return self._completed(completed_results, awaitable_indices)

    def _settle(self, entries: Any, keys: list[Any]) -> None:
        """On an error while filling the dict of fields or list of items: the awaitables
        already at ``keys`` settle in the background (as graphql-core leaves them)."""
        if keys:
            self.settle_in_background([entries[key] for key in keys])

    def _completed(self, entries: Any, keys: list[Any]) -> Any:
        """The filled dict of fields or list of items, or an awaitable of it when some
        entries (at ``keys``) are awaitable."""
        return self._await_entries(entries, keys) if keys else entries

    @staticmethod
    async def _await_entries(entries: Any, keys: list[Any]) -> Any:
        """The dict of fields or list of items with the awaitables at ``keys`` awaited (at
        once, as graphql-core's execute_fields and complete_iterable_value do)."""
        if len(keys) == 1:
            key = keys[0]
            entries[key] = await entries[key]
        else:
            awaited = await gather_with_cancel(*(entries[key] for key in keys))
            for key, result in zip(keys, awaited, strict=True):
                entries[key] = result
        return entries

    async def _await_field(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core: a field error
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
