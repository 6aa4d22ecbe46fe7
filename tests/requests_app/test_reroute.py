"""Routing under control: staff re-route a request in work, the deputy hears of routing,
the department lands on its inbox after "not our competence", and a submitted request says
when its answer would be due if routed today (``docs/domain.md``, "Re-routing").

Dates by hand on the 2026 calendar: routed on Monday 16 March, the 15 working days skip
Nauryz (21–25 March) and end on Thursday 9 April; counted again from Wednesday 1 April
they end on Wednesday 22 April.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.http import Http404
from django.test import Client

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import ActionForbidden, TransitionNotAllowed, ValidationFailed
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.threads import AuditEvent
from requests_app import selectors, services
from requests_app.models import Clarification, DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request, refresh

pytestmark = pytest.mark.django_db

ALMATY = ZoneInfo("Asia/Almaty")
ROUTED = datetime.date(2026, 3, 16)
DUE = datetime.date(2026, 4, 9)
REROUTED = datetime.date(2026, 4, 1)
DUE_RESTARTED = datetime.date(2026, 4, 22)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=ALMATY)


@pytest.fixture
def in_work(directory: DemoDirectory, time_machine: Any) -> DeputyRequest:
    """Routed to finance on 16 March, assigned to its executor; now it is 1 April."""
    time_machine.move_to(at(ROUTED))
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    services.deputy_request_assign(
        pk=item.pk, by=directory.finance_head, executor=directory.finance_exec
    )
    time_machine.move_to(at(REROUTED))
    return refresh(item)


@pytest.fixture
def as_user() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        client.force_login(user)
        return client

    return make


def reroute(directory: DemoDirectory, item: DeputyRequest, deadline: str, **kwargs: Any) -> Any:
    return services.deputy_request_reroute(
        pk=item.pk,
        by=directory.staff,
        lead_department=kwargs.pop("lead", directory.mobility),
        co_departments=kwargs.pop("co", ()),
        reason=kwargs.pop("reason", "Дороги — компетенция управления мобильности"),
        deadline=deadline,
        **kwargs,
    )


def sees(user: User, item: DeputyRequest) -> bool:
    try:
        selectors.deputy_request_get_visible(user=user, pk=item.pk)
    except Http404:
        return False
    return True


def test_restart_counts_a_new_deadline_from_today(
    directory: DemoDirectory, in_work: DeputyRequest
) -> None:
    assert in_work.due_date == DUE
    reroute(directory, in_work, "restart")
    after = refresh(in_work)
    assert after.status == RequestStatus.IN_PROGRESS
    assert after.lead_department == directory.mobility
    assert after.executor is None
    assert (after.due_date, after.original_due_date) == (DUE_RESTARTED, DUE_RESTARTED)
    assert after.due_date_basis["start"] == "2026-04-01"
    event = AuditEvent.objects.for_item(in_work).get(action="reroute")
    assert event.comment == "Дороги — компетенция управления мобильности"
    assert event.changes["deadline"] == "restart"
    assert event.changes["lead_department"] == ["finance", "mobility"]
    assert event.changes["due_date"] == ["2026-04-09", "2026-04-22"]


def test_keep_keeps_the_due_date(directory: DemoDirectory, in_work: DeputyRequest) -> None:
    reroute(directory, in_work, "keep", co=[directory.finance])
    after = refresh(in_work)
    assert (after.lead_department, after.executor) == (directory.mobility, None)
    assert (after.due_date, after.original_due_date) == (DUE, DUE)
    assert list(after.co_departments.all()) == [directory.finance]
    assert AuditEvent.objects.for_item(in_work).get(action="reroute").changes["deadline"] == "keep"


def test_access_moves_and_the_new_department_and_the_deputy_are_told(
    directory: DemoDirectory, in_work: DeputyRequest
) -> None:
    assert sees(directory.finance_exec, in_work)
    reroute(directory, in_work, "restart")
    assert not sees(directory.finance_exec, in_work)
    assert not sees(directory.finance_head, in_work)
    assert sees(directory.mobility_exec, in_work) and sees(directory.alice.user, in_work)
    routed = set(
        Notification.objects.filter(kind=NotificationKind.ROUTED, day=REROUTED).values_list(
            "user__username", flat=True
        )
    )
    assert routed == {"mobility-head", "mobility-exec"}
    told = Notification.objects.get(kind=NotificationKind.REROUTED)
    assert told.user == directory.alice.user and told.send_email
    assert told.params["department"] == str(directory.mobility.name)


def test_pending_extension_and_open_question_end_with_the_old_department(
    directory: DemoDirectory, in_work: DeputyRequest, time_machine: Any
) -> None:
    services.deputy_request_extension_ask(
        pk=in_work.pk,
        by=directory.finance_exec,
        new_due_date=DUE + datetime.timedelta(days=7),
        reason="Экспертиза",
    )
    # Asked on Wednesday 1 April, re-routed on Friday 3 April (keep): Thursday 2 and
    # Friday 3 stood still, so the kept due date moves from 9 to 13 April.
    services.deputy_request_clarify(pk=in_work.pk, by=directory.finance_exec, question="Адрес?")
    time_machine.move_to(at(datetime.date(2026, 4, 3)))
    reroute(directory, in_work, "keep")
    after = refresh(in_work)
    assert Extension.objects.get().status == ExtensionStatus.REJECTED
    assert Clarification.objects.get().answered_at is not None
    assert (after.paused_since, after.paused_days) == (None, 2)
    assert after.due_date == datetime.date(2026, 4, 13)


def test_only_staff_reroute_only_in_work_and_with_a_reason(
    directory: DemoDirectory, in_work: DeputyRequest
) -> None:
    for stranger in (directory.finance_head, directory.alice.user, directory.chair):
        with pytest.raises(ActionForbidden):
            services.deputy_request_reroute(
                pk=in_work.pk,
                by=stranger,
                lead_department=directory.mobility,
                reason="Причина",
                deadline="keep",
            )
    with pytest.raises(ValidationFailed):
        reroute(directory, in_work, "keep", reason="   ")
    with pytest.raises(ValidationFailed):
        reroute(directory, in_work, "sometime")
    submitted = make_request(directory, status=RequestStatus.SUBMITTED)
    with pytest.raises(TransitionNotAllowed):
        reroute(directory, submitted, "restart")
    assert refresh(in_work).lead_department == directory.finance


def test_the_api_reroutes(
    directory: DemoDirectory, in_work: DeputyRequest, api_as: Callable[[User], Any]
) -> None:
    url = f"/api/v1/requests/{in_work.pk}/reroute/"
    body = {"lead_department": directory.mobility.pk, "reason": "Не финансы", "deadline": "keep"}
    missing = api_as(directory.staff).post(url, {**body, "reason": ""}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    wrong = api_as(directory.staff).post(url, {**body, "deadline": "later"}, format="json")
    assert wrong.status_code == 400 and "deadline" in wrong.json()
    refused = api_as(directory.finance_head).post(url, body, format="json")
    assert refused.status_code == 403
    done = api_as(directory.staff).post(url, body, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["lead_department"] == directory.mobility.pk
    assert done.json()["due_date"] == "2026-04-09"
    gone = api_as(directory.finance_exec).get(f"/api/v1/requests/{in_work.pk}/")
    assert gone.status_code == 404


def test_the_page_reroutes_and_shows_why_to_the_deputy(
    directory: DemoDirectory, in_work: DeputyRequest, as_user: Callable[[User], Client]
) -> None:
    page = f"/requests/{in_work.pk}/"
    staff = as_user(directory.staff)
    assert f'action="{page}reroute/"' in staff.get(page).content.decode()
    posted = staff.post(
        page + "reroute/",
        {
            "lead_department": directory.mobility.pk,
            "reason": "Roads belong to mobility.",
            "deadline": "restart",
            "version": in_work.version,
        },
    )
    assert posted.status_code == 302 and posted["Location"] == page
    html = as_user(directory.alice.user).get(page).content.decode()
    assert "data-reroute" in html and "Roads belong to mobility." in html
    assert "The deadline restarted from the day of re-routing." in html
    assert 'data-due-date="2026-04-22"' in html
    # A failed re-routing keeps the typed reason.
    again = staff.post(
        page + "reroute/",
        {"lead_department": "", "reason": "Typed reason", "deadline": "keep"},
    )
    assert again.status_code == 400 and "Typed reason" in again.content.decode()


# --- Routing and "not our competence" -------------------------------------------------------------


def test_the_deputy_is_told_where_and_by_when_on_routing(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(at(ROUTED))
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    told = Notification.objects.get(kind=NotificationKind.REQUEST_ROUTED)
    assert told.user == directory.alice.user and told.send_email
    assert told.params["due"] == "09.04.2026"
    assert told.params["department"] == str(directory.finance.name)
    assert item.number is not None
    assert "09.04.2026" in told.text and item.number in told.text


def test_after_not_our_competence_the_department_lands_on_its_inbox(
    directory: DemoDirectory, in_work: DeputyRequest, as_user: Callable[[User], Client]
) -> None:
    client = as_user(directory.finance_exec)
    posted = client.post(
        f"/requests/{in_work.pk}/redirect/", {"reason": "Mobility's matter."}, follow=True
    )
    assert posted.redirect_chain[-1] == ("/requests/", 302)
    assert posted.status_code == 200
    html = posted.content.decode()
    assert "no longer in your department&#x27;s inbox" in html or "no longer in your" in html
    assert client.get(f"/requests/{in_work.pk}/").status_code == 404


def test_a_submitted_request_says_when_the_answer_would_be_due(
    directory: DemoDirectory, time_machine: Any, as_user: Callable[[User], Client]
) -> None:
    time_machine.move_to(at(ROUTED))
    item = make_request(directory, status=RequestStatus.SUBMITTED)
    html = as_user(directory.alice.user).get(f"/requests/{item.pk}/").content.decode()
    assert 'data-due-if-routed="2026-04-09"' in html
    assert "if routed today, the answer would be due by" in html
    routed = make_request(directory, status=RequestStatus.IN_PROGRESS)
    html = as_user(directory.alice.user).get(f"/requests/{routed.pk}/").content.decode()
    assert "data-due-if-routed" not in html


def test_submitting_says_when_the_answer_would_be_due(
    directory: DemoDirectory, time_machine: Any, as_user: Callable[[User], Client]
) -> None:
    from tests.requests_helpers import category

    time_machine.move_to(at(ROUTED))
    roads = category()
    posted = as_user(directory.alice.user).post(
        "/requests/new/",
        {
            "title": "Repair the road",
            "body": "Broken since spring.",
            "category": roads.pk,
            "intent": "submit",
        },
        follow=True,
    )
    html = posted.content.decode()
    assert "registered under number" in html
    assert "if routed today, the answer would be due by 09.04.2026" in html
