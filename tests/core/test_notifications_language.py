"""Notification texts in the reader's language.

``notify()`` stores the values of the sentence (the item's label and any
``params``) with the notification; the list page, the API and the e-mails render
``TEXTS[kind] % params`` in the reader's language at display time. Rows written
before the values were stored keep showing their frozen ``text``.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import ngettext

from maslikhat.core import notifications
from maslikhat.core.digests import digests_create
from maslikhat.core.notifications import Notification, NotificationKind, notify
from maslikhat.core.reminders import reminders_sweep
from requests_app.models import RequestStatus
from tests.factories import DemoDirectory
from tests.instruction_helpers import create_instruction, make_world
from tests.requests_helpers import make_request, route

pytestmark = pytest.mark.django_db

ROUTED = NotificationKind.ROUTED


def sentence(kind: str, language: str, **values: Any) -> str:
    """What ``TEXTS[kind]`` says in ``language`` (msgids come from the code)."""
    with translation.override(language):
        return str(notifications.TEXTS[kind]) % values


def routed_under_russian(directory: DemoDirectory) -> tuple[Any, Notification]:
    directory.finance_exec.language = "ru"
    directory.finance_exec.save(update_fields=["language"])
    item = make_request(directory, status=RequestStatus.SUBMITTED)
    with translation.override("ru"):
        route(directory, item)
    row = Notification.objects.get(item_id=item.pk, kind=ROUTED, user=directory.finance_exec)
    return item, row


def test_a_notification_written_in_russian_reads_in_kazakh_and_english(
    directory: DemoDirectory,
) -> None:
    item, row = routed_under_russian(directory)
    assert row.params == {"item": str(item)}
    assert row.text == sentence(ROUTED, "ru", item=str(item))
    # The three languages really differ (the catalogs translate this sentence).
    texts = {lang: sentence(ROUTED, lang, item=str(item)) for lang in ("ru", "kk", "en")}
    assert len(set(texts.values())) == 3
    assert texts["en"] == f"{item} was addressed to your department."
    for language, expected in texts.items():
        with translation.override(language):
            assert row.display_text == expected
        assert row.text_in(language) == expected


@pytest.mark.parametrize("language", ["kk", "en"])
def test_the_list_page_and_the_api_speak_the_readers_language(
    directory: DemoDirectory, client: Any, api_as: Any, language: str
) -> None:
    item, row = routed_under_russian(directory)
    expected = sentence(ROUTED, language, item=str(item))
    client.force_login(directory.finance_exec)
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    body = page.content.decode()
    assert escape(expected) in body
    assert escape(row.text) not in body
    api = api_as(directory.finance_exec)
    result = api.get(f"/api/v1/notifications/{row.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert result.status_code == 200
    assert result.json()["text"] == expected
    listed = api.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    assert expected in {r["text"] for r in listed}


def test_the_email_follows_the_recipients_language_of_the_moment(
    directory: DemoDirectory,
) -> None:
    item, row = routed_under_russian(directory)
    # The recipient switched to Kazakh after the notification was written.
    directory.finance_exec.language = "kk"
    directory.finance_exec.save(update_fields=["language"])
    assert notifications.notification_send_email(notification_id=row.pk)
    (message,) = mail.outbox
    expected = sentence(ROUTED, "kk", item=str(item))
    assert expected in message.body
    assert message.subject.endswith(expected)
    assert row.text not in message.body


def test_old_rows_without_values_show_their_frozen_text(
    directory: DemoDirectory, client: Any, api_as: Any
) -> None:
    _item, row = routed_under_russian(directory)
    Notification.objects.filter(pk=row.pk).update(params={}, text="Старый текст уведомления")
    row.refresh_from_db()
    for language in ("ru", "kk", "en"):
        with translation.override(language):
            assert row.display_text == "Старый текст уведомления"
    result = api_as(directory.finance_exec).get(
        f"/api/v1/notifications/{row.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert result.json()["text"] == "Старый текст уведомления"


def test_notify_stores_extra_values_and_renders_the_new_kinds(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    due = datetime.date(2026, 3, 16)
    with transaction.atomic():
        (row,) = notify(
            users=[directory.finance_head],
            kind=NotificationKind.REQUEST_ROUTED,
            item=item,
            params={"department": "Управление финансов", "due": due},
        )
    row.refresh_from_db()
    assert row.params == {
        "item": str(item),
        "department": "Управление финансов",
        "due": "16.03.2026",
    }
    for language in ("ru", "kk", "en"):
        with translation.override(language):
            expected = sentence(
                NotificationKind.REQUEST_ROUTED,
                language,
                item=str(item),
                department="Управление финансов",
                due="16.03.2026",
            )
            assert row.display_text == expected
    with translation.override("en"):
        assert row.display_text == (
            f"{item} was routed to Управление финансов; the answer is due by 16.03.2026."
        )


@pytest.mark.parametrize(
    "kind",
    [
        NotificationKind.CLARIFICATION_ASKED,
        NotificationKind.CLARIFICATION_ANSWERED,
        NotificationKind.REROUTED,
        NotificationKind.REQUEST_ROUTED,
    ],
)
def test_every_kind_has_a_sentence(kind: str) -> None:
    assert kind in notifications.TEXTS
    with translation.override("en"):
        text = str(notifications.TEXTS[kind])
    assert "%(item)s" in text
    for name in notifications.NEEDED_PARAMS.get(kind, ()):
        assert f"%({name})s" in text


def test_a_kind_missing_its_values_still_reads(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    with transaction.atomic():
        (row,) = notify(users=[directory.finance_head], kind=NotificationKind.REROUTED, item=item)
    with translation.override("en"):
        assert row.display_text == f"Re-routed: {item}"


def test_the_digest_lists_texts_in_the_recipients_language(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    user = directory.finance_head
    user.language = "kk"
    user.save(update_fields=["language"])
    day = datetime.date(2026, 3, 16)
    with translation.override("ru"):
        Notification.objects.create(
            user=user,
            kind=NotificationKind.PLEASE_EVALUATE,
            item_type="request",
            item_id=item.pk,
            text=sentence(NotificationKind.PLEASE_EVALUATE, "ru", item=str(item)),
            params={"item": str(item)},
            day=day,
            deduplicate=True,
        )
    digests_create(day=day)
    email = user.outgoing_emails.get(day=day)
    assert sentence(NotificationKind.PLEASE_EVALUATE, "kk", item=str(item)) in email.body
    assert sentence(NotificationKind.PLEASE_EVALUATE, "ru", item=str(item)) not in email.body


def test_an_instruction_notification_names_the_instruction_in_the_readers_language(
    directory: DemoDirectory,
) -> None:
    world = make_world(directory)
    with translation.override("ru"):
        item = create_instruction(world)
        (row,) = notify(users=[directory.finance_head], kind=NotificationKind.REMINDER, item=item)
    row.refresh_from_db()
    labels = {}
    for language in ("ru", "kk", "en"):
        with translation.override(language):
            labels[language] = str(item)
            assert row.display_text == str(notifications.TEXTS[row.kind]) % {"item": str(item)}
    assert len(set(labels.values())) == 3
    assert row.params["item"] == labels["ru"]


def test_a_reminder_written_in_russian_reads_in_the_readers_language(
    directory: DemoDirectory, time_machine: Any
) -> None:
    almaty = ZoneInfo("Asia/Almaty")
    time_machine.move_to(datetime.datetime(2026, 11, 2, 10, tzinfo=almaty), tick=False)
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    assert item.due_date == datetime.date(2026, 11, 23)
    directory.finance_exec.language = "ru"
    directory.finance_exec.save(update_fields=["language"])
    time_machine.move_to(datetime.datetime(2026, 11, 18, 9, tzinfo=almaty), tick=False)
    reminders_sweep(day=datetime.date(2026, 11, 18), enqueue=False)
    row = Notification.objects.get(
        kind=NotificationKind.REMINDER, item_id=item.pk, user=directory.finance_exec
    )
    assert row.params["reasons"] == [["due", 3, None]]
    texts = {}
    for language in ("ru", "kk", "en"):
        with translation.override(language):
            texts[language] = row.display_text
            reason = ngettext(
                "due in %(count)d working day.", "due in %(count)d working days.", 3
            ) % {"count": 3}
            assert texts[language] == f"{item}: {reason}"
    assert texts["ru"] == row.text
    assert texts["en"] == f"{item}: due in 3 working days."
    assert len(set(texts.values())) == 3
