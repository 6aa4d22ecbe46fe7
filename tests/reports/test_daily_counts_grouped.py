"""The summary's stored counts and series summed in the database (``reports.daily_counts``):
the page adds up one row per place, status and month, not one per stored group, and the
figures stay those counted live."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from maslikhat.directory.actors import actor_for
from reports.daily_counts import (
    _grouped,
    _series_sums,
    _stored_sums,
    build_daily_counts,
    request_summary_from_daily_counts,
)
from reports.models import RequestTotalCount, RequestTotalSeries, SeriesKind
from reports.selectors import OPEN_STATUSES, request_summary
from requests_app.models import DeputyRequest
from tests.factories import DemoDirectory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


def _distinct(column: str) -> int:
    return RequestTotalCount.objects.order_by().values(column).distinct().count()


def test_the_stored_counts_come_one_row_per_place_and_status(
    directory: DemoDirectory, where: Places
) -> None:
    bulk_requests(directory, 300, where, drafts=5, with_answers=True)
    build_daily_counts()
    rows = list(_grouped(RequestTotalCount.objects.order_by(), _stored_sums()))
    stored = RequestTotalCount.objects.count()
    expected = sum(
        _distinct(column)
        for column in ("lead_department_id", "district_id", "category_id", "status")
    )
    assert len(rows) == expected < stored
    # Each grouping holds every stored request once.
    total = RequestTotalCount.objects.aggregate(n=Sum("received"))["n"]
    for by in ("lead_department", "district", "category", "status"):
        assert sum(row["n_received"] for row in rows if row["g_by"] == by) == total
    # The counts its requests' status decides are summed in the database too.
    open_rows = RequestTotalCount.objects.filter(status__in=OPEN_STATUSES)
    statuses = [row for row in rows if row["g_by"] == "status"]
    opened = open_rows.aggregate(n=Sum("received"))["n"]
    assert sum(row["n_open"] or 0 for row in statuses) == opened > 0


def test_the_series_come_one_row_per_month_and_per_department_and_days(
    directory: DemoDirectory, where: Places
) -> None:
    bulk_requests(directory, 300, where, with_answers=True)
    build_daily_counts()
    series = RequestTotalSeries.objects.order_by()
    rows = list(_series_sums(series, months=True))
    months = [row for row in rows if row[0] != SeriesKind.DAYS]
    per_month = series.exclude(kind=SeriesKind.DAYS).values("kind", "month").distinct().count()
    assert len(months) == per_month
    assert all(row[1] is None and row[3] is None for row in months)
    days = [row for row in rows if row[0] == SeriesKind.DAYS]
    per_days = (
        series.filter(kind=SeriesKind.DAYS)
        .values("lead_department_id", "days")
        .annotate(n=Count("pk"))
        .count()
    )
    assert len(days) == per_days
    assert sorted(_series_sums(series, months=False), key=repr) == sorted(days, key=repr)


def test_the_summary_from_the_grouped_sums_equals_the_live_one(
    directory: DemoDirectory, where: Places
) -> None:
    bulk_requests(directory, 200, where, drafts=3, with_answers=True)
    build_daily_counts()
    # Changed since the build: a day taken out of the sums and read live.
    changed = DeputyRequest.objects.exclude(status="draft").order_by("pk").first()
    assert changed is not None
    DeputyRequest.objects.filter(pk=changed.pk).update(updated_at=timezone.now(), rating=5)
    for user in (directory.staff, directory.finance_head):
        actor = actor_for(user)
        params: dict[str, Any] = {}
        stored = request_summary_from_daily_counts(actor=actor, params=params)
        assert stored.pop("source") == "daily_counts"
        assert stored == request_summary(actor=actor, params=params)
