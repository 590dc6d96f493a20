"""Properties of the exact (unrounded) monthly cost, checked with hypothesis.

Strategies stay inside what the API accepts and what feeds carry: token counts up to 10^15
a month, prices up to $1,000 per 1M with at most six decimals (9 significant digits), cached
shares in whole percents. Then every intermediate fits in Decimal's default 28 significant
digits (16 + 2 + 9 for a product, at most 27 for the sum before the division by one
million), so the properties hold with ==, not approximately. A share with many more digits
(a GraphQL Float such as 0.1797713850221976) can round at the 28th digit, far below a cent.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from schema.domain.comparison import ModelFacts, PriceFacts, RouteFacts, resolve_comparison
from schema.domain.costs import Traffic, monthly_cost
from schema.domain.observations import PriceTierObservation
from tests.domain import NOW

MAX_TOKENS = 10**15

amounts = st.integers(0, 10**9).map(lambda micro: Decimal(micro).scaleb(-6))
shares = st.integers(0, 100).map(lambda percent: Decimal(percent).scaleb(-2))
averages = st.none() | st.integers(1, 3_000_000)
tiers = st.builds(
    PriceTierObservation,
    min_input_tokens=st.integers(1, 2_000_000),
    input_per_mtok=st.none() | amounts,
    output_per_mtok=st.none() | amounts,
    cached_input_per_mtok=st.none() | amounts,
)
complete_prices = st.builds(
    PriceFacts,
    input_per_mtok=amounts,
    output_per_mtok=amounts,
    cached_input_per_mtok=st.none() | amounts,
    tiers=st.lists(tiers, max_size=2).map(tuple),
)


def cost(
    price: PriceFacts, input_tokens: int, output_tokens: int, share: Decimal, average: int | None
) -> Decimal:
    result = monthly_cost(
        price, Traffic(Decimal(input_tokens), Decimal(output_tokens), share, average)
    )
    assert result is not None  # a complete price always has a cost
    return result


@given(
    complete_prices,
    st.integers(0, MAX_TOKENS),
    st.integers(0, MAX_TOKENS),
    shares,
    averages,
    st.integers(1, 1000),
)
def test_cost_scales_with_traffic(
    price: PriceFacts,
    input_tokens: int,
    output_tokens: int,
    share: Decimal,
    average: int | None,
    k: int,
) -> None:
    base_in, base_out = input_tokens // k, output_tokens // k
    assert cost(price, k * base_in, k * base_out, share, average) == k * cost(
        price, base_in, base_out, share, average
    )


@given(
    complete_prices,
    st.integers(0, MAX_TOKENS // 2),
    st.integers(0, MAX_TOKENS // 2),
    st.integers(0, MAX_TOKENS // 2),
    st.integers(0, MAX_TOKENS // 2),
    shares,
    averages,
)
def test_cost_adds_up_over_a_split_of_the_traffic(
    price: PriceFacts,
    input_a: int,
    output_a: int,
    input_b: int,
    output_b: int,
    share: Decimal,
    average: int | None,
) -> None:
    whole = cost(price, input_a + input_b, output_a + output_b, share, average)
    assert whole == cost(price, input_a, output_a, share, average) + cost(
        price, input_b, output_b, share, average
    )
    assert whole == cost(price, input_a + input_b, 0, share, average) + cost(
        price, 0, output_a + output_b, share, average
    )


@given(complete_prices, st.integers(0, MAX_TOKENS), st.integers(0, MAX_TOKENS), shares, averages)
def test_cost_is_never_negative(
    price: PriceFacts, input_tokens: int, output_tokens: int, share: Decimal, average: int | None
) -> None:
    assert cost(price, input_tokens, output_tokens, share, average) >= 0


@st.composite
def models(draw: st.DrawFn) -> list[ModelFacts]:
    """2 to 4 models with up to three routes each: some inactive, some priced in part."""
    count = draw(st.integers(2, 4))
    offering_ids = iter(range(1, 100))
    result = []
    for index in range(count):
        routes = tuple(
            RouteFacts(
                offering_id=next(offering_ids),
                provider_slug=draw(st.sampled_from(["acme", "bolt", "cloud"])),
                provider_name="Provider",
                provider_model_id=draw(st.sampled_from(["m-1", "m-2"])),
                active=draw(st.booleans()),
                price=draw(st.none() | complete_prices | st.builds(PriceFacts, st.none(), amounts)),
            )
            for _ in range(draw(st.integers(0, 3)))
        )
        result.append(
            ModelFacts(id=index + 1, slug=f"model-{index}", name=f"Model {index}", routes=routes)
        )
    return result


@given(
    models(),
    st.data(),
    st.integers(0, MAX_TOKENS),
    st.integers(0, MAX_TOKENS),
    shares,
    averages,
)
def test_monthly_costs_do_not_depend_on_the_order_of_models(
    compared: list[ModelFacts],
    data: st.DataObject,
    input_tokens: int,
    output_tokens: int,
    share: Decimal,
    average: int | None,
) -> None:
    at = Traffic(Decimal(input_tokens), Decimal(output_tokens), share, average)
    reordered = resolve_comparison(data.draw(st.permutations(compared)), at, now=NOW)
    original = resolve_comparison(compared, at, now=NOW)
    assert {cost.model: cost for cost in reordered.monthly_costs} == {
        cost.model: cost for cost in original.monthly_costs
    }
    assert reordered.cost_delta == original.cost_delta
    assert reordered.recommended == original.recommended
