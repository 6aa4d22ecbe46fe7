"""The deputy-request lifecycle: every action of ``services.TRANSITIONS`` in every state.

The table in ``requests_app/services.py`` is the single source: the cases below are
generated from it (action × status), so a change of the table changes the tests.
An entitled user either moves the request as the table says, or gets
``TransitionNotAllowed`` (409 through the API) and the row stays as it was.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from maslikhat.accounts.models import User
from maslikhat.core.deadlines import add_months, compute_due_date, get_rule
from maslikhat.core.exceptions import (
    ActionForbidden,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.threads import AuditEvent
from requests_app import services
from requests_app.models import (
    Clarification,
    DeputyRequest,
    Outcome,
    RegistrationCounter,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.requests_helpers import (
    ALL_STATUSES,
    answer,
    category,
    create_draft,
    draft_answer,
    make_request,
    refresh,
    route,
)

pytestmark = pytest.mark.django_db

S = RequestStatus
ALMATY = ZoneInfo("Asia/Almaty")
#: A Monday in spring 2026: no public holiday for three weeks around it.
MONDAY = datetime.datetime(2026, 4, 13, 10, 0, tzinfo=ALMATY)


def user_of(directory: DemoDirectory, persona: str) -> User:
    value = getattr(directory, persona)
    return value if isinstance(value, User) else value.user


# --- The generated table ----------------------------------------------------------------


@dataclass
class Setup:
    """What an action needs besides the request: a draft answer, a pending extension."""

    response_id: int | None = None
    extension_id: int | None = None


#: Who is entitled to each action (the role question), so only the state decides.
ENTITLED: dict[str, str] = {
    "edit": "alice",
    "submit": "alice",
    "route": "staff",
    "decline": "staff",
    "assign": "finance_head",
    "redirect": "finance_exec",
    "respond": "finance_exec",
    "approve_interim": "finance_head",
    "approve_final": "finance_head",
    "return_draft": "finance_head",
    "accept": "alice",
    "rework": "alice",
    "auto_close": "system",
    "rate_request": "finance_exec",
    "ask_extension": "finance_exec",
    "decide_extension": "staff",
    "withdraw": "alice",
    "clarify": "finance_exec",
    "answer_clarification": "alice",
    "reroute": "staff",
}
#: Actions of the lead department: the request is given finance as its lead department
#: where its state has none (draft, submitted, declined, withdrawn before routing), so
#: the department is entitled and only the state check can refuse.
DEPARTMENT_ACTIONS = {
    "assign",
    "redirect",
    "respond",
    "approve_interim",
    "approve_final",
    "return_draft",
    "rate_request",
    "ask_extension",
    "clarify",
    "answer_clarification",
}
#: Transitions that do not bump the item's version (they add a row beside it).
NO_VERSION_BUMP = {"respond", "ask_extension", "return_draft"}


def test_it_declares_an_entitled_persona_for_every_action_of_the_table() -> None:
    assert set(ENTITLED) == set(services.TRANSITIONS)
    for action, (states, target) in services.TRANSITIONS.items():
        assert states <= set(ALL_STATUSES), action
        assert target is None or target in ALL_STATUSES, action


def prepare(directory: DemoDirectory, action: str, status: str) -> tuple[DeputyRequest, Setup]:
    item = make_request(directory, status=status)
    setup = Setup()
    if action in DEPARTMENT_ACTIONS | {"decide_extension"} and item.lead_department_id is None:
        DeputyRequest.objects.filter(pk=item.pk).update(lead_department=directory.finance)
        item = refresh(item)
    if action in ("approve_interim", "approve_final", "return_draft"):
        kind = ResponseKind.INTERIM if action == "approve_interim" else ResponseKind.FINAL
        outcome = Outcome.RESOLVED if kind == ResponseKind.FINAL else None
        if status == S.IN_PROGRESS:
            response = draft_answer(directory, item, kind=kind, outcome=outcome)
        else:  # a draft left behind: the state alone must refuse it
            response = Response.objects.create(
                request=item,
                department=directory.finance,
                kind=kind,
                text="Черновик ответа",
                outcome=outcome,
                drafted_by=directory.finance_exec,
            )
        setup.response_id = response.pk
    if action == "decide_extension":
        if status == S.IN_PROGRESS:
            assert item.due_date is not None
            extension = services.deputy_request_extension_ask(
                pk=item.pk,
                by=directory.finance_exec,
                new_due_date=item.due_date + datetime.timedelta(days=7),
                reason="Нужна экспертиза",
            )
        else:
            today = timezone.localdate()
            extension = Extension.objects.create(
                item_type="request",
                item_id=item.pk,
                requested_by=directory.finance_exec,
                previous_due_date=item.due_date or today,
                new_due_date=(item.due_date or today) + datetime.timedelta(days=7),
                reason="Нужна экспертиза",
            )
        setup.extension_id = extension.pk
    if action == "answer_clarification":
        if status == S.IN_PROGRESS:
            services.deputy_request_clarify(
                pk=item.pk, by=directory.finance_exec, question="Уточните адрес"
            )
        else:  # a question left behind: the state alone must refuse the answer
            Clarification.objects.create(
                request=item,
                department=directory.finance,
                question="Уточните адрес",
                asked_by=directory.finance_exec,
                asked_at=timezone.now(),
            )
    return refresh(item), setup


def perform(directory: DemoDirectory, action: str, item: DeputyRequest, setup: Setup) -> Any:
    """Call the action's service as the entitled persona, with a valid body."""
    by: Any = user_of(directory, ENTITLED[action])
    pk = item.pk
    rid: Any = setup.response_id
    eid: Any = setup.extension_id
    calls: dict[str, Callable[[], Any]] = {
        "edit": lambda: services.deputy_request_update_draft(pk=pk, by=by, title="Новый заголовок"),
        "submit": lambda: services.deputy_request_submit(pk=pk, by=by),
        "route": lambda: services.deputy_request_route(
            pk=pk, by=by, lead_department=directory.finance
        ),
        "decline": lambda: services.deputy_request_decline(pk=pk, by=by, reason="Не компетенция"),
        "assign": lambda: services.deputy_request_assign(
            pk=pk, by=by, executor=directory.finance_exec
        ),
        "redirect": lambda: services.deputy_request_redirect(pk=pk, by=by, reason="Не наше"),
        "respond": lambda: services.deputy_request_respond(
            pk=pk, by=by, kind="final", text="Ответ", outcome=Outcome.EXPLAINED
        ),
        "approve_interim": lambda: services.deputy_request_response_approve(
            pk=pk, response_id=rid, by=by
        ),
        "approve_final": lambda: services.deputy_request_response_approve(
            pk=pk, response_id=rid, by=by
        ),
        "return_draft": lambda: services.deputy_request_response_return(
            pk=pk, response_id=rid, by=by, comment="Дополните расчёты"
        ),
        "accept": lambda: services.deputy_request_evaluate(
            pk=pk, by=by, decision="accept", rating=5
        ),
        "rework": lambda: services.deputy_request_evaluate(
            pk=pk, by=by, decision="rework", comment="Нет сроков"
        ),
        "rate_request": lambda: services.deputy_request_rate_request(pk=pk, by=by, rating=4),
        "ask_extension": lambda: services.deputy_request_extension_ask(
            pk=pk,
            by=by,
            new_due_date=(item.due_date or timezone.localdate()) + datetime.timedelta(days=5),
            reason="Нужна экспертиза",
        ),
        "decide_extension": lambda: services.deputy_request_extension_decide(
            pk=pk, extension_id=eid, by=by, approve=True
        ),
        "withdraw": lambda: services.deputy_request_withdraw(pk=pk, by=by, reason="Решено"),
        "clarify": lambda: services.deputy_request_clarify(pk=pk, by=by, question="Уточните адрес"),
        "answer_clarification": lambda: services.deputy_request_answer_clarification(
            pk=pk, by=by, text="Абая, 10"
        ),
        "reroute": lambda: services.deputy_request_reroute(
            pk=pk,
            by=by,
            lead_department=directory.mobility,
            reason="Компетенция управления мобильности",
            deadline="keep",
        ),
    }
    return calls[action]()


BUG_WITHDRAW_DRAFT = (
    "BUG: withdrawing a draft (allowed by TRANSITIONS, no reason needed) violates the "
    "CHECK constraint request_number_once_submitted (models.py: status=draft OR number "
    "not null): IntegrityError, a 500 through the API"
)
#: (action, status, layer) -> the bug that breaks that case today.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def case(action: str, status: str, layer: str) -> Any:
    bug = KNOWN_BUGS.get((action, status, layer))
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(action, status, id=f"{action}-{status}", marks=marks)


SERVICE_CASES = [
    case(action, status, "service")
    for action in services.TRANSITIONS
    if action != "auto_close"
    for status in ALL_STATUSES
]


@pytest.mark.parametrize(("action", "status"), SERVICE_CASES)
def test_the_entitled_user_moves_the_request_as_the_table_says_or_gets_transition_not_allowed(
    directory: DemoDirectory, action: str, status: str
) -> None:
    item, setup = prepare(directory, action, status)
    states, target = services.TRANSITIONS[action]
    if status in states:
        perform(directory, action, item, setup)
        after = refresh(item)
        assert after.status == (target or status)
        expected_version = item.version if action in NO_VERSION_BUMP else item.version + 1
        assert after.version == expected_version
    else:
        # A draft is its authors' alone: staff are refused by the permission check before
        # the state check is reached.
        authors_draft_only = status == RequestStatus.DRAFT and ENTITLED[action] == "staff"
        refusal = ActionForbidden if authors_draft_only else TransitionNotAllowed
        with pytest.raises(refusal):
            perform(directory, action, item, setup)
        after = refresh(item)
        assert (after.status, after.version) == (status, item.version)
        assert after.lead_department_id == item.lead_department_id
        assert after.due_date == item.due_date


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_auto_close_closes_only_what_the_table_allows(
    directory: DemoDirectory, status: str
) -> None:
    item = make_request(directory, status=status)
    far_future = timezone.localdate() + datetime.timedelta(days=365)
    closed = services.deputy_request_auto_close(pk=item.pk, today=far_future)
    states, target = services.TRANSITIONS["auto_close"]
    after = refresh(item)
    assert closed is (status in states)
    if closed:
        assert after.status == target
    else:
        assert (after.status, after.version) == (item.status, item.version)


#: The API path and body of each action; ``{rid}``/``{eid}`` are the draft answer and extension.
API_CALLS: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "edit": ("patch", "", {"title": "Новый заголовок"}, 200),
    "submit": ("post", "submit/", {}, 200),
    "route": ("post", "route/", {"lead_department": "finance"}, 200),
    "decline": ("post", "decline/", {"reason": "Не компетенция"}, 200),
    "assign": ("post", "assign/", {"executor": "finance_exec"}, 200),
    "redirect": ("post", "redirect/", {"reason": "Не наше"}, 200),
    "respond": (
        "post",
        "responses/",
        {"kind": "final", "text": "Ответ", "outcome": "explained"},
        201,
    ),
    "approve_interim": ("post", "responses/{rid}/approve/", {}, 200),
    "approve_final": ("post", "responses/{rid}/approve/", {}, 200),
    "return_draft": ("post", "responses/{rid}/return/", {"comment": "Дополните"}, 200),
    "accept": ("post", "evaluate/", {"decision": "accept", "rating": 5}, 200),
    "rework": ("post", "evaluate/", {"decision": "rework", "comment": "Нет сроков"}, 200),
    "rate_request": ("post", "rate-request/", {"rating": 4}, 200),
    "ask_extension": ("post", "extensions/", {"reason": "Экспертиза"}, 201),
    "decide_extension": ("post", "extensions/{eid}/decide/", {"approve": True}, 200),
    "withdraw": ("post", "withdraw/", {"reason": "Решено"}, 200),
    "clarify": ("post", "clarification/", {"question": "Уточните адрес"}, 200),
    "answer_clarification": ("post", "clarification/answer/", {"text": "Абая, 10"}, 200),
    "reroute": (
        "post",
        "reroute/",
        {"lead_department": "mobility", "reason": "Не их компетенция", "deadline": "restart"},
        200,
    ),
}

API_CASES = [case(action, status, "api") for action in API_CALLS for status in ALL_STATUSES]


def test_it_has_an_api_call_for_every_action_but_the_nightly_auto_close() -> None:
    assert set(API_CALLS) == set(services.TRANSITIONS) - {"auto_close"}


@pytest.mark.parametrize(("action", "status"), API_CASES)
def test_the_api_answers_the_table_with_2xx_or_409_and_detail(
    directory: DemoDirectory, api_as: Any, action: str, status: str
) -> None:
    item, setup = prepare(directory, action, status)
    method, suffix, body, success = API_CALLS[action]
    body = dict(body)
    if "lead_department" in body:
        body["lead_department"] = getattr(directory, body["lead_department"]).pk
    if "executor" in body:
        body["executor"] = directory.finance_exec.pk
    if action == "ask_extension":
        start = item.due_date or timezone.localdate()
        body["new_due_date"] = (start + datetime.timedelta(days=5)).isoformat()
    url = f"/api/v1/requests/{item.pk}/" + suffix.format(
        rid=setup.response_id, eid=setup.extension_id
    )
    persona = ENTITLED[action]
    client = api_as(user_of(directory, persona))
    result = getattr(client, method)(url, body, format="json")
    states, target = services.TRANSITIONS[action]
    after = refresh(item)
    if status == S.DRAFT and persona != "alice":
        # A draft is its author's alone: for anyone else it does not exist.
        assert result.status_code == 404, result.content
        assert (after.status, after.version) == (item.status, item.version)
    elif status in states:
        assert result.status_code == success, result.content
        assert after.status == (target or status)
    else:
        assert result.status_code == 409, result.content
        assert isinstance(result.json()["detail"], str) and result.json()["detail"]
        assert (after.status, after.version) == (item.status, item.version)


# --- Rules of individual transitions ----------------------------------------------------


def test_rework_gives_a_new_due_date_and_counts_the_return(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    item = make_request(directory, status=S.ANSWERED, outcome=Outcome.EXPLAINED)
    assert item.answered_at is not None and item.evaluation_due_date is not None
    first_due = item.due_date
    time_machine.move_to(MONDAY + datetime.timedelta(days=9))
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="rework", comment="Не указаны сроки"
    )
    after = refresh(item)
    assert after.status == S.IN_PROGRESS
    assert after.rework_count == 1
    assert after.due_date is not None and first_due is not None
    assert after.due_date > first_due
    # The deadline runs again from the day of the return (Wednesday 22 April 2026).
    expected = compute_due_date(rule=get_rule("deputy_request"), start=datetime.date(2026, 4, 22))
    assert after.due_date == expected.due
    assert after.original_due_date == after.due_date
    assert after.answered_at is None
    assert after.outcome is None
    assert after.evaluation_due_date is None
    last = Response.objects.filter(request=item, kind=ResponseKind.FINAL).get()
    assert (last.evaluation, last.evaluation_comment) == ("rework", "Не указаны сроки")
    # A second round counts again.
    answer(directory, item)
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="rework", comment="Снова нет сроков"
    )
    assert refresh(item).rework_count == 2


def test_accept_requires_a_rating(directory: DemoDirectory, api_as: Any) -> None:
    item = make_request(directory, status=S.ANSWERED)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_evaluate(pk=item.pk, by=directory.alice.user, decision="accept")
    assert error.value.field == "rating"
    result = api_as(directory.alice.user).post(
        f"/api/v1/requests/{item.pk}/evaluate/", {"decision": "accept"}, format="json"
    )
    assert result.status_code == 400
    assert list(result.json()) == ["rating"]
    assert refresh(item).status == S.ANSWERED


@pytest.mark.parametrize("rating", [1, 2])
def test_a_rating_of_one_or_two_requires_a_comment(directory: DemoDirectory, rating: int) -> None:
    item = make_request(directory, status=S.ANSWERED)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_evaluate(
            pk=item.pk, by=directory.alice.user, decision="accept", rating=rating, comment="  "
        )
    assert error.value.field == "comment"
    assert refresh(item).status == S.ANSWERED
    services.deputy_request_evaluate(
        pk=item.pk,
        by=directory.alice.user,
        decision="accept",
        rating=rating,
        comment="Отписка",
    )
    after = refresh(item)
    assert (after.status, after.rating, after.rating_comment) == (S.CLOSED, rating, "Отписка")
    assert after.closed_at is not None and after.rated_at is not None


def test_a_rating_of_three_needs_no_comment(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.ANSWERED)
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="accept", rating=3
    )
    assert (refresh(item).status, refresh(item).rating) == (S.CLOSED, 3)


def test_rework_requires_a_comment(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.ANSWERED)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_evaluate(pk=item.pk, by=directory.alice.user, decision="rework")
    assert error.value.field == "comment"
    after = refresh(item)
    assert (after.status, after.rework_count) == (S.ANSWERED, 0)


def test_a_final_answer_requires_an_outcome(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    for outcome in (None, "", Outcome.NOT_RESOLVED, "bogus"):
        with pytest.raises(ValidationFailed) as error:
            services.deputy_request_respond(
                pk=item.pk, by=directory.finance_exec, kind="final", text="Ответ", outcome=outcome
            )
        assert error.value.field == "outcome"
    assert not Response.objects.filter(request=item).exists()


def test_a_planned_outcome_requires_the_planned_date(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_respond(
            pk=item.pk, by=directory.finance_exec, kind="final", text="В плане", outcome="planned"
        )
    assert error.value.field == "planned_date"
    response = services.deputy_request_respond(
        pk=item.pk,
        by=directory.finance_exec,
        kind="final",
        text="В плане",
        outcome="planned",
        planned_date=datetime.date(2027, 6, 1),
    )
    assert (response.outcome, response.planned_date) == ("planned", datetime.date(2027, 6, 1))
    assert response.status == ResponseStatus.DRAFT


def test_an_interim_answer_never_sets_answered_at(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    response = services.deputy_request_respond(
        pk=item.pk,
        by=directory.finance_exec,
        kind="interim",
        text="Работаем",
        outcome=Outcome.RESOLVED,
        planned_date=datetime.date(2027, 1, 1),
    )
    assert (response.outcome, response.planned_date) == (None, None)
    services.deputy_request_response_approve(
        pk=item.pk, response_id=response.pk, by=directory.finance_head
    )
    after = refresh(item)
    assert after.status == S.IN_PROGRESS
    assert after.answered_at is None
    assert after.outcome is None
    assert after.evaluation_due_date is None
    response.refresh_from_db()
    assert response.status == ResponseStatus.SENT and response.sent_at is not None
    actions = list(AuditEvent.objects.for_item(item).values_list("action", flat=True))
    assert "approve_interim" in actions and "approve_final" not in actions


def test_redirect_clears_the_lead_department_and_returns_to_submitted(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS, co_departments=[directory.mobility])
    services.deputy_request_assign(
        pk=item.pk, by=directory.finance_head, executor=directory.finance_exec
    )
    services.deputy_request_redirect(
        pk=item.pk, by=directory.finance_exec, reason="Вопрос управления мобильности"
    )
    after = refresh(item)
    assert after.status == S.SUBMITTED
    assert after.lead_department_id is None
    assert after.executor_id is None
    assert (after.due_date, after.original_due_date, after.routed_at) == (None, None, None)
    assert list(after.co_departments.all()) == []
    assert after.status_reason == "Вопрос управления мобильности"
    assert after.number == item.number  # the registration number stays
    route(directory, after, lead=directory.mobility)
    rerouted = refresh(item)
    assert (rerouted.status, rerouted.lead_department_id) == (S.IN_PROGRESS, directory.mobility.pk)
    assert rerouted.status_reason == ""


def test_redirect_requires_a_reason(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_redirect(pk=item.pk, by=directory.finance_exec, reason=" ")
    assert error.value.field == "reason"
    assert refresh(item).lead_department_id == directory.finance.pk


def test_decline_requires_a_reason(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_decline(pk=item.pk, by=directory.staff, reason="")
    assert error.value.field == "reason"
    assert refresh(item).status == S.SUBMITTED
    services.deputy_request_decline(pk=item.pk, by=directory.staff, reason="Не компетенция")
    after = refresh(item)
    assert (after.status, after.status_reason) == (S.DECLINED, "Не компетенция")
    assert after.closed_at is not None


@pytest.mark.parametrize("status", [S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED])
def test_withdrawing_a_registered_request_requires_a_reason(
    directory: DemoDirectory, status: str
) -> None:
    item = make_request(directory, status=status)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_withdraw(pk=item.pk, by=directory.alice.user, reason="")
    assert error.value.field == "reason"
    assert refresh(item).status == status


def test_withdrawing_a_draft_needs_no_reason(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.DRAFT)
    services.deputy_request_withdraw(pk=item.pk, by=directory.alice.user)
    after = refresh(item)
    assert (after.status, after.status_reason, after.number) == (S.WITHDRAWN, "", None)


def test_auto_close_closes_answered_requests_past_the_evaluation_date_unrated(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    early = make_request(directory, status=S.ANSWERED, title="Первый запрос")
    untouched = make_request(directory, status=S.IN_PROGRESS, title="В работе")
    time_machine.move_to(MONDAY + datetime.timedelta(days=7))
    late = make_request(directory, status=S.ANSWERED, title="Второй запрос")
    assert early.evaluation_due_date is not None and late.evaluation_due_date is not None
    assert early.evaluation_due_date < late.evaluation_due_date
    # On the evaluation date itself nothing closes yet.
    on_due = datetime.datetime.combine(early.evaluation_due_date, datetime.time(9), ALMATY)
    time_machine.move_to(on_due)
    assert services.deputy_requests_auto_close_due() == 0
    time_machine.move_to(on_due + datetime.timedelta(days=1))
    assert services.deputy_requests_auto_close_due() == 1
    closed = refresh(early)
    assert closed.status == S.CLOSED
    assert closed.rating is None and closed.rated_at is None
    assert closed.closed_at is not None
    assert refresh(late).status == S.ANSWERED
    assert refresh(untouched).status == S.IN_PROGRESS
    event = AuditEvent.objects.for_item(closed).get(action="auto_close")
    assert event.actor is None
    # A second sweep finds nothing more to do.
    assert services.deputy_requests_auto_close_due() == 0


def test_registration_numbers_are_consecutive_and_a_failed_submit_gives_its_number_back(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    drafts = [create_draft(directory, title=f"Запрос {n}") for n in range(4)]
    for draft in drafts[:3]:
        services.deputy_request_submit(pk=draft.pk, by=directory.alice.user)
    numbers = [refresh(d).number for d in drafts[:3]]
    assert numbers == ["DZ-2026-00001", "DZ-2026-00002", "DZ-2026-00003"]
    failing = mock.patch(
        "requests_app.services.refresh_search_document", side_effect=RuntimeError("disk full")
    )
    with failing, pytest.raises(RuntimeError):
        services.deputy_request_submit(pk=drafts[3].pk, by=directory.alice.user)
    failed = refresh(drafts[3])
    assert (failed.status, failed.number, failed.submitted_at) == (S.DRAFT, None, None)
    assert RegistrationCounter.objects.get(year=2026).last_number == 3
    services.deputy_request_submit(pk=drafts[3].pk, by=directory.alice.user)
    assert refresh(drafts[3]).number == "DZ-2026-00004"


def test_registration_numbers_start_again_each_year(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=ALMATY))
    december = make_request(directory, status=S.SUBMITTED)
    time_machine.move_to(datetime.datetime(2027, 1, 1, 0, 30, tzinfo=ALMATY))
    january = make_request(directory, status=S.SUBMITTED)
    # The year is the Almaty year: 00:30 on 1 January local time is still 2026 in UTC.
    assert (december.number, january.number) == ("DZ-2026-00001", "DZ-2027-00001")


def test_a_submitted_request_gets_the_deputy_request_number_format(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    year = timezone.localdate(item.submitted_at).year
    assert item.number == f"DZ-{year}-00001"
    assert item.submitted_at is not None


# --- Extensions -------------------------------------------------------------------------


def ask(directory: DemoDirectory, item: DeputyRequest, new_due: datetime.date) -> Extension:
    return services.deputy_request_extension_ask(
        pk=item.pk, by=directory.finance_exec, new_due_date=new_due, reason="Нужна экспертиза"
    )


def test_an_extension_must_be_later_than_the_current_due_date(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    for day in (item.due_date, item.due_date - datetime.timedelta(days=1)):
        with pytest.raises(ValidationFailed) as error:
            ask(directory, item, day)
        assert error.value.field == "new_due_date"
    assert not Extension.objects.for_item(item).exists()


def test_an_extension_may_reach_two_months_after_the_original_due_date_and_no_further(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.original_due_date is not None
    limit = add_months(item.original_due_date, 2)
    with pytest.raises(ValidationFailed) as error:
        ask(directory, item, limit + datetime.timedelta(days=1))
    assert error.value.field == "new_due_date"
    extension = ask(directory, item, limit)
    assert (extension.status, extension.new_due_date) == (ExtensionStatus.PENDING, limit)
    assert extension.previous_due_date == item.due_date


def test_only_one_extension_is_pending_at_a_time(directory: DemoDirectory, api_as: Any) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    ask(directory, item, item.due_date + datetime.timedelta(days=5))
    with pytest.raises(TransitionNotAllowed):
        ask(directory, item, item.due_date + datetime.timedelta(days=6))
    result = api_as(directory.finance_head).post(
        f"/api/v1/requests/{item.pk}/extensions/",
        {
            "new_due_date": (item.due_date + datetime.timedelta(days=6)).isoformat(),
            "reason": "Ещё раз",
        },
        format="json",
    )
    assert result.status_code == 409 and result.json()["detail"]
    assert Extension.objects.for_item(item).count() == 1


def test_an_approved_extension_moves_the_due_date_and_keeps_the_original(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None and item.original_due_date is not None
    original = item.original_due_date
    new_due = item.due_date + datetime.timedelta(days=20)
    extension = ask(directory, item, new_due)
    services.deputy_request_extension_decide(
        pk=item.pk, extension_id=extension.pk, by=directory.staff, approve=True
    )
    after = refresh(item)
    assert (after.due_date, after.original_due_date) == (new_due, original)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert extension.decided_by == directory.staff and extension.decided_at is not None
    # The next extension is still measured from the original due date.
    with pytest.raises(ValidationFailed):
        ask(directory, after, add_months(original, 2) + datetime.timedelta(days=1))
    second = ask(directory, after, add_months(original, 2))
    assert second.previous_due_date == new_due


def test_a_rejected_extension_keeps_both_dates_and_needs_a_comment(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    extension = ask(directory, item, item.due_date + datetime.timedelta(days=10))
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_extension_decide(
            pk=item.pk, extension_id=extension.pk, by=directory.staff, approve=False
        )
    assert error.value.field == "comment"
    services.deputy_request_extension_decide(
        pk=item.pk,
        extension_id=extension.pk,
        by=directory.staff,
        approve=False,
        comment="Срок достаточен",
    )
    after = refresh(item)
    assert (after.due_date, after.original_due_date) == (item.due_date, item.original_due_date)
    extension.refresh_from_db()
    assert (extension.status, extension.comment) == (ExtensionStatus.REJECTED, "Срок достаточен")
    with pytest.raises(TransitionNotAllowed):
        services.deputy_request_extension_decide(
            pk=item.pk, extension_id=extension.pk, by=directory.staff, approve=True
        )


# --- The department's rating of the request ----------------------------------------------


def test_the_request_rating_can_change_for_seven_days_then_is_frozen(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    item = make_request(directory, status=S.IN_PROGRESS)
    services.deputy_request_rate_request(pk=item.pk, by=directory.finance_exec, rating=4)
    rated_at = refresh(item).request_rated_at
    time_machine.move_to(MONDAY + datetime.timedelta(days=6))
    services.deputy_request_rate_request(pk=item.pk, by=directory.finance_head, rating=5)
    after = refresh(item)
    assert (after.request_rating, after.request_rated_at) == (5, rated_at)
    assert after.request_rated_by == directory.finance_head
    time_machine.move_to(MONDAY + datetime.timedelta(days=7, hours=1))
    with pytest.raises(TransitionNotAllowed):
        services.deputy_request_rate_request(pk=item.pk, by=directory.finance_exec, rating=1)
    assert refresh(item).request_rating == 5


def test_a_low_request_rating_needs_a_comment(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as error:
        services.deputy_request_rate_request(pk=item.pk, by=directory.finance_exec, rating=2)
    assert error.value.field == "comment"
    assert refresh(item).request_rating is None


# --- Optimistic concurrency -------------------------------------------------------------


def test_a_stale_version_raises_stale_version(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.DRAFT)
    loaded = item.version
    services.deputy_request_update_draft(pk=item.pk, by=directory.alice.user, title="Правка 1")
    with pytest.raises(StaleVersion):
        services.deputy_request_update_draft(
            pk=item.pk, by=directory.alice.user, title="Правка 2", version=loaded
        )
    assert refresh(item).title == "Правка 1"


def test_the_api_answers_a_stale_version_with_409(directory: DemoDirectory, api_as: Any) -> None:
    item = make_request(directory, status=S.DRAFT)
    client = api_as(directory.alice.user)
    url = f"/api/v1/requests/{item.pk}/"
    first = client.patch(url, {"title": "Правка 1", "version": item.version}, format="json")
    assert first.status_code == 200
    assert first.json()["version"] == item.version + 1
    stale = client.patch(url, {"title": "Правка 2", "version": item.version}, format="json")
    assert stale.status_code == 409
    assert stale.json()["detail"]
    submit = client.post(f"{url}submit/", {"version": item.version}, format="json")
    assert submit.status_code == 409
    after = refresh(item)
    assert (after.title, after.status, after.version) == ("Правка 1", S.DRAFT, item.version + 1)
    ok = client.post(f"{url}submit/", {"version": after.version}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == S.SUBMITTED


def test_every_transition_leaves_an_audit_event(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.CLOSED)
    events = list(
        AuditEvent.objects.for_item(item).values_list("action", "from_status", "to_status")
    )
    assert events == [
        ("create", "", S.DRAFT),
        ("submit", S.DRAFT, S.SUBMITTED),
        ("route", S.SUBMITTED, S.IN_PROGRESS),
        ("response_drafted", S.IN_PROGRESS, S.IN_PROGRESS),
        ("approve_final", S.IN_PROGRESS, S.ANSWERED),
        ("accept", S.ANSWERED, S.CLOSED),
    ]


def test_a_redirect_closes_the_pending_extension_of_the_old_department(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    stale = ask(directory, item, item.due_date + datetime.timedelta(days=5))
    services.deputy_request_redirect(pk=item.pk, by=directory.finance_exec, reason="Не наше")
    route(directory, item, lead=directory.mobility)
    rerouted = refresh(item)
    assert rerouted.due_date is not None
    stale.refresh_from_db()
    assert stale.status != ExtensionStatus.PENDING
    extension = services.deputy_request_extension_ask(
        pk=item.pk,
        by=directory.mobility_exec,
        new_due_date=rerouted.due_date + datetime.timedelta(days=5),
        reason="Нужна экспертиза",
    )
    assert extension.status == ExtensionStatus.PENDING


def test_a_stale_extension_never_moves_the_due_date_back(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    stale = ask(directory, item, item.due_date + datetime.timedelta(days=2))
    answer(directory, item)
    time_machine.move_to(datetime.datetime(2026, 5, 20, 10, 0, tzinfo=ALMATY))
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="rework", comment="Нет сроков"
    )
    reworked_due = refresh(item).due_date
    assert reworked_due is not None
    # Refusing the stale extension is one correct answer.
    with contextlib.suppress(TransitionNotAllowed):
        services.deputy_request_extension_decide(
            pk=item.pk, extension_id=stale.pk, by=directory.staff, approve=True
        )
    assert refresh(item).due_date == reworked_due


def test_a_category_with_auto_routing_is_routed_on_submission(
    directory: DemoDirectory,
) -> None:
    auto = category(code="budget", auto_route=True, default_department=directory.finance)
    draft = create_draft(directory, category_obj=auto)
    services.deputy_request_submit(pk=draft.pk, by=directory.alice.user)
    after = refresh(draft)
    assert (after.status, after.lead_department_id) == (S.IN_PROGRESS, directory.finance.pk)
    assert after.due_date is not None and after.number is not None
    event = AuditEvent.objects.for_item(after).get(action="route")
    assert event.actor is None
    assert event.comment
