"""kpi_compute: the worked example end to end, idempotency, a killed run redone,
determinism for a past period, the nightly task, the query budget, the rater flags."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from instructions.models import Instruction, InstructionStatus, Meeting, MeetingKind, Protocol
from kpi import aggregates, services, tasks
from kpi.models import (
    ActivityKind,
    DeputyActivity,
    KpiRun,
    KpiSnapshot,
    RaterFlag,
    RunStatus,
    WorkingDayIndex,
)
from kpi.periods import InvalidPeriod
from kpi.selectors import NoSnapshot, kpi_rankings, weights_in_force
from maslikhat.core.deadlines import WorkingCalendar
from maslikhat.core.exceptions import ActionForbidden, ValidationFailed
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.directory.models import Department, Deputy
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import CategoryFactory, DemoDirectory

ALMATY = ZoneInfo("Asia/Almaty")
D = datetime.date
Q3 = "2026-Q3"
AS_OF = D(2026, 9, 30)
_numbers = itertools.count(1)


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    """Noon in Almaty on ``day``."""
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=ALMATY)


@dataclass
class Rows:
    """Builds KPI input rows directly (dates chosen by the test, not by the clock)."""

    directory: DemoDirectory

    def request(
        self,
        *,
        lead: Department | None,
        author: Deputy | None = None,
        status: str = RequestStatus.CLOSED,
        submitted: datetime.date | None = None,
        routed: datetime.date | None = None,
        original_due: datetime.date | None = None,
        due: datetime.date | None = None,
        answered: datetime.date | None = None,
        rating: int | None = None,
        rated: datetime.date | None = None,
        closed: datetime.date | None = None,
        outcome: str | None = None,
        request_rating: int | None = None,
        request_rated: datetime.date | None = None,
        co_authors: tuple[Deputy, ...] = (),
    ) -> DeputyRequest:
        submitted = submitted or (routed - datetime.timedelta(days=1) if routed else None)
        item = DeputyRequest.objects.create(
            number=f"DZ-2026-{next(_numbers):05d}",
            convocation=self.directory.convocation,
            author=author or self.directory.alice,
            title="Ремонт дороги",
            body="Текст запроса",
            category=CategoryFactory.create(code="roads"),
            status=status,
            lead_department=lead,
            submitted_at=at(submitted) if submitted else None,
            routed_at=at(routed, 10) if routed else None,
            original_due_date=original_due,
            due_date=due or original_due,
            answered_at=at(answered) if answered else None,
            rating=rating,
            rated_at=at(rated) if rated else None,
            closed_at=at(closed) if closed else None,
            outcome=outcome,
            request_rating=request_rating,
            request_rated_at=at(request_rated) if request_rated else None,
        )
        if co_authors:
            item.co_authors.set(co_authors)
        return item

    def answer(
        self,
        item: DeputyRequest,
        sent: datetime.date,
        *,
        kind: str = ResponseKind.FINAL,
        evaluation: str = "",
        evaluated: datetime.date | None = None,
        rating: int | None = None,
    ) -> Response:
        """A sent answer; with ``evaluation``, the author's ``Evaluation`` of it too."""
        assert item.lead_department is not None
        response = Response.objects.create(
            request=item,
            department=item.lead_department,
            kind=kind,
            text="Ответ",
            outcome=Outcome.RESOLVED if kind == ResponseKind.FINAL else None,
            status=ResponseStatus.SENT,
            drafted_by=self.directory.finance_exec,
            approved_by=self.directory.finance_head,
            sent_at=at(sent),
            evaluation=evaluation,
            evaluation_rating=rating,
            evaluated_at=at(evaluated) if evaluated else None,
        )
        if evaluation and evaluated:
            Evaluation.objects.create(
                request=item,
                response=response,
                decision=evaluation,
                rating=rating,
                by=item.author.user,
                at=at(evaluated),
            )
        return response

    def extension(self, item: DeputyRequest, previous: datetime.date, new: datetime.date) -> None:
        Extension.objects.create(
            item_type="request",
            item_id=item.pk,
            requested_by=self.directory.finance_head,
            previous_due_date=previous,
            new_due_date=new,
            reason="Нужно обследование",
            status=ExtensionStatus.APPROVED,
            decided_by=self.directory.staff,
            decided_at=at(previous - datetime.timedelta(days=3)),
        )

    def instruction(
        self,
        lead: Department,
        due: datetime.date,
        *,
        status: str = InstructionStatus.ON_CONTROL,
        reported: datetime.date | None = None,
    ) -> Instruction:
        meeting = Meeting.objects.create(
            convocation=self.directory.convocation,
            kind=MeetingKind.SESSION,
            date=D(2026, 6, 1),
            title="Сессия",
            created_by=self.directory.staff,
        )
        protocol = Protocol.objects.create(
            meeting=meeting,
            number=str(next(_numbers)),
            date=D(2026, 6, 1),
            created_by=self.directory.staff,
        )
        return Instruction.objects.create(
            protocol=protocol,
            number="1",
            convocation=self.directory.convocation,
            text="Поручение",
            lead_department=lead,
            controller_deputy=self.directory.alice,
            due_date=due,
            original_due_date=due,
            status=status,
            reported_at=at(reported) if reported else None,
            executed_at=at(reported + datetime.timedelta(days=1))
            if reported and status == InstructionStatus.EXECUTED
            else None,
            created_by=self.directory.staff,
        )


def worked_example(directory: DemoDirectory) -> Rows:
    """The scenario of ``test_kpi_calculators.test_worked_example_by_hand`` as rows.

    Finance, 2026-Q3 (1 July – 30 September):
    1. due 10.07, answered 08.07 (on time), rated 5, closed resolved;
    2. due 20.07, a first final answer on 17.07 returned for rework, answered again
       25.07 (late), rated 3, closed partially resolved;
    3. due 05.08, extension approved to 20.08, answered 18.08: late against the original
       due date, on time against the extended one; rated 4, closed resolved;
    4. due 25.08, only an interim answer on 20.08: not answered, open and overdue;
    5. due 10.09, answered 09.09 (on time), not evaluated yet.
    Mobility: one request, due 15.07, answered 14.07, rated 2, closed not resolved.
    Instructions of finance: due 31.07 reported 30.07 executed (on time); due 31.08
    reported 03.09 executed (late); due 15.09 still on control (late); due 21.09 reported
    21.09 executed (on time); one removed from control (not counted).
    """
    rows = Rows(directory)
    fin, mob = directory.finance, directory.mobility
    r1 = rows.request(
        lead=fin, routed=D(2026, 6, 26), original_due=D(2026, 7, 10), answered=D(2026, 7, 8),
        rating=5, rated=D(2026, 7, 15), closed=D(2026, 7, 15), outcome=Outcome.RESOLVED,
    )  # fmt: skip
    rows.answer(r1, D(2026, 7, 8), evaluation="accept", evaluated=D(2026, 7, 15), rating=5)
    r2 = rows.request(
        lead=fin, routed=D(2026, 7, 1), original_due=D(2026, 7, 20), answered=D(2026, 7, 25),
        rating=3, rated=D(2026, 7, 28), closed=D(2026, 7, 28),
        outcome=Outcome.PARTIALLY_RESOLVED,
    )  # fmt: skip
    rows.answer(r2, D(2026, 7, 17), evaluation="rework", evaluated=D(2026, 7, 18))
    rows.answer(r2, D(2026, 7, 25), evaluation="accept", evaluated=D(2026, 7, 28), rating=3)
    r3 = rows.request(
        lead=fin, routed=D(2026, 7, 15), original_due=D(2026, 8, 5), due=D(2026, 8, 20),
        answered=D(2026, 8, 18), rating=4, rated=D(2026, 8, 19), closed=D(2026, 8, 19),
        outcome=Outcome.RESOLVED,
    )  # fmt: skip
    rows.extension(r3, D(2026, 8, 5), D(2026, 8, 20))
    rows.answer(r3, D(2026, 8, 18), evaluation="accept", evaluated=D(2026, 8, 19), rating=4)
    r4 = rows.request(
        lead=fin, status=RequestStatus.IN_PROGRESS, routed=D(2026, 8, 4),
        original_due=D(2026, 8, 25),
    )  # fmt: skip
    rows.answer(r4, D(2026, 8, 20), kind=ResponseKind.INTERIM)
    r5 = rows.request(
        lead=fin, status=RequestStatus.ANSWERED, routed=D(2026, 8, 20),
        original_due=D(2026, 9, 10), answered=D(2026, 9, 9),
    )  # fmt: skip
    rows.answer(r5, D(2026, 9, 9))
    m1 = rows.request(
        lead=mob, author=directory.bob, routed=D(2026, 6, 24), original_due=D(2026, 7, 15),
        answered=D(2026, 7, 14), rating=2, rated=D(2026, 7, 16), closed=D(2026, 7, 16),
        outcome=Outcome.NOT_RESOLVED,
    )  # fmt: skip
    rows.answer(m1, D(2026, 7, 14), evaluation="accept", evaluated=D(2026, 7, 16), rating=2)
    rows.instruction(
        fin, D(2026, 7, 31), status=InstructionStatus.EXECUTED, reported=D(2026, 7, 30)
    )
    rows.instruction(fin, D(2026, 8, 31), status=InstructionStatus.EXECUTED, reported=D(2026, 9, 3))
    rows.instruction(fin, D(2026, 9, 15))
    rows.instruction(
        fin, D(2026, 9, 21), status=InstructionStatus.EXECUTED, reported=D(2026, 9, 21)
    )
    rows.instruction(fin, D(2026, 9, 1), status=InstructionStatus.REMOVED_FROM_CONTROL)
    return rows


def snapshot(
    kind: str, entity_id: int, period: str = Q3, as_of: datetime.date = AS_OF
) -> KpiSnapshot:
    return KpiSnapshot.objects.get(kind=kind, entity_id=entity_id, period=period, as_of=as_of)


def numbers(period: str = Q3, as_of: datetime.date = AS_OF) -> list[tuple[Any, ...]]:
    """Everything a snapshot says except when it was computed."""
    return list(
        KpiSnapshot.objects.filter(period=period, as_of=as_of)
        .order_by("kind", "entity_id")
        .values_list(
            "kind", "entity_id", "components", "composite", "rank", "insufficient_data", "weights"
        )
    )


# --- The worked example through the database ------------------------------------------------


def test_the_worked_example_computed_from_the_database(directory) -> None:
    worked_example(directory)
    run = services.kpi_compute(as_of=AS_OF, period=Q3)
    assert run.status == RunStatus.DONE
    finance = snapshot("department", directory.finance.pk)
    c = finance.components
    # timeliness: 2 of 5 due (r1, r5); r3 counts late although extended; r4's interim ignored
    assert (c["timeliness"]["successes"], c["timeliness"]["n"]) == (2, 5)
    assert c["timeliness"]["value"] == 0.4
    assert c["timeliness"]["extended"] == 1
    assert c["timeliness"]["answered_by_extended_due"] == 1
    # quality: m = (5 + 3 + 4 + 2) / 4 = 3.5; (5·3.5 + 12) / (5 + 3) = 3.6875
    assert c["quality"]["value"] == 3.6875
    assert c["quality"]["n"] == 3
    # rework: 1 of 5 final answers sent in the quarter
    assert (c["rework"]["successes"], c["rework"]["n"]) == (1, 5)
    # resolution: (2 + ½·1) / 3
    assert c["resolution"]["value"] == pytest.approx(0.8333, abs=1e-4)
    # discipline: 2 of 4 (the removed one does not count)
    assert (c["discipline"]["successes"], c["discipline"]["n"]) == (2, 4)
    assert c["open_overdue"]["value"] == 1
    assert finance.composite == 58.63
    assert finance.rank == 1
    assert finance.insufficient_data is False
    # speed: the median of the working-day durations routed → final answer
    cal = WorkingCalendar.load(D(2026, 6, 1), D(2026, 9, 30))
    durations = sorted(
        cal.working_days_between(a, b)
        for a, b in [
            (D(2026, 6, 26), D(2026, 7, 8)),
            (D(2026, 7, 1), D(2026, 7, 25)),
            (D(2026, 7, 15), D(2026, 8, 18)),
            (D(2026, 8, 20), D(2026, 9, 9)),
        ]
    )
    assert c["speed"]["n"] == 4
    assert c["speed"]["value"] == (durations[1] + durations[2]) / 2
    mobility = snapshot("department", directory.mobility.pk)
    assert mobility.rank is None and mobility.insufficient_data is True
    assert mobility.components["quality"]["value"] == pytest.approx((5 * 3.5 + 2) / 6, abs=1e-4)


def test_deputies_in_the_worked_example(directory) -> None:
    rows = worked_example(directory)
    # Bob co-authors one request submitted in the quarter.
    extra = rows.request(
        lead=directory.finance, status=RequestStatus.IN_PROGRESS, routed=D(2026, 9, 25),
        original_due=D(2026, 10, 16), co_authors=(directory.bob,),
    )  # fmt: skip
    assert extra.submitted_at is not None
    services.kpi_compute(as_of=AS_OF, period=Q3)
    alice = snapshot("deputy", directory.alice.pk).components
    bob = snapshot("deputy", directory.bob.pk).components
    # filed in the quarter: r3, r4, r5 and the extra one (authored by alice)
    assert alice["requests"]["value"] == 4
    assert bob["requests"]["value"] == 1  # co-authored
    # final answers sent: r1, r2 (twice), r3 evaluated within 10 working days; r5 not
    # evaluated and its window closed before 30.09 → 4 of 5
    assert (alice["follow_through"]["successes"], alice["follow_through"]["n"]) == (4, 5)
    assert alice["resolution"]["value"] == 1.0  # r1 resolved, r2 partially, r3 resolved
    assert bob["resolution"]["value"] == 0.0  # not resolved
    assert alice["request_quality"]["value"] is None  # no department rated a request
    assert snapshot("deputy", directory.alice.pk).insufficient_data is True


def test_a_returned_answers_rating_stays_in_the_departments_quality(directory) -> None:
    """Returned for rework with a 2, answered again and accepted with a 4: both ratings
    count in the department's mean, and the return counts in its rework share."""
    rows = Rows(directory)
    fin, mob = directory.finance, directory.mobility
    item = rows.request(
        lead=fin, routed=D(2026, 7, 1), original_due=D(2026, 7, 20), answered=D(2026, 7, 24),
        rating=4, rated=D(2026, 7, 28), closed=D(2026, 7, 28), outcome=Outcome.RESOLVED,
    )  # fmt: skip
    rows.answer(item, D(2026, 7, 10), evaluation="rework", evaluated=D(2026, 7, 13), rating=2)
    rows.answer(item, D(2026, 7, 24), evaluation="accept", evaluated=D(2026, 7, 28), rating=4)
    other = rows.request(
        lead=mob, author=directory.bob, routed=D(2026, 7, 1), original_due=D(2026, 7, 20),
        answered=D(2026, 7, 14), rating=5, rated=D(2026, 7, 16), closed=D(2026, 7, 16),
        outcome=Outcome.RESOLVED,
    )  # fmt: skip
    rows.answer(other, D(2026, 7, 14), evaluation="accept", evaluated=D(2026, 7, 16), rating=5)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    finance = snapshot("department", fin.pk).components
    mobility = snapshot("department", mob.pk).components
    # By hand: ratings given in the quarter are finance 2 and 4, mobility 5.
    # m = (2 + 4 + 5) / 3 = 11/3; C = 5.
    m = (2 + 4 + 5) / 3
    # finance: (C·m + Σr) / (C + n) = (5·11/3 + 6) / (5 + 2) = 73/21 ≈ 3.4762
    assert finance["quality"]["n"] == 2
    assert finance["quality"]["mean"] == 3.0
    assert finance["quality"]["value"] == pytest.approx((5 * m + 2 + 4) / (5 + 2), abs=1e-4)
    assert finance["quality"]["value"] == pytest.approx(73 / 21, abs=1e-4)
    # mobility: (5·11/3 + 5) / 6 = 70/18 ≈ 3.8889
    assert mobility["quality"]["value"] == pytest.approx(70 / 18, abs=1e-4)
    # The return stays visible: 1 of finance's 2 final answers went back for rework.
    assert (finance["rework"]["successes"], finance["rework"]["n"]) == (1, 2)
    # Counting only the accepted rating (the request's) would have said n = 1, mean 4.
    assert DeputyRequest.objects.get(pk=item.pk).rating == 4


# --- Idempotency, killed runs, determinism ---------------------------------------------------


def test_computing_twice_gives_the_same_rows_and_no_duplicates(directory) -> None:
    worked_example(directory)
    first = services.kpi_compute(as_of=AS_OF, period=Q3)
    before = numbers()
    second = services.kpi_compute(as_of=AS_OF, period=Q3)
    assert second.pk == first.pk
    assert second.attempts == 2
    assert numbers() == before
    assert KpiRun.objects.count() == 1
    # 2 departments + 2 deputies, once each
    assert KpiSnapshot.objects.filter(period=Q3, as_of=AS_OF).count() == 4


def test_a_run_killed_halfway_is_redone_cleanly(directory) -> None:
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    good = numbers()
    KpiSnapshot.objects.all().delete()
    KpiRun.objects.all().delete()
    # A worker died after writing its marker and some rows (as a non-transactional
    # writer could leave them): the run says 'running', the rows are partial and wrong.
    run = KpiRun.objects.create(
        period=Q3, as_of=AS_OF, period_start=D(2026, 7, 1), period_end=AS_OF,
        status=RunStatus.RUNNING, started_at=at(D(2026, 10, 1), 2),
    )  # fmt: skip
    for entity_id in (directory.finance.pk, 999_999):
        KpiSnapshot.objects.create(
            run=run, period=Q3, as_of=AS_OF, kind="department", entity_id=entity_id,
            components={}, composite=1.0, insufficient_data=True, weights={},
            computed_at=at(D(2026, 10, 1), 2),
        )  # fmt: skip
    # Nobody reads a run that is not done.
    with pytest.raises(NoSnapshot):
        kpi_rankings("department", Q3)
    redone = services.kpi_compute(as_of=AS_OF, period=Q3)
    assert redone.pk == run.pk
    assert redone.status == RunStatus.DONE
    assert redone.attempts == 2
    assert numbers() == good
    assert not KpiSnapshot.objects.filter(entity_id=999_999).exists()
    assert kpi_rankings("department", Q3).rows[0].composite == 58.63


def test_a_failing_computation_marks_the_run_failed_and_keeps_no_rows(
    directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    worked_example(directory)

    def broken(span: aggregates.Span) -> dict[int, dict[str, Any]]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(aggregates, "department_speed", broken)
    with pytest.raises(RuntimeError):
        services.kpi_compute(as_of=AS_OF, period=Q3)
    run = KpiRun.objects.get(period=Q3, as_of=AS_OF)
    assert run.status == RunStatus.FAILED
    assert "database went away" in run.error
    assert not KpiSnapshot.objects.exists()
    monkeypatch.undo()
    assert services.kpi_compute(as_of=AS_OF, period=Q3).status == RunStatus.DONE


def test_a_past_period_recomputed_later_gives_the_same_numbers(directory) -> None:
    worked_example(directory)
    with time_machine.travel(at(D(2026, 10, 1), 2), tick=False):
        services.kpi_compute(as_of=AS_OF, period=Q3)
        services.kpi_compute(as_of=AS_OF, period="rolling90")
    first, first_rolling = numbers(), numbers("rolling90")
    # Months later, with ratings and answers given after the snapshot date:
    rows = Rows(directory)
    later = rows.request(
        lead=directory.finance, routed=D(2026, 10, 2), original_due=D(2026, 10, 20),
        answered=D(2026, 10, 5), rating=1, rated=D(2026, 10, 6), closed=D(2026, 10, 6),
        outcome=Outcome.NOT_RESOLVED,
    )  # fmt: skip
    rows.answer(later, D(2026, 10, 5), evaluation="rework", evaluated=D(2026, 10, 6))
    with time_machine.travel(at(D(2027, 3, 15), 2), tick=False):
        services.kpi_compute(as_of=AS_OF, period=Q3)
        services.kpi_compute(as_of=AS_OF, period="rolling90")
    assert numbers() == first
    assert numbers("rolling90") == first_rolling


def test_kpi_compute_rejects_a_period_it_cannot_read(directory) -> None:
    with pytest.raises(InvalidPeriod):
        services.kpi_compute(as_of=AS_OF, period="2026-Q7")
    with pytest.raises(InvalidPeriod):
        services.kpi_compute(as_of=AS_OF, period="conv-3")  # no such convocation
    with pytest.raises(InvalidPeriod):
        services.kpi_compute(as_of=AS_OF, period="2027")  # starts after the date
    assert not KpiRun.objects.exists()


# --- The nightly task and its command twin ----------------------------------------------------


def test_the_nightly_task_computes_yesterdays_periods(directory) -> None:
    worked_example(directory)
    with time_machine.travel(at(D(2026, 10, 1), 2), tick=False):
        computed = tasks.compute_nightly()
    assert computed == 5
    runs = KpiRun.objects.filter(as_of=D(2026, 9, 30), status=RunStatus.DONE)
    assert sorted(runs.values_list("period", flat=True)) == sorted(
        ["2026-09", "2026-Q3", "2026", "rolling90", "conv-8"]
    )
    assert snapshot("department", directory.finance.pk).composite == 58.63
    conv = KpiRun.objects.get(period="conv-8")
    assert conv.period_start == directory.convocation.elected_on


def test_the_nightly_task_is_scheduled_at_two_in_almaty() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["kpi-compute-nightly"]
    assert entry["task"] == "kpi.compute_nightly"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Almaty"


def test_compute_kpi_command_runs_the_same_service(directory) -> None:
    worked_example(directory)
    out = StringIO()
    call_command("compute_kpi", "--date", "2026-09-30", stdout=out)
    assert "2026-Q3 as of 2026-09-30: done" in out.getvalue()
    assert KpiRun.objects.filter(as_of=D(2026, 9, 30), status=RunStatus.DONE).count() == 5
    assert snapshot("department", directory.finance.pk).composite == 58.63
    out = StringIO()
    call_command(
        "compute_kpi", "--date", "2026-12-15", "--period", "2026-Q3", "--period", "2026-12",
        stdout=out,
    )  # fmt: skip
    # a past quarter is computed as of its last day, the current month as of the date
    assert KpiRun.objects.filter(period="2026-Q3", as_of=D(2026, 9, 30)).count() == 1
    assert KpiRun.objects.filter(period="2026-12", as_of=D(2026, 12, 15)).exists()
    with time_machine.travel(at(D(2026, 10, 2)), tick=False):
        call_command("compute_kpi", "--period", "2026-10", stdout=StringIO())
    assert KpiRun.objects.filter(period="2026-10", as_of=D(2026, 10, 1)).exists()  # yesterday
    with pytest.raises(CommandError):
        call_command("compute_kpi", "--period", "soon", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("compute_kpi", "--date", "yesterday", stdout=StringIO())


# --- The query budget ---------------------------------------------------------------------------


def bulk_requests(directory: DemoDirectory, count: int, start: int) -> None:
    """``count`` closed, rated requests of finance in 2026-Q3 (bulk, one INSERT per table)."""
    category = CategoryFactory.create(code="roads")
    items = []
    for index in range(start, start + count):
        routed = D(2026, 7, 1) + datetime.timedelta(days=index % 60)
        answered = routed + datetime.timedelta(days=5 + index % 20)
        items.append(
            DeputyRequest(
                number=f"DZ-2026-B{index:06d}",
                convocation=directory.convocation,
                author=directory.alice if index % 2 else directory.bob,
                title="Запрос",
                body="Текст",
                category=category,
                status=RequestStatus.CLOSED,
                lead_department=directory.finance if index % 3 else directory.mobility,
                submitted_at=at(routed - datetime.timedelta(days=1)),
                routed_at=at(routed),
                original_due_date=routed + datetime.timedelta(days=21),
                due_date=routed + datetime.timedelta(days=21),
                answered_at=at(answered),
                rating=1 + index % 5,
                rated_at=at(answered + datetime.timedelta(days=2)),
                closed_at=at(answered + datetime.timedelta(days=2)),
                outcome=Outcome.RESOLVED if index % 4 else Outcome.PARTIALLY_RESOLVED,
                request_rating=1 + index % 5,
                request_rated_at=at(answered),
            )
        )
    created = DeputyRequest.objects.bulk_create(items)
    answers = Response.objects.bulk_create(
        Response(
            request=item,
            department=item.lead_department,
            kind=ResponseKind.FINAL,
            text="Ответ",
            outcome=Outcome.RESOLVED,
            status=ResponseStatus.SENT,
            drafted_by=directory.finance_exec,
            sent_at=item.answered_at,
            evaluation="accept",
            evaluation_rating=item.rating,
            evaluated_at=item.rated_at,
        )
        for item in created
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            request=item,
            response=response,
            decision="accept",
            rating=item.rating,
            by=item.author.user,
            at=item.rated_at or at(D(2026, 9, 1)),
        )
        for item, response in zip(created, answers, strict=True)
    )


def test_kpi_compute_queries_do_not_grow_with_the_number_of_requests(directory) -> None:
    bulk_requests(directory, 10, 0)
    services.kpi_compute(as_of=AS_OF, period=Q3)  # the working-day index is now built
    with CaptureQueriesContext(connection) as small:
        services.kpi_compute(as_of=AS_OF, period=Q3)
    bulk_requests(directory, 990, 10)
    with CaptureQueriesContext(connection) as large:
        services.kpi_compute(as_of=AS_OF, period=Q3)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 40
    finance = snapshot("department", directory.finance.pk)
    assert finance.components["quality"]["n"] > 600
    assert finance.rank is not None


def test_the_working_day_index_counts_like_the_calendar(directory) -> None:
    ordinal = aggregates.working_day_index_refresh(D(2026, 12, 31))
    index = dict(WorkingDayIndex.objects.values_list("day", "ordinal"))
    assert index[D(2026, 12, 31)] == ordinal
    cal = WorkingCalendar.load(D(2026, 1, 1), D(2026, 12, 31))
    for a, b in [(D(2026, 3, 1), D(2026, 3, 31)), (D(2026, 6, 26), D(2026, 7, 8))]:
        assert index[b] - index[a] == cal.working_days_between(a, b)
    # A second refresh writes nothing new and gives the same ordinal.
    assert aggregates.working_day_index_refresh(D(2026, 12, 31)) == ordinal


# --- Rater flags ---------------------------------------------------------------------------


def test_a_deputy_who_gives_one_score_ten_times_in_a_row_is_flagged(directory) -> None:
    rows = Rows(directory)
    for day in range(1, 11):
        rows.request(
            lead=directory.finance, routed=D(2026, 7, day), original_due=D(2026, 7, 28),
            answered=D(2026, 7, 20), rating=4, rated=D(2026, 7, 20 + day % 5),
            closed=D(2026, 7, 25), outcome=Outcome.RESOLVED,
        )  # fmt: skip
    # Bob gives 5 nine times, then a 4: no run of ten.
    for day in range(1, 11):
        rows.request(
            lead=directory.mobility, author=directory.bob, routed=D(2026, 7, day),
            original_due=D(2026, 7, 28), answered=D(2026, 7, 20),
            rating=5 if day < 10 else 4, rated=D(2026, 7, 10 + day), closed=D(2026, 7, 25),
            outcome=Outcome.RESOLVED,
        )  # fmt: skip
    assert services.rater_flags_detect(as_of=AS_OF) == 1
    flag = RaterFlag.objects.get()
    assert (flag.rater_kind, flag.rater_id, flag.score, flag.run_length) == (
        "deputy",
        directory.alice.pk,
        4,
        10,
    )
    # The run grows: the same flag is updated, not duplicated.
    rows.request(
        lead=directory.finance, routed=D(2026, 8, 1), original_due=D(2026, 8, 20),
        answered=D(2026, 8, 10), rating=4, rated=D(2026, 8, 12), closed=D(2026, 8, 12),
        outcome=Outcome.RESOLVED,
    )  # fmt: skip
    services.rater_flags_detect(as_of=AS_OF)
    assert RaterFlag.objects.get().run_length == 11
    # Ratings after the date are not seen.
    assert services.rater_flags_detect(as_of=D(2026, 7, 20)) == 0


def test_a_department_rating_every_request_the_same_is_flagged(directory) -> None:
    rows = Rows(directory)
    for day in range(1, 13):
        rows.request(
            lead=directory.mobility, status=RequestStatus.IN_PROGRESS, routed=D(2026, 8, day),
            original_due=D(2026, 9, 28), request_rating=3, request_rated=D(2026, 8, day + 1),
        )  # fmt: skip
    services.rater_flags_detect(as_of=AS_OF)
    flag = RaterFlag.objects.get()
    assert (flag.rater_kind, flag.rater_id, flag.run_length) == (
        "department",
        directory.mobility.pk,
        12,
    )


# --- Activities and weights ---------------------------------------------------------------------


def test_a_deputy_records_own_activities_and_staff_anyones(directory) -> None:
    own = services.deputy_activity_record(
        by=directory.alice.user, deputy=directory.alice, kind=ActivityKind.RECEPTION,
        date=D(2026, 7, 3), note="Приём граждан",
    )  # fmt: skip
    assert own.recorded_by == directory.alice.user
    with pytest.raises(ActionForbidden):
        services.deputy_activity_record(
            by=directory.alice.user, deputy=directory.bob, kind=ActivityKind.RECEPTION,
            date=D(2026, 7, 3),
        )  # fmt: skip
    with pytest.raises(ActionForbidden):
        services.deputy_activity_record(
            by=directory.finance_head, deputy=directory.bob, kind=ActivityKind.FIELD_VISIT,
            date=D(2026, 7, 3),
        )  # fmt: skip
    services.deputy_activity_record(
        by=directory.staff, deputy=directory.bob.pk, kind=ActivityKind.FIELD_VISIT,
        date=D(2026, 7, 4),
    )  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.deputy_activity_record(
            by=directory.staff, deputy=directory.bob, kind="party", date=D(2026, 7, 4)
        )
    with pytest.raises(ValidationFailed):
        services.deputy_activity_record(
            by=directory.alice.user, deputy=directory.alice, kind=ActivityKind.RECEPTION,
            date=timezone.localdate() + datetime.timedelta(days=2),
        )  # fmt: skip
    services.kpi_compute(as_of=AS_OF, period=Q3)
    activity = snapshot("deputy", directory.alice.pk).components["activity"]
    assert activity["value"] == 1
    assert activity["by_kind"] == {"reception": 1}
    assert DeputyActivity.objects.count() == 2


def test_staff_put_new_weights_in_force_and_snapshots_keep_theirs(directory) -> None:
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    old = snapshot("department", directory.finance.pk)
    assert old.weights_version == 2  # version 1 and the one adding promises kept
    new_weights = {
        "timeliness": 0.6,
        "quality": 0.1,
        "rework": 0.1,
        "discipline": 0.1,
        "resolution": 0.05,
        "promises": 0.05,
    }
    version = services.kpi_weights_set(by=directory.staff, kind="department", weights=new_weights)
    assert version.version == 3 and version.is_current
    assert weights_in_force("department").weights == new_weights
    services.kpi_compute(as_of=D(2026, 9, 29), period=Q3)
    new = snapshot("department", directory.finance.pk, as_of=D(2026, 9, 29))
    assert new.weights == new_weights and new.weights_version == 3
    assert snapshot("department", directory.finance.pk).weights == old.weights
    with pytest.raises(ActionForbidden):
        services.kpi_weights_set(by=directory.finance_head, kind="department", weights=new_weights)
    with pytest.raises(ValidationFailed):
        services.kpi_weights_set(
            by=directory.staff, kind="department", weights=new_weights | {"timeliness": 0.7}
        )
