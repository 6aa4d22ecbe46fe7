"""Clarification questions and the stopped clock (``docs/domain.md``, "Clarification pauses").

The dates are computed by hand on the Kazakhstan calendar of 2026 (no decreed days in the
test database): Nauryz keeps 21–25 March off (Saturday 21 to Wednesday 25, two of them
transferred), Independence Day is Wednesday 16 December. The request rule's 15 working
days are counted from the day after routing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from maslikhat.accounts.models import User
from maslikhat.core.deadlines import DeadlineRule, due_explanation, get_rule
from maslikhat.core.exceptions import ActionForbidden, TransitionNotAllowed, ValidationFailed
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.reminders import reminders_sweep
from maslikhat.core.threads import AuditEvent
from requests_app import services
from requests_app.models import Clarification, DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import draft_answer, make_request, refresh

pytestmark = pytest.mark.django_db

ALMATY = ZoneInfo("Asia/Almaty")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=ALMATY)


#: Monday 16 March 2026: 15 working days later, skipping 21–25 March, is Thursday 9 April.
ROUTED_MARCH = datetime.date(2026, 3, 16)
DUE_MARCH = datetime.date(2026, 4, 9)
#: Asked on Thursday 19 March, answered on Thursday 26 March: of the days after the
#: question up to the answer only Friday 20 and Thursday 26 are working days (the weekend
#: and Nauryz, 21–25, are not), so 2 working days; two working days after Thursday 9 April
#: are Friday 10 and Monday 13 April.
ASKED_MARCH = datetime.date(2026, 3, 19)
ANSWERED_MARCH = datetime.date(2026, 3, 26)
MOVED_MARCH = datetime.date(2026, 4, 13)


def set_pauses(value: bool) -> None:
    get_rule("deputy_request")
    DeadlineRule.objects.filter(code="deputy_request").update(pauses_clock=value)


def routed_on(directory: DemoDirectory, time_machine: Any, day: datetime.date) -> DeputyRequest:
    time_machine.move_to(at(day))
    return make_request(directory, status=RequestStatus.IN_PROGRESS)


def ask(directory: DemoDirectory, item: DeputyRequest, question: str = "Уточните адрес") -> Any:
    return services.deputy_request_clarify(pk=item.pk, by=directory.finance_exec, question=question)


def reply(directory: DemoDirectory, item: DeputyRequest, text: str = "Абая, 10") -> Any:
    return services.deputy_request_answer_clarification(
        pk=item.pk, by=directory.alice.user, text=text
    )


# --- The arithmetic ---------------------------------------------------------------------------


def test_the_default_request_rule_stops_the_clock() -> None:
    assert get_rule("deputy_request").pauses_clock is True
    assert get_rule("instruction").pauses_clock is False


def test_a_question_stops_the_clock_and_the_answer_moves_the_due_date_across_nauryz(
    directory: DemoDirectory, time_machine: Any
) -> None:
    set_pauses(True)
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    assert (item.due_date, item.original_due_date) == (DUE_MARCH, DUE_MARCH)

    time_machine.move_to(at(ASKED_MARCH))
    clarification = ask(directory, item)
    paused = refresh(item)
    assert clarification.pauses_clock is True
    assert paused.paused_since == ASKED_MARCH
    assert paused.due_date == DUE_MARCH  # unknown until the answer: it does not move yet
    assert not paused.is_overdue_on(datetime.date(2026, 4, 10))  # a stopped clock is not late

    time_machine.move_to(at(ANSWERED_MARCH, 15))
    reply(directory, item)
    after = refresh(item)
    assert after.paused_since is None
    assert after.paused_days == 2
    assert after.due_date == MOVED_MARCH
    # The clock stood still: not an extension, so the original due date moves too.
    assert after.original_due_date == MOVED_MARCH
    done = Clarification.objects.get()
    assert (done.answer, done.answered_by, done.paused_days) == (
        "Абая, 10",
        directory.alice.user,
        2,
    )
    assert after.due_date_basis["pauses"] == [
        {
            "start": "2026-03-19",
            "end": "2026-03-26",
            "days": 2,
            "due_from": "2026-04-09",
            "due_to": "2026-04-13",
        }
    ]
    actions = list(AuditEvent.objects.for_item(item).values_list("action", flat=True))
    assert actions[-2:] == ["clarify", "answer_clarification"]
    answered = AuditEvent.objects.for_item(item).get(action="answer_clarification")
    assert answered.changes["paused_days"] == 2
    assert answered.changes["due_date"] == ["2026-04-09", "2026-04-13"]
    with translation.override("en"):
        explained = due_explanation(after)
    assert explained is not None and explained["extended"] is False
    assert any(
        "2 working days added" in line and "09.04.2026" in line and "13.04.2026" in line
        for line in explained["lines"]
    ), explained["lines"]


def test_the_pause_across_independence_day(directory: DemoDirectory, time_machine: Any) -> None:
    # Routed on Monday 30 November: 15 working days, skipping Wednesday 16 December, end on
    # Tuesday 22 December. Asked on Tuesday 15 December, answered on Friday 18: Thursday 17
    # and Friday 18 are the paused working days; two working days after 22 December: 24.
    set_pauses(True)
    item = routed_on(directory, time_machine, datetime.date(2026, 11, 30))
    assert item.due_date == datetime.date(2026, 12, 22)
    time_machine.move_to(at(datetime.date(2026, 12, 15)))
    ask(directory, item)
    time_machine.move_to(at(datetime.date(2026, 12, 18)))
    reply(directory, item)
    after = refresh(item)
    assert (after.paused_days, after.due_date) == (2, datetime.date(2026, 12, 24))


def test_an_answer_on_the_day_of_the_question_moves_nothing(
    directory: DemoDirectory, time_machine: Any
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(ASKED_MARCH))
    ask(directory, item)
    time_machine.move_to(at(ASKED_MARCH, 17))
    reply(directory, item)
    after = refresh(item)
    assert (after.paused_days, after.due_date, after.paused_since) == (0, DUE_MARCH, None)


def test_without_the_rule_flag_the_clock_runs_on(
    directory: DemoDirectory, time_machine: Any
) -> None:
    set_pauses(False)
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(ASKED_MARCH))
    clarification = ask(directory, item)
    assert clarification.pauses_clock is False
    assert refresh(item).paused_since is None
    time_machine.move_to(at(ANSWERED_MARCH))
    reply(directory, item)
    after = refresh(item)
    assert (after.due_date, after.original_due_date, after.paused_days) == (DUE_MARCH, DUE_MARCH, 0)
    assert "pauses" not in after.due_date_basis
    assert Clarification.objects.get().answered_at is not None


def test_a_question_after_the_due_date_stops_nothing(
    directory: DemoDirectory, time_machine: Any
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(datetime.date(2026, 4, 10)))
    assert ask(directory, item).pauses_clock is False
    assert refresh(item).paused_since is None


def test_the_final_answer_ends_the_pause_and_counts_it(
    directory: DemoDirectory, time_machine: Any
) -> None:
    # The department answers without waiting: the question is closed unanswered, and the
    # days the clock stood still are still counted (here Friday 20 March and Thursday 26).
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(ASKED_MARCH))
    ask(directory, item)
    time_machine.move_to(at(ANSWERED_MARCH))
    response = draft_answer(directory, item)
    services.deputy_request_response_approve(
        pk=item.pk, response_id=response.pk, by=directory.finance_head
    )
    after = refresh(item)
    assert after.status == RequestStatus.ANSWERED
    assert (after.paused_since, after.paused_days, after.due_date) == (None, 2, MOVED_MARCH)
    closed = Clarification.objects.get()
    assert closed.answered_at is not None and closed.answer == "" and closed.answered_by is None
    assert AuditEvent.objects.for_item(item).filter(action="clarification_closed").exists()


def test_a_redirect_ends_the_pause(directory: DemoDirectory, time_machine: Any) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(ASKED_MARCH))
    ask(directory, item)
    services.deputy_request_redirect(pk=item.pk, by=directory.finance_exec, reason="Не наше")
    after = refresh(item)
    assert (after.status, after.paused_since, after.due_date) == (
        RequestStatus.SUBMITTED,
        None,
        None,
    )
    assert Clarification.objects.get().answered_at is not None


# --- Who, when, one at a time -------------------------------------------------------------------


@pytest.fixture
def in_english() -> Any:
    """The refusals are matched by their English wording."""
    with translation.override("en"):
        yield


def test_one_open_question_at_a_time(
    directory: DemoDirectory, time_machine: Any, in_english: None
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    ask(directory, item)
    with pytest.raises(TransitionNotAllowed, match="already waits"):
        services.deputy_request_clarify(
            pk=item.pk, by=directory.finance_head, question="И ещё вопрос"
        )
    reply(directory, item)
    ask(directory, item, "Второй вопрос")
    assert Clarification.objects.filter(request=item).count() == 2


def test_who_asks_and_who_answers(
    directory: DemoDirectory, time_machine: Any, in_english: None
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    for stranger in (directory.alice.user, directory.mobility_exec, directory.staff):
        with pytest.raises(ActionForbidden):
            services.deputy_request_clarify(pk=item.pk, by=stranger, question="?")
    with pytest.raises(ValidationFailed):
        services.deputy_request_clarify(pk=item.pk, by=directory.finance_head, question="  ")
    with pytest.raises(TransitionNotAllowed, match="no clarification question"):
        reply(directory, item)
    ask(directory, item)
    for stranger in (directory.finance_exec, directory.bob.user, directory.staff):
        with pytest.raises(ActionForbidden):
            services.deputy_request_answer_clarification(pk=item.pk, by=stranger, text="Ответ")
    with pytest.raises(ValidationFailed):
        services.deputy_request_answer_clarification(pk=item.pk, by=directory.alice.user, text="")
    actor_actions = services.available_actions
    from maslikhat.directory.actors import actor_for

    assert "answer_clarification" in actor_actions(actor_for(directory.alice.user), refresh(item))
    assert "clarify" not in actor_actions(actor_for(directory.finance_exec), refresh(item))


def test_the_author_hears_of_the_question_and_the_department_of_the_answer(
    directory: DemoDirectory, time_machine: Any
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    services.deputy_request_assign(
        pk=item.pk, by=directory.finance_head, executor=directory.finance_exec
    )
    ask(directory, item)
    asked = Notification.objects.get(kind=NotificationKind.CLARIFICATION_ASKED)
    assert asked.user == directory.alice.user and asked.send_email is True
    reply(directory, item)
    told = set(
        Notification.objects.filter(kind=NotificationKind.CLARIFICATION_ANSWERED).values_list(
            "user__username", flat=True
        )
    )
    assert told == {"finance-exec", "finance-head"}


# --- Reminders and escalations ------------------------------------------------------------------


def _reminded(day: datetime.date) -> set[tuple[str, str]]:
    return set(
        Notification.objects.filter(day=day, deduplicate=True).values_list("user__username", "kind")
    )


@pytest.mark.parametrize("stops", [True, False])
def test_no_department_reminders_while_paused_and_the_author_is_reminded(
    directory: DemoDirectory, time_machine: Any, stops: bool
) -> None:
    # Asked on the due date itself (Thursday 9 April): on Friday 10 April the request would
    # be overdue by one working day, escalated to the head and staff.
    set_pauses(stops)
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(DUE_MARCH))
    ask(directory, item)
    day = datetime.date(2026, 4, 10)
    time_machine.move_to(at(day, 9))
    reminders_sweep(day=day, enqueue=False)
    reminded = _reminded(day)
    author = (directory.alice.user.username, NotificationKind.REMINDER.value)
    assert author in reminded  # the open question, either way
    escalated = {("finance-head", "escalation"), ("staff", "escalation")}
    if stops:
        assert not reminded & escalated
        assert {who for who, _kind in reminded} == {directory.alice.user.username}
        text = Notification.objects.get(user=directory.alice.user, day=day).text
        assert "09.04.2026" in text
    else:
        assert escalated <= reminded


def test_the_author_is_not_reminded_on_the_day_of_the_question(
    directory: DemoDirectory, time_machine: Any
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(datetime.date(2026, 3, 18), 8))
    ask(directory, item)
    reminders_sweep(day=datetime.date(2026, 3, 18), enqueue=False)
    assert not Notification.objects.filter(user=directory.alice.user, deduplicate=True).exists()


# --- API and pages ------------------------------------------------------------------------------


def test_the_api_asks_answers_and_shows_the_pause(
    directory: DemoDirectory, time_machine: Any, api_as: Callable[[User], Any]
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    url = f"/api/v1/requests/{item.pk}/"
    time_machine.move_to(at(ASKED_MARCH))
    asked = api_as(directory.finance_exec).post(
        url + "clarification/", {"question": "Какой дом?"}, format="json"
    )
    assert asked.status_code == 200, asked.content
    body = asked.json()
    assert (body["paused_since"], body["paused_days"]) == ("2026-03-19", 0)
    assert body["clarifications"][0]["question"] == "Какой дом?"
    again = api_as(directory.finance_head).post(
        url + "clarification/", {"question": "Ещё"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert again.status_code == 409
    assert "already waits" in again.json()["detail"]
    empty = api_as(directory.alice.user).post(url + "clarification/answer/", {}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()
    time_machine.move_to(at(ANSWERED_MARCH))
    answered = api_as(directory.alice.user).post(
        url + "clarification/answer/", {"text": "Дом 10"}, format="json"
    )
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert (body["paused_since"], body["paused_days"], body["due_date"]) == (
        None,
        2,
        "2026-04-13",
    )
    assert body["clarifications"][0]["answer"] == "Дом 10"
    assert body["due_date_basis"]["pauses"][0]["days"] == 2
    # Another deputy reading a published request never reads the correspondence.
    DeputyRequest.objects.filter(pk=item.pk).update(is_public=True)
    other = api_as(directory.bob.user).get(url)
    assert other.status_code == 200 and other.json()["clarifications"] == []
    assert (
        api_as(directory.mobility_exec).post(url + "clarification/", {"question": "?"}).status_code
        == 404
    )


@pytest.fixture
def as_user() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        client.force_login(user)
        return client

    return make


def test_the_pages_ask_show_the_stopped_clock_and_answer(
    directory: DemoDirectory, time_machine: Any, as_user: Callable[[User], Client]
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    page = f"/requests/{item.pk}/"
    time_machine.move_to(at(ASKED_MARCH))
    department = as_user(directory.finance_exec)
    ask_form = f'action="/requests/{item.pk}/clarification/"'
    assert ask_form in department.get(page).content.decode()
    posted = department.post(
        page + "clarification/", {"question": "Which house?", "version": refresh(item).version}
    )
    assert posted.status_code == 302 and posted["Location"].endswith("#clarifications")
    html = department.get(page).content.decode()
    assert 'data-paused-since="2026-03-19"' in html
    assert "Clock stopped since" in html and "Clock stopped" in html
    assert ask_form not in html  # one question at a time

    author = as_user(directory.alice.user)
    html = author.get(page).content.decode()
    assert "Which house?" in html and 'data-action="answer_clarification"' in html
    # An empty answer keeps the page with the error, nothing changes.
    failed = author.post(page + "clarification/answer/", {"text": ""})
    assert failed.status_code in (302, 400)
    assert refresh(item).paused_since == ASKED_MARCH
    time_machine.move_to(at(ANSWERED_MARCH))
    author = as_user(directory.alice.user)  # a week later: a new session
    done = author.post(
        page + "clarification/answer/", {"text": "House 10.", "version": refresh(item).version}
    )
    assert done.status_code == 302
    html = author.get(page).content.decode()
    assert 'data-due-date="2026-04-13"' in html
    assert "2 working days added" in html  # "how computed"
    assert "House 10." in html and "data-paused-since" not in html
    history = as_user(directory.staff).get(page).content.decode()
    assert "Clarification asked of the author" in history
    assert "Clarification answered by the author" in history


def test_the_list_badge_says_the_clock_stopped(
    directory: DemoDirectory, time_machine: Any, as_user: Callable[[User], Client]
) -> None:
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(ASKED_MARCH))
    ask(directory, item)
    html = as_user(directory.finance_head).get("/requests/").content.decode()
    assert "badge-paused" in html and "Clock stopped" in html


# --- The KPI ------------------------------------------------------------------------------------


def test_timeliness_counts_against_the_moved_original_due_date(
    directory: DemoDirectory, time_machine: Any
) -> None:
    from kpi.aggregates import Span, department_request_counts

    # Paused 2 working days (9 → 13 April), answered on Monday 13 April: on time, and
    # not counted as extended; the open-overdue count ignores a stopped clock.
    item = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(ASKED_MARCH))
    ask(directory, item)
    paused = routed_on(directory, time_machine, ROUTED_MARCH)
    time_machine.move_to(at(DUE_MARCH))
    ask(directory, paused)
    time_machine.move_to(at(ANSWERED_MARCH))
    reply(directory, item)
    time_machine.move_to(at(MOVED_MARCH, 16))
    response = draft_answer(directory, item)
    services.deputy_request_response_approve(
        pk=item.pk, response_id=response.pk, by=directory.finance_head
    )
    span = Span(
        start=datetime.date(2026, 4, 1),
        end=datetime.date(2026, 4, 30),
        as_of=datetime.date(2026, 4, 30),
    )
    row = department_request_counts(span)[directory.finance.pk]
    # Both originally due on 9 April; the answered one on time by its moved date.
    assert (row["answers_due"], row["answered_on_time"], row["extended"]) == (2, 1, 0)
    assert row["open_overdue"] == 0  # the other request still waits with its clock stopped
