"""Lists never count a large set: the count is exact up to a bound, then the planner's estimate.

On PostgreSQL a list the planner expects to be large is not counted at all (no ``COUNT``
query) and says ``count_is_estimate``; a page of such a list still knows exactly whether a
next page exists. SQLite has no estimate to ask: its counts are exact. The rows of the API
lists carry exactly the fields ``docs/api.md`` documents for them.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maslikhat.core import pagination
from maslikhat.core.notifications import Notification
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.instruction_helpers import make_instruction, make_world
from tests.requests_helpers import category

pytestmark = pytest.mark.django_db

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def bulk_requests(directory: DemoDirectory, how_many: int) -> None:
    kind = category()
    now = timezone.now()
    DeputyRequest.objects.bulk_create(
        DeputyRequest(
            number=f"DZ-2025-{n:05d}",
            convocation=directory.convocation,
            author=directory.alice,
            title=f"Запрос {n}",
            body="Текст",
            category=kind,
            status=RequestStatus.SUBMITTED,
            submitted_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(1, how_many + 1)
    )


def counts(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact up to 5 rows, no count at all above an estimate of 20: 60 rows are "large"."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(pagination, "ESTIMATE_TRUSTED_ABOVE", 20)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate")
def test_a_large_list_is_not_counted_on_postgresql(
    directory: DemoDirectory, api_as: Any, small_bounds: None
) -> None:
    bulk_requests(directory, 60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_app_deputyrequest")
    client = api_as(directory.staff)
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/api/v1/requests/?page_size=10").json()
    assert counts(captured) == [], "no COUNT over the set"
    assert body["count_is_estimate"] is True
    assert body["count"] > 20
    assert len(body["results"]) == 10 and "page=2" in body["next"]
    # The last page is known by the row read past it; its count is then exact.
    last = client.get("/api/v1/requests/?page_size=10&page=6").json()
    assert len(last["results"]) == 10 and last["next"] is None
    assert last["count"] == 60 and "count_is_estimate" not in last
    assert client.get("/api/v1/requests/?page_size=10&page=7").status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate")
def test_between_the_bounds_the_count_is_bounded_on_postgresql(
    directory: DemoDirectory, api_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    bulk_requests(directory, 12)
    with CaptureQueriesContext(connection) as captured:
        body = api_as(directory.staff).get("/api/v1/requests/?page_size=10").json()
    (count,) = counts(captured)
    assert "LIMIT 6" in count, "the count reads at most the bound and one row"
    assert body["count_is_estimate"] is True and body["count"] >= 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate")
def test_the_estimate_plans_the_rows_without_their_related_objects(
    directory: DemoDirectory,
) -> None:
    bulk_requests(directory, 3)
    rows = DeputyRequest.objects.select_related("author__user", "category", "lead_department")
    with CaptureQueriesContext(connection) as captured:
        estimate = pagination.estimate_count(rows.filter(status=RequestStatus.SUBMITTED))
    (explain,) = [q["sql"] for q in captured.captured_queries]
    assert explain.startswith("EXPLAIN") and "JOIN" not in explain
    assert estimate is not None and estimate >= 1
    # A filter across a relation keeps its join: the estimate is of the same rows.
    with CaptureQueriesContext(connection) as captured:
        pagination.estimate_count(rows.filter(author__user__last_name="x"))
    assert "JOIN" in captured.captured_queries[0]["sql"]


def test_a_small_list_is_counted_exactly(directory: DemoDirectory, api_as: Any) -> None:
    bulk_requests(directory, 12)
    body = api_as(directory.staff).get("/api/v1/requests/?page_size=5").json()
    assert body["count"] == 12 and "count_is_estimate" not in body


def test_an_estimate_short_of_the_rows_still_pages_through_them(
    directory: DemoDirectory, monkeypatch: pytest.MonkeyPatch, small_bounds: None
) -> None:
    """Whatever the estimate says, pages end where the rows end (any database)."""
    bulk_requests(directory, 30)
    monkeypatch.setattr(pagination, "estimate_count", lambda qs: 25)
    rows = DeputyRequest.objects.order_by("pk")
    paginator = pagination.BoundedCountPaginator(rows, 10)
    assert paginator.count == 25 and paginator.count_is_estimate
    assert paginator.page(1).has_next() and paginator.page(3).has_next() is False
    assert len(paginator.page(3)) == 10
    assert paginator.count == 30 and not paginator.count_is_estimate
    # Past the end the HTML lists show the first page rather than failing.
    far = pagination.BoundedCountPaginator(rows, 10)
    assert far.get_page(9).number == 1


def test_the_html_list_marks_an_estimated_count(
    directory: DemoDirectory, client: Any, monkeypatch: pytest.MonkeyPatch, small_bounds: None
) -> None:
    bulk_requests(directory, 30)
    monkeypatch.setattr(pagination, "estimate_count", lambda qs: 40)
    client.force_login(directory.staff)
    page = client.get("/requests/?ordering=-submitted_at").content.decode()
    assert "data-count-estimate" in page


# --- The rows of the lists carry the documented fields ------------------------------------


def documented(section: str, start: str, end: str) -> set[str]:
    """The backticked names of ``docs/api.md`` between ``start`` and ``end`` in ``section``."""
    text = API_DOC.read_text(encoding="utf-8")
    body = text[text.index(section) :]
    body = body[body.index(start) + len(start) : body.index(end)]
    # A name followed by its values in parentheses: the name only.
    body = re.sub(r"\([^()]*\)", "", body)
    return set(re.findall(r"`([a-z_]+)`", body))


def test_the_request_list_rows_are_the_documented_fields(
    directory: DemoDirectory, api_as: Any
) -> None:
    bulk_requests(directory, 2)
    row = api_as(directory.staff).get("/api/v1/requests/").json()["results"][0]
    fields = documented("## Deputy requests", "**Fields**:", "The detail adds")
    assert len(fields) > 30
    assert set(row) == fields


def test_the_notification_list_rows_are_the_documented_fields(
    directory: DemoDirectory, api_as: Any
) -> None:
    Notification.objects.create(
        user=directory.alice.user,
        kind="request_routed",
        item_type="request",
        item_id=1,
        text="Запрос направлен",
        day=timezone.localdate(),
    )
    body = api_as(directory.alice.user).get("/api/v1/notifications/").json()
    fields = documented("## Notifications", "Own only:", "; filters")
    assert set(body["results"][0]) == fields
    assert body["results"][0]["text"] == "Запрос направлен"


def test_the_instruction_list_rows_are_the_documented_fields(
    directory: DemoDirectory, api_as: Any
) -> None:
    world = make_world(directory)
    make_instruction(world, report_period="monthly")
    row = api_as(world.d.staff).get("/api/v1/instructions/").json()["results"][0]
    fields = documented(
        "## Meetings, protocols, instructions", "`/api/v1/instructions/`:", "the detail adds"
    )
    assert len(fields) > 20
    assert set(row) == fields


def test_a_list_that_can_match_nothing_counts_zero_without_asking_the_database() -> None:
    """``.none()`` (an unknown filter value, a visibility that excludes everything) has no
    SQL to plan: the paginator answers an empty first page instead of failing."""
    paginator = pagination.BoundedCountPaginator(DeputyRequest.objects.none(), 50)
    assert paginator.count == 0
    assert list(paginator.page(1).object_list) == []
    assert pagination.estimate_count(DeputyRequest.objects.none()) in (0, None)
