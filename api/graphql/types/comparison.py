"""The resolved comparison: thin types over schema.domain.comparison's values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.context import Context
from api.graphql.types.catalog import (
    BenchmarkType,
    CapabilityEnum,
    ModelType,
    OfferingType,
    ProviderType,
)
from api.services.comparisons import RelatedLink, Resolved
from schema.domain.comparison_errors import ComparisonProblem
from schema.domain.costs import Traffic
from schema.models import LlmModel

Models = dict[str, LlmModel]


def _model(models: Models, slug: str) -> ModelType:
    return ModelType.from_row(models[slug])


@strawberry.input(name="TrafficInput")
class TrafficInput:
    input_tokens_per_month: float
    output_tokens_per_month: float
    cached_input_share: float | None = strawberry.field(
        default=0,
        description="Share of input tokens billed at the cached-input price where a route has one, 0 to 1.",
    )
    average_input_tokens_per_request: int | None = strawberry.field(
        default=None,
        description="Typical prompt size; selects long-context price tiers where a route has them.",
    )

    def to_domain(self) -> Traffic:
        return Traffic(
            input_tokens_per_month=Decimal(str(self.input_tokens_per_month)),
            output_tokens_per_month=Decimal(str(self.output_tokens_per_month)),
            cached_input_share=Decimal(str(self.cached_input_share or 0)),
            average_input_tokens_per_request=self.average_input_tokens_per_request,
        )


@strawberry.type(name="Traffic")
class TrafficType:
    input_tokens_per_month: float
    output_tokens_per_month: float
    cached_input_share: float
    average_input_tokens_per_request: int | None

    @classmethod
    def from_domain(cls, traffic: Traffic) -> TrafficType:
        return cls(
            input_tokens_per_month=float(traffic.input_tokens_per_month),
            output_tokens_per_month=float(traffic.output_tokens_per_month),
            cached_input_share=float(traffic.cached_input_share),
            average_input_tokens_per_request=traffic.average_input_tokens_per_request,
        )


@strawberry.type(
    name="ScorecardRow",
    description="One signal of the decision scorecard; values follow the order of Comparison.models.",
)
class ScorecardRowType:
    signal: str
    values: list[str]
    leader: ModelType | None = strawberry.field(
        description="The model that the signal favours, null for a tie or no basis."
    )


@strawberry.type(name="Tradeoff")
class TradeoffType:
    model: ModelType
    reasons: list[str] = strawberry.field(description="The 'choose this model when' reasons.")


@strawberry.type(name="MonthlyCost")
class MonthlyCostType:
    model: ModelType
    available: bool
    monthly_usd: Decimal | None
    reason: str | None = strawberry.field(description="Why no estimate, when available is false.")
    tier_unknown: bool = strawberry.field(
        description="True when no source states long-context tiers for the route used while another route of the model charges a tier at the traffic's average request size: the estimate may be too low."
    )
    offering_id: strawberry.Private[int | None]

    @strawberry.field(
        description="The route the estimate uses: the cheapest with a complete price (ties: provider slug, then providerModelId)."
    )
    async def offering(self, info: Info[Context, None]) -> OfferingType | None:
        if self.offering_id is None:
            return None
        row = await info.context.loaders.offering_by_id.load(self.offering_id)
        return OfferingType.from_row(row) if row is not None else None


@strawberry.type(name="SwitchFriction")
class SwitchFrictionType:
    from_: ModelType = strawberry.field(name="from")
    to: ModelType
    notes: list[str]
    provider_slugs: strawberry.Private[tuple[str, ...]]

    @strawberry.field
    async def shared_providers(self, info: Info[Context, None]) -> list[ProviderType]:
        rows = await info.context.loaders.provider_by_slug.load_many(list(self.provider_slugs))
        return [ProviderType.from_row(row) for row in rows if row is not None]


@strawberry.type(
    name="CapabilityRow",
    description="values follow the order of Comparison.models; null means the data does not say.",
)
class CapabilityRowType:
    capability: CapabilityEnum
    label: str
    values: list[bool | None]


@strawberry.type(name="BenchmarkRow", description="scores follow the order of Comparison.models.")
class BenchmarkRowType:
    benchmark: BenchmarkType
    scores: list[float | None]


@strawberry.type(name="FaqEntry")
class FaqEntryType:
    question: str
    answer: str


@strawberry.type(name="ComparisonLink")
class ComparisonLinkType:
    key: str
    model_ids: strawberry.Private[tuple[int, ...]]

    @strawberry.field
    async def models(self, info: Info[Context, None]) -> list[ModelType]:
        rows = await info.context.loaders.model_by_id.load_many(list(self.model_ids))
        return [ModelType.from_row(row) for row in rows if row is not None]


@strawberry.type(name="Comparison")
class ComparisonType:
    key: str = strawberry.field(description="Canonical key, slugs sorted and joined by '-vs-'.")
    models: list[ModelType]
    traffic: TrafficType
    recommended: ModelType | None = strawberry.field(
        description="The model the verdict favours overall, after the documented tie-breaks; null only when those tie too."
    )
    verdict: str
    scorecard: list[ScorecardRowType]
    tradeoffs: list[TradeoffType]
    monthly_costs: list[MonthlyCostType]
    cost_delta: Decimal | None = strawberry.field(
        description="Most minus least expensive estimate, in cents like the estimates; null unless every model has one."
    )
    switch_friction: list[SwitchFrictionType]
    capability_matrix: list[CapabilityRowType]
    shared_benchmarks: list[BenchmarkRowType] = strawberry.field(
        description="Benchmarks scored for every compared model."
    )
    deep_dive: list[str]
    faq: list[FaqEntryType]
    related: list[ComparisonLinkType]
    last_reviewed_on: date | None
    generated_at: datetime

    @classmethod
    def from_resolved(cls, resolved: Resolved) -> ComparisonType:
        c = resolved.answer.comparison
        models = resolved.models_by_slug
        return cls(
            key=c.key,
            models=[_model(models, slug) for slug in c.models],
            traffic=TrafficType.from_domain(c.traffic),
            recommended=_model(models, c.recommended) if c.recommended else None,
            verdict=c.verdict,
            scorecard=[
                ScorecardRowType(
                    signal=row.signal,
                    values=list(row.values),
                    leader=_model(models, row.leader) if row.leader else None,
                )
                for row in c.scorecard
            ],
            tradeoffs=[
                TradeoffType(model=_model(models, t.model), reasons=list(t.reasons))
                for t in c.tradeoffs
            ],
            monthly_costs=[
                MonthlyCostType(
                    model=_model(models, cost.model),
                    available=cost.available,
                    monthly_usd=cost.monthly_usd,
                    reason=cost.reason,
                    tier_unknown=cost.tier_unknown,
                    offering_id=cost.offering_id,
                )
                for cost in c.monthly_costs
            ],
            cost_delta=c.cost_delta,
            switch_friction=[
                SwitchFrictionType(
                    from_=_model(models, f.from_model),
                    to=_model(models, f.to_model),
                    notes=list(f.notes),
                    provider_slugs=f.shared_providers,
                )
                for f in c.switch_friction
            ],
            capability_matrix=[
                CapabilityRowType(
                    capability=CapabilityEnum(row.capability),
                    label=row.label,
                    values=list(row.values),
                )
                for row in c.capability_matrix
            ],
            shared_benchmarks=[
                BenchmarkRowType(
                    benchmark=BenchmarkType(
                        slug=row.slug, name=row.name, higher_is_better=row.higher_is_better
                    ),
                    scores=list(row.scores),
                )
                for row in c.shared_benchmarks
            ],
            deep_dive=list(c.deep_dive),
            faq=[FaqEntryType(question=e.question, answer=e.answer) for e in c.faq],
            related=[_link(link) for link in resolved.answer.related],
            last_reviewed_on=c.last_reviewed_on,
            generated_at=c.generated_at,
        )


def _link(link: RelatedLink) -> ComparisonLinkType:
    return ComparisonLinkType(key=link.key, model_ids=link.model_ids)


@strawberry.enum(name="ComparisonErrorCode")
class ComparisonErrorCodeEnum(Enum):
    UNKNOWN_MODEL = "UNKNOWN_MODEL"
    TOO_FEW_MODELS = "TOO_FEW_MODELS"
    TOO_MANY_MODELS = "TOO_MANY_MODELS"
    DUPLICATE_MODEL = "DUPLICATE_MODEL"
    INVALID_TRAFFIC = "INVALID_TRAFFIC"


@strawberry.type(name="ComparisonError")
class ComparisonErrorType:
    code: ComparisonErrorCodeEnum
    message: str
    unknown_slugs: list[str] = strawberry.field(
        description="The slugs that matched no model, for UNKNOWN_MODEL."
    )

    @classmethod
    def from_problem(cls, problem: ComparisonProblem) -> ComparisonErrorType:
        return cls(
            code=ComparisonErrorCodeEnum(problem.code.value),
            message=problem.message,
            unknown_slugs=list(problem.unknown_slugs),
        )


ComparisonResult = Annotated[
    ComparisonType | ComparisonErrorType, strawberry.union(name="ComparisonResult")
]
