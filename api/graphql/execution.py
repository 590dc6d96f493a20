"""Execution that completes plain attribute fields without graphql-core's per-field layers.

Most fields of an answer (some 2,700 of the 3,300 in fifty models with their offerings and
prices) are Strawberry fields with no resolver, no permission classes and no extensions:
their value is ``getattr(source, python_name)`` and they never see the resolve info. For
each of them graphql-core still builds a ``GraphQLResolveInfo``, calls Strawberry's
wrapper, checks the result for awaitables twice and dispatches ``complete_value`` on the
type, once more for non-null. This execution context reads such a field's attribute and
completes the value directly when the value is a regular one for its type: a leaf (scalar
or enum, coerced as graphql-core does), an object type without ``is_type_of``, or a list of
either. Anything else takes graphql-core's own code path: resolver fields, abstract types,
nested lists, and every irregular value (null for a non-null type, a value that does not
coerce, an exception, an awaitable, an iterable that is not a list or tuple). For leaves
that path simply starts over (reading an attribute has no effect), so their errors are
graphql-core's; object values complete through graphql-core's subfield execution and error
handling. With middleware (a schema extension with a ``resolve`` hook) or incremental
delivery directives in the schema, every field takes graphql-core's path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
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

LEAF, LEAF_LIST, OBJECT, OBJECT_LIST, TYPENAME = range(5)


@dataclass(frozen=True, slots=True)
class PlainField:
    """How one field of an object type completes on the fast path."""

    kind: int
    attribute: str
    return_type: GraphQLOutputType
    nullable: bool
    """The field's value may be null."""
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


TYPENAME_FIELD = PlainField(TYPENAME, "__typename", GraphQLNonNull(GraphQLString), False)
_plain_fields: WeakKeyDictionary[GraphQLSchema, dict[str, dict[str, PlainField]]] = (
    WeakKeyDictionary()
)
"""Per schema, per object type name: its fields that take the fast path."""


IRREGULAR: Any = object()
"""What the fast path answers for a field it leaves to graphql-core (which then reads the
field again)."""

Planned = tuple[str, FieldDetailsList, "PlainField | None"]
"""A field of a selection: its response name, its nodes, how it completes if plain."""


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


def _leaf(kind: int, leaf: GraphQLLeafType) -> dict[str, Any]:
    same = str if leaf is GraphQLString or leaf is GraphQLID else None
    return {"kind": kind, "coerce": leaf.coerce_output_value, "same": same or _bool(leaf)}


def _bool(leaf: GraphQLLeafType) -> type | None:
    return bool if leaf is GraphQLBoolean else None


def _plain_field(field: Any) -> PlainField | None:
    if not _is_attribute_field(field):
        return None
    return_type = field.type
    nullable = not is_non_null_type(return_type)
    named = return_type if nullable else return_type.of_type
    attribute = field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].python_name
    common = {"attribute": attribute, "return_type": return_type, "nullable": nullable}
    if is_leaf_type(named):
        return PlainField(**common, **_leaf(LEAF, named))
    if is_object_type(named) and named.is_type_of is None:
        return PlainField(**common, kind=OBJECT, object_type=named)
    if not is_list_type(named):
        return None
    item_type = named.of_type
    item_nullable = not is_non_null_type(item_type)
    item = item_type if item_nullable else item_type.of_type
    listed = {**common, "item_type": item_type, "item_nullable": item_nullable}
    if is_leaf_type(item):
        return PlainField(**listed, **_leaf(LEAF_LIST, item))
    if is_object_type(item) and item.is_type_of is None:
        return PlainField(**listed, kind=OBJECT_LIST, object_type=item)
    return None


def plain_fields(schema: GraphQLSchema, parent_type: GraphQLObjectType) -> dict[str, PlainField]:
    """The fields of ``parent_type`` that take the fast path, by field name."""
    by_type = _plain_fields.setdefault(schema, {})
    fields = by_type.get(parent_type.name)
    if fields is None:
        fields = {"__typename": TYPENAME_FIELD}
        for name, field in parent_type.fields.items():
            plain = _plain_field(field)
            if plain is not None:
                fields[name] = plain
        by_type[parent_type.name] = fields
    return fields


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with attribute fields completed on the fast path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        schema = self.schema
        fast = not (
            (middleware is not None and middleware.middlewares)
            or schema.get_directive("defer")
            or schema.get_directive("stream")
        )
        self._plans: dict[int, tuple[GroupedFieldSet, list[Planned]]] | None = {} if fast else None

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[Planned]:
        """The fields of a selection with how each completes; memoized on the identity of
        the grouped field set (graphql-core memoizes those per type and selection)."""
        plans = self._plans
        assert plans is not None
        found = plans.get(id(fields))
        if found is not None and found[0] is fields:
            return found[1]
        plain = plain_fields(self.schema, parent_type)
        plan = [
            (name, details, plain.get(details[0].node.name.value))
            for name, details in fields.items()
        ]
        plans[id(fields)] = (fields, plan)  # the entry keeps the identity from being reused
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_fields, with the plain fields completed here."""
        if self._plans is None or position_context is not None:
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
                elif plain.kind == LEAF:
                    result = self._leaf_field(plain, source_value)
                elif plain.kind == TYPENAME:
                    result = type_name
                else:
                    result = self._execute_plain_field(
                        plain,
                        source_value,
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
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._await_entries(results, awaitable_fields)

    def _leaf_field(self, plain: PlainField, source: Any) -> Any:
        try:
            value = getattr(source, plain.attribute)
        except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
            return IRREGULAR
        if value is None:
            return None if plain.nullable else IRREGULAR
        return self._leaf(plain, value)

    def _execute_plain_field(
        self,
        plain: PlainField,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        """An object or list field's completed value; IRREGULAR, before anything has run,
        when graphql-core's path is to complete it."""
        try:
            value = getattr(source, plain.attribute)
        except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
            return IRREGULAR
        if value is None:
            return None if plain.nullable else IRREGULAR
        if plain.kind == OBJECT:
            if self._irregular_object(value):
                return IRREGULAR
            return self._complete_object(plain, field_details_list, path, value)
        if type(value) is not list and type(value) is not tuple:
            return IRREGULAR
        if plain.kind == LEAF_LIST:
            completed = [self._leaf(plain, item) for item in value]
            if any(item is IRREGULAR for item in completed):
                return IRREGULAR
            return completed
        for item in value:
            if item is None:
                if not plain.item_nullable:
                    return IRREGULAR
            elif self._irregular_object(item):
                return IRREGULAR
        return self._complete_object(plain, field_details_list, path, value)

    def _leaf(self, plain: PlainField, value: Any) -> Any:
        """complete_leaf_value (null for a null item of a nullable list), or IRREGULAR
        where graphql-core would fail or take another path."""
        if type(value) is plain.same:
            return value
        if value is None:
            return None if plain.item_nullable else IRREGULAR
        if value is Undefined or isinstance(value, Exception) or self.is_awaitable(value):
            return IRREGULAR
        assert plain.coerce is not None
        try:
            coerced = plain.coerce(value)
        except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
            return IRREGULAR
        if coerced is None or coerced is Undefined:
            return IRREGULAR
        return coerced

    def _irregular_object(self, value: Any) -> bool:
        return value is Undefined or isinstance(value, Exception) or self.is_awaitable(value)

    def _complete_object(
        self, plain: PlainField, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        """What execute_field does once the value is in hand, for an object or a list of
        objects whose items are checked: errors of the subfields handled as graphql-core
        handles them for this field."""
        return_type = plain.return_type
        try:
            if plain.kind == OBJECT:
                completed = self._subfields(plain, field_details_list, path, value)
            else:
                completed = self._complete_items(plain, field_details_list, path, value)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core: a field error
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_field(completed, return_type, field_details_list, path)
        return completed

    def _subfields(
        self, plain: PlainField, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        assert plain.object_type is not None
        return self.collect_and_execute_subfields(
            plain.object_type, field_details_list, path, value, None
        )

    def _complete_items(
        self,
        plain: PlainField,
        field_details_list: FieldDetailsList,
        path: Path,
        items: Sequence[Any],
    ) -> Any:
        """complete_iterable_value and complete_list_item_value for object items."""
        item_type = plain.item_type
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
                    completed = self._subfields(plain, field_details_list, item_path, item)
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
            if awaitable_indices:
                self.settle_in_background([completed_results[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed_results
        return self._await_entries(completed_results, awaitable_indices)

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
