"""The daily reminder sweep: every row of docs/kpi.md's table, working days, digests, idempotency.

Items are created through the services at frozen clocks (``time_machine``) and the
sweep is run for explicit days of November 2026, a month without holidays:

- a request routed on Mon 02.11.2026 is due Mon 23.11.2026 (15 working days);
- "due in 3" is Wed 18.11, "due in 1" Fri 20.11 (the Monday after a weekend),
  "due today" Mon 23.11; overdue by 1 is Tue 24.11, by 6 Tue 01.12, by 11 Tue 08.12.
"""

from __future__ import annotations

import datetime
import io
import smtplib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from kombu.exceptions import OperationalError

from demo.reminders import seed_reminders
from instructions.models import ReportPeriod
from maslikhat.accounts.models import User
from maslikhat.celery import app
from maslikhat.core import digests, reminders
from maslikhat.core.digests import (
    OutgoingEmail,
    OutgoingEmailStatus,
    digest_send,
    digests_create,
    email_catch_up,
    enqueue_digests,
)
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.reminders import reminders_sweep
from maslikhat.core.tasks import send_digest, send_notification_email, sweep_reminders
from maslikhat.directory.models import Position
from requests_app import services
from requests_app.models import DeputyRequest
from tests.factories import DemoDirectory, department_officer
from tests.instruction_helpers import World, create_instruction, make_world
from tests.requests_app.test_requests_concurrency import sqlite_file_database
from tests.requests_helpers import answer, make_request

ALMATY = ZoneInfo("Asia/Almaty")
#: ``clock(day, hour=10)``: the frozen clock moved to that hour of ``day`` in Almaty.
Clock = Callable[..., None]
D = datetime.date

ROUTED_ON = D(2026, 11, 2)
DUE = D(2026, 11, 23)
DUE_IN_3 = D(2026, 11, 18)
DUE_IN_2 = D(2026, 11, 19)
DUE_IN_1 = D(2026, 11, 20)  # Friday: the due date is the Monday after the weekend
SATURDAY = D(2026, 11, 21)
OVERDUE_1 = D(2026, 11, 24)
OVERDUE_6 = D(2026, 12, 1)
OVERDUE_11 = D(2026, 12, 8)


@pytest.fixture
def clock(time_machine: Any) -> Clock:
    """Move the frozen clock to 10:00 in Almaty on a day."""

    def move(day: datetime.date, hour: int = 10) -> None:
        time_machine.move_to(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=ALMATY))

    return move


@pytest.fixture
def routed(directory: DemoDirectory, clock: Clock) -> DeputyRequest:
    """Alice's request, routed by staff to finance on 02.11.2026: due 23.11.2026."""
    clock(ROUTED_ON)
    item = make_request(directory, status="in_progress")
    assert item.due_date == DUE
    return item


@pytest.fixture
def world(directory: DemoDirectory, clock: Clock) -> World:
    clock(ROUTED_ON)
    return make_world(directory, protocol_date=ROUTED_ON)


@pytest.fixture
def published() -> Iterator[dict[str, Any]]:
    """The e-mail tasks' publishing, replaced by mocks: nothing reaches a broker."""
    with (
        mock.patch.object(send_digest, "apply_async") as digest,
        mock.patch.object(send_notification_email, "apply_async") as notification,
    ):
        yield {"digest": digest, "notification": notification}


def published_ids(patched: Any) -> list[int]:
    return sorted(call.args[0][0] for call in patched.call_args_list)


def rows(day: datetime.date, kind: str | None = None) -> set[tuple[str, str, int]]:
    """(username, kind, item id) of the day's reminders."""
    qs = Notification.objects.filter(day=day, deduplicate=True)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return {(n.user.username, n.kind, n.item_id) for n in qs.select_related("user")}


def text_of(day: datetime.date, username: str, item: Any) -> str:
    return Notification.objects.get(
        day=day, deduplicate=True, user__username=username, item_id=item.pk
    ).text


R, E, P = NotificationKind.REMINDER, NotificationKind.ESCALATION, NotificationKind.PLEASE_EVALUATE


# --- Requests: every row of the table ----------------------------------------------------


def test_due_in_3_1_and_0_working_days_reminds_the_department_and_its_head(
    routed: DeputyRequest,
) -> None:
    for day in (DUE_IN_3, DUE_IN_1, DUE):
        reminders_sweep(day=day)
        assert rows(day) == {("finance-exec", R, routed.pk), ("finance-head", R, routed.pk)}
    assert text_of(DUE_IN_3, "finance-exec", routed) == f"{routed}: due in 3 working days."
    assert text_of(DUE_IN_1, "finance-exec", routed) == f"{routed}: due in 1 working day."
    assert text_of(DUE, "finance-head", routed) == f"{routed}: due today."


def test_nothing_is_reminded_two_working_days_before_or_on_a_weekend(
    routed: DeputyRequest,
) -> None:
    assert reminders_sweep(day=DUE_IN_2).notifications == 0
    result = reminders_sweep(day=SATURDAY)
    assert result.ran is False
    assert rows(DUE_IN_2) == rows(SATURDAY) == set()


def test_a_forced_run_on_a_day_off_does_run(routed: DeputyRequest) -> None:
    # Saturday 21.11: the Monday due date is one working day away.
    result = reminders_sweep(day=SATURDAY, force=True)
    assert result.ran is True
    assert ("finance-head", R, routed.pk) in rows(SATURDAY)


def test_an_assigned_executor_is_reminded_with_the_head_not_the_other_officers(
    directory: DemoDirectory, routed: DeputyRequest
) -> None:
    other = department_officer("finance-exec-2", directory.finance, Position.EXECUTOR)
    services.deputy_request_assign(pk=routed.pk, by=directory.finance_head, executor=other)
    reminders_sweep(day=DUE_IN_3)
    assert rows(DUE_IN_3) == {("finance-exec-2", R, routed.pk), ("finance-head", R, routed.pk)}


def test_the_first_working_day_overdue_escalates_to_the_head_and_staff(
    routed: DeputyRequest,
) -> None:
    reminders_sweep(day=OVERDUE_1)
    assert rows(OVERDUE_1) == {("finance-head", E, routed.pk), ("staff", E, routed.pk)}
    assert text_of(OVERDUE_1, "staff", routed) == f"{routed}: overdue by 1 working day."


def test_overdue_escalation_repeats_every_fifth_working_day_and_then_tells_the_deputy(
    routed: DeputyRequest,
) -> None:
    escalated: dict[datetime.date, set[str]] = {}
    day = OVERDUE_1
    while day <= D(2026, 12, 10):
        reminders_sweep(day=day)
        people = {user for user, kind, _pk in rows(day, E)}
        if people:
            escalated[day] = people
        day += datetime.timedelta(days=1)
    assert escalated == {
        OVERDUE_1: {"finance-head", "staff"},
        OVERDUE_6: {"finance-head", "staff", "deputy1"},
        OVERDUE_11: {"finance-head", "staff", "deputy1"},
    }
    assert text_of(OVERDUE_11, "deputy1", routed) == f"{routed}: overdue by 11 working days."


def test_an_answer_not_evaluated_after_5_working_days_asks_the_deputy_to_evaluate(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> None:
    clock(D(2026, 11, 9))  # Monday
    answer(directory, routed)
    for day in (D(2026, 11, 13), D(2026, 11, 16), D(2026, 11, 17)):
        reminders_sweep(day=day)
    assert rows(D(2026, 11, 13)) == rows(D(2026, 11, 17)) == set()
    assert rows(D(2026, 11, 16)) == {("deputy1", P, routed.pk)}  # 5 working days after
    assert "please evaluate" in text_of(D(2026, 11, 16), "deputy1", routed)


def test_an_evaluated_answer_asks_nothing(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> None:
    clock(D(2026, 11, 9))
    answer(directory, routed)
    clock(D(2026, 11, 10))
    services.deputy_request_evaluate(
        pk=routed.pk, by=directory.alice.user, decision="accept", rating=5
    )
    assert reminders_sweep(day=D(2026, 11, 16)).notifications == 0


def test_an_extension_undecided_for_2_working_days_reminds_staff(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> None:
    clock(D(2026, 11, 12))  # Thursday
    services.deputy_request_extension_ask(
        pk=routed.pk, by=directory.finance_head, new_due_date=D(2026, 12, 4), reason="Экспертиза."
    )
    for day in (D(2026, 11, 13), D(2026, 11, 16), D(2026, 11, 17)):
        reminders_sweep(day=day)
    assert rows(D(2026, 11, 13)) == rows(D(2026, 11, 17)) == set()
    assert rows(D(2026, 11, 16)) == {("staff", R, routed.pk)}  # Fri 13 and Mon 16
    assert "extension" in text_of(D(2026, 11, 16), "staff", routed)


def test_a_decided_extension_reminds_nobody(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> None:
    clock(D(2026, 11, 12))
    extension = services.deputy_request_extension_ask(
        pk=routed.pk, by=directory.finance_head, new_due_date=D(2026, 12, 4), reason="Экспертиза."
    )
    services.deputy_request_extension_decide(
        pk=routed.pk, extension_id=extension.pk, by=directory.staff, approve=True
    )
    assert reminders_sweep(day=D(2026, 11, 16)).notifications == 0


def test_closed_withdrawn_and_answered_requests_get_no_deadline_reminders(
    directory: DemoDirectory, clock: Clock
) -> None:
    clock(ROUTED_ON)
    answered = make_request(directory, status="answered")
    closed = make_request(directory, status="closed")
    assert answered.due_date == closed.due_date == DUE
    for day in (DUE_IN_3, OVERDUE_1):
        reminders_sweep(day=day)
        assert rows(day) == set()


# --- Instructions ------------------------------------------------------------------------


def test_an_instruction_due_soon_reminds_every_officer_of_the_lead_department(
    world: World,
) -> None:
    item = create_instruction(world, due_date=DUE)
    reminders_sweep(day=DUE_IN_1)
    # Mobility is a co-executor: the lead department answers for the deadline.
    assert rows(DUE_IN_1) == {("finance-exec", R, item.pk), ("finance-head", R, item.pk)}


def test_an_overdue_instruction_escalates_then_weekly_to_its_controllers_too(
    world: World,
) -> None:
    item = create_instruction(world, due_date=DUE)
    for day in (OVERDUE_1, OVERDUE_6):
        reminders_sweep(day=day)
    assert rows(OVERDUE_1) == {("finance-head", E, item.pk), ("staff", E, item.pk)}
    # alice controls it, carol chairs the controlling commission.
    assert rows(OVERDUE_6) == {
        ("finance-head", E, item.pk),
        ("staff", E, item.pk),
        ("deputy1", E, item.pk),
        ("deputy3", E, item.pk),
    }


def test_a_periodic_report_due_reminds_the_lead_department_on_the_day_or_before_a_weekend(
    directory: DemoDirectory, clock: Clock
) -> None:
    clock(D(2026, 10, 5))  # reports due 05.11 (Thursday) and 05.12 (Saturday)
    world = make_world(directory, protocol_date=D(2026, 10, 5))
    item = create_instruction(world, due_date=D(2026, 12, 31), report_period=ReportPeriod.MONTHLY)
    found = {}
    day = D(2026, 11, 3)
    while day <= D(2026, 12, 8):
        reminders_sweep(day=day)
        if rows(day):
            found[day] = rows(day)
        day += datetime.timedelta(days=1)
    expected = {("finance-exec", R, item.pk), ("finance-head", R, item.pk)}
    assert found == {D(2026, 11, 5): expected, D(2026, 12, 4): expected}
    assert text_of(D(2026, 12, 4), "finance-head", item).endswith(
        "a periodic report is due on 05.12.2026."
    )


def test_a_quarterly_report_started_on_the_31st_is_due_on_the_last_day_of_the_month(
    directory: DemoDirectory, clock: Clock
) -> None:
    clock(D(2026, 3, 31))  # + 3 months = 30.06.2026 (Tuesday)
    world = make_world(directory, protocol_date=D(2026, 3, 31))
    item = create_instruction(world, due_date=D(2026, 12, 31), report_period=ReportPeriod.QUARTERLY)
    reminders_sweep(day=D(2026, 6, 30))
    reminders_sweep(day=D(2026, 6, 29))
    assert rows(D(2026, 6, 30)) == {("finance-exec", R, item.pk), ("finance-head", R, item.pk)}
    assert rows(D(2026, 6, 29)) == set()


def test_two_reasons_for_one_reminder_make_one_notification_with_both(
    directory: DemoDirectory, clock: Clock
) -> None:
    clock(D(2026, 10, 20))  # a monthly report on 20.11, the due date three working days later
    world = make_world(directory, protocol_date=D(2026, 10, 20))
    item = create_instruction(world, due_date=D(2026, 11, 25), report_period=ReportPeriod.MONTHLY)
    reminders_sweep(day=D(2026, 11, 20))
    assert rows(D(2026, 11, 20)) == {("finance-exec", R, item.pk), ("finance-head", R, item.pk)}
    with translation.override("en"):  # the label is in the recipient's language
        expected = f"{item}: due in 3 working days. A periodic report is due on 20.11.2026."
    assert text_of(D(2026, 11, 20), "finance-head", item) == expected


# --- Working days around holidays --------------------------------------------------------


def test_nauryz_2026_is_skipped_when_counting_working_days(
    directory: DemoDirectory, clock: Clock
) -> None:
    # 21–25 March 2026 are days off (Nauryz, two of them transferred from the weekend).
    clock(D(2026, 2, 27))
    item = make_request(directory, status="in_progress")
    assert item.due_date == D(2026, 3, 26)
    for day in (D(2026, 3, 18), D(2026, 3, 19), D(2026, 3, 20), D(2026, 3, 27)):
        reminders_sweep(day=day)
    assert text_of(D(2026, 3, 18), "finance-head", item).endswith("due in 3 working days.")
    assert rows(D(2026, 3, 19)) == set()  # two working days left: 20.03 and 26.03
    assert text_of(D(2026, 3, 20), "finance-head", item).endswith("due in 1 working day.")
    assert rows(D(2026, 3, 27)) == {("finance-head", E, item.pk), ("staff", E, item.pk)}
    for holiday in (D(2026, 3, 23), D(2026, 3, 24), D(2026, 3, 25)):
        assert reminders_sweep(day=holiday).ran is False


def test_windows_put_a_due_date_on_a_day_off_on_the_working_day_before(
    routed: DeputyRequest,
) -> None:
    from maslikhat.core.deadlines import calendar_for

    calendar = calendar_for(D(2026, 11, 1), D(2026, 12, 31))
    windows = reminders.windows_for(calendar, DUE_IN_1, oldest_due=None)
    assert windows.due_in == {
        DUE_IN_1: 0,
        SATURDAY: 0,
        D(2026, 11, 22): 0,
        DUE: 1,
        D(2026, 11, 25): 3,
    }
    assert windows.report_days == [DUE_IN_1, SATURDAY, D(2026, 11, 22)]
    # Overdue by 1 on Monday: due on Friday, Saturday or Sunday.
    monday = reminders.windows_for(calendar, DUE, oldest_due=D(2026, 11, 1))
    assert {d for d, n in monday.overdue.items() if n == 1} == {
        DUE_IN_1,
        SATURDAY,
        D(2026, 11, 22),
    }


# --- Idempotency and concurrency ---------------------------------------------------------


def test_a_second_sweep_of_the_same_day_adds_nothing_and_sends_nothing_twice(
    routed: DeputyRequest,
) -> None:
    first = reminders_sweep(day=DUE_IN_3)
    assert (first.notifications, first.digests) == (2, 2)
    for pk in first.digest_ids:
        assert digest_send(outgoing_id=pk) is True
    second = reminders_sweep(day=DUE_IN_3)
    assert (second.notifications, second.digests, second.digest_ids) == (0, 0, [])
    assert Notification.objects.filter(day=DUE_IN_3, deduplicate=True).count() == 2
    assert OutgoingEmail.objects.filter(day=DUE_IN_3).count() == 2
    assert [digest_send(outgoing_id=pk) for pk in first.digest_ids] == [False, False]
    assert len(mail.outbox) == 2


def test_a_digest_not_yet_sent_is_rewritten_when_a_later_run_finds_more(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> None:
    reminders_sweep(day=DUE_IN_3)
    clock(ROUTED_ON)
    later = make_request(directory, status="in_progress", title="Освещение сквера")
    result = reminders_sweep(day=DUE_IN_3)
    assert (result.notifications, result.digests) == (2, 0)
    digest = OutgoingEmail.objects.get(day=DUE_IN_3, user=directory.finance_head)
    assert "2 items" in digest.subject
    assert str(later) in digest.body and str(routed) in digest.body


def test_a_sent_digest_is_never_rewritten(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> None:
    first = reminders_sweep(day=DUE_IN_3)
    for pk in first.digest_ids:
        digest_send(outgoing_id=pk)
    clock(ROUTED_ON)
    make_request(directory, status="in_progress", title="Освещение сквера")
    result = reminders_sweep(day=DUE_IN_3)
    assert (result.notifications, result.digests, result.digest_ids) == (2, 0, [])
    digest = OutgoingEmail.objects.get(day=DUE_IN_3, user=directory.finance_head)
    assert "1 item" in digest.subject  # in-app only for what came after the e-mail
    assert len(mail.outbox) == 2


def race(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run ``jobs`` in threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = jobs[index]()
        except Exception as exc:  # reported to the test, which asserts on it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_record_and_send_everything_exactly_once(
    directory: DemoDirectory, clock: Clock, tmp_path: Path, published: dict[str, Any]
) -> None:
    clock(ROUTED_ON)
    items = [make_request(directory, status="in_progress", title=f"Запрос {n}") for n in range(3)]
    clock(OVERDUE_1, hour=9)
    with sqlite_file_database(tmp_path):
        sweeps = race([lambda: reminders_sweep(day=OVERDUE_1, enqueue=False)] * 2)
        assert not [r for r in sweeps if isinstance(r, Exception)], sweeps
        pending = sorted({pk for result in sweeps for pk in result.digest_ids})
        sends = race([lambda: [digest_send(outgoing_id=pk) for pk in pending]] * 2)
        assert not [r for r in sends if isinstance(r, Exception)], sends
    expected = {(user, E, item.pk) for item in items for user in ("finance-head", "staff")}
    assert rows(OVERDUE_1) == expected
    assert Notification.objects.filter(day=OVERDUE_1, deduplicate=True).count() == 6
    assert OutgoingEmail.objects.filter(day=OVERDUE_1).count() == 2
    assert sum(sum(sent) for sent in sends) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [directory.finance_head.email, directory.staff.email]
    )
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}


# --- The digest ----------------------------------------------------------------------------


@pytest.fixture
def two_items_for_the_head(
    directory: DemoDirectory, routed: DeputyRequest, clock: Clock
) -> tuple[DeputyRequest, DeputyRequest]:
    """On 18.11: ``routed`` is due in 3 working days, ``late`` is overdue by 1 (due 17.11)."""
    clock(D(2026, 10, 27))
    late = make_request(directory, status="in_progress", title="Вывоз снега")
    assert late.due_date == D(2026, 11, 17)
    return routed, late


def test_one_digest_per_recipient_lists_every_item_with_link_and_days(
    directory: DemoDirectory, two_items_for_the_head: tuple[DeputyRequest, DeputyRequest]
) -> None:
    soon, late = two_items_for_the_head
    User.objects.filter(pk=directory.finance_head.pk).update(language="en")
    result = reminders_sweep(day=DUE_IN_3)
    assert result.digests == 3  # head, executor, staff
    for pk in result.digest_ids:
        digest_send(outgoing_id=pk)
    (message,) = [m for m in mail.outbox if m.to == [directory.finance_head.email]]
    assert message.subject == "Maslikhat portal: 2 items need your attention on 18.11.2026"
    base = settings.PORTAL_BASE_URL
    assert f"{late}: overdue by 1 working day.\n  {base}/requests/{late.pk}/" in message.body
    assert f"{soon}: due in 3 working days.\n  {base}/requests/{soon.pk}/" in message.body
    # Escalations first.
    assert message.body.index(str(late)) < message.body.index(str(soon))


def test_the_digest_and_the_texts_are_in_each_recipients_language(
    directory: DemoDirectory, routed: DeputyRequest
) -> None:
    User.objects.filter(pk=directory.finance_head.pk).update(language="en")
    User.objects.filter(pk=directory.finance_exec.pk).update(language="kk")

    def tagged(singular: str, plural: str, count: int) -> str:
        return f"[{translation.get_language()}] " + (singular if count == 1 else plural)

    with (
        mock.patch.object(reminders, "ngettext", tagged),
        mock.patch.object(digests, "ngettext", tagged),
    ):
        reminders_sweep(day=DUE_IN_3)
    assert text_of(DUE_IN_3, "finance-head", routed) == f"{routed}: [en] due in 3 working days."
    assert text_of(DUE_IN_3, "finance-exec", routed) == f"{routed}: [kk] due in 3 working days."
    subjects = dict(OutgoingEmail.objects.values_list("user__username", "subject"))
    assert subjects["finance-head"].startswith("[en] ")
    assert subjects["finance-exec"].startswith("[kk] ")


def test_email_reminders_off_leaves_reminders_in_app_and_still_emails_escalations(
    directory: DemoDirectory, two_items_for_the_head: tuple[DeputyRequest, DeputyRequest]
) -> None:
    soon, late = two_items_for_the_head
    User.objects.filter(pk=directory.finance_head.pk).update(email_reminders=False)
    result = reminders_sweep(day=DUE_IN_3)
    for pk in result.digest_ids:
        digest_send(outgoing_id=pk)
    assert ("finance-head", R, soon.pk) in rows(DUE_IN_3)  # still in the app
    (message,) = [m for m in mail.outbox if m.to == [directory.finance_head.email]]
    assert str(late) in message.body
    assert str(soon) not in message.body


def test_email_reminders_off_and_only_reminders_means_no_email(
    directory: DemoDirectory, routed: DeputyRequest
) -> None:
    User.objects.filter(pk=directory.finance_head.pk).update(email_reminders=False)
    result = reminders_sweep(day=DUE_IN_3)
    assert result.notifications == 2
    assert list(OutgoingEmail.objects.values_list("user__username", flat=True)) == ["finance-exec"]


def test_users_without_an_email_address_get_no_digest(
    directory: DemoDirectory, routed: DeputyRequest
) -> None:
    User.objects.filter(pk=directory.staff.pk).update(email="")
    reminders_sweep(day=OVERDUE_1)
    assert ("staff", E, routed.pk) in rows(OVERDUE_1)
    assert list(OutgoingEmail.objects.values_list("user__username", flat=True)) == ["finance-head"]


def test_a_failed_send_is_recorded_retried_and_then_sent_once(routed: DeputyRequest) -> None:
    result = reminders_sweep(day=DUE_IN_3)
    pk = result.digest_ids[0]
    original = locmem.EmailBackend.send_messages
    calls = []

    def flaky(self: Any, messages: Any) -> int:
        calls.append(len(messages))
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("the SMTP server went away")
        return original(self, messages)

    with mock.patch.object(locmem.EmailBackend, "send_messages", flaky):
        with pytest.raises(smtplib.SMTPServerDisconnected):
            digest_send(outgoing_id=pk)
        failed = OutgoingEmail.objects.get(pk=pk)
        assert (failed.status, failed.attempts, failed.claimed_at) == ("failed", 1, None)
        assert "went away" in failed.last_error
        assert digest_send(outgoing_id=pk) is True
        assert digest_send(outgoing_id=pk) is False
    sent = OutgoingEmail.objects.get(pk=pk)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1 and len(calls) == 2


def test_the_send_task_retries_a_failure_and_sends_once(routed: DeputyRequest) -> None:
    pk = reminders_sweep(day=DUE_IN_3).digest_ids[0]
    original = locmem.EmailBackend.send_messages
    calls = []

    def flaky(self: Any, messages: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("the SMTP server went away")
        return original(self, messages)

    with mock.patch.object(locmem.EmailBackend, "send_messages", flaky):
        send_digest.apply(args=(pk,))  # in-process: the autoretry runs at once
        assert OutgoingEmail.objects.get(pk=pk).status == OutgoingEmailStatus.SENT
        send_digest.apply(args=(pk,))
    assert len(mail.outbox) == 1 and len(calls) == 2


def test_a_claim_held_by_a_live_worker_is_respected_and_an_abandoned_one_is_taken(
    routed: DeputyRequest, time_machine: Any
) -> None:
    pk = reminders_sweep(day=DUE_IN_3).digest_ids[0]
    OutgoingEmail.objects.filter(pk=pk).update(claimed_at=datetime.datetime.now(tz=ALMATY))
    assert digest_send(outgoing_id=pk) is False
    time_machine.shift(datetime.timedelta(minutes=11))
    assert digest_send(outgoing_id=pk) is True


def test_a_digest_whose_recipient_lost_the_address_is_given_up_not_retried(
    directory: DemoDirectory,
    routed: DeputyRequest,
    published: dict[str, Any],
    time_machine: Any,
) -> None:
    result = reminders_sweep(day=DUE_IN_3)
    User.objects.filter(pk=directory.finance_head.pk).update(email="")
    sent = [digest_send(outgoing_id=pk) for pk in result.digest_ids]
    assert sorted(sent) == [False, True]
    given_up = OutgoingEmail.objects.get(user=directory.finance_head)
    assert (given_up.status, given_up.attempts) == ("failed", digests.MAX_ATTEMPTS)
    time_machine.shift(datetime.timedelta(hours=1))
    assert email_catch_up().digests == 0
    assert [m.to for m in mail.outbox] == [[directory.finance_exec.email]]


# --- Enqueuing, the broker and the catch-up ------------------------------------------------


def test_digests_are_published_after_the_sweep_commits(
    routed: DeputyRequest, published: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = reminders_sweep(day=DUE_IN_3)
        assert published["digest"].call_count == 0
    assert len(callbacks) == 1
    assert published_ids(published["digest"]) == sorted(result.digest_ids)
    for call in published["digest"].call_args_list:
        assert call.kwargs == {"retry": False}


def test_a_broker_that_is_down_fails_nothing_and_leaves_digests_for_the_catch_up(
    routed: DeputyRequest,
    published: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    time_machine: Any,
) -> None:
    published["digest"].side_effect = OperationalError("connection refused")
    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_sweep(day=DUE_IN_3)
    assert published["digest"].call_count == 1  # the first failure stops the loop
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"pending"}
    published["digest"].reset_mock(side_effect=True)
    assert email_catch_up().digests == 0  # younger than ten minutes: maybe still in flight
    time_machine.shift(datetime.timedelta(minutes=11))
    assert email_catch_up().digests == 2
    assert published_ids(published["digest"]) == sorted(result.digest_ids)


def test_enqueue_never_raises_when_the_broker_is_down(published: dict[str, Any]) -> None:
    published["digest"].side_effect = OperationalError("connection refused")
    assert enqueue_digests([1, 2, 3]) == 0


def test_the_catch_up_resends_notification_emails_left_pending_and_not_sent_ones(
    directory: DemoDirectory,
    routed: DeputyRequest,
    published: dict[str, Any],
    time_machine: Any,
) -> None:
    # Routing e-mailed finance's officers and told the deputy where it went (by e-mail too);
    # the commit never ran here, so nothing was sent.
    pending = sorted(
        Notification.objects.filter(send_email=True, emailed_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    assert len(pending) == 3
    time_machine.shift(datetime.timedelta(minutes=11))
    Notification.objects.filter(pk=pending[0]).update(emailed_at=datetime.datetime.now(tz=ALMATY))
    assert email_catch_up().notifications == 2
    assert published_ids(published["notification"]) == pending[1:]


def test_the_sweep_task_skips_a_day_off_and_runs_on_a_working_day(
    routed: DeputyRequest, published: dict[str, Any]
) -> None:
    assert sweep_reminders.apply(kwargs={"day": SATURDAY.isoformat()}).get()["ran"] is False
    done = sweep_reminders.apply(kwargs={"day": DUE_IN_3.isoformat()}).get()
    assert (done["ran"], done["notifications"], done["digests"]) == (True, 2, 2)


def test_the_sweep_task_runs_for_today_by_default(
    routed: DeputyRequest, published: dict[str, Any], clock: Clock
) -> None:
    clock(DUE_IN_1, hour=9)
    assert sweep_reminders.apply().get()["day"] == DUE_IN_1.isoformat()
    assert rows(DUE_IN_1) == {("finance-exec", R, routed.pk), ("finance-head", R, routed.pk)}


def test_beat_runs_the_sweep_every_day_at_nine_in_almaty() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["requests-reminders-sweep"]
    assert entry["task"] == "requests.reminders_sweep" == sweep_reminders.name
    assert entry["schedule"] == crontab(hour=9, minute=0)
    assert settings.CELERY_TIMEZONE == "Asia/Almaty"
    assert "requests-auto-close" in settings.CELERY_BEAT_SCHEDULE
    for name in ("requests.reminders_sweep", "core.send_digest", "core.send_pending_email"):
        task = app.tasks[name]
        assert task.acks_late is True
        assert task.autoretry_for == (Exception,)


# --- Set-based: the cost does not grow with the items that do not match --------------------


def far_future_copies(template: DeputyRequest, count: int) -> None:
    """Bulk copies of a routed request, due in 2030 (the sweep must not even read them)."""
    fields = [f for f in DeputyRequest._meta.concrete_fields if not f.primary_key]
    values = {f.attname: getattr(template, f.attname) for f in fields}
    start = DeputyRequest.objects.count()
    DeputyRequest.objects.bulk_create(
        DeputyRequest(
            **{
                **values,
                "number": f"DZ-2030-{start + n:05d}",
                "due_date": D(2030, 1, 10) + datetime.timedelta(days=n % 300),
            }
        )
        for n in range(count)
    )


def queries_of_a_sweep(day: datetime.date) -> int:
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        reminders_sweep(day=day, enqueue=False)
        transaction.set_rollback(True)
    return len(captured.captured_queries)


def test_the_sweep_runs_the_same_queries_for_10_or_1000_items_that_do_not_match(
    directory: DemoDirectory, world: World, clock: Clock
) -> None:
    clock(ROUTED_ON)
    matching = [make_request(directory, status="in_progress", title=f"№{n}") for n in range(10)]
    create_instruction(world, due_date=DUE)
    create_instruction(world, due_date=D(2030, 6, 1), report_period=ReportPeriod.MONTHLY)
    far_future_copies(matching[0], 10)
    few = queries_of_a_sweep(DUE_IN_3)
    far_future_copies(matching[0], 990)
    many = queries_of_a_sweep(DUE_IN_3)
    assert few == many
    # 20, + 1: the day's new messages for the digest (``digests.thread_news``), + 1: the open
    # clarification questions whose authors are reminded, + 1: the promises due or awaiting
    # their author's verdict (``commitments/reminders.py``).
    assert many <= 23
    assert reminders_sweep(day=DUE_IN_3).items["due"] == 11


def test_an_item_overdue_for_years_is_still_escalated_weekly(
    directory: DemoDirectory, clock: Clock
) -> None:
    clock(D(2024, 1, 15))
    item = make_request(directory, status="in_progress")
    escalated = {}
    day = D(2026, 11, 2)
    while day <= D(2026, 11, 13):  # two working weeks
        reminders_sweep(day=day)
        if rows(day):
            escalated[day] = rows(day)
        day += datetime.timedelta(days=1)
    assert len(escalated) == 2
    for found in escalated.values():
        assert found == {(user, E, item.pk) for user in ("finance-head", "staff", "deputy1")}


# --- The command ---------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("run_reminders", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_runs_the_sweep_sends_with_send_and_a_second_run_adds_nothing(
    routed: DeputyRequest,
) -> None:
    first = run("--date", "2026-11-18", "--send")
    assert "new notifications: 2 (reminder 2)" in first
    assert "new digest e-mails: 2" in first
    assert "digests sent now: 2" in first
    second = run("--date", "2026-11-18", "--send")
    assert "new notifications: 0" in second
    assert "new digest e-mails: 0" in second
    assert len(mail.outbox) == 2


def test_the_command_hands_digests_to_the_broker_without_send(
    routed: DeputyRequest, published: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        output = run("--date", "2026-11-18")
    assert "digests handed to the broker: 2" in output
    assert published["digest"].call_count == 2
    assert mail.outbox == []


def test_the_command_does_nothing_on_a_day_off_unless_forced(routed: DeputyRequest) -> None:
    assert "not a working day" in run("--date", "2026-11-21")
    assert Notification.objects.filter(deduplicate=True).count() == 0
    assert "new notifications: 2" in run("--date", "2026-11-21", "--force")


def test_the_command_rejects_a_bad_date(db: None) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("--date", "27.11.2026")


def test_digests_create_alone_is_idempotent(routed: DeputyRequest) -> None:
    reminders_sweep(day=DUE_IN_3, enqueue=False)
    again = digests_create(day=DUE_IN_3)
    assert (again.created, again.refreshed) == (0, 0)
    assert len(again.pending_ids) == 2


def test_the_demo_step_shows_todays_reminders_even_on_a_day_off(
    routed: DeputyRequest, clock: Clock, published: dict[str, Any]
) -> None:
    clock(SATURDAY)
    assert reminders_sweep(day=SATURDAY).ran is False
    line = seed_reminders(context=None)  # type: ignore[arg-type]  # the sweep needs no context
    assert rows(SATURDAY, R) == {("finance-exec", R, routed.pk), ("finance-head", R, routed.pk)}
    assert "2" in line
    assert published["digest"].call_count == 0
