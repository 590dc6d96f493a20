"""The fast path for attribute fields answers exactly what graphql-core answers: same data,
same errors (messages, paths, locations) in the same order, on documents that exercise
aliases, fragments, directives, abstract types, async resolvers, error propagation and
values graphql-core rejects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.graphql.execution import PlainFieldsExecutionContext
from api.graphql.in_hand import NOT_IN_HAND, NotInHand, in_hand
from api.graphql.scalars import DecimalScalar
from api.graphql.schema import build_schema
from schema.settings import Settings


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Tier:
    level: int
    price: Decimal | None = None


class Denied(strawberry.BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.interface
class Pet:
    name: str


@strawberry.type
class Cat(Pet):
    lives: int


@strawberry.type
class Dog(Pet):
    good: bool


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    count: int
    ratio: float
    active: bool
    color: Color
    price: Decimal
    at: datetime
    on: date
    tags: list[str]
    grid: list[list[int]]
    tiers: list[Tier]
    maybe_color: Color | None = None
    maybe_price: Decimal | None = None
    maybe_tags: list[str | None] | None = None
    maybe_tiers: list[Tier | None] | None = None
    best: Tier | None = None
    pet: Pet | None = None
    required_tier: Tier = field(default_factory=lambda: Tier(level=0))
    fail: bool = strawberry.field(default=False, name="failFlag")
    tier_in_hand: strawberry.Private[Any] = NOT_IN_HAND
    tiers_in_hand: strawberry.Private[list[Tier] | NotInHand] = NOT_IN_HAND

    @strawberry.field(graphql_type=Tier | None, metadata=in_hand("tier_in_hand"))
    def handed(self, times: int = 1) -> Any:
        """The tier in hand at the default argument, else one made here (so a test sees
        which answered)."""
        if self.tier_in_hand is not NOT_IN_HAND and times == 1:
            return self.tier_in_hand
        return Tier(level=-self.count * times)

    @strawberry.field(metadata=in_hand("first_tier_in_hand"))
    def handed_tiers(self, first: int = 1) -> list[Tier]:
        if self.tiers_in_hand is not NOT_IN_HAND:
            return self.tiers_in_hand[:first]
        return [Tier(level=-self.count)]

    @property
    def first_tier_in_hand(self) -> list[Tier] | NotInHand:
        tiers = self.tiers_in_hand
        return tiers if tiers is NOT_IN_HAND else tiers[:1]

    @strawberry.field(
        graphql_type=Tier | None, metadata=in_hand("tier_in_hand"), permission_classes=[Denied]
    )
    def guarded(self) -> Any:
        return self.tier_in_hand if self.tier_in_hand is not NOT_IN_HAND else None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def later(self, times: int = 2) -> int:
        await asyncio.sleep(0)
        return self.count * times

    @strawberry.field
    def strict(self) -> str:
        if self.fail:
            raise ValueError(f"strict failed for {self.name}")
        return "fine"

    @strawberry.field
    async def strict_later(self) -> Tier:
        await asyncio.sleep(0)
        if self.fail:
            raise ValueError(f"strict_later failed for {self.name}")
        return self.required_tier


@dataclass
class Root:
    items: list[Item | None]
    strict_items: list[Item]
    item: Item | None
    pets: list[Pet]
    extra: Any = None


@strawberry.type
class Query:
    items: list[Item | None]
    strict_items: list[Item]
    item: Item | None
    pets: list[Pet]

    @strawberry.field
    def resolved_items(self, root: strawberry.Parent[Root]) -> list[Item]:
        return root.strict_items

    @strawberry.field
    def resolved_all(self, root: strawberry.Parent[Root]) -> list[Item | None]:
        return root.items

    @strawberry.field(graphql_type=list[Item])
    def resolved_strict(self, root: strawberry.Parent[Root]) -> Any:
        """Non-null items, as a resolver that breaks its promise returns them."""
        return root.items

    @strawberry.field(graphql_type=list[Item])
    def resolved_iterator(self, root: strawberry.Parent[Root]) -> Any:
        return iter(root.strict_items)

    @strawberry.field
    async def resolved_later(self, root: strawberry.Parent[Root]) -> Item | None:
        await asyncio.sleep(0)
        return root.item

    @strawberry.field(graphql_type=Item)
    def resolved_required(self, root: strawberry.Parent[Root]) -> Any:
        return root.extra


def regular_item(number: int, **changes: Any) -> Item:
    values: dict[str, Any] = {
        "id": strawberry.ID(str(number)),
        "name": f"item {number}",
        "count": number,
        "ratio": number / 4,
        "active": number % 2 == 0,
        "color": Color.RED if number % 2 else Color.BLUE,
        "price": Decimal("0.00004") * number,
        "at": datetime(2026, 1, 1, number % 24, tzinfo=UTC),
        "on": date(2026, 2, number % 28 + 1),
        "tags": [f"t{number}", "shared"],
        "grid": [[number, 1], [], [2]],
        "tiers": [Tier(level=1, price=Decimal("103.00")), Tier(level=2)],
        "maybe_tags": ["a", None] if number % 2 else None,
        "maybe_tiers": [None, Tier(level=3)],
        "best": Tier(level=number) if number % 2 else None,
        "pet": Cat(name="Tom", lives=9) if number % 2 else Dog(name="Rex", good=True),
        "maybe_color": Color.BLUE if number % 3 else None,
        "tier_in_hand": (NOT_IN_HAND, Tier(level=100 + number), None)[number % 3],
        "tiers_in_hand": [Tier(level=number), Tier(level=9)] if number % 2 else NOT_IN_HAND,
    }
    values.update(changes)
    return Item(**values)


class Source:
    """An object whose attribute raises (as a broken property would)."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"no {name} here")


def irregular_items() -> list[Item | None]:
    """Values graphql-core refuses or completes on its own path, one per item."""

    later_tier = asyncio.get_running_loop().create_future()
    later_tier.set_result(Tier(level=7))
    return [
        regular_item(1, name=None),  # null for a non-null String
        regular_item(2, count="many"),  # not an Int
        regular_item(3, count=2**40),  # out of Int's range
        regular_item(4, color="green"),  # not a Color
        regular_item(5, tags=["x", None]),  # null item in [String!]!
        regular_item(6, tiers=[Tier(level=1), None]),  # null item in [Tier!]!
        regular_item(7, tags="not a list"),  # a string is no list of strings
        regular_item(8, tags=("a", "b")),  # a tuple is
        regular_item(9, best=later_tier),  # an awaitable attribute
        regular_item(10, best=ValueError("an error as a value")),
        regular_item(11, price="0.5"),  # not a Decimal: the scalar's serialize fails
        regular_item(12, fail=True),  # a resolver raising under non-null fields
        regular_item(13, tiers=iter([Tier(level=5)])),  # an iterator, not a list
        regular_item(14, ratio=float("inf")),  # Float refuses infinity
        regular_item(15, required_tier=None),  # null for a non-null object
        None,
        regular_item(16, active=1, id=16, ratio=3),  # coerced, not the same
        regular_item(17, grid=[[1, None]]),
        regular_item(18, tier_in_hand=later_tier),  # an awaitable in hand
        regular_item(19, tier_in_hand=ValueError("an error in hand")),
        regular_item(23, tiers_in_hand=[Tier(level=1), None]),  # null item in [Tier!]!
        Source(),  # type: ignore[list-item]
    ]


def root(items: Callable[[], list[Item | None]]) -> Root:
    return Root(
        items=items(),
        strict_items=[regular_item(20), regular_item(21, fail=True), regular_item(22)],
        item=regular_item(30),
        pets=[Cat(name="Tom", lives=9), Dog(name="Rex", good=False)],
    )


ALL_FIELDS = """
  id name count ratio active color price at on tags grid
  tiers { level price } maybeColor maybePrice maybeTags maybeTiers { level price }
  best { level } requiredTier { level } shout later
  pet { __typename name ... on Cat { lives } ... on Dog { good } }
"""

DOCUMENTS = [
    (f"{{ item {{ {ALL_FIELDS} }} }}", {}),
    (f"{{ items {{ {ALL_FIELDS} }} }}", {}),
    ("{ items { __typename id strict } }", {}),
    ("{ items { id strictLater { level } } }", {}),
    ("{ strictItems { id strict } }", {}),
    ("{ strictItems { id strictLater { level price } } }", {}),
    ("{ resolvedItems { id name strict tiers { level } } }", {}),
    ("{ resolvedItems { id tiers { level } } }", {}),
    (
        """query($withTags: Boolean!, $skipName: Boolean!) {
             first: item { n: name, name @skip(if: $skipName) t: tags @include(if: $withTags)
               ...Prices ... on Item { count c2: count } ...on Item @include(if: $withTags) { on } }
             again: item { ...Prices name }
             items { ...Prices }
           }
           fragment Prices on Item { price maybePrice tiers { price ...Level } __typename }
           fragment Level on Tier { level l: level }""",
        {"withTags": True, "skipName": False},
    ),
    (
        """query($withTags: Boolean!, $skipName: Boolean!) {
             item { name @skip(if: $skipName) tags @include(if: $withTags) ... @skip(if: true) { id } }
           }""",
        {"withTags": False, "skipName": True},
    ),
    ("{ pets { __typename name ... on Cat { lives } } __typename }", {}),
    ("{ item { later(times: 3) l: later pet { name } } }", {}),
    ("{ items { name } strictItems { name } }", {}),
    ("{ items { grid maybeTags tags } }", {}),
    ("{ items { best { level } requiredTier { level } } }", {}),
    ("{ items { tiers { level } } }", {}),
    ("{ resolvedAll { id name best { level } tiers { level } } }", {}),
    ("{ resolvedStrict { id } }", {}),
    ("{ resolvedIterator { id strict } }", {}),
    ("{ resolvedLater { id tiers { level } strictLater { level } } }", {}),
    ("{ resolvedRequired { id } items { id } }", {}),
    ("{ items { id handed { level } handedTiers { level } } }", {}),
    (
        """query($times: Int!) { items { id
             handed(times: 1) { level } h2: handed(times: $times) { level }
             h3: handed { level } handedTiers(first: 2) { level } t: handedTiers { level } } }""",
        {"times": 3},
    ),
    ("{ items { id handed { level } handed { ... on Tier { price } } } }", {}),
    ("{ items { id guarded { level } } }", {}),
]


def schema_with(executor: type[StrawberryGraphQLCoreExecutionContext]) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[Cat, Dog],
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        execution_context_class=executor,
    )


async def answers(
    executor: type[StrawberryGraphQLCoreExecutionContext],
    document: str,
    variables: dict[str, Any],
    items: Callable[[], list[Item | None]],
) -> tuple[Any, list[Any]]:
    result = await schema_with(executor).execute(
        document, variable_values=variables, root_value=root(items)
    )
    return result.data, [error.formatted for error in result.errors or []]


@pytest.mark.parametrize("items", [lambda: [regular_item(1), regular_item(2)], irregular_items])
@pytest.mark.parametrize(("document", "variables"), DOCUMENTS)
async def test_answers_as_graphql_core_does(
    document: str, variables: dict[str, Any], items: Callable[[], list[Item | None]]
) -> None:
    plain = await answers(StrawberryGraphQLCoreExecutionContext, document, variables, items)
    fast = await answers(PlainFieldsExecutionContext, document, variables, items)
    assert fast == plain


async def test_the_documents_exercise_errors_and_values() -> None:
    """The comparisons above are not all trivial: errors propagate, values are coerced."""
    data, errors = await answers(PlainFieldsExecutionContext, DOCUMENTS[1][0], {}, irregular_items)
    messages = " | ".join(error["message"] for error in errors)
    for expected in (
        "Cannot return null for non-nullable field Item.name.",
        "Int cannot represent non-integer value: 'many'",
        "Enum 'Color' cannot represent value: 'green'",
        "Float cannot represent non numeric value: inf",
        "an error as a value",
    ):
        assert expected in messages
    assert data["items"][7]["tags"] == ["a", "b"]
    assert data["items"][8]["best"] == {"level": 7}
    coerced = data["items"][16]
    assert (coerced["active"], coerced["id"], coerced["ratio"]) == (True, "16", 3.0)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the fields a GraphQLResolveInfo is built for, as they are built."""
    names: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counting(self: Any, field_def: Any, field_nodes: Any, *args: Any) -> Any:
        names.append(field_nodes[0].name.value)
        return original(self, field_def, field_nodes, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counting)
    return names


async def test_attribute_fields_build_no_resolve_info(built: list[str]) -> None:
    """Only resolver fields get a GraphQLResolveInfo (and a call of their resolver)."""
    document = "{ item { id name tags tiers { level } best { level } shout __typename } }"
    fast = await answers(PlainFieldsExecutionContext, document, {}, irregular_items)
    assert built == ["shout"]
    built.clear()
    plain = await answers(StrawberryGraphQLCoreExecutionContext, document, {}, irregular_items)
    assert fast == plain
    assert len(built) == 10


async def test_in_hand_fields_skip_their_resolver_only_without_arguments(
    built: list[str],
) -> None:
    """A resolver field with its value in hand builds no resolve info when given no
    arguments; given any, or with nothing in hand, or with permission classes, it does."""
    in_hand_items = lambda: [regular_item(1), regular_item(2), regular_item(3)]  # noqa: E731
    document = "{ items { handed { level } handedTiers { level } } }"
    data, errors = await answers(PlainFieldsExecutionContext, document, {}, in_hand_items)
    assert errors == []
    assert data["items"] == [
        {"handed": {"level": 101}, "handedTiers": [{"level": 1}]},
        {"handed": None, "handedTiers": [{"level": -2}]},
        {"handed": {"level": -3}, "handedTiers": [{"level": 3}]},
    ]
    assert sorted(built) == ["handed", "handedTiers"]  # item 3 has neither in hand: item 2 one
    built.clear()
    document = "{ items { handed(times: 1) { level } guarded { level } } }"
    await answers(PlainFieldsExecutionContext, document, {}, in_hand_items)
    assert sorted(built) == ["guarded"] * 3 + ["handed"] * 3


def test_the_app_schema_executes_with_the_fast_path() -> None:
    assert issubclass(build_schema(Settings()).execution_context_class, PlainFieldsExecutionContext)
