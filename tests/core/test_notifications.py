"""Notifications of deputy requests: in the app at once, by e-mail only after the commit.

The services write ``Notification`` rows inside their transaction; the e-mail tasks
are enqueued by ``transaction.on_commit``. A rolled-back action notifies nobody, a
broker that is down fails nothing, an e-mail is sent at most once, in the
recipient's language. ``/api/v1/notifications/`` shows a user their own only.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from kombu.exceptions import OperationalError

from maslikhat.accounts.models import User
from maslikhat.core import notifications
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.tasks import send_notification_email
from requests_app import services
from requests_app.models import DeputyRequest, RequestStatus, ResponseStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import draft_answer, make_request, refresh, route

pytestmark = pytest.mark.django_db

S = RequestStatus
SUBJECT_MSGID = "Maslikhat portal: %(text)s"


@pytest.fixture
def apply_async() -> Any:
    """Record the e-mail tasks published to the broker instead of publishing them."""
    with mock.patch.object(send_notification_email, "apply_async") as patched:
        yield patched


def enqueued_ids(apply_async: Any) -> list[int]:
    return sorted(call.args[0][0] for call in apply_async.call_args_list)


def routed_notifications(item: DeputyRequest) -> Any:
    return Notification.objects.filter(item_id=item.pk, kind=NotificationKind.ROUTED)


def test_routing_notifies_the_departments_officers_and_emails_them_after_commit(
    directory: DemoDirectory, apply_async: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        route(directory, item)
        # Written with the change, but nothing is published before the commit.
        rows = routed_notifications(item)
        assert {n.user for n in rows} == {directory.finance_head, directory.finance_exec}
        assert apply_async.call_count == 0
    # The departments' notifications, and the deputy's (where it went, by when).
    told = Notification.objects.get(item_id=item.pk, kind=NotificationKind.REQUEST_ROUTED)
    assert told.user == directory.alice.user and told.send_email
    assert len(callbacks) == 2
    assert enqueued_ids(apply_async) == sorted([*rows.values_list("pk", flat=True), told.pk])
    for call in apply_async.call_args_list:
        assert call.kwargs == {"retry": False}
    for row in rows:
        assert (row.item_type, row.send_email, row.emailed_at) == ("request", True, None)
        assert row.link == f"/requests/{item.pk}/" or row.link.endswith(f"/{item.pk}/")


def test_routing_with_a_co_executor_notifies_both_departments_and_nobody_else(
    directory: DemoDirectory, apply_async: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        route(directory, item, co_departments=[directory.mobility])
    assert {n.user for n in routed_notifications(item)} == {
        directory.finance_head,
        directory.finance_exec,
        directory.mobility_head,
        directory.mobility_exec,
    }
    assert apply_async.call_count == 5  # and the author's "routed to …, due by …"
    assert (
        not Notification.objects.filter(
            user__in=[directory.alice.user, directory.bob.user, directory.staff], item_id=item.pk
        )
        .exclude(kind=NotificationKind.SUBMITTED)
        .exclude(kind=NotificationKind.REQUEST_ROUTED, user=directory.alice.user)
        .exists()
    )


def test_a_rolled_back_action_notifies_and_enqueues_nothing(
    directory: DemoDirectory, apply_async: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    response = draft_answer(directory, item)
    failing = mock.patch(
        "requests_app.responses.refresh_search_document", side_effect=RuntimeError("boom")
    )
    capture = django_capture_on_commit_callbacks(execute=True)
    # notify(ANSWERED, email=True) runs, then the service fails before its commit.
    with capture as callbacks, failing, pytest.raises(RuntimeError):
        services.deputy_request_response_approve(
            pk=item.pk, response_id=response.pk, by=directory.finance_head
        )
    assert callbacks == []
    assert apply_async.call_count == 0
    assert not Notification.objects.filter(kind=NotificationKind.ANSWERED).exists()
    assert refresh(item).status == S.IN_PROGRESS
    response.refresh_from_db()
    assert response.status == ResponseStatus.DRAFT


def test_an_outer_transaction_that_rolls_back_enqueues_nothing(
    directory: DemoDirectory, apply_async: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        route(directory, item)
        raise RuntimeError("the caller's work failed")
    assert callbacks == []
    assert apply_async.call_count == 0
    assert not routed_notifications(item).exists()
    assert refresh(item).status == S.SUBMITTED


def test_a_broker_that_is_down_fails_nothing_and_leaves_the_email_pending(
    directory: DemoDirectory, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    down = mock.patch.object(
        send_notification_email, "apply_async", side_effect=OperationalError("connection refused")
    )
    with down as patched, django_capture_on_commit_callbacks(execute=True):
        route(directory, item)
    assert patched.called
    assert refresh(item).status == S.IN_PROGRESS
    rows = routed_notifications(item)
    assert rows.count() == 2
    assert all(n.emailed_at is None and n.send_email for n in rows)
    assert mail.outbox == []


def test_the_api_action_succeeds_when_the_broker_is_down(
    directory: DemoDirectory, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_request(directory, status=S.SUBMITTED)
    down = mock.patch.object(
        send_notification_email, "apply_async", side_effect=OperationalError("connection refused")
    )
    with down, django_capture_on_commit_callbacks(execute=True):
        result = api_as(directory.staff).post(
            f"/api/v1/requests/{item.pk}/route/",
            {"lead_department": directory.finance.pk},
            format="json",
        )
    assert result.status_code == 200, result.content
    assert result.json()["status"] == S.IN_PROGRESS
    assert routed_notifications(item).filter(emailed_at__isnull=True).count() == 2


def route_with_languages(directory: DemoDirectory, **languages: str) -> DeputyRequest:
    for username, language in languages.items():
        User.objects.filter(username=username.replace("_", "-")).update(language=language)
    item = make_request(directory, status=S.SUBMITTED)
    route(directory, item)
    return refresh(item)


def test_an_email_is_sent_exactly_once_even_when_asked_twice(directory: DemoDirectory) -> None:
    item = route_with_languages(directory, finance_exec="en")
    notification = routed_notifications(item).get(user=directory.finance_exec)
    assert notifications.notification_send_email(notification_id=notification.pk) is True
    assert notifications.notification_send_email(notification_id=notification.pk) is False
    send_notification_email(notification.pk)  # the task, retried: still nothing more
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.email_attempts == 1


def test_the_email_says_what_happened_in_english_for_an_english_reader(
    directory: DemoDirectory,
) -> None:
    item = route_with_languages(directory, finance_exec="en")
    notification = routed_notifications(item).get(user=directory.finance_exec)
    notifications.notification_send_email(notification_id=notification.pk)
    (message,) = mail.outbox
    text = f"{item.number} «{item.title}» was addressed to your department."
    assert notification.text == text
    assert message.subject == f"Maslikhat portal: {text}"
    assert message.to == [directory.finance_exec.email]
    assert f"Hello, {directory.finance_exec.full_name}." in message.body
    assert f"{settings.PORTAL_BASE_URL}{notification.link}" in message.body


def test_the_email_is_rendered_in_the_recipients_language(directory: DemoDirectory) -> None:
    item = route_with_languages(directory, finance_exec="en", finance_head="kk")
    for user in (directory.finance_exec, directory.finance_head):
        notification = routed_notifications(item).get(user=user)
        notifications.notification_send_email(notification_id=notification.pk)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    kk = by_recipient[directory.finance_head.email]
    # The msgids are taken from the code (not written here), so this file adds
    # nothing to the catalogs.
    with translation.override("kk"):
        expected_text = str(notifications.TEXTS[NotificationKind.ROUTED]) % {"item": str(item)}
        expected_subject = gettext(SUBJECT_MSGID) % {"text": expected_text}
    assert kk.subject == expected_subject
    assert kk.subject.endswith(expected_text)


def test_kazakh_and_english_readers_get_different_subjects(directory: DemoDirectory) -> None:
    item = route_with_languages(directory, finance_exec="en", finance_head="kk")
    for user in (directory.finance_exec, directory.finance_head):
        notification = routed_notifications(item).get(user=user)
        notifications.notification_send_email(notification_id=notification.pk)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[directory.finance_head.email] != subjects[directory.finance_exec.email]


def test_the_actor_is_not_notified_of_their_own_action(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    services.deputy_request_message_post(pk=item.pk, by=directory.finance_exec, text="Уточните")
    messages = Notification.objects.filter(item_id=item.pk, kind=NotificationKind.MESSAGE)
    assert set(messages.values_list("user__username", flat=True)) == {"deputy1"}


# --- /api/v1/notifications/ -----------------------------------------------------------------


@pytest.fixture
def two_routed(directory: DemoDirectory) -> list[DeputyRequest]:
    first = make_request(directory, status=S.IN_PROGRESS, title="Первый")
    second = make_request(directory, status=S.IN_PROGRESS, title="Второй")
    return [first, second]


def test_the_list_shows_only_my_notifications(
    directory: DemoDirectory, api_as: Any, two_routed: list[DeputyRequest]
) -> None:
    result = api_as(directory.finance_exec).get("/api/v1/notifications/")
    assert result.status_code == 200
    rows = result.json()["results"]
    mine = Notification.objects.filter(user=directory.finance_exec)
    assert {row["id"] for row in rows} == set(mine.values_list("pk", flat=True))
    assert len(rows) == 2
    for row in rows:
        assert {"id", "kind", "item_type", "item_id", "text", "created_at", "read_at"} <= set(row)
        assert (row["kind"], row["item_type"], row["read_at"]) == ("routed", "request", None)
    assert {row["item_id"] for row in rows} == {r.pk for r in two_routed}


def test_unread_true_filters_and_read_marks_one(
    directory: DemoDirectory, api_as: Any, two_routed: list[DeputyRequest]
) -> None:
    client = api_as(directory.finance_exec)
    first, second = Notification.objects.filter(user=directory.finance_exec).order_by("pk")
    result = client.post(f"/api/v1/notifications/{first.pk}/read/")
    assert result.status_code == 200
    assert result.json()["read_at"] is not None
    first.refresh_from_db()
    assert first.read_at is not None
    unread = client.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [row["id"] for row in unread] == [second.pk]
    read = client.get("/api/v1/notifications/?unread=false").json()["results"]
    assert [row["id"] for row in read] == [first.pk]
    # Reading again keeps the first read time.
    again = client.post(f"/api/v1/notifications/{first.pk}/read/").json()
    assert again["read_at"] == result.json()["read_at"]


def test_another_users_notification_is_404_and_stays_unread(
    directory: DemoDirectory, api_as: Any, two_routed: list[DeputyRequest]
) -> None:
    theirs = Notification.objects.filter(user=directory.finance_head).first()
    assert theirs is not None
    client = api_as(directory.finance_exec)
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_marks_only_my_notifications(
    directory: DemoDirectory, api_as: Any, two_routed: list[DeputyRequest]
) -> None:
    result = api_as(directory.finance_exec).post("/api/v1/notifications/read-all/")
    assert result.status_code == 200
    assert result.json() == {"marked": 2}
    assert not Notification.objects.filter(
        user=directory.finance_exec, read_at__isnull=True
    ).exists()
    assert Notification.objects.filter(user=directory.finance_head, read_at__isnull=True).count()
    unread = api_as(directory.finance_exec).get("/api/v1/notifications/?unread=true").json()
    assert unread["count"] == 0


def test_notifications_need_a_login(directory: DemoDirectory) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/notifications/").status_code == 401
    assert APIClient().post("/api/v1/notifications/read-all/").status_code == 401
