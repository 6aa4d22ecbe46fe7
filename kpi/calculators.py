"""The KPI's arithmetic: plain numbers in, components and composites out.

No ORM, no clock: ``aggregates`` counts in SQL, ``services`` passes the counts here, so
every formula below is unit-tested without a database and a past period recomputed from
the same counts gives the same numbers.

Components are JSON-ready dicts: ``{"value": …, "n": …}``; shares add ``successes`` and
their 95% Wilson interval ``low``/``high``. A component without data has ``value`` None.

The composite (0–100) is ``100 × Σ wᵢ·xᵢ / Σ wᵢ`` over the components that have data, where
``xᵢ`` is the component normalised to 0–1. A component without data (a department that
had no instructions due, say) is left out and the remaining weights are renormalised, so
it neither helps nor hurts; the methodology page says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054
#: Weight of the prior in the Bayesian mean: as if every entity had 5 more ratings at the mean.
BAYES_C = 5
#: Fewer rated items than this: "not enough data" instead of a rank.
MIN_RATED_ITEMS = 3
#: The same score this many times in a row flags the rater for review.
FLAG_RUN_LENGTH = 10
#: A deputy "follows through" by evaluating an answer within this many working days.
FOLLOW_THROUGH_WORKING_DAYS = 10
#: Fewer promises due than this: the promises-kept component is "not enough data".
PROMISES_MIN_DUE = 5

DEPARTMENT = "department"
DEPUTY = "deputy"

DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    # The methodology: 0.35·timeliness + 0.25·(quality−1)/4 + 0.15·(1−rework) + 0.15·discipline
    # + 0.10·resolution, scaled by 0.9 when promises kept joined with 0.10 (migration 0004),
    # so a department without promises due keeps its composite.
    DEPARTMENT: {
        "timeliness": 0.315,
        "quality": 0.225,
        "rework": 0.135,
        "discipline": 0.135,
        "resolution": 0.09,
        "promises": 0.10,
    },
    # Request quality weighs most (it is the departments' rating of the deputy's work);
    # volume and activity count, but less, so filing many thin requests does not pay.
    DEPUTY: {
        "requests": 0.20,
        "request_quality": 0.30,
        "follow_through": 0.20,
        "resolution": 0.15,
        "activity": 0.15,
    },
}
WEIGHT_SUM_TOLERANCE = 0.001


# --- Statistics ---------------------------------------------------------------------------


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / n`` (None when ``n`` is 0).

    Unlike p ± z·√(p(1−p)/n) it stays inside [0, 1] and is honest for small n:
    8 of 10 gives [0.490, 0.943], 800 of 1000 gives [0.774, 0.824].
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def bayesian_mean(total: float, n: int, prior_mean: float, c: int = BAYES_C) -> float:
    """(C·m + Σr) / (C + n): the mean pulled towards ``prior_mean`` while ``n`` is small."""
    return (c * prior_mean + total) / (c + n)


def prior_mean(groups: Iterable[tuple[float, int]]) -> float | None:
    """The mean over every entity's ratings, from (sum, count) per entity; None without any."""
    total = count = 0.0
    for group_sum, group_count in groups:
        total += group_sum
        count += group_count
    return total / count if count else None


def median(values: Sequence[float]) -> float | None:
    """The median (the mean of the two middle values for an even count)."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def share(successes: float, n: int, **extra: Any) -> dict[str, Any]:
    """A share component: value, n, successes and the 95% Wilson interval."""
    interval = wilson_interval(successes, n)
    return {
        "value": _round(successes / n) if n else None,
        "n": n,
        "successes": successes,
        "low": _round(interval[0]) if interval else None,
        "high": _round(interval[1]) if interval else None,
        **extra,
    }


def rating_component(total: float, n: int, prior: float | None) -> dict[str, Any]:
    """A Bayesian-mean rating component; no ratings (or no prior) means no data."""
    value = bayesian_mean(total, n, prior) if n and prior is not None else None
    return {
        "value": _round(value),
        "n": n,
        "mean": _round(total / n) if n else None,
        "prior": _round(prior),
        "c": BAYES_C,
    }


# --- Departments --------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentInputs:
    """One department's counts for a period, as ``aggregates`` reads them."""

    answers_due: int = 0  # requests whose ORIGINAL due date fell in the period
    answered_on_time: int = 0  # … with a final answer by that original due date
    extended: int = 0  # … that got an approved extension
    answered_by_extended_due: int = 0  # … answered by the (extended) due date in force
    speed_middle: tuple[float, ...] = ()  # the middle one or two of the working-day durations
    speed_n: int = 0  # final answers given in the period
    ratings_sum: int = 0  # deputies' 1–5 ratings given in the period
    ratings_n: int = 0
    final_answers: int = 0  # final answers sent in the period
    reworked: int = 0  # … returned for rework
    closed: int = 0  # requests closed in the period
    resolved: int = 0
    partially_resolved: int = 0
    instructions_due: int = 0  # instructions whose original due date fell in the period
    instructions_on_time: int = 0  # … executed, the final report in by that date
    open_overdue: int = 0  # in progress and past the due date at the snapshot moment
    promises_due: int = 0  # promises whose date (the earlier of original and current) fell in it
    promises_kept_on_time: int = 0  # … kept (confirmed or resolved kept), reported by that date
    promises_kept_late: int = 0  # … kept, reported after that date
    promises_disputed: int = 0  # … disputed and not yet resolved at the snapshot moment


def department_components(inputs: DepartmentInputs, *, prior: float | None) -> dict[str, Any]:
    """Every department component of the methodology, with its n (and interval for shares)."""
    return {
        "timeliness": share(
            inputs.answered_on_time,
            inputs.answers_due,
            extended=inputs.extended,
            answered_by_extended_due=inputs.answered_by_extended_due,
        ),
        "speed": {
            "value": _round(sum(inputs.speed_middle) / len(inputs.speed_middle), 2)
            if inputs.speed_middle
            else None,
            "n": inputs.speed_n,
            "unit": "working_days",
        },
        "quality": rating_component(inputs.ratings_sum, inputs.ratings_n, prior),
        "rework": share(inputs.reworked, inputs.final_answers),
        "resolution": share(
            inputs.resolved + 0.5 * inputs.partially_resolved,
            inputs.closed,
            resolved=inputs.resolved,
            partially_resolved=inputs.partially_resolved,
        ),
        "discipline": share(inputs.instructions_on_time, inputs.instructions_due),
        "open_overdue": {"value": inputs.open_overdue, "n": inputs.open_overdue},
        "promises": promises_component(
            inputs.promises_kept_on_time,
            inputs.promises_due,
            kept_late=inputs.promises_kept_late,
            disputed=inputs.promises_disputed,
        ),
    }


def promises_component(
    kept_on_time: int,
    due: int,
    *,
    kept_late: int = 0,
    disputed: int = 0,
    min_n: int = PROMISES_MIN_DUE,
) -> dict[str, Any]:
    """Promises kept on time ÷ promises due, with the 95% Wilson interval.

    Below ``min_n`` promises due the share is "not enough data": ``value`` (and the
    interval) None, so the composite leaves it out and renormalises the other weights,
    as for any component without data; ``successes`` and ``n`` stay for the record.
    """
    component = share(kept_on_time, due, kept_late=kept_late, disputed=disputed, min_n=min_n)
    component["insufficient_data"] = due < min_n
    if due < min_n:
        component.update(value=None, low=None, high=None)
    return component


def department_normalized(components: Mapping[str, Any]) -> dict[str, float | None]:
    """The composite's terms on 0–1: quality (q−1)/4, rework as 1 − share."""
    quality = components["quality"]["value"]
    rework = components["rework"]["value"]
    return {
        "timeliness": components["timeliness"]["value"],
        "quality": None if quality is None else (quality - 1) / 4,
        "rework": None if rework is None else 1 - rework,
        "discipline": components["discipline"]["value"],
        "resolution": components["resolution"]["value"],
        "promises": components["promises"]["value"],
    }


# --- Deputies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeputyInputs:
    """One deputy's counts for a period, as ``aggregates`` reads them."""

    requests_filed: int = 0  # authored or co-authored, submitted in the period
    request_ratings_sum: int = 0  # departments' 1–5 ratings of the deputy's requests
    request_ratings_n: int = 0
    answers_to_evaluate: int = 0  # final answers whose evaluation window has passed (or evaluated)
    evaluated_in_time: int = 0  # … evaluated within 10 working days
    closed: int = 0  # the deputy's requests closed in the period
    resolved_or_partial: int = 0
    activities: int = 0  # receptions, reports to voters, field visits
    activities_by_kind: Mapping[str, int] = field(default_factory=dict)


def deputy_components(inputs: DeputyInputs, *, prior: float | None) -> dict[str, Any]:
    """Every deputy component of the methodology, with its n (and interval for shares)."""
    return {
        "requests": {"value": inputs.requests_filed, "n": inputs.requests_filed},
        "request_quality": rating_component(
            inputs.request_ratings_sum, inputs.request_ratings_n, prior
        ),
        "follow_through": share(inputs.evaluated_in_time, inputs.answers_to_evaluate),
        "resolution": share(inputs.resolved_or_partial, inputs.closed),
        "activity": {
            "value": inputs.activities,
            "n": inputs.activities,
            "by_kind": dict(sorted(inputs.activities_by_kind.items())),
        },
    }


def deputy_normalized(
    components: Mapping[str, Any], *, max_requests: int, max_activity: int
) -> dict[str, float | None]:
    """The composite's terms on 0–1: counts over the largest count among deputies."""
    quality = components["request_quality"]["value"]
    return {
        "requests": components["requests"]["value"] / max_requests if max_requests else None,
        "request_quality": None if quality is None else (quality - 1) / 4,
        "follow_through": components["follow_through"]["value"],
        "resolution": components["resolution"]["value"],
        "activity": components["activity"]["value"] / max_activity if max_activity else None,
    }


# --- Composite, ranks, weights ------------------------------------------------------------


def composite(normalized: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """100 × Σ wᵢ·xᵢ / Σ wᵢ over the terms that have data (None when none has)."""
    present = [
        (weights[key], value)
        for key, value in normalized.items()
        if value is not None and weights.get(key, 0) > 0
    ]
    weight_sum = sum(weight for weight, _value in present)
    if not present or weight_sum <= 0:
        return None
    return round(100 * sum(weight * value for weight, value in present) / weight_sum, 2)


@dataclass(frozen=True)
class RankItem:
    entity_id: int
    composite: float | None
    rated_items: int


def has_enough_data(item: RankItem) -> bool:
    return item.composite is not None and item.rated_items >= MIN_RATED_ITEMS


def rank_entities(items: Iterable[RankItem]) -> dict[int, int | None]:
    """Ranks 1..k over the entities with at least 3 rated items; None for the others.

    Higher composite first; equal composites are ordered by entity id so ranks are stable.
    """
    items = list(items)
    eligible = sorted(
        (item for item in items if has_enough_data(item)),
        key=lambda item: (-(item.composite or 0.0), item.entity_id),
    )
    ranks: dict[int, int | None] = {item.entity_id: None for item in items}
    ranks.update({item.entity_id: position for position, item in enumerate(eligible, 1)})
    return ranks


class WeightsError(ValueError):
    """Weights that cannot be used; the message says why (``services`` translates it)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def validate_weights(kind: str, weights: Mapping[str, Any]) -> dict[str, float]:
    """Known keys only, every key given, each a number ≥ 0, the sum 1 ± 0.001."""
    known = DEFAULT_WEIGHTS.get(kind)
    if known is None:
        raise WeightsError("unknown_kind", kind=kind)
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise WeightsError("unknown_keys", keys=unknown)
    missing = sorted(set(known) - set(weights))
    if missing:
        raise WeightsError("missing_keys", keys=missing)
    clean: dict[str, float] = {}
    for key in known:
        value = weights[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise WeightsError("not_a_number", key=key)
        if value < 0:
            raise WeightsError("negative", key=key)
        clean[key] = float(value)
    if abs(sum(clean.values()) - 1) > WEIGHT_SUM_TOLERANCE:
        raise WeightsError("bad_sum", total=round(sum(clean.values()), 4))
    return clean


def same_score_runs(
    scores: Sequence[int], min_length: int = FLAG_RUN_LENGTH
) -> list[tuple[int, int, int]]:
    """Runs of one score at least ``min_length`` long: (start index, length, score).

    The reference for the SQL in ``aggregates.same_score_runs`` (the gaps-and-islands query).
    """
    runs: list[tuple[int, int, int]] = []
    start = 0
    for index in range(1, len(scores) + 1):
        if index == len(scores) or scores[index] != scores[start]:
            if index - start >= min_length:
                runs.append((start, index - start, scores[start]))
            start = index
    return runs
