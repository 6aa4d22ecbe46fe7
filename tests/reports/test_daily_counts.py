"""Daily aggregates (``reports.daily_counts``): the counts read from the nightly table equal
the live ones for every filter combination the summary and the staff dashboard offer."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from maslikhat.directory.actors import actor_for
from reports.aggregates import WholeDaysBetween, median_of_histogram
from reports.daily_counts import (
    build_daily_counts,
    request_counts,
    request_summary_from_daily_counts,
)
from reports.models import (
    DailyCountRun,
    RequestAnswerCount,
    RequestDailyCount,
    RequestTotalCount,
    RequestTotalSeries,
)
from reports.selectors import request_summary
from reports.tasks import daily_counts_build
from requests_app.models import DeputyRequest, RequestStatus
from requests_app.selectors import CoDepartment
from tests.factories import DemoDirectory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
COUNT_KEYS = ("total", "by_status", "counters", "overdue", "funnel")
PLACE_KEYS = ("by_department", "by_district", "by_category")


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


def make_requests(directory: DemoDirectory, where: Places, how_many: int) -> None:
    created = bulk_requests(directory, how_many, where, drafts=3)
    now = timezone.now()
    # A stopped clock: in progress past the due date, but not overdue.
    paused = [r.pk for r in created if r.status == S.IN_PROGRESS][:3]
    DeputyRequest.objects.filter(pk__in=paused).update(paused_since=timezone.localdate())
    # Due dates on the edges: yesterday, today, this week's last day, next week.
    today = timezone.localdate()
    edges = [-2, -1, 0, 1, 6 - today.weekday(), 7 - today.weekday(), 8]
    in_progress = [r.pk for r in created if r.status == S.IN_PROGRESS][3:]
    for pk, offset in zip(in_progress, edges, strict=False):
        due = today + datetime.timedelta(days=offset)
        DeputyRequest.objects.filter(pk=pk).update(due_date=due)
    # Ratings of several values; a registered request without a submission time.
    rated = [r.pk for r in created if r.status == S.CLOSED][:4]
    DeputyRequest.objects.filter(pk__in=rated[:2]).update(rating=2)
    DeputyRequest.objects.filter(pk=created[1].pk).update(submitted_at=None)
    # Several submitted today (counted live next to the table).
    DeputyRequest.objects.filter(pk__in=[r.pk for r in created[2:6]]).update(submitted_at=now)
    # Answers a part of a day after the whole days (the medians count whole days), and one
    # without a routing time (in the months, not in the medians).
    answered = [r for r in created if r.answered_at is not None and r.pk != created[1].pk]
    for hours, item in zip((5, -1, 23, 12), answered[:4], strict=False):
        assert item.answered_at is not None
        later = item.answered_at + datetime.timedelta(hours=hours)
        DeputyRequest.objects.filter(pk=item.pk).update(answered_at=later)
    DeputyRequest.objects.filter(pk__in=[r.pk for r in answered[4:5]]).update(routed_at=None)
    # Co-executed requests: finance helps mobility (and once itself, and once unrouted).
    finance = directory.finance
    helped = [r for r in created if r.lead_department_id == directory.mobility.pk][::3]
    helped += [r for r in created if r.lead_department_id == finance.pk][:1]
    helped += [r for r in created if r.lead_department_id is None][:1]
    CoDepartment.objects.bulk_create(
        [CoDepartment(deputyrequest_id=r.pk, department_id=finance.pk) for r in helped]
    )


@pytest.fixture
def mix(directory: DemoDirectory, where: Places) -> None:
    make_requests(directory, where, 120)


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    """The counts of a summary (without the median and the months, which it reads live)."""
    result = {key: data[key] for key in COUNT_KEYS}
    for key in PLACE_KEYS:
        result[key] = [{k: v for k, v in row.items() if k != "median_days"} for row in data[key]]
    return result


def filter_options(directory: DemoDirectory, where: Places) -> dict[str, list[dict[str, Any]]]:
    today = timezone.localdate()
    return {
        "status": [
            {"status": S.IN_PROGRESS},
            {"status": [S.ANSWERED, S.CLOSED]},
            {"status": S.SUBMITTED},
        ],
        "lead_department": [
            {"lead_department": directory.finance.pk},
            {"lead_department": directory.mobility.pk},
        ],
        "district": [{"district": d.pk} for d in where.districts],
        "category": [{"category": where.categories[0].pk}, {"category": where.categories[2].pk}],
        "dates": [
            {"submitted_after": (today - datetime.timedelta(days=60)).isoformat()},
            {"submitted_before": (today - datetime.timedelta(days=30)).isoformat()},
            {
                "submitted_after": (today - datetime.timedelta(days=90)).isoformat(),
                "submitted_before": today.isoformat(),
            },
            {"submitted_after": today.isoformat()},
        ],
    }


#: Who reads: staff (every row) and a department head (the rows it leads, its co-executed
#: requests live beside them).
READERS = ("staff", "head")


def reader(directory: DemoDirectory, who: str) -> Any:
    return actor_for(directory.staff if who == "staff" else directory.finance_head)


DIMENSIONS = ("status", "lead_department", "district", "category", "dates")
COMBINATIONS = [
    combo
    for size in range(len(DIMENSIONS) + 1)
    for combo in itertools.combinations(DIMENSIONS, size)
]


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("combo", COMBINATIONS, ids=lambda c: "+".join(c) or "none")
def test_table_and_live_agree_for_every_filter_combination(
    directory: DemoDirectory, where: Places, mix: None, combo: tuple[str, ...], who: str
) -> None:
    build_daily_counts()
    actor = reader(directory, who)
    options = filter_options(directory, where)
    checked = 0
    # Every value of the combination's filters (their product), not only the first one.
    for choice in itertools.product(*(options[name] for name in combo)):
        params: dict[str, Any] = {}
        for part in choice:
            params.update(part)
        from_table = request_counts(actor=actor, params=params)
        live = request_counts(actor=actor, params=params, live=True)
        assert from_table["source"] == "daily_counts", params
        assert live["source"] == "live"
        assert comparable(from_table) == comparable(live), params
        assert from_table["ratings"] == live["ratings"], params
        # …and both equal what the summary and the staff dashboard show today.
        summary = request_summary(actor=actor, params=params)
        assert comparable(from_table) == comparable(summary), params
        checked += 1
    assert checked >= 1
    if not combo and who == "staff":
        assert (
            comparable(from_table)["total"] == DeputyRequest.objects.exclude(status=S.DRAFT).count()
        )
        assert (
            from_table["ratings"]["count"]
            == DeputyRequest.objects.filter(rating__isnull=False).count()
        )


def test_the_table_holds_counts_per_day_and_dimension(directory: DemoDirectory, mix: None) -> None:
    run = build_daily_counts()
    assert run.finished_at is not None and run.rows == RequestDailyCount.objects.count()
    today = timezone.localdate()
    # Today's requests are not in the table (counted live); older days are, spread out.
    assert not RequestDailyCount.objects.filter(day__gte=today).exists()
    assert RequestDailyCount.objects.values("day").distinct().count() > 10
    assert RequestDailyCount.objects.filter(day__isnull=True).exists()
    assert RequestDailyCount.objects.filter(lead_department__isnull=True).exists()
    assert RequestDailyCount.objects.filter(district__isnull=True).exists()
    assert set(RequestDailyCount.objects.values_list("status", flat=True)) == {
        S.SUBMITTED,
        S.IN_PROGRESS,
        S.ANSWERED,
        S.CLOSED,
        S.DECLINED,
        S.WITHDRAWN,
    }
    stored = sum(RequestDailyCount.objects.values_list("received", flat=True))
    older = (
        DeputyRequest.objects.exclude(status=S.DRAFT).exclude(submitted_at__date__gte=today).count()
    )
    assert stored == older


def test_a_rerun_replaces_the_rows(directory: DemoDirectory, mix: None) -> None:
    first = build_daily_counts()
    rows = sorted(map(str, RequestDailyCount.objects.values_list("day", "status", "received")))
    second = build_daily_counts()
    assert second.pk == first.pk and DailyCountRun.objects.count() == 1
    again = sorted(map(str, RequestDailyCount.objects.values_list("day", "status", "received")))
    assert again == rows and second.rows == first.rows


def test_the_task_and_the_command_build_as_of_their_day(
    directory: DemoDirectory, mix: None
) -> None:
    assert daily_counts_build() == RequestDailyCount.objects.count() > 0
    out = StringIO()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    call_command("build_daily_counts", "--day", yesterday.isoformat(), stdout=out)
    assert f"as of {yesterday}" in out.getvalue()
    assert DailyCountRun.objects.filter(finished_at__isnull=False).count() == 2
    # The table now holds yesterday's build: today's figures are counted live.
    actor = actor_for(directory.staff)
    assert request_counts(actor=actor, params={})["source"] == "live"


def test_the_catch_up_builds_only_when_today_is_not_done(
    directory: DemoDirectory, mix: None
) -> None:
    out = StringIO()
    call_command("build_daily_counts", "--unless-done", stdout=out)
    today = timezone.localdate()
    assert f"as of {today}:" in out.getvalue() and "already done" not in out.getvalue()
    first = DailyCountRun.objects.get(day=today)
    out = StringIO()
    call_command("build_daily_counts", "--unless-done", stdout=out)
    assert "already done" in out.getvalue()
    # Not rebuilt: the run keeps its stamp.
    assert DailyCountRun.objects.get(day=today).finished_at == first.finished_at


def test_live_when_the_table_cannot_answer(directory: DemoDirectory, mix: None) -> None:
    staff = actor_for(directory.staff)
    # No finished build of today.
    assert request_counts(actor=staff, params={})["source"] == "live"
    build_daily_counts()
    assert request_counts(actor=staff, params={})["source"] == "daily_counts"
    for params in ({"is_overdue": "true"}, {"search": "Запрос"}, {"executor": 1}):
        result = request_counts(actor=staff, params=params)
        assert result["source"] == "live", params
        assert comparable(result) == comparable(request_summary(actor=staff, params=params))
    # A deputy's own requests: live. A department: its rows and its co-executed requests.
    for user, source in ((directory.alice.user, "live"), (directory.finance_head, "daily_counts")):
        actor = actor_for(user)
        result = request_counts(actor=actor, params={})
        assert result["source"] == source
        assert comparable(result) == comparable(request_summary(actor=actor, params={}))
    # A department's figures include what it co-executes.
    head = actor_for(directory.finance_head)
    co_executed = CoDepartment.objects.filter(department_id=directory.finance.pk)
    co_only = co_executed.exclude(deputyrequest__lead_department_id=directory.finance.pk)
    led = DeputyRequest.objects.filter(lead_department_id=directory.finance.pk)
    total = request_counts(actor=head, params={})["total"]
    assert co_only.count() > 0
    assert total == led.exclude(status=S.DRAFT).count() + co_only.count()


def test_requests_submitted_after_the_build_are_counted(
    directory: DemoDirectory, where: Places, mix: None
) -> None:
    build_daily_counts()
    actor = actor_for(directory.staff)
    before = request_counts(actor=actor, params={})["total"]
    new = bulk_requests(directory, 2, where, states=(S.SUBMITTED,))
    DeputyRequest.objects.filter(pk__in=[r.pk for r in new]).update(submitted_at=timezone.now())
    after = request_counts(actor=actor, params={})
    assert after["source"] == "daily_counts" and after["total"] == before + 2


def test_changes_after_the_build_are_counted(directory: DemoDirectory, mix: None) -> None:
    build_daily_counts()
    actor = actor_for(directory.staff)
    today = timezone.localdate()
    older = DeputyRequest.objects.filter(submitted_at__date__lt=today - datetime.timedelta(days=3))
    answered = older.filter(status=S.IN_PROGRESS, due_date__lt=today).first()
    assert answered is not None
    answered.status = S.ANSWERED
    answered.answered_at = timezone.now()
    answered.save()
    closed = older.filter(status=S.ANSWERED).exclude(pk=answered.pk).first()
    assert closed is not None
    closed.status = S.CLOSED
    closed.rating = 5
    closed.save()
    department = answered.lead_department_id
    for params in (
        {},
        {"status": S.IN_PROGRESS},
        {"status": [S.ANSWERED, S.CLOSED]},
        {"lead_department": department},
        {"submitted_before": (today - datetime.timedelta(days=3)).isoformat()},
    ):
        from_table = request_counts(actor=actor, params=params)
        assert from_table["source"] == "daily_counts"
        assert comparable(from_table) == comparable(request_summary(actor=actor, params=params))
        live = request_counts(actor=actor, params=params, live=True)
        assert from_table["ratings"] == live["ratings"]
        # The medians and the months too: the changed days taken out of the sums over
        # every day (or of the day rows) and counted live.
        switched = request_summary_from_daily_counts(actor=actor, params=params)
        assert switched.pop("source") == "daily_counts"
        assert switched == request_summary(actor=actor, params=params), params


def queries_of(read: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_rows(directory: DemoDirectory, where: Places) -> None:
    actor = actor_for(directory.staff)
    params = {"lead_department": directory.finance.pk, "status": S.IN_PROGRESS}
    make_requests(directory, where, 12)
    build_daily_counts()  # The first build of the day creates its run row.
    build_few = queries_of(build_daily_counts)
    few = queries_of(lambda: request_counts(actor=actor, params=params))
    make_requests(directory, where, 150)
    build = queries_of(build_daily_counts)
    many = queries_of(lambda: request_counts(actor=actor, params=params))
    assert few == many
    assert build == build_few


def test_beat_builds_the_daily_counts_nightly(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reports-daily-counts-build"]
    assert entry["task"] == "reports.daily_counts_build"
    assert entry["schedule"].hour == {1} and entry["schedule"].minute == {30}


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("combo", COMBINATIONS, ids=lambda c: "+".join(c) or "none")
def test_the_summary_from_the_table_equals_the_live_summary(
    directory: DemoDirectory, where: Places, mix: None, combo: tuple[str, ...], who: str
) -> None:
    """Every figure, the medians and the months included, from the tables equals the one
    counted over the requests, for every filter combination, for staff and a department."""
    build_daily_counts()
    actor = reader(directory, who)
    options = filter_options(directory, where)
    for choice in itertools.product(*(options[name] for name in combo)):
        params: dict[str, Any] = {}
        for part in choice:
            params.update(part)
        switched = request_summary_from_daily_counts(actor=actor, params=params)
        assert switched.pop("source") == "daily_counts", params
        assert switched == request_summary(actor=actor, params=params), params


def test_the_summary_api_reads_the_table_and_answers_as_before(
    directory: DemoDirectory, where: Places, mix: None
) -> None:
    client = APIClient()
    client.force_authenticate(directory.staff)
    cases: list[dict[str, Any]] = [
        {},
        {"lead_department": directory.finance.pk, "status": S.IN_PROGRESS},
        {"district": where.districts[0].pk, "submitted_after": "2026-01-01"},
        {"is_overdue": "true"},  # not in the table: live
    ]
    before = [client.get("/api/v1/reports/summary/", params).json() for params in cases]
    build_daily_counts()
    with CaptureQueriesContext(connection) as captured:
        after = [client.get("/api/v1/reports/summary/", params).json() for params in cases]
    assert after == before
    sqls = [q["sql"] for q in captured.captured_queries]
    # Two cases without dates from the sums over every day (the counts, the series), one
    # with a submission date from the day rows (the counts and the months received; the
    # histogram twice).
    assert sum(RequestTotalCount._meta.db_table in sql for sql in sqls) == 2
    assert sum(RequestTotalSeries._meta.db_table in sql for sql in sqls) == 2
    assert sum(RequestDailyCount._meta.db_table in sql for sql in sqls) == 2
    assert sum(RequestAnswerCount._meta.db_table in sql for sql in sqls) == 2
    # A deputy's summary (their own requests) stays live and right.
    deputy = APIClient()
    deputy.force_authenticate(directory.alice.user)
    data = deputy.get("/api/v1/reports/summary/").json()
    assert data == request_summary(actor=actor_for(directory.alice.user), params={})


@pytest.mark.parametrize(("who", "budget"), [("staff", 7), ("head", 10)])
def test_the_summary_queries_do_not_grow_with_rows(
    directory: DemoDirectory, where: Places, who: str, budget: int
) -> None:
    actor = reader(directory, who)
    make_requests(directory, where, 10)
    build_daily_counts()
    few = queries_of(lambda: request_summary_from_daily_counts(actor=actor, params={}))
    make_requests(directory, where, 1000)
    build_daily_counts()
    many = queries_of(lambda: request_summary_from_daily_counts(actor=actor, params={}))
    assert few == many == budget


def test_the_median_of_a_histogram_is_the_exact_median() -> None:
    import random
    import statistics

    assert median_of_histogram({}) is None
    assert median_of_histogram({3: 0}) is None
    assert median_of_histogram({3: 1}) == 3
    assert median_of_histogram({1: 1, 4: 1}) == 2.5
    assert median_of_histogram({9: 1, 1: 2, 4: 1}) == 2.5
    # Parts taken out (negative counts) leave what remains.
    assert median_of_histogram({2: 0, 5: 3, 7: -1}) == 5
    generator = random.Random(7)
    for _ in range(200):
        values = [generator.randint(0, 40) for _ in range(generator.randint(1, 30))]
        histogram: dict[int, int] = {}
        for value in values:
            histogram[value] = histogram.get(value, 0) + 1
        assert median_of_histogram(histogram) == statistics.median(values)


def test_the_medians_count_whole_days_elapsed(directory: DemoDirectory, where: Places) -> None:
    created = bulk_requests(directory, 6, where, states=(S.ANSWERED,))
    item = created[0]
    assert item.routed_at is not None
    routed = item.routed_at
    for answered, days in (
        (routed + datetime.timedelta(days=6, hours=23), 6),
        (routed + datetime.timedelta(days=7), 7),
        (routed + datetime.timedelta(hours=5), 0),
    ):
        DeputyRequest.objects.filter(pk=item.pk).update(answered_at=answered)
        value = (
            DeputyRequest.objects.filter(pk=item.pk)
            .annotate(n=WholeDaysBetween("routed_at", "answered_at"))
            .values_list("n", flat=True)
            .get()
        )
        assert value == days
