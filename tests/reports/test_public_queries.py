"""Query budgets of the public portal: the same count at 10 and at 1,000 requests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from instructions.models import Meeting, MeetingKind
from kpi.models import ActivityKind, DeputyActivity
from requests_app.models import DeputyRequest
from tests.factories import DemoDirectory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

#: Declared budgets. No session for an anonymous visitor: every query is the page's own.
BUDGETS = {
    # The daily counts' latest build (without today's: figures live), figures, latest
    # published requests, the plan. With today's build: the changed days, the table and the
    # live part for the figures (6).
    "overview": 4,
    # The count (SQLite: one query; PostgreSQL: the planner's estimate, then the count
    # bounded at 1,001 rows) and the page; the filter form's two select lists.
    "list": 5,
    "search": 5,
    # The request, its final answer.
    "detail": 2,
    # The daily counts' latest build, then live: totals, districts, categories, months.
    # With today's build: the changed days, then the table and the live part of districts,
    # categories and months (8).
    "statistics": 5,
    # Periods, then per kind: the run, its snapshots, the names (1 while nothing is computed).
    "rankings": 7,
    # The weights in force of each kind.
    "methodology": 2,
    # The daily counts' latest build (without today's: counted live), deputies with their
    # counts, their commissions. With today's build: the changed days, the stored counts
    # and the live part beside the deputies and their commissions (6, test_public_counts).
    "deputies": 3,
    # The deputy, commissions, activity counts, recent activities, published requests.
    "deputy": 5,
    "plan": 1,
}


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


def _pages(directory: DemoDirectory) -> dict[str, Callable[[], str]]:
    def first_public() -> str:
        item = DeputyRequest.objects.filter(is_public=True, status="closed").order_by("pk").first()
        assert item is not None
        return reverse("reports:public-request", args=[item.pk])

    return {
        "overview": lambda: reverse("reports:public"),
        "list": lambda: reverse("reports:public-requests"),
        "search": lambda: reverse("reports:public-requests") + "?search=Запрос",
        "detail": first_public,
        "statistics": lambda: reverse("reports:public-statistics"),
        "rankings": lambda: reverse("reports:public-rankings"),
        "methodology": lambda: reverse("reports:public-methodology"),
        "deputies": lambda: reverse("reports:public-deputies"),
        "deputy": lambda: reverse("reports:public-deputy", args=[directory.alice.pk]),
        "plan": lambda: reverse("reports:public-plan"),
    }


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("page", list(BUDGETS))
def test_public_pages_query_count_does_not_grow(
    directory: DemoDirectory, where: Places, page: str
) -> None:
    today = timezone.localdate()
    Meeting.objects.create(
        convocation=directory.convocation,
        kind=MeetingKind.SESSION,
        date=today,
        title="Сессия",
        created_by=directory.staff,
    )
    DeputyActivity.objects.create(
        deputy=directory.alice,
        kind=ActivityKind.FIELD_VISIT,
        date=today,
        recorded_by=directory.staff,
    )
    bulk_requests(directory, 10, where, with_answers=True)
    url = _pages(directory)[page]()
    client = Client()
    client.get(url)  # warm-up
    at_10 = count_queries(client, url)
    bulk_requests(directory, 990, where, with_answers=True)
    at_1000 = count_queries(client, url)
    assert at_10 == at_1000, f"{page}: {at_10} queries at 10 rows, {at_1000} at 1,000"
    assert at_1000 <= BUDGETS[page], f"{page}: {at_1000} queries, budget {BUDGETS[page]}"
