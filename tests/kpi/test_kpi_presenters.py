"""What the KPI pages show, from plain data: period labels, the period chooser and the
score cells (``kpi/presenters.py``). No database: snapshots' dicts in, words out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from kpi.calculators import DEPARTMENT, DEPUTY
from kpi.presenters import (
    RankingLine,
    cells_of,
    choose_period,
    component_cell,
    parse_period,
    period_choice,
    period_label,
    roman,
    sorted_lines,
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


# --- Period labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-07", "July 2026"),
        ("2026-Q3", "Q3 2026"),
        ("2026", "2026"),
        ("rolling90", "Last 90 days"),
        ("rolling1", "Last 1 day"),
        ("conv-8", "VIII convocation"),
    ],
)
def test_each_kind_of_period_reads_as_words(key: str, label: str) -> None:
    assert period_label(key) == label


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-07", "июль 2026"),
        ("2026-Q4", "IV квартал 2026"),
        ("2026-Q1", "I квартал 2026"),
        ("rolling90", "Последние 90 дней"),
        ("rolling1", "Последний 1 день"),
        ("conv-8", "VIII созыв"),
    ],
)
def test_periods_read_as_russian_words_with_roman_quarters_and_convocations(
    key: str, label: str
) -> None:
    with translation.override("ru"):
        assert period_label(key) == label


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-07", "шілде 2026"),
        ("2026-Q4", "2026 ж. IV-тоқсан"),
        ("rolling90", "Соңғы 90 күн"),
        ("conv-8", "VIII сайланым"),
    ],
)
def test_periods_read_as_kazakh_words(key: str, label: str) -> None:
    with translation.override("kk"):
        assert period_label(key) == label


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_no_period_label_shows_its_raw_key(language: str) -> None:
    with translation.override(language):
        for key in ("2026-07", "2026-Q4", "2026", "rolling90", "conv-8"):
            label = period_label(key)
            assert label != key or key == "2026"
            assert "Q4" not in label or language == "en"
            assert "rolling" not in label and "conv-" not in label


def test_quarters_and_convocations_count_in_roman_numerals() -> None:
    assert [roman(n) for n in (1, 2, 3, 4, 7, 8, 9, 14)] == [
        "I",
        "II",
        "III",
        "IV",
        "VII",
        "VIII",
        "IX",
        "XIV",
    ]


def test_a_key_that_is_no_period_is_shown_as_it_is() -> None:
    assert period_label("someday") == "someday"


# --- The period chooser --------------------------------------------------------------------------

COMPUTED = ["2026-09", "2026-08", "2026-Q3", "2026"]


def test_without_rolling_90_days_the_chooser_opens_on_the_newest_computed_period() -> None:
    choice = choose_period(None, COMPUTED)
    assert (choice.key, choice.label, choice.error) == ("2026-09", "September 2026", "")


def test_the_rolling_90_days_are_the_default_once_computed() -> None:
    assert choose_period("", ["2026-09", "rolling90"]).key == "rolling90"


def test_a_period_that_cannot_be_read_is_reported_and_the_default_chosen() -> None:
    asked = parse_period("2026-13")
    assert asked.key is None
    assert asked.error
    choice = choose_period("2026-13", COMPUTED)
    assert choice.key == "2026-09"
    assert choice.error == asked.error


def test_a_period_is_read_in_its_canonical_spelling() -> None:
    assert parse_period("2026-q3").key == "2026-Q3"


def test_the_chooser_groups_periods_by_kind_and_marks_the_chosen_one() -> None:
    choice = period_choice("2026-Q3", COMPUTED)
    assert [str(group["label"]) for group in choice.groups] == ["Months", "Quarters", "Years"]
    options = {option["key"]: option for group in choice.groups for option in group["options"]}
    assert list(options) == COMPUTED
    assert [key for key, option in options.items() if option["selected"]] == ["2026-Q3"]
    assert options["2026-08"]["label"] == "August 2026"


def test_a_period_never_computed_is_still_offered_so_the_page_can_say_so() -> None:
    choice = period_choice("2025-Q1", COMPUTED)
    keys = [option["key"] for group in choice.groups for option in group["options"]]
    assert keys[0] == "2026-09"
    assert "2025-Q1" in keys
    assert choice.label == "Q1 2025"


# --- Score cells ---------------------------------------------------------------------------------


def test_a_share_shows_its_percent_interval_and_what_n_counts() -> None:
    cell = component_cell(
        DEPARTMENT, "timeliness", {"value": 0.8333, "low": 0.5521, "high": 0.953, "n": 6}
    )
    assert cell.label == "Timeliness"
    assert cell.text == "83% (55–95%)"
    assert cell.n_text == "6 answers due"
    assert (cell.value, cell.has_data, cell.extra) == (0.8333, True, "")


def test_one_item_is_counted_in_the_singular() -> None:
    cell = component_cell(DEPARTMENT, "timeliness", {"value": 1.0, "low": 0.2, "high": 1.0, "n": 1})
    assert cell.n_text == "1 answer due"
    assert cell.text == "100% (20–100%)"


def test_answers_with_an_approved_extension_are_noted_under_timeliness() -> None:
    cell = component_cell(
        DEPARTMENT, "timeliness", {"value": 0.5, "low": 0.1, "high": 0.9, "n": 4, "extended": 2}
    )
    assert cell.extra == "2 with an approved extension"


def test_percentages_round_half_up_as_people_round() -> None:
    # 62.5% is 63%, not the 62% that rounding half to even would show.
    cell = component_cell(DEPARTMENT, "rework", {"value": 0.625, "low": 0.005, "high": 0.875})
    assert cell.text == "63% (1–88%)"


def test_a_rating_shows_two_decimals_and_the_plain_mean_beside_it() -> None:
    cell = component_cell(DEPARTMENT, "quality", {"value": 3.6875, "mean": 4.2, "n": 5})
    assert cell.text == "3.69"
    assert cell.extra == "mean of the ratings 4.20"
    assert cell.n_text == "5 ratings"


def test_speed_is_the_median_in_working_days_with_one_decimal() -> None:
    cell = component_cell(DEPARTMENT, "speed", {"value": 4.25, "n": 3})
    assert (cell.text, cell.extra, cell.n_text) == (
        "4.3",
        "working days (median)",
        "3 final answers",
    )


def test_a_count_is_shown_as_a_whole_number() -> None:
    cell = component_cell(DEPARTMENT, "open_overdue", {"value": 12, "n": 12})
    assert cell.text == "12"
    assert cell.n_text == ""


def test_a_component_without_data_is_a_dash_and_sorts_as_missing() -> None:
    missing = component_cell(DEPARTMENT, "timeliness", None)
    empty = component_cell(DEPARTMENT, "timeliness", {"value": None, "n": 0})
    assert (missing.text, missing.value, missing.has_data) == ("—", None, False)
    assert (empty.text, empty.n_text, empty.has_data) == ("—", "0 answers due", False)


def test_a_snapshot_becomes_one_cell_per_component_in_the_methodologys_order() -> None:
    cells = cells_of(DEPUTY, {"request_quality": {"value": 4.0, "n": 2}})
    keys = [cell.key for cell in cells]
    assert "request_quality" in keys
    assert len(keys) == len(set(keys)) > 1
    by_key = {cell.key: cell for cell in cells}
    assert by_key["request_quality"].text == "4.00"
    assert all(cell.text == "—" for key, cell in by_key.items() if key != "request_quality")


# --- Sorting the rankings ------------------------------------------------------------------------


def _line(entity_id: int, rank: int | None, composite: float | None, timeliness: float) -> Any:
    components = {"timeliness": {"value": timeliness, "n": 5, "low": 0.1, "high": 0.9}}
    return RankingLine(
        entity_id=entity_id,
        name=f"#{entity_id}",
        url="",
        rank=rank,
        insufficient_data=rank is None,
        rated_items=5 if rank else 1,
        composite=composite,
        cells=cells_of(DEPARTMENT, components),
    )


@pytest.mark.parametrize("sort", ["", "rank", "-rank", "composite", "-composite", "-timeliness"])
def test_entities_with_not_enough_data_sort_last_whatever_the_column(sort: str) -> None:
    lines = [_line(1, 1, 80.0, 0.5), _line(2, 2, 60.0, 0.4), _line(3, None, None, 1.0)]
    ordered = [line.entity_id for line in sorted_lines(lines, sort)]
    assert ordered[-1] == 3
    assert sorted(ordered[:2]) == [1, 2]


def test_ranked_entities_still_sort_by_the_column_asked_for() -> None:
    lines = [_line(1, 1, 80.0, 0.4), _line(2, 2, 60.0, 0.5), _line(3, None, None, 1.0)]
    assert [line.entity_id for line in sorted_lines(lines, "-timeliness")] == [2, 1, 3]
    assert [line.entity_id for line in sorted_lines(lines, "composite")] == [2, 1, 3]
    assert [line.entity_id for line in sorted_lines(lines, "-rank")] == [2, 1, 3]
