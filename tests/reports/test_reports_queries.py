"""Query budgets of the dashboards, the summary API, the exports and the PDF report.

Each page is measured with 10 requests, then 990 more are inserted in bulk and it is
measured again: the number of queries must be the same (aggregates in SQL, never a query
per row) and within the declared budget.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maslikhat.accounts.models import User
from tests.factories import DemoDirectory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

#: Declared budgets (measured on SQLite and PostgreSQL; both give the same counts). Every
#: page pays 5 for the session and the user: read the session, read the user, and the idle
#: timeout's save of the session (SESSION_SAVE_EVERY_REQUEST: savepoint, update, release).
SESSION = 5
#: Staff dashboard: the filter's four select lists (4); the summary: counters and statuses,
#: departments, districts, categories, two month series (6); the overdue registry and its
#: working-day calendar (2); instruction counters and discipline (2), the discipline's
#: department names when there are instructions (1); the bell (1); the promises' figures and
#: their table per department (2); the daily counts' latest build, looked up by the request
#: counts, the instruction counters and the discipline (3; without today's build they count
#: live): 21.
DASHBOARD_BUDGET = SESSION + 21
#: Department: membership (actor), counters, executors' load, members, overdue list, its
#: calendar, instruction counters, the department, the bell, its promises' figures, its answers
#: sent despite the boilerplate warning, the daily counts' latest build (request counters and
#: instruction counters; without today's build they count live): 13.
DEPARTMENT_BUDGET = SESSION + 13
#: Deputy: the deputy (actor), the daily counts' latest build, the live counters (one query
#: over the authored and the co-authored requests; with today's build three instead: the
#: changed days, the stored rows, the live part, ``tests/reports/test_deputy_counts.py``),
#: to evaluate, overdue list, its calendar, instruction counters, the bell, the promises
#: awaiting the verdict (count, rows): 10.
DEPUTY_BUDGET = SESSION + 10
#: Summary API: the six summary queries (a deputy adds the actor).
SUMMARY_BUDGET = SESSION + 6
#: A small export: the bounded count, the rows, and per chunk of rows their co-executors,
#: their answers' evaluations and their promises.
EXPORT_BUDGET = SESSION + 5
#: The PDF: the summary (6), instruction counters and the daily counts' latest build (2), a
#: KPI run lookup per ranking (2).
PDF_BUDGET = SESSION + 10


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


def count_queries(client: Client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def assert_constant(
    directory: DemoDirectory,
    where: Places,
    user: Callable[[DemoDirectory], User],
    url: str,
    budget: int,
    params: dict | None = None,
) -> None:
    bulk_requests(directory, 10, where, with_answers=True)
    client = Client()
    client.force_login(user(directory))
    client.get(url, params or {})  # warm-up: first-request caches
    at_10 = count_queries(client, url, params)
    bulk_requests(directory, 990, where, with_answers=True)
    at_1000 = count_queries(client, url, params)
    assert at_10 == at_1000, f"{url}: {at_10} queries at 10 rows, {at_1000} at 1,000"
    assert at_1000 <= budget, f"{url}: {at_1000} queries, budget {budget}"


def test_the_staff_dashboard_query_count_does_not_grow(
    directory: DemoDirectory, where: Places
) -> None:
    assert_constant(
        directory, where, lambda d: d.staff, reverse("reports:dashboard"), DASHBOARD_BUDGET
    )


def test_the_filtered_dashboard_query_count_does_not_grow(
    directory: DemoDirectory, where: Places
) -> None:
    params = {
        "district": where.districts[0].pk,
        "lead_department": directory.finance.pk,
        "submitted_after": "2020-01-01",
    }
    # Two filter values are looked up to validate them.
    assert_constant(
        directory,
        where,
        lambda d: d.chair,
        reverse("reports:dashboard"),
        DASHBOARD_BUDGET + 2,
        params,
    )


def test_the_department_dashboard_query_count_does_not_grow(
    directory: DemoDirectory, where: Places
) -> None:
    assert_constant(
        directory,
        where,
        lambda d: d.finance_head,
        reverse("reports:dashboard-department"),
        DEPARTMENT_BUDGET,
    )


def test_the_deputy_dashboard_query_count_does_not_grow(
    directory: DemoDirectory, where: Places
) -> None:
    assert_constant(
        directory,
        where,
        lambda d: d.alice.user,
        reverse("reports:dashboard-deputy"),
        DEPUTY_BUDGET,
    )


def test_the_summary_api_query_count_does_not_grow(directory: DemoDirectory, where: Places) -> None:
    assert_constant(directory, where, lambda d: d.staff, "/api/v1/reports/summary/", SUMMARY_BUDGET)
    assert_constant(
        directory,
        where,
        lambda d: d.bob.user,
        "/api/v1/reports/summary/",
        SUMMARY_BUDGET + 1,
        {"status": "in_progress"},
    )


def test_an_export_query_count_does_not_grow(directory: DemoDirectory, where: Places) -> None:
    assert_constant(
        directory,
        where,
        lambda d: d.staff,
        "/api/v1/requests/export/",
        EXPORT_BUDGET,
        {"format": "csv"},
    )


def test_the_pdf_report_query_count_does_not_grow(directory: DemoDirectory, where: Places) -> None:
    assert_constant(
        directory,
        where,
        lambda d: d.staff,
        reverse("reports:quarterly-report", args=["2026-Q3"]),
        PDF_BUDGET,
    )
