"""A deputy request's whole journey in a real Chromium, through the pages only.

A deputy files a request on a phone, staff route it to Finance, the head assigns an
executor, the executor drafts a final answer, the head approves it, the deputy returns
it for rework, the executor answers again, the head approves, and the deputy accepts
with a rating of 5. Every step is taken by the persona it belongs to (logged in
through the login page), and each step checks what that person sees: the status
badge's ``data-status`` (the interface is in Russian here) and the page's own content.
No request may leave the live server.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from requests_app.models import DeputyRequest, RequestStatus
from tests.browser import browser_page
from tests.factories import CategoryFactory, DemoDirectory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def log_in(page: Any, base: str, username: str, viewport: dict[str, int]) -> None:
    """Log out (forget the session) and log in as ``username`` through the login form."""
    page.context.clear_cookies()
    page.set_viewport_size(viewport)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "maslikhat-demo")
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")


def open_request(page: Any, base: str, item: DeputyRequest) -> None:
    page.goto(f"{base}/requests/{item.pk}/")
    page.wait_for_load_state()


def status(page: Any) -> str:
    return page.locator(".portal-item-header .portal-status").first.get_attribute("data-status")


def submit(page: Any, selector: str) -> None:
    """Press a button and wait for the page the post leads to (post/redirect/get)."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def fits_the_screen(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_a_request_from_filing_to_an_accepted_answer(live_server, directory: DemoDirectory) -> None:
    category = CategoryFactory.create(code="lighting", name_ru="Освещение", name_en="Lighting")
    base = live_server.url
    with browser_page(base, **PHONE) as (page, blocked):
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Confirmation dialogs (data-confirm) are answered "yes".
        page.on("dialog", lambda dialog: dialog.accept())

        # 1. The deputy files the request from a phone.
        log_in(page, base, "deputy1", PHONE)
        page.goto(f"{base}/requests/")
        assert page.locator(".portal-new-request").is_visible()
        assert fits_the_screen(page)
        page.locator(".portal-new-request").click()
        page.wait_for_url(f"{base}/requests/new/")
        assert page.locator(".portal-checklist").is_visible()
        page.fill("#id_title", "Не горят фонари на проспекте Абая")
        page.fill("#id_body", "С марта не горят четыре фонаря у дома 10.")
        page.fill("#id_proposed_solution", "Заменить лампы в этом месяце.")
        page.select_option("#id_category", str(category.pk))
        page.fill("#id_address", "пр. Абая, 10")
        assert fits_the_screen(page)
        submit(page, "button[name=intent][value=submit]")
        assert re.search(r"/requests/\d+/$", page.url)
        item = DeputyRequest.objects.get()
        assert status(page) == RequestStatus.SUBMITTED
        assert item.number in page.locator(".portal-item-header").inner_text()
        assert "Не горят фонари на проспекте Абая" in page.locator("h1").inner_text()
        assert fits_the_screen(page)

        # 2. Staff find it in the routing queue and route it to Finance.
        log_in(page, base, "staff", DESKTOP)
        page.goto(f"{base}/requests/?status=submitted")
        page.get_by_role("link", name="Не горят фонари на проспекте Абая").click()
        page.wait_for_url(f"{base}/requests/{item.pk}/")
        page.select_option(
            "form[data-action=route] select[name=lead_department]", str(directory.finance.pk)
        )
        submit(page, "form[data-action=route] button[type=submit]")
        assert status(page) == RequestStatus.IN_PROGRESS
        assert page.locator(".alert-success").is_visible()
        assert page.locator("form[data-action=route]").count() == 0

        # 3. The head of Finance assigns the executor.
        log_in(page, base, "finance-head", DESKTOP)
        page.goto(f"{base}/requests/")
        assert page.locator(f"[data-request-id='{item.pk}']").is_visible()
        open_request(page, base, item)
        page.select_option(
            "form[data-action=assign] select[name=executor]", str(directory.finance_exec.pk)
        )
        submit(page, "form[data-action=assign] button[type=submit]")
        assert directory.finance_exec.full_name in page.locator(".portal-facts").inner_text()

        # 4. The executor drafts a final answer.
        def draft_answer(text: str) -> None:
            log_in(page, base, "finance-exec", DESKTOP)
            open_request(page, base, item)
            assert page.locator("#respond input[name=kind][value=final]").is_checked()
            page.fill("#respond textarea[name=text]", text)
            page.select_option("#respond select[name=outcome]", "resolved")
            submit(page, "#respond button[type=submit]")
            assert page.locator("[data-response-status=draft]").is_visible()
            assert status(page) == RequestStatus.IN_PROGRESS

        # 5. The head approves (signs) it: the request is answered.
        def approve() -> None:
            log_in(page, base, "finance-head", DESKTOP)
            open_request(page, base, item)
            submit(page, "form[data-action=response_approve] button[type=submit]")
            assert status(page) == RequestStatus.ANSWERED

        draft_answer("Лампы заменим до конца недели.")
        approve()

        # 6. The deputy, on the phone, returns the answer for rework with a comment.
        log_in(page, base, "deputy1", PHONE)
        open_request(page, base, item)
        assert page.locator("#evaluate").is_visible()
        assert "Лампы заменим до конца недели." in page.locator("#answers").inner_text()
        page.fill("#evaluate textarea[name=comment]", "Нужны сроки и номер договора.")
        submit(page, "#evaluate button[name=decision][value=rework]")
        assert status(page) == RequestStatus.IN_PROGRESS
        assert fits_the_screen(page)

        # 7–8. The executor answers again; the head approves again.
        draft_answer("Лампы заменены 12 числа, договор № 45.")
        approve()

        # 9. The deputy accepts the answer with a rating of 5.
        log_in(page, base, "deputy1", PHONE)
        open_request(page, base, item)
        page.locator("#evaluate label", has_text="5").click()
        submit(page, "#evaluate button[name=decision][value=accept]")
        assert status(page) == RequestStatus.CLOSED
        assert page.locator("#evaluate").count() == 0
        assert "5/5" in page.locator(".portal-facts").inner_text()
        assert fits_the_screen(page)

        # The deputy's bell led them here: the notifications page lists the journey.
        page.goto(f"{base}/notifications/")
        assert page.locator(".portal-notification").count() >= 2
        assert not errors, errors

    item.refresh_from_db()
    assert item.status == RequestStatus.CLOSED
    assert item.rating == 5
    assert item.rework_count == 1
    assert blocked == []
