"""The KPI's arithmetic without a database: a worked example by hand, the edge cases,
the Wilson interval, the Bayesian mean, weights, ranks, runs of equal scores, periods."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kpi import calculators as calc
from kpi.calculators import DepartmentInputs, DeputyInputs, RankItem
from kpi.periods import InvalidPeriod, Period, current_periods

D = datetime.date
WEIGHTS = calc.DEFAULT_WEIGHTS[calc.DEPARTMENT]


def test_worked_example_by_hand() -> None:
    """Finance in 2026-Q3 (the same scenario as ``test_kpi_services.worked_example``).

    timeliness  5 answers due, 2 given by the ORIGINAL due date     → 2/5 = 0.4
                (one more was extended and answered by the new date: shown apart, still late;
                one had only an interim answer: not an answer)
    quality     finance's ratings 5, 3, 4 (n = 3, Σ = 12); mobility's: 2
                m = (12 + 2) / 4 = 3.5
                (C·m + Σr) / (C + n) = (5·3.5 + 12) / (5 + 3) = 29.5 / 8 = 3.6875
                normalised (3.6875 − 1) / 4 = 0.671875
    rework      5 final answers sent, 1 returned                   → 1/5 = 0.2; 1 − 0.2 = 0.8
    resolution  3 closed: 2 resolved, 1 partially                  → (2 + ½) / 3 = 0.8333…
    discipline  4 instructions due, 2 executed by the deadline     → 2/4 = 0.5
    composite   100 × (0.35·0.4 + 0.25·0.671875 + 0.15·0.8 + 0.15·0.5 + 0.10·0.8333…)
              = 100 × (0.14 + 0.16796875 + 0.12 + 0.075 + 0.0833333)
              = 100 × 0.5863021 = 58.63
    """
    inputs = DepartmentInputs(
        answers_due=5,
        answered_on_time=2,
        extended=1,
        answered_by_extended_due=1,
        ratings_sum=12,
        ratings_n=3,
        final_answers=5,
        reworked=1,
        closed=3,
        resolved=2,
        partially_resolved=1,
        instructions_due=4,
        instructions_on_time=2,
        open_overdue=1,
        speed_middle=(9, 12),
        speed_n=4,
    )
    prior = calc.prior_mean([(12, 3), (2, 1)])
    assert prior == 3.5
    components = calc.department_components(inputs, prior=prior)
    assert components["timeliness"]["value"] == 0.4
    assert components["timeliness"]["extended"] == 1
    assert components["quality"]["value"] == 3.6875
    assert components["rework"]["value"] == 0.2
    assert components["resolution"]["value"] == 0.8333
    assert components["discipline"]["value"] == 0.5
    assert components["speed"]["value"] == 10.5  # median of 4: mean of the middle two
    assert components["open_overdue"]["value"] == 1
    normalized = calc.department_normalized(components)
    assert normalized["quality"] == pytest.approx(0.671875)
    assert normalized["rework"] == pytest.approx(0.8)
    assert calc.composite(normalized, WEIGHTS) == 58.63


def test_wilson_interval_of_8_out_of_10() -> None:
    low, high = calc.wilson_interval(8, 10)  # type: ignore[misc]
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (0, 10, (0.0, 0.278)),
        (10, 10, (0.722, 1.0)),
        (1, 1, (0.207, 1.0)),
        (800, 1000, (0.774, 0.824)),
        (2, 4, (0.150, 0.850)),
    ],
)
def test_wilson_interval_known_values(
    successes: int, n: int, expected: tuple[float, float]
) -> None:
    low, high = calc.wilson_interval(successes, n)  # type: ignore[misc]
    assert (round(low, 3), round(high, 3)) == expected


def test_wilson_interval_narrows_with_more_data_for_the_same_share() -> None:
    small = calc.wilson_interval(4, 5)
    large = calc.wilson_interval(400, 500)
    assert small is not None and large is not None
    assert large[1] - large[0] < small[1] - small[0]


def test_wilson_interval_of_nothing_is_none() -> None:
    assert calc.wilson_interval(0, 0) is None
    assert calc.share(0, 0) == {"value": None, "n": 0, "successes": 0, "low": None, "high": None}


def test_bayesian_mean_pulls_few_ratings_towards_the_mean() -> None:
    # One 5 among departments averaging 3: (5·3 + 5) / (5 + 1) = 3.333…
    assert calc.bayesian_mean(5, 1, 3.0) == pytest.approx(20 / 6)
    # A hundred 5s: (5·3 + 500) / 105 = 4.9047…
    assert calc.bayesian_mean(500, 100, 3.0) == pytest.approx(515 / 105)
    assert calc.bayesian_mean(0, 0, 3.0) == 3.0


def test_no_data_gives_no_components_and_no_composite() -> None:
    components = calc.department_components(DepartmentInputs(), prior=None)
    for key in ("timeliness", "speed", "quality", "rework", "resolution", "discipline"):
        assert components[key]["value"] is None, key
        assert components[key]["n"] == 0
    assert components["open_overdue"]["value"] == 0
    normalized = calc.department_normalized(components)
    assert calc.composite(normalized, WEIGHTS) is None


def test_one_item_counts_but_does_not_rank() -> None:
    inputs = DepartmentInputs(answers_due=1, answered_on_time=1, ratings_sum=5, ratings_n=1)
    components = calc.department_components(inputs, prior=4.0)
    assert components["timeliness"]["value"] == 1.0
    assert components["timeliness"]["low"] == pytest.approx(0.2065, abs=1e-4)
    # (5·4 + 5) / 6
    assert components["quality"]["value"] == pytest.approx(25 / 6, abs=1e-4)
    ranks = calc.rank_entities([RankItem(1, 90.0, rated_items=1)])
    assert ranks == {1: None}


def test_all_late_gives_zero_timeliness_with_an_honest_interval() -> None:
    components = calc.department_components(
        DepartmentInputs(answers_due=6, answered_on_time=0), prior=None
    )
    assert components["timeliness"]["value"] == 0.0
    assert components["timeliness"]["low"] == 0.0
    assert components["timeliness"]["high"] == pytest.approx(0.3903, abs=1e-4)


def test_extension_is_shown_apart_and_does_not_make_a_late_answer_on_time() -> None:
    # Due 05.08 (original), extended to 20.08, answered 18.08: late against the original.
    components = calc.department_components(
        DepartmentInputs(answers_due=1, answered_on_time=0, extended=1, answered_by_extended_due=1),
        prior=None,
    )
    assert components["timeliness"]["value"] == 0.0
    assert components["timeliness"]["extended"] == 1
    assert components["timeliness"]["answered_by_extended_due"] == 1


def test_a_missing_component_is_left_out_and_the_weights_renormalised() -> None:
    # No instructions due: discipline has no data. Everything else perfect → 100, not 85.
    normalized = {
        "timeliness": 1.0,
        "quality": 1.0,
        "rework": 1.0,
        "discipline": None,
        "resolution": 1.0,
    }
    assert calc.composite(normalized, WEIGHTS) == 100.0
    # Only timeliness (0.5) and discipline (1.0): (0.35·0.5 + 0.15·1) / 0.5 = 0.65
    only_two = dict.fromkeys(WEIGHTS, None) | {"timeliness": 0.5, "discipline": 1.0}
    assert calc.composite(only_two, WEIGHTS) == 65.0


def test_deputy_components_and_composite_by_hand() -> None:
    """requests 4 of max 8 → 0.5; quality (5·3 + 4+4+5) / 8 = 3.5 → 0.625;
    follow-through 3/4 = 0.75; resolution 2/3; activity 6 of max 12 → 0.5.
    100 × (0.2·0.5 + 0.3·0.625 + 0.2·0.75 + 0.15·0.6667 + 0.15·0.5) = 61.25"""
    inputs = DeputyInputs(
        requests_filed=4,
        request_ratings_sum=13,
        request_ratings_n=3,
        answers_to_evaluate=4,
        evaluated_in_time=3,
        closed=3,
        resolved_or_partial=2,
        activities=6,
        activities_by_kind={"reception": 4, "field_visit": 2},
    )
    components = calc.deputy_components(inputs, prior=3.0)
    assert components["request_quality"]["value"] == 3.5
    assert components["follow_through"]["value"] == 0.75
    assert components["activity"]["by_kind"] == {"field_visit": 2, "reception": 4}
    normalized = calc.deputy_normalized(components, max_requests=8, max_activity=12)
    weights = calc.DEFAULT_WEIGHTS[calc.DEPUTY]
    assert calc.composite(normalized, weights) == 61.25


def test_deputy_counts_without_anyone_having_any_are_left_out() -> None:
    components = calc.deputy_components(DeputyInputs(), prior=None)
    normalized = calc.deputy_normalized(components, max_requests=0, max_activity=0)
    assert normalized == dict.fromkeys(normalized)


def test_ranks_are_1_to_k_over_entities_with_enough_rated_items() -> None:
    ranks = calc.rank_entities(
        [
            RankItem(1, 70.0, 10),
            RankItem(2, 95.0, 2),  # best composite, but only 2 rated items
            RankItem(3, 80.0, 3),
            RankItem(4, None, 5),  # no composite
            RankItem(5, 70.0, 4),  # ties with 1: the lower id first
        ]
    )
    assert ranks == {1: 2, 2: None, 3: 1, 4: None, 5: 3}


def test_weights_validation() -> None:
    good = {
        "timeliness": 0.4,
        "quality": 0.2,
        "rework": 0.15,
        "discipline": 0.15,
        "resolution": 0.05,
        "promises": 0.05,
    }
    assert calc.validate_weights("department", good)["timeliness"] == 0.4
    assert calc.validate_weights("department", good | {"resolution": 0.0505})
    cases: dict[str, dict[str, Any]] = {
        "unknown_keys": good | {"speed": 0.0},
        "missing_keys": {k: v for k, v in good.items() if k != "rework"},
        "negative": good | {"rework": -0.15, "timeliness": 0.7},
        "bad_sum": good | {"timeliness": 0.5},
        "not_a_number": good | {"quality": "0.2"},
    }
    for code, weights in cases.items():
        with pytest.raises(calc.WeightsError) as error:
            calc.validate_weights("department", weights)
        assert error.value.code == code
    with pytest.raises(calc.WeightsError):
        calc.validate_weights("ministry", good)


def test_same_score_runs() -> None:
    scores = [4] * 3 + [5] * 10 + [3] + [5] * 9 + [2] * 12
    assert calc.same_score_runs(scores) == [(3, 10, 5), (23, 12, 2)]
    assert calc.same_score_runs([5] * 9) == []


def test_median() -> None:
    assert calc.median([]) is None
    assert calc.median([3]) == 3
    assert calc.median([5, 1, 3]) == 3
    assert calc.median([4, 1, 3, 2]) == 2.5


# --- Periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "bounds"),
    [
        ("2026-07", "2026-07", (D(2026, 7, 1), D(2026, 7, 31))),
        ("2026-02", "2026-02", (D(2026, 2, 1), D(2026, 2, 28))),
        ("2026-Q3", "2026-Q3", (D(2026, 7, 1), D(2026, 9, 30))),
        ("2026-q4", "2026-Q4", (D(2026, 10, 1), D(2026, 12, 31))),
        ("2026", "2026", (D(2026, 1, 1), D(2026, 12, 31))),
        ("rolling90", "rolling90", (D(2026, 9, 1), D(2026, 11, 29))),
    ],
)
def test_periods_parse_and_bound(text: str, key: str, bounds: tuple[D, D]) -> None:
    period = Period.parse(text)
    assert period.key == key
    assert period.natural_bounds(D(2026, 11, 29)) == bounds


def test_a_period_is_cut_at_the_snapshot_date() -> None:
    assert Period.parse("2026-Q4").bounds(D(2026, 11, 15)) == (D(2026, 10, 1), D(2026, 11, 15))
    with pytest.raises(InvalidPeriod):
        Period.parse("2027").bounds(D(2026, 11, 15))


def test_convocation_period_uses_its_term() -> None:
    period = Period.parse("conv-8")
    assert period.convocation == 8
    term = (D(2023, 3, 19), None)
    assert period.bounds(D(2026, 1, 10), term) == (D(2023, 3, 19), D(2026, 1, 10))
    with pytest.raises(InvalidPeriod):
        period.bounds(D(2026, 1, 10), None)


@pytest.mark.parametrize(
    "garbage", ["", "2026-13", "2026-Q5", "26", "rolling0", "rolling9999", "conv-", "x", None, 7]
)
def test_garbage_periods_are_rejected_with_a_clear_message(garbage: object) -> None:
    with pytest.raises(InvalidPeriod) as error:
        Period.parse(garbage)
    assert error.value.field == "period"
    assert str(error.value.message)


def test_current_periods_of_a_date() -> None:
    keys = [p.key for p in current_periods(D(2026, 7, 31), 8)]
    assert keys == ["2026-07", "2026-Q3", "2026", "rolling90", "conv-8"]
