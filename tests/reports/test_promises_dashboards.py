"""Promises on the dashboards, and the answers a head sent despite the boilerplate warning.

Hand computation of ``book`` (today = the day the test runs):

- finance: A kept on time, B kept late (date ten days ago, reported today), C open (date
  in 60 days), D overdue (open, five days late), E disputed (still open, date ahead), F
  open with its date on the month's last day — due: A, B, D = 3; kept on time: A = 1;
  overdue: D; disputed: E; to keep this month: D if its date is in this month, F;
- mobility: G reported, awaiting Alice's verdict (she is the author), H kept on time —
  due 1, kept on time 1.

Staff see every promise (unpublished ones too: the dashboards are not the public portal).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment
from commitments.selectors import month_bounds
from maslikhat.accounts.models import User
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import actor_for
from reports import promise_dashboards
from reports.selectors import department_dashboard, deputy_dashboard, staff_dashboard
from requests_app.models import Response
from tests.factories import DemoDirectory
from tests.reports.promise_data import (
    bulk_promises,
    dispute,
    keep,
    move_due,
    promised,
    report,
    unique_text,
)
from tests.reports_helpers import Places, bulk_requests, places
from tests.requests_helpers import refresh

pytestmark = pytest.mark.django_db


@dataclass
class Book:
    a: Commitment
    b: Commitment
    c: Commitment
    d: Commitment
    e: Commitment
    f: Commitment
    g: Commitment
    h: Commitment


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def book(directory: DemoDirectory) -> Book:
    from commitments.services import commitment_confirm

    today = timezone.localdate()
    finance, mobility = directory.finance, directory.mobility
    a = keep(directory, promised(directory, lead=finance))
    b = promised(directory, lead=finance, public=False)
    report(directory, b)
    b = move_due(b, today - datetime.timedelta(days=10))
    b = commitment_confirm(pk=b.pk, by=refresh(b.request).author.user)
    c = promised(directory, lead=finance, close=False)
    d = move_due(promised(directory, lead=finance), today - datetime.timedelta(days=5))
    e = dispute(directory, promised(directory, lead=finance))
    f = move_due(promised(directory, lead=finance), month_bounds(today)[1])
    g = report(directory, promised(directory, lead=mobility, author=directory.alice))
    h = keep(directory, promised(directory, lead=mobility, author=directory.bob))
    return Book(a, b, c, d, e, f, g, h)


def test_the_staff_dashboard_counts_promises_against_a_hand_computation(
    directory: DemoDirectory, book: Book
) -> None:
    today = timezone.localdate()
    first, last = month_bounds(today)
    data = staff_dashboard(actor=actor_for(directory.staff), params={}, today=today)
    promises = data["promises"]
    this_month = sum(
        1
        for item in (book.c, book.d, book.e, book.f, book.g)
        if first <= Commitment.objects.get(pk=item.pk).due_date <= last
    )
    assert promises["totals"]["due_this_month"] == this_month >= 1
    assert promises["totals"]["disputed"] == 1
    assert promises["totals"]["total"] == 8
    rows = {row["code"]: row for row in promises["by_department"]}
    assert (rows["finance"]["kept_on_time"], rows["finance"]["due"]) == (1, 3)
    assert rows["finance"]["kept_share"] == pytest.approx(1 / 3)
    assert (rows["finance"]["overdue"], rows["finance"]["disputed"]) == (1, 1)
    assert (rows["mobility"]["kept_on_time"], rows["mobility"]["due"]) == (1, 1)
    # The lowest kept share first.
    assert [row["code"] for row in promises["by_department"]] == ["finance", "mobility"]

    client = Client()
    client.force_login(directory.staff)
    html = client.get(reverse("reports:dashboard")).content.decode()
    assert "data-dashboard-promises" in html
    assert 'data-figure="disputed">1<' in html
    assert "1 / 3" in html and "33%" in html
    assert f"?due_before={last:%Y-%m-%d}" in html


def test_the_department_dashboard_shows_its_own_promises(
    directory: DemoDirectory, book: Book
) -> None:
    today = timezone.localdate()
    data = department_dashboard(actor=actor_for(directory.mobility_head), today=today)
    totals = data["promises"]["totals"]
    assert (totals["total"], totals["kept_on_time"], totals["due"], totals["overdue"]) == (
        2,
        1,
        1,
        0,
    )
    finance = department_dashboard(actor=actor_for(directory.finance_exec), today=today)
    assert finance["promises"]["totals"]["total"] == 6
    assert finance["promises"]["totals"]["overdue"] == 1


def test_the_deputy_dashboard_lists_promises_awaiting_the_verdict(
    directory: DemoDirectory, book: Book
) -> None:
    alice = deputy_dashboard(actor=actor_for(directory.alice.user))["promises"]
    assert alice["awaiting_count"] == 1
    assert [item.pk for item in alice["awaiting"]] == [book.g.pk]
    # Bob's promise H is settled; nothing awaits him.
    assert deputy_dashboard(actor=actor_for(directory.bob.user))["promises"]["awaiting_count"] == 0
    client = Client()
    client.force_login(directory.alice.user)
    html = client.get(reverse("reports:dashboard-deputy")).content.decode()
    assert f'data-promise="{book.g.pk}"' in html
    assert f"/requests/{book.g.request_id}/#promise" in html


def test_answers_sent_despite_the_boilerplate_warning_against_a_hand_computation(
    directory: DemoDirectory, settings: Any
) -> None:
    """Finance sends four final answers: 1 new; 2 the same text (warned: approved with a
    comment); 3 new with a comment nobody asked for (below the threshold: not counted);
    4 the same text again, sent 40 days ago (warned). Mobility sends the same text once:
    its first, so no warning. All time: 2 of 4; the last 30 days: 1 of 3."""
    settings.BOILERPLATE_SIMILARITY_THRESHOLD = 0.6
    finance, mobility = directory.finance, directory.mobility
    same = unique_text(10_001)
    promised(directory, lead=finance, text=same)
    promised(directory, lead=finance, text=same, boilerplate_comment="Тот же план работ.")
    promised(directory, lead=finance, text=unique_text(10_002), boilerplate_comment="Пояснение.")
    old = promised(directory, lead=finance, text=same, boilerplate_comment="Тот же план.")
    promised(directory, lead=mobility, text=same)
    long_ago = timezone.now() - datetime.timedelta(days=40)
    Response.objects.filter(pk=old.response_id).update(sent_at=long_ago)
    events = AuditEvent.objects.filter(
        action="approve_final", changes__has_key="boilerplate_comment"
    )
    assert events.count() == 3  # the comment nobody asked for is kept too

    everything = promise_dashboards.answers_sent_despite_warning(finance.pk)
    assert (everything["despite_warning"], everything["sent"]) == (2, 4)
    assert everything["share"] == 0.5
    since = timezone.localdate() - datetime.timedelta(days=30)
    recent = promise_dashboards.answers_sent_despite_warning(finance.pk, since=since)
    assert (recent["despite_warning"], recent["sent"]) == (1, 3)
    assert promise_dashboards.answers_sent_despite_warning(mobility.pk)["despite_warning"] == 0

    data = department_dashboard(actor=actor_for(directory.finance_head))
    assert data["promises"]["boilerplate"]["despite_warning"] == 2
    client = Client()
    client.force_login(directory.finance_head)
    html = client.get(reverse("reports:dashboard-department")).content.decode()
    assert 'data-figure="despite-warning"' in html and "(50%)" in html


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url_name", "user"),
    [
        ("reports:dashboard", lambda d: d.staff),
        ("reports:dashboard-department", lambda d: d.finance_head),
        ("reports:dashboard-deputy", lambda d: d.alice.user),
    ],
)
def test_dashboard_query_counts_are_the_same_at_10_and_1000_promises(
    directory: DemoDirectory,
    where: Places,
    url_name: str,
    user: Callable[[DemoDirectory], User],
) -> None:
    bulk_promises(bulk_requests(directory, 30, where, with_answers=True))
    assert Commitment.objects.count() == 10
    client = Client()
    client.force_login(user(directory))
    url = reverse(url_name)
    client.get(url)  # warm-up: first-request caches
    at_10 = count_queries(client, url)
    bulk_promises(bulk_requests(directory, 2970, where, with_answers=True))
    assert Commitment.objects.count() == 1000
    assert count_queries(client, url) == at_10
