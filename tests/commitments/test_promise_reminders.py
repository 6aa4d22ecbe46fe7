"""Promises in the daily reminder sweep: reminders before the date, one escalation after it,
the author asked for a verdict — each once, on the right working days, across a KZ holiday.

The promise is made on Tue 01.12.2026 for Thu 17.12.2026; Wed 16.12 is Independence Day:

- "due in 3" is Fri 11.12 (14, 15 and 17 are the working days left), "due in 1" Tue 15.12
  (the holiday between does not count), "due today" Thu 17.12; overdue by 1 is Fri 18.12;
- a report written on Mon 14.12 is 5 working days old on Tue 22.12 (15, 17, 18, 21, 22).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from commitments import services
from commitments.models import Commitment
from commitments.reminders import PROMISE_DUE, PROMISE_OVERDUE, PROMISE_VERDICT
from maslikhat.core.digests import OutgoingEmail
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.reminders import reminders_sweep
from requests_app import services as request_services
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db

ALMATY = ZoneInfo("Asia/Almaty")
D = datetime.date
MADE_ON = D(2026, 12, 1)
PROMISED = D(2026, 12, 17)
DUE_IN_3 = D(2026, 12, 11)
DUE_IN_1 = D(2026, 12, 15)
HOLIDAY = D(2026, 12, 16)
OVERDUE_1 = D(2026, 12, 18)
REPORTED_ON = D(2026, 12, 14)
VERDICT_DAY = D(2026, 12, 22)
#: Every day from the promise to well past the date (weekends and the holiday included).
DAYS = [MADE_ON + datetime.timedelta(days=n) for n in range(30)]
PROMISE_RULES = {PROMISE_DUE, PROMISE_OVERDUE, PROMISE_VERDICT}

Clock = Callable[..., None]
Row = tuple[D, str, str, str]  # (day, username, kind, rule)


@pytest.fixture
def clock(time_machine: Any) -> Clock:
    def move(day: D, hour: int = 10) -> None:
        time_machine.move_to(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=ALMATY))

    return move


def promise_reminders() -> set[Row]:
    """Every reminder of a promise written so far: (day, recipient, kind, rule)."""
    rows = set()
    for note in Notification.objects.filter(deduplicate=True).select_related("user"):
        for rule, _count, _when in note.params.get("reasons", []):
            if rule in PROMISE_RULES:
                rows.add((note.day, note.user.username, note.kind, rule))
    return rows


def sweep_every_day(clock: Clock, days: list[D] = DAYS) -> None:
    for day in days:
        clock(day, hour=9)
        reminders_sweep(day=day, enqueue=False)


@pytest.fixture
def promise(directory: DemoDirectory, clock: Clock) -> Commitment:
    clock(MADE_ON)
    return make_commitment(directory, planned=PROMISED)


def test_the_department_is_reminded_before_and_on_the_date_and_escalated_once(
    directory: DemoDirectory, promise: Commitment, clock: Clock
) -> None:
    sweep_every_day(clock)
    head, executor, staff = (
        directory.finance_head.username,
        directory.finance_exec.username,
        directory.staff.username,
    )
    remind, escalate = NotificationKind.REMINDER, NotificationKind.ESCALATION
    assert promise_reminders() == {
        (DUE_IN_3, head, remind, PROMISE_DUE),
        (DUE_IN_3, executor, remind, PROMISE_DUE),
        (DUE_IN_1, head, remind, PROMISE_DUE),
        (DUE_IN_1, executor, remind, PROMISE_DUE),
        (PROMISED, head, remind, PROMISE_DUE),
        (PROMISED, executor, remind, PROMISE_DUE),
        # Overdue without a report: the head and staff, once (not again a week later).
        (OVERDUE_1, head, escalate, PROMISE_OVERDUE),
        (OVERDUE_1, staff, escalate, PROMISE_OVERDUE),
    }
    # Nobody else heard of the promise: not the other department, not the author.
    assert not Notification.objects.filter(
        user__in=[directory.mobility_head, directory.mobility_exec, directory.alice.user],
        kind__in=[remind, escalate],
        day__gte=DUE_IN_3,
    ).exists()


def test_the_reminders_say_what_is_due_in_the_readers_language(
    directory: DemoDirectory, promise: Commitment, clock: Clock
) -> None:
    sweep_every_day(clock, [DUE_IN_1, PROMISED, OVERDUE_1])
    note = Notification.objects.get(user=directory.finance_head, day=DUE_IN_1)
    with translation.override("en"):
        assert "promised in the answer is due in 1 working day" in note.display_text
        assert str(promise.request.number) in note.display_text
    on_the_day = Notification.objects.get(user=directory.finance_exec, day=PROMISED)
    with translation.override("en"):
        assert "please report what was done" in on_the_day.display_text
    escalation = Notification.objects.get(user=directory.staff, day=OVERDUE_1)
    with translation.override("en"):
        assert "overdue by 1 working day and not reported" in escalation.display_text
    assert escalation.link == f"/requests/{promise.request_id}/"


def test_running_the_sweep_again_or_on_a_second_node_sends_nothing_twice(
    directory: DemoDirectory, promise: Commitment, clock: Clock
) -> None:
    clock(PROMISED, hour=9)
    first = reminders_sweep(day=PROMISED, enqueue=False)
    again = reminders_sweep(day=PROMISED, enqueue=False)
    assert first.items[PROMISE_DUE] == 1
    assert again.items[PROMISE_DUE] == 1  # still found …
    assert again.notifications == 0  # … but written once
    assert len(promise_reminders()) == 2
    # A weekend day or the holiday: the sweep does not run at all.
    clock(HOLIDAY, hour=9)
    assert reminders_sweep(day=HOLIDAY, enqueue=False).ran is False


def test_a_reported_promise_reminds_the_department_no_more_and_asks_the_author_once(
    directory: DemoDirectory, promise: Commitment, clock: Clock
) -> None:
    sweep_every_day(clock, [d for d in DAYS if d < REPORTED_ON])
    clock(REPORTED_ON, hour=11)
    services.commitment_report(pk=promise.pk, by=directory.finance_exec, text="Ремонт сделан.")
    sweep_every_day(clock, [d for d in DAYS if d > REPORTED_ON])

    rows = promise_reminders()
    department = {r for r in rows if r[3] != PROMISE_VERDICT}
    assert {r[0] for r in department} == {DUE_IN_3}  # before the report only
    assert {r for r in rows if r[3] == PROMISE_VERDICT} == {
        (VERDICT_DAY, directory.alice.user.username, NotificationKind.REMINDER, PROMISE_VERDICT)
    }
    note = Notification.objects.get(user=directory.alice.user, day=VERDICT_DAY)
    with translation.override("en"):
        assert "was it done?" in note.display_text


def test_a_verdict_given_stops_the_question(
    directory: DemoDirectory, promise: Commitment, clock: Clock
) -> None:
    clock(REPORTED_ON, hour=11)
    services.commitment_report(pk=promise.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_dispute(pk=promise.pk, by=directory.alice.user, comment="Не сделано.")
    sweep_every_day(clock, [d for d in DAYS if d > REPORTED_ON])
    # Disputed: staff decide it (their to-do); nobody is reminded by the sweep.
    assert promise_reminders() == set()


@pytest.mark.parametrize("settle", ["kept", "broken", "withdrawn"])
def test_a_settled_or_withdrawn_promise_gives_no_reminder(
    directory: DemoDirectory, promise: Commitment, clock: Clock, settle: str
) -> None:
    clock(D(2026, 12, 2))
    if settle == "withdrawn":
        request_services.deputy_request_evaluate(
            pk=promise.request_id, by=directory.alice.user, decision="rework", comment="Нет сроков."
        )
    else:
        services.commitment_report(pk=promise.pk, by=directory.finance_exec, text="Сделано.")
        if settle == "kept":
            services.commitment_confirm(pk=promise.pk, by=directory.alice.user)
        else:
            services.commitment_dispute(pk=promise.pk, by=directory.alice.user, comment="Нет.")
            services.commitment_resolve(pk=promise.pk, by=directory.staff, kept=False)
    sweep_every_day(clock, [d for d in DAYS if d > D(2026, 12, 2)])
    assert promise_reminders() == set()


def test_the_sweep_finds_promises_in_a_fixed_number_of_queries(
    directory: DemoDirectory, promise: Commitment, clock: Clock
) -> None:
    def count() -> int:
        Notification.objects.all().delete()
        OutgoingEmail.objects.all().delete()
        clock(PROMISED, hour=9)
        with CaptureQueriesContext(connection) as queries:
            reminders_sweep(day=PROMISED, enqueue=False)
        return len(queries)

    count()  # warm: the caches of a first run (rules, the calendar's years)
    one = count()
    for _ in range(5):
        clock(MADE_ON)
        make_commitment(directory, planned=PROMISED)
    assert count() == one
