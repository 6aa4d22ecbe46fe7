"""A citizen follows a district's requests on a phone, in a real Chromium, without logging in.

On a 390 px screen the citizen opens the public portal, finds the published requests of a
district through the list's filter, follows the district with the keyboard alone (Tab to the
fields, type, Enter), confirms through the link in the e-mail written to the mail folder, and
— after a request of that district is answered and closed through the services and the daily
digest runs — finds that request in the digest and unsubscribes with one click on its link.
No page scrolls sideways; no request leaves the live server.
"""

from __future__ import annotations

import email
import re
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from follows import services as follow_services
from follows.models import Follow, FollowEmail, FollowEmailStatus
from requests_app import services as request_services
from requests_app.models import RequestStatus
from tests.browser import browser_page
from tests.factories import DemoDirectory, DistrictFactory
from tests.requests_helpers import answer, category, make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CITIZEN = "citizen@example.org"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
SEPARATOR = "-" * 79


def mail_folder_messages(folder: Path) -> list[Message]:
    """Every e-mail the file-based backend wrote to ``folder``, oldest first."""
    messages: list[Message] = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime):
        for chunk in path.read_bytes().split(SEPARATOR.encode()):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.strip()))
    return messages


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def deliver() -> int:
    """What the worker does once the follow is recorded: send each pending e-mail."""
    pending = FollowEmail.objects.filter(status=FollowEmailStatus.PENDING).order_by("id")
    return sum(
        follow_services.follow_email_send(outgoing_id=pk)
        for pk in pending.values_list("pk", flat=True)
    )


def link_on_live_server(text: str, pattern: str, base: str) -> str:
    """The portal link in an e-mail (written with the portal's address) on the test's server."""
    found = re.search(rf"https?://\S+{pattern}\S*", text)
    assert found is not None, text
    return f"{base}{urlsplit(found.group(0)).path}"


def fits(page: Any) -> bool:
    return bool(page.evaluate(NO_SIDEWAYS_SCROLL))


def test_a_citizen_follows_a_district_on_a_phone_confirms_reads_the_digest_and_unsubscribes(
    live_server, directory: DemoDirectory, tmp_path: Path
) -> None:
    cache.clear()  # the sign-up throttle starts afresh
    almaly = DistrictFactory.create(code="almaly", name_ru="Алмалинский", name_en="Almaly")
    DistrictFactory.create(code="medeu", name_ru="Медеуский", name_en="Medeu")
    followed = make_request(
        directory,
        status=RequestStatus.IN_PROGRESS,
        title="Установить светофор у школы № 12",
        body="Дети переходят дорогу без светофора.",
        district=almaly,
        category_obj=category("roads"),
        is_public=True,
    )
    base = live_server.url
    mail_folder = tmp_path / "mail"
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_folder),
        ),
        browser_page(base, **PHONE) as (page, blocked),
    ):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # 1. The public portal, then its requests through the menu.
        page.goto(f"{base}/public/")
        assert fits(page)
        page.locator(".portal-public-nav a[href='/public/requests/']").click()
        page.wait_for_url(f"{base}/public/requests/")
        assert fits(page)

        # 2. The district's requests through the list's filter.
        page.select_option("#public-district", str(almaly.pk))
        with page.expect_navigation():
            page.locator("[data-public-search]").click()
        assert f"district={almaly.pk}" in page.url
        assert followed.title in page.locator("main").inner_text()
        assert fits(page)

        # 3. Following the district with the keyboard alone.
        form = page.locator("form[data-follow-form]:has(input[name=target][value=district])")
        assert form.locator("input[name=id]").get_attribute("value") == str(almaly.pk)
        page.locator("[data-feed-link]").focus()
        page.keyboard.press("Tab")
        email_field = f"follow-email-district-{almaly.pk}"
        assert page.evaluate("document.activeElement.id") == email_field
        page.keyboard.type(CITIZEN)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == f"follow-language-district-{almaly.pk}"
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.id") == email_field
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("[data-follow-message]").is_visible()
        assert CITIZEN in page.locator("[data-follow-message]").inner_text()
        assert fits(page)

        # 4. The confirmation e-mail is written to the mail folder; its link confirms.
        assert deliver() == 1
        (confirmation,) = mail_folder_messages(mail_folder)
        assert confirmation["To"] == CITIZEN
        page.goto(link_on_live_server(body_of(confirmation), "/public/follow/confirm/", base))
        assert page.locator("[data-follow-message]").is_visible()
        assert fits(page)
        follow = Follow.objects.get(email=CITIZEN)
        assert follow.confirmed_at is not None and follow.unsubscribed_at is None

        # 5. The district's request is answered and closed; the daily digest runs.
        answer(directory, followed)
        request_services.deputy_request_evaluate(
            pk=followed.pk, by=directory.alice.user, decision="accept", rating=5
        )
        call_command("send_follow_digests", date=timezone.localdate().isoformat())
        messages = mail_folder_messages(mail_folder)
        assert len(messages) == 2
        digest = messages[1]
        assert digest["To"] == CITIZEN
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = body_of(digest)
        assert str(followed.number) in text and followed.title in text

        # 6. One click on the digest's unsubscribe link ends the follow.
        page.goto(link_on_live_server(text, "/public/follow/unsubscribe/", base))
        assert page.locator("[data-follow-message]").is_visible()
        assert fits(page)
        follow.refresh_from_db()
        assert follow.unsubscribed_at is not None
        assert errors == []
    assert blocked == []
