"""What an operation may cost, computed from the document and its variables before it runs.

Every field counts once for each item of the lists around it, so list sizes multiply
through nesting: `{ providers { offerings { provider { offerings { id } } } } }` costs
about providers x offerings x offerings. A list's size is its `first` argument (the
variable's value, else the argument's default, at most the largest page), the `first` of
the connection around it for `edges`, the domain's bound for lists it fixes (a comparison
has at most 4 models), and the schema's own counts for introspection. Fragments are
expanded where they are spread and aliases count like any field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

BOUNDED_LISTS: Mapping[str, int] = {
    # A comparison has 2 to 4 models; its parts follow from that.
    "Comparison.models": 4,
    "Comparison.scorecard": 8,
    "Comparison.tradeoffs": 4,
    "Comparison.monthlyCosts": 4,
    "Comparison.switchFriction": 12,
    "Comparison.capabilityMatrix": 7,
    "Comparison.faq": 10,
    "Comparison.related": 12,
    "ComparisonLink.models": 4,
    # Bounded by the catalog: the benchmarks every compared model shares, the providers
    # two models share, a price's long-context tiers.
    "Comparison.sharedBenchmarks": 50,
    "SwitchFriction.sharedProviders": 50,
    "Price.tiers": 5,
    # Ops lists of rows that ops create one by one (five known feeds).
    "Query.feedSources": 50,
}
"""Object lists without `first`, with the most items they hold (tests/guards check that
every object list of the schema is here or takes `first`)."""


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    max_page_size: int,
) -> int:
    """The cost of the operation that would run (0 when none can be chosen: graphql-core
    reports that)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walker = _Walker(
        schema=schema,
        fragments={
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        },
        variables=dict(variables or {}),
        defaults=_variable_defaults(operation),
        max_page_size=max_page_size,
        introspection=_introspection_sizes(schema),
    )
    return walker.selection_cost(operation.selection_set, root, edges_size=1, seen=frozenset())


@dataclass
class _Walker:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    defaults: dict[str, Any]
    max_page_size: int
    introspection: Mapping[str, int]

    def selection_cost(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        *,
        edges_size: int,
        seen: frozenset[str],
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, edges_size=edges_size, seen=seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(
                    selection.selection_set, target or parent, edges_size=edges_size, seen=seen
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic: validation rejects the document
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.selection_cost(
                    fragment.selection_set, target, edges_size=edges_size, seen=seen | {name}
                )
        return total

    def field_cost(
        self, node: FieldNode, parent: GraphQLNamedType, *, edges_size: int, seen: frozenset[str]
    ) -> int:
        definition = self.field_definition(parent, node.name.value)
        if definition is None or node.selection_set is None:
            return 1
        key = f"{parent.name}.{node.name.value}"
        first = self.first_argument(node, definition)
        is_list = isinstance(get_nullable_type(definition.type), GraphQLList)
        if not is_list:
            size = 1
        elif first is not None:
            size = first
        elif node.name.value == "edges":
            size = edges_size
        else:
            size = BOUNDED_LISTS.get(key, self.introspection.get(key, self.max_page_size))
        child_edges = first if first is not None and not is_list else 1
        return 1 + size * self.selection_cost(
            node.selection_set,
            get_named_type(definition.type),
            edges_size=child_edges,
            seen=seen,
        )

    def field_definition(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def first_argument(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The list size a `first` argument asks for, clamped to 0..max_page_size (a bigger
        one is refused by the field itself)."""
        argument = definition.args.get("first")
        if argument is None:
            return None
        value: Any = argument.default_value
        for given in node.arguments or ():
            if given.name.value != "first":
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, NullValueNode):
                value = None
            elif isinstance(given.value, VariableNode):
                name = given.value.name.value
                value = self.variables.get(name, self.defaults.get(name, value))
        if not isinstance(value, int) or isinstance(value, bool):
            return self.max_page_size
        return max(0, min(value, self.max_page_size))


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    return {
        definition.variable.name.value: int(definition.default_value.value)
        for definition in operation.variable_definitions or ()
        if isinstance(definition.default_value, IntValueNode)
    }


@cache
def _introspection_sizes(schema: GraphQLSchema) -> Mapping[str, int]:
    """How many items each introspection list gives for this schema, on average (rounded
    up): the standard introspection query, one pass over every type, then costs what it
    really asks for, and a nested one grows with the schema's real fan-out."""
    types = list(schema.type_map.values())
    composite = [t for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    fields = [field for named in composite for field in named.fields.values()]
    inputs = [t for t in types if isinstance(t, GraphQLInputObjectType)]
    enums = [t for t in types if isinstance(t, GraphQLEnumType)]
    unions = [t for t in types if isinstance(t, GraphQLUnionType)]
    return {
        "__Schema.types": len(types),
        "__Schema.directives": len(schema.directives),
        "__Type.fields": _average([len(t.fields) for t in composite]),
        "__Type.inputFields": _average([len(t.fields) for t in inputs]),
        "__Type.enumValues": _average([len(t.values) for t in enums]),
        "__Type.interfaces": _average([len(t.interfaces) for t in composite]),
        "__Type.possibleTypes": _average([len(t.types) for t in unions]),
        "__Field.args": _average([len(field.args) for field in fields]),
        "__Directive.args": _average([len(d.args) for d in schema.directives]),
    }


def _average(counts: list[int]) -> int:
    return -(-sum(counts) // len(counts)) if counts else 0
