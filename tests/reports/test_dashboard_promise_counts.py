"""The dashboards' stored promise counts (``reports.public_counts``): the staff's figures of
every promise, a department's figures of its own promises and its final answers sent despite
the boilerplate warning, read from the nightly tables (``PromiseDailyCount`` rows of every
promise per block of ids, ``SentAnswerCount``) with the blocks and days changed since the
build counted live, equal the figures counted live over the whole tables — right after the
build, after changes (a promise reported, kept, broken, rescheduled today, a new promise
today, a request moved to another district, an answer dated back), for every period and
threshold — in a fixed number of queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import CharField, Count, F, IntegerField, Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import ACTIVE_STATES, Commitment, CommitmentState, Verdict
from commitments.selectors import commitment_figures, commitment_figures_by_department
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import actor_for
from reports import promise_dashboards, public_counts
from reports.daily_counts import build_daily_counts
from reports.models import DailyCountRun, PromiseDailyCount, SentAnswerCount
from reports.public_counts import changed_blocks
from requests_app.models import (
    DeputyRequest,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.reports.promise_data import (
    break_,
    bulk_promises,
    keep,
    promised,
    report,
    reschedule,
    unique_text,
)
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
#: The similarities written with the bulk answers' commented approvals (``None``: an
#: approval with a comment and no similarity), cycled; thresholds fall on and between them.
SIMILARITIES = (0.5, 0.6, 0.75, 0.9, None, 0.55)
THRESHOLDS = (0.55, 0.6, 0.8)


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of four promise ids: the few promises here fill many blocks, most stored."""
    monkeypatch.setattr(public_counts, "PROMISE_BLOCK", 4)


def warn(answers: list[Response]) -> None:
    """Commented approvals for every third answer (a second one for some), in bulk."""
    events = []
    for i, answer in enumerate(answers[::3]):
        value = SIMILARITIES[i % len(SIMILARITIES)]
        changes: dict[str, Any] = {"response": answer.pk, "boilerplate_comment": "Тот же план."}
        if value is not None:
            changes["similarity"] = value
        events.append(
            AuditEvent(
                item_type=DeputyRequest.ITEM_TYPE,
                item_id=answer.request_id,
                action="approve_final",
                changes=changes,
            )
        )
        if i % 4 == 0:  # approved twice with a comment: the answer counts once
            events.append(
                AuditEvent(
                    item_type=DeputyRequest.ITEM_TYPE,
                    item_id=answer.request_id,
                    action="approve_final",
                    changes={**changes, "similarity": 0.95},
                )
            )
    AuditEvent.objects.bulk_create(events)


@pytest.fixture
def scene(directory: DemoDirectory, where: Places) -> None:
    """Requests of both departments on many submission days with sent final answers on many
    days (some ahead), promises in every state (public or not, some disputed, some late),
    commented approvals at several similarities, and a few promises and warned answers made
    through the services."""
    finance, mobility = directory.finance, directory.mobility
    same = unique_text(20_001)
    made = [
        keep(directory, promised(directory, lead=finance, text=same)),
        promised(directory, lead=finance, text=same, boilerplate_comment="Тот же план работ."),
        promised(directory, lead=mobility, public=False),
        promised(directory, lead=mobility, close=False),
    ]
    for item in made:
        DeputyRequest.objects.filter(pk=item.request_id).update(number=f"DZ-2025-{item.pk:05d}")
    requests = bulk_requests(directory, 160, where, with_answers=True, drafts=3)
    # Out of the way of the numbers the services give the promises made in the tests.
    DeputyRequest.objects.filter(pk__in=[r.pk for r in requests], number__isnull=False).update(
        number=Concat(Value("DZ-2024-"), Cast("pk", CharField()))
    )
    promises = bulk_promises(requests)
    today = timezone.localdate()
    for i, pk in enumerate(sorted(p.pk for p in promises)[::2]):
        Commitment.objects.filter(pk=pk).update(
            state=CommitmentState.OPEN if i % 2 else CommitmentState.RESCHEDULED,
            due_date=today + datetime.timedelta(days=i % 13 - 6),
            reported_at=None,
            verdict=Verdict.DISPUTED if i % 3 == 0 else Verdict.NONE,
        )
    Commitment.objects.filter(pk=promises[1].pk).update(state=CommitmentState.WITHDRAWN)
    answers = list(
        Response.objects.filter(request__in=requests, kind=ResponseKind.FINAL).order_by("pk")
    )
    warn(answers)
    # The services' requests and answers on earlier days, as before the build.
    for n, item in enumerate(made):
        earlier = timezone.now() - datetime.timedelta(days=3 + n)
        DeputyRequest.objects.filter(pk=item.request_id).update(submitted_at=earlier)
        Response.objects.filter(pk=item.response_id).update(sent_at=earlier)


def live_answers(
    department_id: int,
    threshold: float,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> dict[str, int]:
    """The count as the dashboard made it before the stored counts, over the whole tables."""
    warned = (
        AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            action="approve_final",
            changes__has_key="boilerplate_comment",
            changes__similarity__gte=threshold,
        )
        .annotate(answer=Cast(KeyTextTransform("response", "changes"), IntegerField()))
        .values("answer")
    )
    answers = Response.objects.filter(
        department_id=department_id, kind=ResponseKind.FINAL, status=ResponseStatus.SENT
    )
    if since is not None:
        answers = answers.filter(sent_at__date__gte=since)
    if until is not None:
        answers = answers.filter(sent_at__date__lte=until)
    row = answers.aggregate(sent=Count("pk"), despite=Count("pk", filter=Q(pk__in=warned)))
    return {"sent": row["sent"], "despite_warning": row["despite"]}


def periods(today: datetime.date) -> list[tuple[datetime.date | None, datetime.date | None]]:
    days = datetime.timedelta
    return [
        (None, None),
        (today - days(30), None),
        (None, today - days(10)),
        (today - days(90), today - days(5)),
        (today - days(4), today + days(40)),
        (today, today),
        (today - days(3), today - days(3)),
    ]


def assert_agree(directory: DemoDirectory, settings: Any, today: datetime.date) -> None:
    staff = promise_dashboards.staff_promises(actor_for(directory.staff), today)
    every = Commitment.objects.all()
    assert staff["totals"] == commitment_figures(every, today)
    assert staff["by_department"] == commitment_figures_by_department(every, today)
    assert staff["totals"]["total"] > 0
    for head in (directory.finance_head, directory.mobility_head):
        actor = actor_for(head)
        assert actor.department_id is not None
        own = Commitment.objects.filter(department_id=actor.department_id)
        for threshold in THRESHOLDS:
            settings.BOILERPLATE_SIMILARITY_THRESHOLD = threshold
            for since, until in periods(today):
                data = promise_dashboards.department_promises(
                    actor, today, since=since, until=until
                )
                assert data["totals"] == commitment_figures(own, today)
                expected = live_answers(actor.department_id, threshold, since, until)
                got = data["boilerplate"]
                assert {k: got[k] for k in expected} == expected, (threshold, since, until)
                alone = promise_dashboards.answers_sent_despite_warning(
                    actor.department_id, since=since, until=until, today=today
                )
                assert alone == got


def test_the_build_stores_every_promise_and_the_sent_answers(
    directory: DemoDirectory, scene: None
) -> None:
    run = build_daily_counts()
    assert run.finished_at is not None
    today = timezone.localdate()
    # Every promise there is (today's too), per block of ids and over every block.
    rows = PromiseDailyCount.objects.filter(public=False)
    assert sum(r.total for r in rows if not r.all_days) == sum(r.total for r in rows if r.all_days)
    every = Commitment.objects.filter(
        state__in=[*ACTIVE_STATES, CommitmentState.KEPT, CommitmentState.BROKEN]
    )
    assert sum(r.total for r in rows if r.all_days) == every.count()
    assert not rows.filter(Q(day__isnull=False) | Q(district__isnull=False)).exists()
    assert rows.filter(all_days=False).values("block").distinct().count() > 1
    # More promises than the public ones.
    public = PromiseDailyCount.objects.filter(public=True, all_days=True)
    assert sum(r.total for r in public) < every.count()
    answers = SentAnswerCount.objects.all()
    sent_before = Response.objects.filter(
        kind=ResponseKind.FINAL, status=ResponseStatus.SENT, sent_at__date__lt=today
    )
    assert sum(r.sent for r in answers if r.all_days) == sent_before.count() > 0
    assert sum(r.sent for r in answers if not r.all_days) == sent_before.count()
    assert not answers.filter(day__gte=today).exists()
    assert answers.filter(similarity__isnull=False).exists()


def test_stored_and_live_agree_right_after_the_build(
    directory: DemoDirectory, scene: None, settings: Any
) -> None:
    build_daily_counts()
    assert_agree(directory, settings, timezone.localdate())


def test_changes_after_the_build_are_counted(
    directory: DemoDirectory, where: Places, scene: None, settings: Any
) -> None:
    build_daily_counts()
    today = timezone.localdate()
    older = Q(request__submitted_at__date__lt=today - datetime.timedelta(days=2))
    open_ = Commitment.objects.filter(older, state=CommitmentState.OPEN, reported_at__isnull=True)
    first, second, third, fourth = list(open_.order_by("pk")[:4])
    # Promises reported, kept, broken and rescheduled today through the services.
    report(directory, first)
    keep(directory, second)
    break_(directory, third)
    reschedule(directory, fourth)
    # A new promise today, approved despite the warning.
    same = unique_text(20_001)
    promised(directory, lead=directory.finance, text=same, boilerplate_comment="Снова то же.")
    # A request moved to another district (its promises' district rows change).
    moved = Commitment.objects.filter(older, request__district=where.districts[0]).first()
    assert moved is not None
    item = DeputyRequest.objects.get(pk=moved.request_id)
    item.district = where.districts[1]
    item.save()
    # An answer dated back (an import): sent a week ago, written now, warned.
    dated = DeputyRequest.objects.filter(status=S.IN_PROGRESS, lead_department__isnull=False)
    target = dated.first()
    assert target is not None and target.lead_department_id is not None
    back = timezone.now() - datetime.timedelta(days=7)
    answer = Response.objects.create(
        request=target,
        department_id=target.lead_department_id,
        kind=ResponseKind.FINAL,
        text="Ответ из архива",
        outcome="explained",
        status=ResponseStatus.SENT,
        drafted_by=directory.finance_exec,
        approved_by=directory.finance_head,
        sent_at=back,
    )
    AuditEvent.objects.create(
        item_type=DeputyRequest.ITEM_TYPE,
        item_id=target.pk,
        action="approve_final",
        changes={"response": answer.pk, "similarity": 0.9, "boilerplate_comment": "Архив."},
    )
    target.save()
    # The build is still today's: the figures are the stored ones and the live days'.
    run = DailyCountRun.objects.get()
    assert run.day == today
    blocks, answer_days = changed_blocks(run, answers_of=target.lead_department_id)
    assert answer_days is not None and timezone.localdate(back) in answer_days.days
    block = public_counts.PROMISE_BLOCK
    assert {c.pk // block for c in (first, second, third, fourth)} <= set(blocks.blocks)
    assert_agree(directory, settings, today)


def test_without_todays_build_the_dashboards_count_live(
    directory: DemoDirectory, scene: None, settings: Any
) -> None:
    build_daily_counts(timezone.localdate() - datetime.timedelta(days=1))
    assert_agree(directory, settings, timezone.localdate())


def test_the_dashboards_read_the_stored_counts(directory: DemoDirectory, scene: None) -> None:
    build_daily_counts()
    today = timezone.localdate()
    staff = actor_for(directory.staff)
    head = actor_for(directory.finance_head)
    before = promise_dashboards.staff_promises(staff, today)["totals"]["total"]
    own = promise_dashboards.department_promises(head, today)
    # A stored figure changed behind the dashboards' back shows: they read the tables.
    row = PromiseDailyCount.objects.filter(
        public=False, all_days=True, department=directory.finance
    ).first()
    assert row is not None
    PromiseDailyCount.objects.filter(pk=row.pk).update(total=F("total") + 100)
    answers = SentAnswerCount.objects.filter(all_days=True, department=directory.finance).first()
    assert answers is not None
    SentAnswerCount.objects.filter(pk=answers.pk).update(sent=F("sent") + 100)
    assert promise_dashboards.staff_promises(staff, today)["totals"]["total"] == before + 100
    after = promise_dashboards.department_promises(head, today)
    assert after["totals"]["total"] == own["totals"]["total"] + 100
    assert after["boilerplate"]["sent"] == own["boilerplate"]["sent"] + 100
    # The pages show them.
    client = Client()
    client.force_login(directory.finance_head)
    html = client.get(reverse("reports:dashboard-department")).content.decode()
    b = after["boilerplate"]
    assert f"{b['despite_warning']} of {b['sent']}" in html or (
        f"{b['despite_warning']} из {b['sent']}" in html
    )
    client.force_login(directory.staff)
    assert client.get(reverse("reports:dashboard")).context["promises"]["totals"]["total"] == (
        before + 100
    )


def count(call: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


#: With today's build: the staff's figures are the run, the changed blocks, the stored rows
#: and the live part (4); a department's are the run, the changed blocks and its answers'
#: days, and one query of the four parts (3). Without it, live: the run and one query each.
BUILT = {"staff": 4, "department": 3}
LIVE = {"staff": 2, "department": 2}


@pytest.mark.parametrize("built", [False, True])
def test_queries_do_not_grow_with_rows(
    directory: DemoDirectory, where: Places, built: bool
) -> None:
    today = timezone.localdate()
    staff = actor_for(directory.staff)
    head = actor_for(directory.finance_head)
    calls = {
        "staff": lambda: promise_dashboards.staff_promises(staff, today),
        "department": lambda: promise_dashboards.department_promises(head, today),
    }
    expected = BUILT if built else LIVE

    def measure() -> dict[str, int]:
        if built:
            build_daily_counts()
            # Changes since the build are read live, in the same queries.
            changed = DeputyRequest.objects.filter(lead_department=directory.finance).first()
            assert changed is not None
            changed.save()
        return {name: count(call) for name, call in calls.items()}

    bulk_promises(bulk_requests(directory, 30, where, with_answers=True))
    few = measure()
    requests = bulk_requests(directory, 600, where, with_answers=True)
    bulk_promises(requests)
    warn(list(Response.objects.filter(request__in=requests).order_by("pk")))
    many = measure()
    assert few == many == expected
