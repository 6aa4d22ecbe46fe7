"""The deputy dashboard's stored counts (``reports.deputy_counts``): the counters and the
requests by status read from the nightly per-deputy table, with the drafts and the days
changed since the build counted live, equal the figures counted live over the deputy's
requests — right after the build and after changes (answers, ratings, withdrawals, a
draft deleted, a co-author added, requests submitted today) — in a fixed number of
queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from maslikhat.accounts.models import Role
from maslikhat.directory.actors import actor_for
from maslikhat.directory.models import Deputy
from reports.daily_counts import build_daily_counts
from reports.models import DailyCountRun, DeputyRequestCount
from reports.selectors import deputy_dashboard
from requests_app import services
from requests_app.models import DeputyRequest, RequestStatus
from requests_app.selectors import CoAuthor, with_overdue
from tests.factories import DemoDirectory, DeputyFactory, UserFactory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
URL = reverse("reports:dashboard-deputy")


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def carol(directory: DemoDirectory) -> Deputy:
    """A third deputy: a co-author only, of both others' requests."""
    return DeputyFactory.create(
        user=UserFactory.create(username="deputy3", role=Role.DEPUTY),
        convocation=directory.convocation,
    )


def make_requests(
    directory: DemoDirectory, where: Places, carol: Deputy, how_many: int
) -> list[DeputyRequest]:
    """Requests of alice and bob in every state on many days (drafts, overdue, answered
    late, rated, one without a submission time, a few today), co-authored across."""
    created = bulk_requests(directory, how_many, where, drafts=4)
    registered = [r for r in created if r.status != S.DRAFT]
    drafts = [r for r in created if r.status == S.DRAFT]
    now = timezone.now()
    today = timezone.localdate()
    # A stopped clock: in progress past the due date (still overdue and open on the dashboard).
    in_progress = [r.pk for r in registered if r.status == S.IN_PROGRESS]
    DeputyRequest.objects.filter(pk__in=in_progress[:2]).update(paused_since=today)
    DeputyRequest.objects.filter(pk__in=in_progress[2:4]).update(due_date=today)
    DeputyRequest.objects.filter(pk__in=in_progress[4:6]).update(
        due_date=today - datetime.timedelta(days=1)
    )
    # A registered request without a submission time; some submitted today.
    DeputyRequest.objects.filter(pk=registered[1].pk).update(submitted_at=None)
    DeputyRequest.objects.filter(pk__in=[r.pk for r in registered[2:6]]).update(submitted_at=now)
    # Ratings on answered requests too (not only the closed ones).
    answered = [r.pk for r in registered if r.status == S.ANSWERED]
    DeputyRequest.objects.filter(pk__in=answered[:2]).update(rating=3)
    # Co-authors: carol on half (every state), the other deputy on every fifth, an author listed
    # as a co-author of their own request (counted once), carol on a draft.
    links = []
    for i, item in enumerate(registered):
        if i % 4 < 2:
            links.append(CoAuthor(deputyrequest_id=item.pk, deputy_id=carol.pk))
        if i % 5 == 0:
            other = directory.alice if item.author_id == directory.bob.pk else directory.bob
            links.append(CoAuthor(deputyrequest_id=item.pk, deputy_id=other.pk))
    links.append(CoAuthor(deputyrequest_id=registered[7].pk, deputy_id=registered[7].author_id))
    links.append(CoAuthor(deputyrequest_id=drafts[0].pk, deputy_id=carol.pk))
    CoAuthor.objects.bulk_create(links)
    return created


@pytest.fixture
def scene(directory: DemoDirectory, where: Places, carol: Deputy) -> list[DeputyRequest]:
    return make_requests(directory, where, carol, 120)


def deputies(directory: DemoDirectory, carol: Deputy) -> list[Deputy]:
    return [directory.alice, directory.bob, carol]


def reference(deputy: Deputy) -> dict[str, Any]:
    """The counters and the statuses counted over the deputy's own requests, written out
    here independently of the dashboard."""
    today = timezone.localdate()
    co_authored = CoAuthor.objects.filter(deputyrequest_id=OuterRef("pk"), deputy_id=deputy.pk)
    own = with_overdue(DeputyRequest.objects.all(), today).filter(
        Q(author_id=deputy.pk) | Exists(co_authored)
    )
    counts = own.aggregate(
        total=Count("pk"),
        overdue_open=Count("pk", filter=Q(status=S.IN_PROGRESS, due_date__lt=today)),
        answered_late=Count("pk", filter=Q(status__in=[S.ANSWERED, S.CLOSED], overdue=True)),
        resolved=Count(
            "pk", filter=Q(status=S.CLOSED, outcome__in=["resolved", "partially_resolved"])
        ),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        awaiting_evaluation=Count("pk", filter=Q(status=S.ANSWERED, author_id=deputy.pk)),
    )
    by_status = dict(own.order_by().values_list("status").annotate(n=Count("pk")))
    return {
        "counters": counts,
        "by_status": {s: by_status.get(s, 0) for s in RequestStatus.values},
    }


def read(deputy: Deputy) -> dict[str, Any]:
    data = deputy_dashboard(actor=actor_for(deputy.user))
    return {
        "counters": data["counters"],
        "by_status": {row["status"]: row["count"] for row in data["by_status"]},
        "source": data["source"],
    }


def assert_agree(directory: DemoDirectory, carol: Deputy, source: str) -> None:
    for deputy in deputies(directory, carol):
        figures = read(deputy)
        assert figures.pop("source") == source
        expected = reference(deputy)
        assert figures == expected, deputy.user.username
        assert expected["counters"]["total"] > 0


def test_the_build_stores_per_day_and_every_day_rows(
    directory: DemoDirectory, carol: Deputy, scene: list[DeputyRequest]
) -> None:
    run = build_daily_counts()
    assert run.finished_at is not None
    today = timezone.localdate()
    rows = DeputyRequestCount.objects.all()
    for measure in ("total", "overdue_open", "answered_late", "resolved", "rated"):
        per_day = sum(getattr(r, measure) for r in rows if not r.all_days)
        every_day = sum(getattr(r, measure) for r in rows if r.all_days)
        assert per_day == every_day, measure
    # Neither drafts nor today's requests; the undated one in a row without a day.
    assert not rows.filter(status=S.DRAFT).exists()
    assert not rows.filter(day__gte=today).exists()
    assert rows.filter(all_days=False, day__isnull=True).exists()
    # Carol co-authors only; the author listed as co-author of their own request once.
    assert not rows.filter(deputy=carol, authored=True).exists()
    registered = DeputyRequest.objects.exclude(status=S.DRAFT).filter(
        Q(submitted_at__isnull=True) | Q(submitted_at__date__lt=today)
    )
    authored = sum(r.total for r in rows.filter(all_days=True, authored=True))
    assert authored == registered.count()
    co_authored = sum(r.total for r in rows.filter(all_days=True, authored=False))
    links = CoAuthor.objects.filter(deputyrequest__in=registered).exclude(
        deputy_id=F("deputyrequest__author_id")
    )
    assert co_authored == links.count() > 0


def test_stored_and_live_agree_right_after_the_build(
    directory: DemoDirectory, carol: Deputy, scene: list[DeputyRequest]
) -> None:
    assert_agree(directory, carol, "live")
    build_daily_counts()
    assert_agree(directory, carol, "deputy_counts")


def test_changes_after_the_build_are_counted(
    directory: DemoDirectory, where: Places, carol: Deputy, scene: list[DeputyRequest]
) -> None:
    build_daily_counts()
    today = timezone.localdate()
    older = DeputyRequest.objects.filter(submitted_at__date__lt=today - datetime.timedelta(days=3))
    # Answered past its due date (alice's, co-authored), closed with a rating (carol's).
    late = older.filter(status=S.IN_PROGRESS, due_date__lt=today, author=directory.alice).first()
    assert late is not None
    late.status, late.answered_at = S.ANSWERED, timezone.now()
    late.save()
    rated = older.filter(status=S.ANSWERED, co_authors=carol).exclude(pk=late.pk).first()
    assert rated is not None
    rated.status, rated.rating, rated.outcome = S.CLOSED, 5, "resolved"
    rated.save()
    # Withdrawn through the service: a registered request and a draft (which has no
    # submission time: a withdrawn draft counts in the undated rows).
    withdrawn = older.filter(status=S.SUBMITTED, author=directory.bob).first()
    assert withdrawn is not None
    services.deputy_request_withdraw(pk=withdrawn.pk, by=directory.bob.user, reason="Решено.")
    drafts = list(DeputyRequest.objects.filter(status=S.DRAFT).order_by("pk"))
    services.deputy_request_withdraw(pk=drafts[1].pk, by=drafts[1].author.user)
    # A draft deleted (drafts are counted live, never stored).
    DeputyRequest.objects.filter(pk=drafts[2].pk).delete()
    # A co-author added to a draft, which is then submitted (today: live).
    draft = drafts[3]
    services.deputy_request_update_draft(pk=draft.pk, by=draft.author.user, co_authors=[carol])
    services.deputy_request_submit(pk=draft.pk, by=draft.author.user)
    # The co-author removed from a draft.
    services.deputy_request_update_draft(pk=drafts[0].pk, by=drafts[0].author.user, co_authors=[])
    # New requests: on past days (changed since the build), and submitted today.
    added = bulk_requests(directory, 6, where)
    CoAuthor.objects.bulk_create(
        [CoAuthor(deputyrequest_id=r.pk, deputy_id=carol.pk) for r in added[::2]]
    )
    today_ones = bulk_requests(directory, 2, where, states=(S.SUBMITTED,))
    DeputyRequest.objects.filter(pk__in=[r.pk for r in today_ones]).update(
        submitted_at=timezone.now()
    )
    # The build is still today's: the figures are the stored ones and the live days'.
    assert DailyCountRun.objects.get().day == today
    assert_agree(directory, carol, "deputy_counts")
    # Without today's build: counted live, the same figures.
    DailyCountRun.objects.all().delete()
    assert_agree(directory, carol, "live")


def test_yesterdays_build_is_not_read(
    directory: DemoDirectory, carol: Deputy, scene: list[DeputyRequest]
) -> None:
    build_daily_counts(timezone.localdate() - datetime.timedelta(days=1))
    assert_agree(directory, carol, "live")


def test_the_page_reads_the_stored_counts(
    directory: DemoDirectory, carol: Deputy, scene: list[DeputyRequest]
) -> None:
    build_daily_counts()
    client = Client()
    client.force_login(directory.alice.user)
    before = client.get(URL).context["counters"]["total"]
    # A stored figure changed behind the page's back shows: it reads the table.
    DeputyRequestCount.objects.filter(
        all_days=True, deputy=directory.alice, authored=True, status=S.CLOSED
    ).update(total=F("total") + 100)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["counters"]["total"] == before + 100
    assert response.context["source"] == "deputy_counts"


def queries(read: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured.captured_queries)


def counters_of(deputy: Deputy) -> Callable[[], Any]:
    actor = actor_for(deputy.user)
    return lambda: deputy_dashboard(actor=actor)


#: The dashboard's own queries for a deputy: the latest build; the counters (with today's
#: build three: the changed days, the stored rows, the live part; without it one live
#: count — each a ``UNION ALL`` of the authored and the co-authored requests); to evaluate,
#: the overdue list and its calendar, the instruction counters (one), the promises awaiting
#: the verdict (count, rows).
BUDGET = {True: 10, False: 8}


@pytest.mark.parametrize("built", [True, False])
def test_queries_do_not_grow_with_rows(
    directory: DemoDirectory, where: Places, carol: Deputy, built: bool
) -> None:
    make_requests(directory, where, carol, 12)
    if built:
        build_daily_counts()
    counters_of(carol)()  # warm-up: first-call caches
    few = {d.pk: queries(counters_of(d)) for d in deputies(directory, carol)}
    make_requests(directory, where, carol, 600)
    if built:
        build_daily_counts()
        # Changes since the build are read live, in the same queries.
        changed = DeputyRequest.objects.exclude(status=S.DRAFT).filter(co_authors=carol).first()
        assert changed is not None
        changed.save()
    many = {d.pk: queries(counters_of(d)) for d in deputies(directory, carol)}
    assert few == many
    assert max(many.values()) <= BUDGET[built], many


def test_the_live_part_reads_only_the_deputys_own_changes(
    directory: DemoDirectory, carol: Deputy, scene: list[DeputyRequest]
) -> None:
    """Each part of the deputy's requests (authored; co-authored only) brings its own
    changed days, drafts and today's requests; another deputy's changes bring none."""
    from reports.deputy_counts import _changed_days

    run = build_daily_counts()
    today = timezone.localdate()
    older = DeputyRequest.objects.exclude(status=S.DRAFT).filter(
        submitted_at__date__lt=today - datetime.timedelta(days=3)
    )
    # Carol's co-authored request (another's) rated today; a request of alice's that carol
    # does not co-author rated today; an author listed as co-author of their own request.
    changed = older.filter(co_authors=carol, rating__isnull=True).first()
    assert changed is not None
    changed.rating = 2
    changed.save()
    others = older.filter(author=directory.alice, rating__isnull=True).exclude(co_authors=carol)
    other = others.first()
    assert other is not None
    other.rating = 4
    other.save()
    own_listed = DeputyRequest.objects.filter(co_authors=F("author")).get()
    own_listed.save()
    assert changed.submitted_at is not None and other.submitted_at is not None
    days = {
        deputy.pk: set(_changed_days(deputy.pk, today, run))
        for deputy in deputies(directory, carol)
    }
    local = timezone.localdate
    assert days[carol.pk] == {local(changed.submitted_at)}
    assert local(other.submitted_at) in days[directory.alice.pk]
    assert local(changed.submitted_at) in days[changed.author_id]
    assert own_listed.submitted_at is not None
    assert local(own_listed.submitted_at) in days[own_listed.author_id]
    # A draft carol co-authors, a request of bob's she co-authors submitted today.
    today_one = bulk_requests(directory, 1, places(), states=(S.SUBMITTED,))[0]
    DeputyRequest.objects.filter(pk=today_one.pk).update(submitted_at=timezone.now())
    CoAuthor.objects.create(deputyrequest_id=today_one.pk, deputy_id=carol.pk)
    assert_agree(directory, carol, "deputy_counts")
    figures = read(carol)
    assert figures["by_status"][S.DRAFT] == 1
    # Carol never authors: nothing awaits her evaluation.
    assert figures["counters"]["awaiting_evaluation"] == 0
