"""Read receipts and message notifications of the threads of requests and instructions.

A thread has two sides: for a deputy request the deputies against the departments and
staff, for an instruction the departments against the council (staff, controllers). The
author of a message sees when somebody of the other side first read the thread past it
(``read_at``; the item page says "Read …" or "Not read yet" under one's own messages),
and a new message notifies the other side's participants, never the poster's own side.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation

from instructions import services as instruction_services
from maslikhat.accounts.models import User
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.threads import Message, ThreadReadMark
from requests_app import services as request_services
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, create_instruction, make_world
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

ALMATY = ZoneInfo("Asia/Almaty")
POSTED = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=ALMATY)


def at(hour: int, minute: int = 0, day: int = 2) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=ALMATY)


def page_of(user: User, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def message_block(html: str, message: Message) -> str:
    match = re.search(rf'<li [^>]*id="message-{message.pk}".*?</li>', html, re.S)
    assert match, f"message {message.pk} is not on the page"
    return match.group(0)


def receipt_on_page(html: str, message: Message) -> str | None:
    """``"true"``/``"false"`` of the receipt under the message, ``None`` when none is shown."""
    found = re.search(r'portal-receipt" data-read="(true|false)"', message_block(html, message))
    return found.group(1) if found else None


def shown_time(moment: datetime.datetime) -> str:
    with translation.override("en"):
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def api_read_at(api: Any, path: str, message: Message) -> str | None:
    result = api.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert result.status_code == 200
    rows = {row["id"]: row for row in result.json()["results"]}
    return rows[message.pk]["read_at"]


def parsed(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def message_recipients(item: Any) -> set[str]:
    return set(
        Notification.objects.filter(
            item_type=item.ITEM_TYPE, item_id=item.pk, kind=NotificationKind.MESSAGE
        ).values_list("user__username", flat=True)
    )


# --- Deputy requests ------------------------------------------------------------------------


@pytest.fixture
def request_item(directory: DemoDirectory, time_machine: Any) -> Any:
    time_machine.move_to(at(9), tick=False)
    return make_request(directory, status="in_progress", co_authors=[directory.bob])


def test_a_request_message_is_read_only_when_the_other_side_reads_it(
    directory: DemoDirectory, request_item: Any, time_machine: Any, api_as: Any
) -> None:
    url = f"/requests/{request_item.pk}/"
    api_path = f"/api/v1/requests/{request_item.pk}/messages/"
    alice = directory.alice.user
    time_machine.move_to(POSTED, tick=False)
    message = request_services.deputy_request_message_post(
        pk=request_item.pk, by=alice, text="Прошу ускорить ответ."
    )
    assert receipt_on_page(page_of(alice, url), message) == "false"
    assert "Not read yet" in message_block(page_of(alice, url), message)

    # The co-author is on the author's own side: his reading is no receipt.
    time_machine.move_to(at(11), tick=False)
    page_of(directory.bob.user, url)
    assert receipt_on_page(page_of(alice, url), message) == "false"
    assert api_read_at(api_as(alice), api_path, message) is None

    # The department's head reads it: that is the receipt, with its time.
    time_machine.move_to(at(12, 30), tick=False)
    head_page = page_of(directory.finance_head, url)
    assert receipt_on_page(head_page, message) is None  # not his message: no receipt
    alice_page = page_of(alice, url)
    assert receipt_on_page(alice_page, message) == "true"
    assert f"Read {shown_time(at(12, 30))}" in message_block(alice_page, message)
    assert parsed(api_read_at(api_as(alice), api_path, message)) == at(12, 30)

    # A later reader of the same side does not move the earliest reading.
    time_machine.move_to(at(15), tick=False)
    page_of(directory.staff, url)
    assert parsed(api_read_at(api_as(alice), api_path, message)) == at(12, 30)


def test_the_deputy_reading_the_departments_message_is_its_receipt(
    directory: DemoDirectory, request_item: Any, time_machine: Any, api_as: Any
) -> None:
    api_path = f"/api/v1/requests/{request_item.pk}/messages/"
    time_machine.move_to(POSTED, tick=False)
    message = request_services.deputy_request_message_post(
        pk=request_item.pk, by=directory.finance_head, text="Уточните адрес."
    )
    # Staff are on the department's side.
    time_machine.move_to(at(11), tick=False)
    page_of(directory.staff, f"/requests/{request_item.pk}/")
    assert api_read_at(api_as(directory.finance_head), api_path, message) is None
    # The co-author reads it through the API: a receipt too.
    time_machine.move_to(at(13), tick=False)
    api_as(directory.bob.user).get(api_path)
    assert parsed(api_read_at(api_as(directory.finance_head), api_path, message)) == at(13)
    html = page_of(directory.finance_head, f"/requests/{request_item.pk}/")
    assert receipt_on_page(html, message) == "true"


def test_a_reading_covers_the_messages_before_it_not_the_later_ones(
    directory: DemoDirectory, request_item: Any, time_machine: Any, api_as: Any
) -> None:
    alice = directory.alice.user
    time_machine.move_to(POSTED, tick=False)
    first = request_services.deputy_request_message_post(pk=request_item.pk, by=alice, text="1")
    time_machine.move_to(at(11), tick=False)
    page_of(directory.finance_head, f"/requests/{request_item.pk}/")
    time_machine.move_to(at(12), tick=False)
    second = request_services.deputy_request_message_post(pk=request_item.pk, by=alice, text="2")
    html = page_of(alice, f"/requests/{request_item.pk}/")
    assert receipt_on_page(html, first) == "true"
    assert receipt_on_page(html, second) == "false"
    time_machine.move_to(at(14), tick=False)
    page_of(directory.finance_head, f"/requests/{request_item.pk}/")
    api = api_as(alice)
    path = f"/api/v1/requests/{request_item.pk}/messages/"
    assert parsed(api_read_at(api, path, second)) == at(14)
    # One mark per reader keeps its newest reading: the first message, read again with the
    # second, now shows that later reading.
    assert parsed(api_read_at(api, path, first)) == at(14)


def test_a_request_message_notifies_the_other_side_only(
    directory: DemoDirectory, request_item: Any
) -> None:
    Notification.objects.filter(kind=NotificationKind.MESSAGE).delete()
    request_services.deputy_request_message_post(
        pk=request_item.pk, by=directory.alice.user, text="Вопрос"
    )
    # The department working on it (no executor yet: its head); not the co-author, not staff.
    assert message_recipients(request_item) == {"finance-head"}
    Notification.objects.filter(kind=NotificationKind.MESSAGE).delete()
    request_services.deputy_request_message_post(
        pk=request_item.pk, by=directory.finance_head, text="Ответ"
    )
    assert message_recipients(request_item) == {"deputy1", "deputy2"}
    Notification.objects.filter(kind=NotificationKind.MESSAGE).delete()
    # Staff speak for the council's apparatus, on the department's side of the thread.
    request_services.deputy_request_message_post(
        pk=request_item.pk, by=directory.staff, text="Напоминаю о сроке"
    )
    assert message_recipients(request_item) == {"deputy1", "deputy2"}


def test_the_message_notification_is_in_the_readers_language_and_read_with_the_thread(
    directory: DemoDirectory, request_item: Any
) -> None:
    message = request_services.deputy_request_message_post(
        pk=request_item.pk, by=directory.alice.user, text="Вопрос"
    )
    row = Notification.objects.get(kind=NotificationKind.MESSAGE, user=directory.finance_head)
    assert row.params == {"item": str(request_item), "message": message.pk}
    assert row.read_at is None
    with translation.override("en"):
        assert row.display_text == f"New message in {request_item}."
    page_of(directory.finance_head, f"/requests/{request_item.pk}/")
    row.refresh_from_db()
    assert row.read_at is not None


# --- Protocol instructions --------------------------------------------------------------------


@pytest.fixture
def world(directory: DemoDirectory, time_machine: Any) -> World:
    time_machine.move_to(at(9), tick=False)
    return make_world(directory)


def test_an_instruction_message_is_read_when_the_department_reads_it(
    world: World, time_machine: Any, api_as: Any
) -> None:
    item = create_instruction(world)
    staff, alice, head = world.d.staff, world.d.alice.user, world.d.finance_head
    url = f"/instructions/{item.pk}/"
    api_path = f"/api/v1/instructions/{item.pk}/messages/"
    time_machine.move_to(POSTED, tick=False)
    message = instruction_services.instruction_message_post(
        pk=item.pk, by=staff, text="Представьте план."
    )
    # The controller deputy is on the council's side with staff.
    time_machine.move_to(at(11), tick=False)
    page_of(alice, url)
    assert receipt_on_page(page_of(staff, url), message) == "false"
    assert api_read_at(api_as(staff), api_path, message) is None
    time_machine.move_to(at(12), tick=False)
    page_of(head, url)
    html = page_of(staff, url)
    assert receipt_on_page(html, message) == "true"
    assert f"Read {shown_time(at(12))}" in message_block(html, message)
    assert parsed(api_read_at(api_as(staff), api_path, message)) == at(12)


def test_an_instruction_message_notifies_the_other_side_only(world: World) -> None:
    item = create_instruction(world)
    Notification.objects.filter(kind=NotificationKind.MESSAGE).delete()
    instruction_services.instruction_message_post(pk=item.pk, by=world.d.staff, text="План?")
    assert message_recipients(item) == {"finance-head"}
    Notification.objects.filter(kind=NotificationKind.MESSAGE).delete()
    instruction_services.instruction_message_post(pk=item.pk, by=world.d.alice.user, text="?")
    # The commission's chair controls too, but is on the poster's side.
    assert message_recipients(item) == {"finance-head"}
    Notification.objects.filter(kind=NotificationKind.MESSAGE).delete()
    instruction_services.instruction_message_post(pk=item.pk, by=world.d.finance_head, text="!")
    assert message_recipients(item) == {"deputy1", "deputy3"}


# --- Query counts -----------------------------------------------------------------------------


def fill_thread(item: Any, authors: list[User], readers: list[User], n: int) -> None:
    """``n`` messages by turns of ``authors``; every reader has read them all."""
    Message.objects.bulk_create(
        Message(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            author=authors[i % len(authors)],
            text=f"m{i}",
        )
        for i in range(n)
    )
    newest = Message.objects.for_item(item).order_by("-id").values_list("id", flat=True)[0]
    for reader in readers:
        ThreadReadMark.objects.update_or_create(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            user=reader,
            defaults={"last_read_message_id": newest},
        )


def page_queries(user: User, url: str) -> int:
    client = Client()
    client.force_login(user)
    assert client.get(url).status_code == 200  # read once: the same read mark state after
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert "portal-receipt" in response.content.decode()
    return len(queries)


def test_the_request_page_with_receipts_costs_the_same_at_3_and_50_messages(
    directory: DemoDirectory, request_item: Any
) -> None:
    authors = [directory.alice.user, directory.finance_head, directory.staff]
    readers = [directory.bob.user, directory.finance_exec, directory.finance_head]
    url = f"/requests/{request_item.pk}/"
    fill_thread(request_item, authors, readers, 3)
    few = page_queries(directory.alice.user, url)
    fill_thread(request_item, authors, readers, 47)
    assert Message.objects.for_item(request_item).count() == 50
    many = page_queries(directory.alice.user, url)
    assert few == many


def test_the_instruction_page_with_receipts_costs_the_same_at_3_and_50_messages(
    world: World,
) -> None:
    item = create_instruction(world)
    authors = [world.d.staff, world.d.finance_head, world.d.alice.user]
    readers = [world.carol.user, world.d.finance_exec, world.d.finance_head]
    url = f"/instructions/{item.pk}/"
    fill_thread(item, authors, readers, 3)
    few = page_queries(world.d.staff, url)
    fill_thread(item, authors, readers, 47)
    many = page_queries(world.d.staff, url)
    assert few == many


def test_the_messages_api_with_receipts_costs_the_same_at_3_and_50_messages(
    directory: DemoDirectory, request_item: Any, api_as: Any
) -> None:
    authors = [directory.alice.user, directory.finance_head]
    readers = [directory.finance_exec, directory.bob.user]
    api = api_as(directory.alice.user)
    path = f"/api/v1/requests/{request_item.pk}/messages/?page_size=100"

    def measured() -> int:
        api.get(path)
        with CaptureQueriesContext(connection) as queries:
            result = api.get(path)
        assert result.status_code == 200
        assert all("read_at" in row for row in result.json()["results"])
        return len(queries)

    fill_thread(request_item, authors, readers, 3)
    few = measured()
    fill_thread(request_item, authors, readers, 47)
    assert measured() == few
