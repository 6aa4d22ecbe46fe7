"""The dashboards' cards and charts are declared as data; these turn a selector's plain
figures into what the templates draw (``reports/presenters.py``). No database."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from reports import presenters
from reports.presenters import Card, Chart, Series

WEDNESDAY = datetime.date(2026, 7, 15)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_a_chart_labels_each_row_and_draws_one_series_per_declared_field() -> None:
    spec = Chart(
        "districts",
        "bar",
        "by_district",
        "name",
        (Series("Received", "received"), Series("Published", "published")),
        empty_label="No district",
        horizontal=True,
    )
    rows: list[dict[str, Any]] = [
        {"name": "Medeu", "received": 7, "published": 3},
        {"name": None, "received": 2, "published": 0},
    ]
    assert presenters.chart(spec, rows) == {
        "type": "bar",
        "labels": ["Medeu", "No district"],
        "datasets": [
            {"label": "Received", "data": [7, 2]},
            {"label": "Published", "data": [3, 0]},
        ],
        "options": {"indexAxis": "y"},
    }


def test_charts_read_the_rows_their_declaration_names() -> None:
    rows: dict[str, Any] = {"by_month": [{"month": "2026-07", "received": 4, "answered": 1}]}
    spec = Chart("months", "line", "by_month", "month", (Series("Answered", "answered"),))
    drawn = presenters.charts([spec], rows)
    assert drawn == {
        "months": {
            "type": "line",
            "labels": ["2026-07"],
            "datasets": [{"label": "Answered", "data": [1]}],
            "options": {},
        }
    }


def test_every_staff_chart_reads_rows_the_dashboard_provides() -> None:
    provided = {"funnel", "top_departments", "by_district", "by_category", "by_month"}
    assert {spec.rows for spec in presenters.STAFF_CHARTS} <= provided
    assert [spec.key for spec in presenters.STAFF_CHARTS] == [
        "funnel",
        "departments",
        "districts",
        "categories",
        "months",
    ]


def test_a_card_shows_its_counter_and_links_to_the_registry_filtered_as_declared() -> None:
    spec = Card(
        "Due this week", "due_this_week", "warning", presenters._due_this_week, hint="by Sunday"
    )
    links: list[dict[str, Any]] = []

    def link(filters: dict[str, Any]) -> str:
        links.append(filters)
        return "/requests/?…"

    [card] = presenters.cards([spec], {"due_this_week": 5, "open": 9}, WEDNESDAY, link)
    assert card == {
        "label": "Due this week",
        "value": 5,
        "hint": "by Sunday",
        "url": "/requests/?…",
        "tone": "warning",
    }
    # Due this week: from today to Sunday, in progress.
    assert links == [
        {"status": ["in_progress"], "due_after": "2026-07-15", "due_before": "2026-07-19"}
    ]


def test_department_cards_have_no_hint_and_open_the_departments_registry() -> None:
    counters = {
        "in_progress": 4,
        "unassigned": 1,
        "due_this_week": 2,
        "overdue_open": 3,
        "awaiting_evaluation": 0,
    }
    shown = presenters.cards(
        presenters.DEPARTMENT_CARDS,
        counters,
        WEDNESDAY,
        lambda f: presenters.url("requests:list", **f),
    )
    assert [(card["label"], card["value"]) for card in shown] == [
        ("In progress", 4),
        ("Without an executor", 1),
        ("Due this week", 2),
        ("Overdue", 3),
        ("Awaiting evaluation", 0),
    ]
    assert all("hint" not in card for card in shown)
    assert shown[1]["url"] == "/requests/?status=in_progress&unassigned=true"


@pytest.mark.parametrize(
    ("today", "periods"),
    [
        (datetime.date(2026, 2, 1), ["2026-Q1", "2025-Q4"]),
        (datetime.date(2026, 11, 30), ["2026-Q4", "2026-Q3"]),
    ],
)
def test_the_pdf_report_offers_this_quarter_and_the_one_before(
    today: datetime.date, periods: list[str]
) -> None:
    assert presenters.report_periods(today) == periods


def test_the_department_table_sorts_numbers_largest_first_and_missing_ones_last() -> None:
    rows: list[dict[str, Any]] = [
        {"name": "b", "median_days": 3.0},
        {"name": "A", "median_days": None},
        {"name": "c", "median_days": 5.0},
    ]
    by_days = presenters.sorted_departments(rows, "-median_days")
    assert [row["name"] for row in by_days] == ["c", "b", "A"]
    assert [row["name"] for row in presenters.sorted_departments(rows, "name")] == ["A", "b", "c"]
