"""The public pages' stored counts (``reports.public_counts``): the published requests per
deputy and the public promises' figures read from the nightly tables, with the days changed
since the build counted live, equal the figures counted live over the whole tables — right
after the build and after changes, for every filter — in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import ACTIVE_STATES, Commitment, CommitmentState, Verdict
from commitments.selectors import commitment_figures, commitment_figures_by_department
from maslikhat.directory.models import Deputy
from reports.daily_counts import build_daily_counts
from reports.models import DailyCountRun, DeputyPublishedCount, PromiseDailyCount
from reports.public import public_deputies
from reports.public_counts import promise_counts, published_counts
from reports.public_promises import PublicCommitmentFilter, public_commitment_page
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.reports.promise_data import (
    break_,
    bulk_promises,
    keep,
    promised,
    reschedule,
)
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
PROMISES_URL = "/public/promises/"
DEPUTIES_URL = "/public/deputies/"


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


def spread(requests: list[DeputyRequest] | Any, *, undated: int = 0) -> None:
    """Submission days over the last weeks (a few today), ``undated`` without a time;
    written without touching ``updated_at`` (as before the build)."""
    now = timezone.now()
    for i, item in enumerate(requests):
        submitted = None if i < undated else now - datetime.timedelta(days=i % 9, hours=i % 3)
        DeputyRequest.objects.filter(pk=item.pk).update(submitted_at=submitted)


@pytest.fixture
def scene(directory: DemoDirectory, where: Places) -> list[Commitment]:
    """Requests of both deputies, published or not, with promises in every state, on many
    submission days (one without a time); a few promises made through the services."""
    almaly, medeu = where.districts
    # Through the services, renumbered out of the way of the requests made in bulk.
    made = [
        keep(directory, promised(directory, lead=directory.finance, district=almaly)),
        promised(directory, lead=directory.finance, district=medeu),
        promised(directory, lead=directory.mobility, district=almaly),
        promised(directory, lead=directory.mobility),
    ]
    for item in made:
        DeputyRequest.objects.filter(pk=item.request_id).update(number=f"DZ-2025-{item.pk:05d}")
    requests = bulk_requests(directory, 150, where, with_answers=True, drafts=3)
    promises = bulk_promises(requests)
    # Half the public ones still to be kept: open, rescheduled, some disputed, some late.
    public = Commitment.objects.filter(
        pk__in=[p.pk for p in promises], request__is_public=True, request__status=S.CLOSED
    )
    today = timezone.localdate()
    for i, pk in enumerate(public.order_by("pk").values_list("pk", flat=True)[::2]):
        Commitment.objects.filter(pk=pk).update(
            state=CommitmentState.OPEN if i % 2 else CommitmentState.RESCHEDULED,
            due_date=today + datetime.timedelta(days=i % 11 - 5),
            reported_at=None,
            verdict=Verdict.DISPUTED if i % 3 == 0 else Verdict.NONE,
        )
    spread([c.request for c in made] + [r for r in requests if r.status != S.DRAFT], undated=1)
    return [*promises, *made]


def live_published() -> dict[int, int]:
    published = Q(authored_requests__is_public=True) & ~Q(authored_requests__status=S.DRAFT)
    rows = Deputy.objects.annotate(n=Count("authored_requests", filter=published))
    return {row.pk: row.n for row in rows if row.n}


def stored_published(today: datetime.date) -> dict[int, int]:
    counts = published_counts(today)
    assert counts is not None, "today's build is done: the stored counts answer"
    return {pk: n for pk, n in counts.items() if n}


def filters(where: Places) -> list[dict[str, str]]:
    almaly, medeu = where.districts
    return [
        {},
        {"department": "finance"},
        {"department": "mobility"},
        {"district": almaly.code},
        {"district": medeu.code},
        {"department": "finance", "district": medeu.code},
    ]


def assert_promises_agree(params: dict[str, str], today: datetime.date) -> None:
    filterset = PublicCommitmentFilter(data=params, queryset=Commitment.objects.none())
    assert filterset.is_valid(), params
    cleaned = filterset.form.cleaned_data
    live = PublicCommitmentFilter(
        data=params, queryset=public_commitment_page({}, today)["filter"].queryset
    ).qs
    stored = promise_counts(
        live,
        department_id=cleaned["department"].pk if cleaned.get("department") else None,
        district_id=cleaned["district"].pk if cleaned.get("district") else None,
        today=today,
    )
    assert stored is not None, "today's build is done: the stored counts answer"
    totals, by_department = stored
    assert totals == commitment_figures(live, today), params
    assert by_department == commitment_figures_by_department(live, today), params
    page = public_commitment_page(params, today)
    assert (page["totals"], page["by_department"]) == (totals, by_department)


def test_the_build_stores_per_day_and_every_day_rows(scene: list[Commitment]) -> None:
    run = build_daily_counts()
    assert run.finished_at is not None
    today = timezone.localdate()
    # Every day's rows add up to the every-day rows; today's requests are not in them.
    for model, measure in ((DeputyPublishedCount, "published"), (PromiseDailyCount, "total")):
        rows = model.objects.all()
        per_day = sum(getattr(r, measure) for r in rows if not r.all_days)
        every_day = sum(getattr(r, measure) for r in rows if r.all_days)
        assert per_day == every_day > 0
        assert not rows.filter(day__gte=today).exists()
    assert PromiseDailyCount.objects.filter(all_days=False, day__isnull=True).exists()
    published_before = DeputyRequest.objects.filter(
        is_public=True, submitted_at__date__lt=today
    ).exclude(status=S.DRAFT)
    undated = DeputyRequest.objects.filter(is_public=True, submitted_at__isnull=True).exclude(
        status=S.DRAFT
    )
    stored = sum(r.published for r in DeputyPublishedCount.objects.filter(all_days=True))
    assert stored == published_before.count() + undated.count()


def test_stored_and_live_agree_right_after_the_build(
    scene: list[Commitment], where: Places
) -> None:
    build_daily_counts()
    today = timezone.localdate()
    assert stored_published(today) == live_published()
    for params in filters(where):
        assert_promises_agree(params, today)


def test_changes_after_the_build_are_counted(
    directory: DemoDirectory, where: Places, scene: list[Commitment]
) -> None:
    build_daily_counts()
    today = timezone.localdate()
    older = Q(request__submitted_at__date__lt=today - datetime.timedelta(days=2))
    public_open = Commitment.objects.filter(
        older, state__in=ACTIVE_STATES, request__is_public=True, request__status=S.CLOSED
    )
    first, second, third = list(public_open.order_by("pk")[:3])
    # Promises kept, broken and rescheduled through the services (their history says so).
    keep(directory, first)
    break_(directory, second)
    reschedule(directory, third)
    # A request unpublished, another published.
    hidden = DeputyRequest.objects.filter(
        is_public=True, status=S.CLOSED, submitted_at__date__lt=today
    ).first()
    shown = DeputyRequest.objects.filter(is_public=False, submitted_at__date__lt=today).first()
    assert hidden is not None and shown is not None
    for item, public in ((hidden, False), (shown, True)):
        item.is_public = public
        item.save()
    # The build is still today's: the figures are the stored ones and the live days'.
    assert DailyCountRun.objects.get().day == today
    assert stored_published(today) == live_published()
    for params in filters(where):
        assert_promises_agree(params, today)


def test_the_pages_read_the_stored_counts(
    directory: DemoDirectory, scene: list[Commitment]
) -> None:
    build_daily_counts()
    today = timezone.localdate()
    before = {d.pk: d.published for d in Client().get(DEPUTIES_URL).context["deputies"]}
    # A stored figure changed behind the pages' back shows: they read the table.
    DeputyPublishedCount.objects.filter(all_days=True, deputy=directory.alice).update(
        published=F("published") + 100
    )
    one = PromiseDailyCount.objects.filter(all_days=True, department=directory.finance).first()
    assert one is not None
    PromiseDailyCount.objects.filter(pk=one.pk).update(kept=F("kept") + 100, total=F("total") + 100)
    response = Client().get(DEPUTIES_URL)
    after = {d.pk: d.published for d in response.context["deputies"]}
    assert after[directory.alice.pk] == before[directory.alice.pk] + 100
    assert after[directory.bob.pk] == before[directory.bob.pk]
    html = Client().get(PROMISES_URL).content.decode()
    live_total = commitment_figures(public_commitment_page({}, today)["filter"].queryset)["total"]
    assert f'data-figure="total">{live_total + 100}<' in html


def test_without_todays_build_the_pages_count_live(
    directory: DemoDirectory, scene: list[Commitment]
) -> None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    build_daily_counts(yesterday)
    today = timezone.localdate()
    assert published_counts(today) is None
    assert (
        promise_counts(Commitment.objects.none(), department_id=None, district_id=None, today=today)
        is None
    )
    deputies: Any = public_deputies(today)
    counts = {d.pk: d.published for d in deputies}
    assert {pk: n for pk, n in counts.items() if n} == live_published()


def queries(url: str) -> int:
    client = Client()
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


#: With today's build: the run, the changed days, the stored rows, the live part; then the
#: page's own queries (the deputies and their commissions; the page of promises, counted by
#: the figures, and the filter's two lists).
BUDGETS: dict[str, Callable[[], int]] = {
    DEPUTIES_URL: lambda: 6,
    PROMISES_URL: lambda: 7,
}


@pytest.mark.parametrize("url", list(BUDGETS))
def test_queries_do_not_grow_with_rows(directory: DemoDirectory, where: Places, url: str) -> None:
    bulk_promises(bulk_requests(directory, 30, where, with_answers=True))
    build_daily_counts()
    few = queries(url)
    bulk_promises(bulk_requests(directory, 1000, where, with_answers=True))
    build_daily_counts()
    # Changes since the build are read live, in the same queries.
    changed = DeputyRequest.objects.filter(is_public=True).first()
    assert changed is not None
    changed.save()
    many = queries(url)
    assert few == many <= BUDGETS[url]()


@pytest.mark.parametrize("built", [False, True])
def test_the_promises_list_is_counted_and_paged_by_its_figures(
    scene: list[Commitment], where: Places, built: bool
) -> None:
    if built:
        build_daily_counts()
    client = Client()
    for params in filters(where):
        listed = PublicCommitmentFilter(
            data=params, queryset=public_commitment_page({})["filter"].queryset
        ).qs
        expected = listed.count()
        first = client.get(PROMISES_URL, params)
        assert first.context["page"].paginator.count == expected, params
        seen = {row.pk for row in first.context["rows"]}
        pages = first.context["page"].paginator.num_pages
        for number in range(2, pages + 1):
            page = client.get(PROMISES_URL, {**params, "page": str(number)})
            seen |= {row.pk for row in page.context["rows"]}
        assert seen == set(listed.values_list("pk", flat=True)), params
    # A page past the end shows the last one, not an error.
    assert client.get(PROMISES_URL, {"page": 999}).status_code == 200
