"""The curated file's schema. Validation names the file, the record and the field at fault."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from schema.domain.facts import CAPABILITIES
from schema.domain.slugs import is_slug


class CuratedFileError(ValueError):
    """The curated file is unusable; nothing from it is written."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Slug = Annotated[str, Field(min_length=1, max_length=200)]
NonNegative = Annotated[Decimal, Field(ge=0)]


class SourceSpec(_Strict):
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    retrieved_at: date


class OrganizationSpec(_Strict):
    slug: Slug
    name: str = Field(min_length=1)
    url: str | None = None


class ProviderSpec(OrganizationSpec):
    pass


class BenchmarkSpec(_Strict):
    slug: Slug
    name: str = Field(min_length=1)
    higher_is_better: bool = True


class FactsSpec(_Strict):
    released_on: date | None = None
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    parameters_billions: Decimal | None = Field(default=None, gt=0)
    architecture: str | None = None
    license: str | None = None
    open_weights: bool | None = None
    knowledge_cutoff: date | None = None
    input_modalities: list[str] | None = None
    output_modalities: list[str] | None = None
    capabilities: list[str] | None = None

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - set(CAPABILITIES))
        if unknown:
            raise ValueError(f"unknown capabilities {unknown}; known: {list(CAPABILITIES)}")
        return value


class PriceSpec(_Strict):
    input_per_mtok: NonNegative | None = None
    output_per_mtok: NonNegative | None = None
    cached_input_per_mtok: NonNegative | None = None
    effective_from: date


class OfferingSpec(_Strict):
    provider: Slug
    provider_model_id: str = Field(min_length=1)
    region: str | None = None
    context_window: int | None = Field(default=None, gt=0)
    source: str
    price: PriceSpec | None = None


class ModelSpec(_Strict):
    slug: Slug
    name: str = Field(min_length=1)
    creator: Slug | None = None
    source: str
    facts: FactsSpec = FactsSpec()
    fact_sources: dict[str, str] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    benchmarks: dict[str, Decimal] = Field(default_factory=dict)
    offerings: list[OfferingSpec] = Field(default_factory=list)

    @field_validator("slug")
    @classmethod
    def _slug_form(cls, value: str) -> str:
        if not is_slug(value):
            raise ValueError(f"{value!r} is not a slug (lowercase letters, digits, '.', '-')")
        return value

    @field_validator("fact_sources")
    @classmethod
    def _facts_exist(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FactsSpec.model_fields))
        if unknown:
            raise ValueError(f"fact_sources names unknown facts {unknown}")
        return value


class CuratedCatalog(_Strict):
    sources: dict[str, SourceSpec]
    organizations: list[OrganizationSpec] = Field(default_factory=list)
    providers: list[ProviderSpec] = Field(default_factory=list)
    benchmarks: list[BenchmarkSpec] = Field(default_factory=list)
    models: list[ModelSpec]

    @model_validator(mode="after")
    def _references_resolve(self) -> CuratedCatalog:
        organizations = {org.slug for org in self.organizations}
        providers = {provider.slug for provider in self.providers}
        benchmarks = {benchmark.slug for benchmark in self.benchmarks}
        problems: list[str] = []
        for index, model in enumerate(self.models):
            where = f"models[{index}] ({model.slug})"
            if model.creator is not None and model.creator not in organizations:
                problems.append(f"{where}, field 'creator': unknown organization {model.creator!r}")
            for name, source in [("source", model.source), *model.fact_sources.items()]:
                if source not in self.sources:
                    problems.append(f"{where}, field {name!r}: unknown source {source!r}")
            problems += [
                f"{where}, field 'benchmarks.{slug}': unknown benchmark {slug!r}"
                for slug in model.benchmarks
                if slug not in benchmarks
            ]
            for position, offering in enumerate(model.offerings):
                at = f"{where}, field 'offerings[{position}]"
                if offering.provider not in providers:
                    problems.append(f"{at}.provider': unknown provider {offering.provider!r}")
                if offering.source not in self.sources:
                    problems.append(f"{at}.source': unknown source {offering.source!r}")
        slugs = [model.slug for model in self.models]
        problems += [
            f"model slug {s!r} appears twice" for s in sorted(set(slugs)) if slugs.count(s) > 1
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class _DecimalLoader(yaml.SafeLoader):
    """YAML floats become Decimal, so a price written as 0.05 is exactly 0.05."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _describe(error: ErrorDetails, data: Any) -> str:
    location = list(error["loc"])
    record = ""
    if len(location) >= 2 and location[0] == "models" and isinstance(location[1], int):
        models = data.get("models") if isinstance(data, dict) else None
        slug = models[location[1]].get("slug") if isinstance(models, list) else None
        record = f"record models[{location[1]}] ({slug}), "
        location = location[2:]
    field = ".".join(str(part) for part in location) or "(whole file)"
    return f"{record}field {field!r}: {error['msg']}"


def read_curated(path: Path) -> CuratedCatalog:
    """Parse and validate the whole file before anything is written."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)  # noqa: S506
    except (OSError, yaml.YAMLError) as error:
        raise CuratedFileError(f"{path}: cannot read: {error}") from error
    try:
        return CuratedCatalog.model_validate(data)
    except ValidationError as error:
        details = "\n  ".join(_describe(item, data) for item in error.errors())
        raise CuratedFileError(f"{path}: invalid curated catalog:\n  {details}") from error
