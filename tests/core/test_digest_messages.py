"""New messages in the daily digest: "N new messages in <item>", each message in one digest.

The digest of day D counts a recipient's unread ``message`` notifications created from
the local midnight of the day of their previous digest up to the local midnight of D.
Running the digest again, or on the next day, never counts a message twice; a message
read before the digest is made is left out.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, ngettext

from instructions import services as instruction_services
from maslikhat.accounts.models import User
from maslikhat.core.digests import OutgoingEmail, digest_send, digests_create
from maslikhat.core.reminders import reminders_sweep
from requests_app import services as request_services
from tests.factories import DemoDirectory
from tests.instruction_helpers import create_instruction, make_world
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY = datetime.date(2026, 11, 2)
TUESDAY = datetime.date(2026, 11, 3)
WEDNESDAY = datetime.date(2026, 11, 4)
FRIDAY = datetime.date(2026, 11, 6)
SATURDAY = datetime.date(2026, 11, 7)
NEXT_MONDAY = datetime.date(2026, 11, 9)


@pytest.fixture
def clock(time_machine: Any) -> Any:
    def move(day: datetime.date, hour: int = 10) -> None:
        time_machine.move_to(
            datetime.datetime(day.year, day.month, day.day, hour, tzinfo=ALMATY), tick=False
        )

    return move


@pytest.fixture
def item(directory: DemoDirectory, clock: Any) -> Any:
    clock(MONDAY, 9)
    return make_request(directory, status="in_progress")


def post(directory: DemoDirectory, item: Any, text: str = "Вопрос", by: User | None = None) -> Any:
    return request_services.deputy_request_message_post(
        pk=item.pk, by=by or directory.alice.user, text=text
    )


def digest_of(user: User, day: datetime.date) -> OutgoingEmail | None:
    return OutgoingEmail.objects.filter(user=user, day=day).first()


def test_messages_go_into_the_next_digest_counted_per_item(
    directory: DemoDirectory, item: Any, clock: Any
) -> None:
    clock(MONDAY, 15)
    post(directory, item, "Первый вопрос")
    post(directory, item, "Второй вопрос")
    clock(TUESDAY, 9)
    result = digests_create(day=TUESDAY)
    assert result.created == 1
    digest = digest_of(directory.finance_head, TUESDAY)
    assert digest is not None
    assert f"2 new messages in {item}" in digest.body
    assert f"/requests/{item.pk}/" in digest.body
    assert "1 item needs your attention" in digest.subject
    # The poster and the poster's side get no digest of their own messages.
    assert digest_of(directory.alice.user, TUESDAY) is None
    assert OutgoingEmail.objects.count() == 1


def test_running_the_digest_again_and_the_next_day_counts_a_message_once(
    directory: DemoDirectory, item: Any, clock: Any
) -> None:
    clock(MONDAY, 15)
    post(directory, item, "Вопрос в понедельник")
    clock(TUESDAY, 9)
    digests_create(day=TUESDAY)
    first = digest_of(directory.finance_head, TUESDAY)
    assert first is not None and f"1 new message in {item}" in first.body
    again = digests_create(day=TUESDAY)
    assert (again.created, again.refreshed) == (0, 0)
    assert OutgoingEmail.objects.filter(user=directory.finance_head).count() == 1
    # A message written after Tuesday's digest was made waits for Wednesday's.
    clock(TUESDAY, 11)
    post(directory, item, "Вопрос во вторник")
    assert digest_send(outgoing_id=first.pk)
    clock(WEDNESDAY, 9)
    digests_create(day=WEDNESDAY)
    second = digest_of(directory.finance_head, WEDNESDAY)
    assert second is not None
    assert f"1 new message in {item}" in second.body
    # The next day again: nothing new, no digest.
    digests_create(day=datetime.date(2026, 11, 5))
    assert digest_of(directory.finance_head, datetime.date(2026, 11, 5)) is None
    assert OutgoingEmail.objects.filter(user=directory.finance_head).count() == 2


def test_a_sent_digest_is_not_rewritten_and_its_messages_are_not_repeated(
    directory: DemoDirectory, item: Any, clock: Any
) -> None:
    clock(MONDAY, 15)
    post(directory, item)
    clock(TUESDAY, 9)
    digests_create(day=TUESDAY)
    sent = digest_of(directory.finance_head, TUESDAY)
    assert sent is not None
    assert digest_send(outgoing_id=sent.pk)
    # A late message of Monday (a clock skew, a retried import) cannot join a sent digest.
    digests_create(day=TUESDAY)
    sent.refresh_from_db()
    assert f"1 new message in {item}" in sent.body
    clock(WEDNESDAY, 9)
    digests_create(day=WEDNESDAY)
    assert digest_of(directory.finance_head, WEDNESDAY) is None


def test_messages_read_before_the_digest_are_left_out(
    directory: DemoDirectory, item: Any, clock: Any
) -> None:
    clock(MONDAY, 15)
    post(directory, item)
    clock(MONDAY, 16)
    client = Client()
    client.force_login(directory.finance_head)
    assert client.get(f"/requests/{item.pk}/").status_code == 200
    clock(MONDAY, 17)
    post(directory, item, "Ещё вопрос")
    clock(TUESDAY, 9)
    digests_create(day=TUESDAY)
    digest = digest_of(directory.finance_head, TUESDAY)
    assert digest is not None
    assert f"1 new message in {item}" in digest.body
    # Reading the thread before the digest: nothing left to tell.
    clock(TUESDAY, 12)
    post(directory, item, "Третий")
    client.force_login(directory.finance_head)
    assert client.get(f"/requests/{item.pk}/").status_code == 200
    clock(WEDNESDAY, 9)
    digests_create(day=WEDNESDAY)
    assert digest_of(directory.finance_head, WEDNESDAY) is None


def test_the_weekend_messages_come_on_monday_after_fridays(
    directory: DemoDirectory, item: Any, clock: Any
) -> None:
    clock(datetime.date(2026, 11, 5), 15)
    post(directory, item, "Четверг")
    clock(FRIDAY, 9)
    assert reminders_sweep(day=FRIDAY, enqueue=False).ran
    friday = digest_of(directory.finance_head, FRIDAY)
    assert friday is not None and f"1 new message in {item}" in friday.body
    clock(FRIDAY, 16)
    post(directory, item, "Пятница")
    clock(SATURDAY, 12)
    assert reminders_sweep(day=SATURDAY, enqueue=False).ran is False
    post(directory, item, "Суббота")
    clock(NEXT_MONDAY, 9)
    reminders_sweep(day=NEXT_MONDAY, enqueue=False)
    monday = digest_of(directory.finance_head, NEXT_MONDAY)
    assert monday is not None
    assert f"2 new messages in {item}" in monday.body
    # Making an old day's digest again afterwards counts nothing already counted.
    digests_create(day=SATURDAY)
    assert digest_of(directory.finance_head, SATURDAY) is None


def test_people_who_turned_reminders_off_get_no_message_digest(
    directory: DemoDirectory, item: Any, clock: Any
) -> None:
    directory.finance_head.email_reminders = False
    directory.finance_head.save(update_fields=["email_reminders"])
    clock(MONDAY, 15)
    post(directory, item)
    clock(TUESDAY, 9)
    digests_create(day=TUESDAY)
    assert digest_of(directory.finance_head, TUESDAY) is None


def test_the_digest_counts_the_messages_of_instructions_in_the_readers_language(
    directory: DemoDirectory, clock: Any
) -> None:
    clock(MONDAY, 9)
    world = make_world(directory)
    instruction = create_instruction(world)
    alice = directory.alice.user
    alice.language = "kk"
    alice.save(update_fields=["language"])
    clock(MONDAY, 15)
    instruction_services.instruction_message_post(
        pk=instruction.pk, by=directory.finance_head, text="План готов"
    )
    clock(TUESDAY, 9)
    digests_create(day=TUESDAY)
    digest = digest_of(alice, TUESDAY)
    assert digest is not None
    assert f"/instructions/{instruction.pk}/" in digest.body
    with translation.override("kk"):
        hello = gettext("Hello, %(name)s.") % {"name": alice.full_name}
        line = ngettext(
            "%(count)d new message in %(item)s", "%(count)d new messages in %(item)s", 1
        ) % {"count": 1, "item": str(instruction)}
        label = str(instruction)
    with translation.override("ru"):
        assert str(instruction) != label  # the label itself is translated
    assert hello != f"Hello, {alice.full_name}."  # the catalog speaks Kazakh
    assert hello in digest.body
    assert line in digest.body
    assert label in digest.body
    english = digest_of(world.carol.user, TUESDAY)
    with translation.override("en"):
        assert english is not None and f"1 new message in {instruction}" in english.body
