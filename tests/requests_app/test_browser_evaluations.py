"""Both evaluations of a reworked answer, in a real Chromium: on the page, in the API, in the file.

The department's final answer is a formal reply. The deputy rates it 2 and first forgets the
comment: the page comes back with the 2 still chosen; with the comment the answer goes back
for rework. The department answers again (the executor drafts, the head signs) and the deputy
accepts with a 4. Then the 2 with its comment and the 4 are each found beside the answer they
judged (the page passing the accessibility check), in ``/api/v1/requests/{id}/evaluations/``
read with the browser's own session, and in the CSV the requests list downloads. No request
may leave the live server.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from requests_app.models import Evaluation, RequestStatus, Response, ResponseStatus
from tests.browser import axe_violations, blocking, checked_browser_page
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
FORMAL = "Это отписка: нет сроков и номера договора."


def log_in(page: Any, base: str, username: str) -> None:
    """Forget the session and log in as ``username`` through the login form."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "maslikhat-demo")
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")


def submit(page: Any, selector: str) -> None:
    """Press a button and wait for the page the post leads to."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def status(page: Any) -> str:
    return page.locator(".portal-item-header .portal-status").first.get_attribute("data-status")


def test_a_returned_answers_rating_is_kept_beside_the_accepted_one(
    live_server: Any, directory: DemoDirectory
) -> None:
    item = make_request(directory, status=RequestStatus.ANSWERED)
    base = live_server.url
    with checked_browser_page(base, **DESKTOP) as (page, blocked):
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())

        # 1. The deputy rates the formal reply 2 but forgets the comment: refused, 2 kept.
        log_in(page, base, "deputy1")
        page.goto(f"{base}/requests/{item.pk}/")
        page.locator("#evaluate label", has_text="2").click()
        submit(page, "#evaluate button[name=decision][value=rework]")
        assert status(page) == RequestStatus.ANSWERED
        assert page.locator("#evaluate input[name=rating][value='2']").is_checked()
        assert page.locator("#evaluate [data-chosen-decision=rework]").is_visible()
        assert not Evaluation.objects.exists()
        # The browser reports the refused post's 400; nothing else may have gone wrong.
        assert all("status of 400" in error for error in errors), errors
        errors.clear()

        # 2. With the comment, the answer goes back for rework.
        page.fill("#evaluate textarea[name=comment]", FORMAL)
        submit(page, "#evaluate button[name=decision][value=rework]")
        assert status(page) == RequestStatus.IN_PROGRESS
        first_card = page.locator(".portal-answer[data-kind=final]").first
        assert first_card.locator(".portal-evaluation[data-decision=rework]").is_visible()

        # 3. The department answers again: the executor drafts, the head signs.
        log_in(page, base, "finance-exec")
        page.goto(f"{base}/requests/{item.pk}/")
        page.fill("#respond textarea[name=text]", "Лампы заменены 12 числа, договор № 45.")
        page.select_option("#respond select[name=outcome]", "resolved")
        submit(page, "#respond button[type=submit]")
        log_in(page, base, "finance-head")
        page.goto(f"{base}/requests/{item.pk}/")
        submit(page, "form[data-action=response_approve] button[type=submit]")
        assert status(page) == RequestStatus.ANSWERED

        # 4. The deputy accepts the new answer with a 4.
        log_in(page, base, "deputy1")
        page.goto(f"{base}/requests/{item.pk}/")
        page.locator("#evaluate label", has_text="4").click()
        submit(page, "#evaluate button[name=decision][value=accept]")
        assert status(page) == RequestStatus.CLOSED

        # On the page: each rating beside the answer it judged, the comment with the 2.
        first, second = (
            Response.objects.filter(request=item, status=ResponseStatus.SENT, kind="final")
            .order_by("sent_at", "id")
            .values_list("pk", flat=True)
        )
        returned = page.locator(f".portal-answer[data-response-id='{first}'] .portal-evaluation")
        accepted = page.locator(f".portal-answer[data-response-id='{second}'] .portal-evaluation")
        assert returned.count() == 1 and accepted.count() == 1
        assert returned.get_attribute("data-decision") == "rework"
        assert returned.get_attribute("data-rating") == "2"
        assert FORMAL in returned.inner_text()
        assert accepted.get_attribute("data-decision") == "accept"
        assert accepted.get_attribute("data-rating") == "4"
        history = page.locator("#history").inner_text()
        assert FORMAL in history
        # Both evaluations on one page read well with assistive technology (WCAG 2 A/AA).
        assert blocking(axe_violations(page)) == []

        # In the API, with the browser's session.
        answer = page.request.get(f"{base}/api/v1/requests/{item.pk}/evaluations/")
        assert answer.status == 200
        body = answer.json()
        assert [(e["response"], e["decision"], e["rating"]) for e in body] == [
            (first, "rework", 2),
            (second, "accept", 4),
        ]
        assert body[0]["comment"] == FORMAL

        # In the CSV the requests list downloads.
        page.goto(f"{base}/requests/")
        with page.expect_download() as download_info:
            page.locator("a[data-export=csv]").first.click()
        path = download_info.value.path()
        with open(path, encoding="utf-8-sig") as handle:
            _header, *rows = list(csv.reader(io.StringIO(handle.read()), delimiter=";"))
        item.refresh_from_db()
        row = next(r for r in rows if r[0] == item.number)
        assert row[15] == "1"  # returned for rework once
        assert row[17] == "2 → 4"  # every rating, in order
        assert row[18] == "4"  # the last one
        assert not errors, errors
    assert blocked == []
