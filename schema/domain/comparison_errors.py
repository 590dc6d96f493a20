"""Checks of a comparison request, answered as a value (the contract's ComparisonError).

The checks run in this order and the first that fails is the answer:

1. TOO_FEW_MODELS: fewer than 2 names asked.
2. TOO_MANY_MODELS: more than 4 names asked.
3. DUPLICATE_MODEL: two or more names resolve to the same model (every such group named).
4. UNKNOWN_MODEL: names that resolve to no model (every one listed, in the order asked).
5. INVALID_TRAFFIC: a token count that is not finite, negative or above 10^15 a month, a
   cachedInputShare outside 0..1, an averageInputTokensPerRequest below 1 (every problem
   named).

Resolving names to models needs the database and happens before this; ``resolved`` maps
each asked name to the id of its model, or None when it names none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from schema.domain.comparison_text import join_words
from schema.domain.costs import Traffic
from schema.domain.money import format_decimal

MIN_MODELS = 2
MAX_MODELS = 4
MAX_TOKENS_PER_MONTH = Decimal(10) ** 15


class ComparisonErrorCode(StrEnum):
    UNKNOWN_MODEL = "UNKNOWN_MODEL"
    TOO_FEW_MODELS = "TOO_FEW_MODELS"
    TOO_MANY_MODELS = "TOO_MANY_MODELS"
    DUPLICATE_MODEL = "DUPLICATE_MODEL"
    INVALID_TRAFFIC = "INVALID_TRAFFIC"


@dataclass(frozen=True)
class ComparisonProblem:
    code: ComparisonErrorCode
    message: str
    unknown_slugs: tuple[str, ...] = ()
    """The names that matched no model, for UNKNOWN_MODEL."""


def _quoted(names: Sequence[str], conjunction: str = "and") -> str:
    return join_words((f"'{name}'" for name in names), conjunction)


def _count_problem(names: Sequence[str]) -> ComparisonProblem | None:
    if len(names) < MIN_MODELS:
        return ComparisonProblem(
            ComparisonErrorCode.TOO_FEW_MODELS,
            f"A comparison needs at least {MIN_MODELS} models, got {len(names)}.",
        )
    if len(names) > MAX_MODELS:
        return ComparisonProblem(
            ComparisonErrorCode.TOO_MANY_MODELS,
            f"A comparison takes at most {MAX_MODELS} models, got {len(names)}.",
        )
    return None


def _duplicate_problem(
    names: Sequence[str], resolved: Mapping[str, int | None], slug_by_id: Mapping[int, str]
) -> ComparisonProblem | None:
    names_by_id: dict[int, list[str]] = {}
    for name in names:
        model_id = resolved.get(name)
        if model_id is not None:
            names_by_id.setdefault(model_id, []).append(name)
    clashes = []
    for model_id, group in names_by_id.items():
        if len(group) < 2:
            continue
        model = slug_by_id.get(model_id, f"with id {model_id}")
        distinct = list(dict.fromkeys(group))
        if len(distinct) == 1:
            clashes.append(f"'{distinct[0]}' is asked more than once (model {model})")
        else:
            clashes.append(f"{_quoted(distinct)} name the same model {model}")
    if not clashes:
        return None
    return ComparisonProblem(ComparisonErrorCode.DUPLICATE_MODEL, "; ".join(clashes) + ".")


def _unknown_problem(
    names: Sequence[str], resolved: Mapping[str, int | None]
) -> ComparisonProblem | None:
    unknown = tuple(dict.fromkeys(name for name in names if resolved.get(name) is None))
    if not unknown:
        return None
    return ComparisonProblem(
        ComparisonErrorCode.UNKNOWN_MODEL,
        f"No model matches {_quoted(unknown, 'or')}.",
        unknown_slugs=unknown,
    )


def _shown(value: Decimal | int | float) -> str:
    number = Decimal(str(value))
    return format_decimal(number) if number.is_finite() else str(value)


def traffic_problems(traffic: Traffic) -> list[str]:
    """Every problem with the traffic, named with the API's field names."""
    problems = []
    for field, tokens in (
        ("inputTokensPerMonth", traffic.input_tokens_per_month),
        ("outputTokensPerMonth", traffic.output_tokens_per_month),
    ):
        if not Decimal(str(tokens)).is_finite():
            problems.append(f"{field} must be a finite number, got {_shown(tokens)}")
        elif tokens < 0:
            problems.append(f"{field} must not be negative, got {_shown(tokens)}")
        elif tokens > MAX_TOKENS_PER_MONTH:
            problems.append(f"{field} must be at most 10^15 tokens, got {_shown(tokens)}")
    share = traffic.cached_input_share
    if not Decimal(str(share)).is_finite() or not 0 <= share <= 1:
        problems.append(f"cachedInputShare must be between 0 and 1, got {_shown(share)}")
    average = traffic.average_input_tokens_per_request
    if average is not None and average < 1:
        problems.append(f"averageInputTokensPerRequest must be at least 1, got {average}")
    return problems


def validate_request(
    names: Sequence[str],
    resolved: Mapping[str, int | None],
    traffic: Traffic,
    *,
    slug_by_id: Mapping[int, str] | None = None,
) -> ComparisonProblem | None:
    """The first problem of the request in the documented order, or None when it is valid.

    ``slug_by_id`` names the models in DUPLICATE_MODEL messages ("'foo' and 'Foo' name the
    same model glm-4v-9b"); a name missing from ``resolved`` counts as unknown.
    """
    problem = (
        _count_problem(names)
        or _duplicate_problem(names, resolved, slug_by_id or {})
        or _unknown_problem(names, resolved)
    )
    if problem is not None:
        return problem
    invalid = traffic_problems(traffic)
    if invalid:
        return ComparisonProblem(ComparisonErrorCode.INVALID_TRAFFIC, "; ".join(invalid) + ".")
    return None
