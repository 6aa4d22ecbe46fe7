"""A clarification stops the clock, in a real Chromium (Russian interface).

The request is routed on Monday 30 November 2026 (through the services): its 15 working
days skip Independence Day (Wednesday 16 December) and end on Tuesday 22 December. On
Tuesday 15 December the executor asks the deputy a clarification on the request's page;
the page says the clock stopped. The deputy answers on Friday 18 December: of the days
after the question up to the answer, Wednesday 16 is a holiday, so Thursday 17 and Friday
18 are the paused working days, and the new due date is the second working day after 22
December: Thursday 24 December — computed here by hand, read from the page.

The server's clock is moved with time-machine between the steps (the live server runs in
this process); the cookies are session cookies, so the browser keeps them whatever its own
clock says.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from requests_app.models import Clarification, DeputyRequest, RequestStatus
from tests.browser import browser_page
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALMATY = ZoneInfo("Asia/Almaty")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=ALMATY)


def log_in(page: Any, base: str, username: str, viewport: dict[str, int]) -> None:
    page.context.clear_cookies()
    page.set_viewport_size(viewport)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "maslikhat-demo")
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def test_the_executor_asks_the_deputy_answers_and_the_due_date_moves(
    live_server: Any, directory: DemoDirectory, time_machine: Any, settings: Any
) -> None:
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    time_machine.move_to(at(datetime.date(2026, 11, 30)))
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    assert item.due_date == datetime.date(2026, 12, 22)
    base = live_server.url
    with browser_page(base, **DESKTOP) as (page, blocked):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        detail = f"{base}/requests/{item.pk}/"

        # Tuesday 15 December: the executor asks the deputy a clarification.
        time_machine.move_to(at(datetime.date(2026, 12, 15)))
        log_in(page, base, "finance-exec", DESKTOP)
        page.goto(detail)
        assert page.locator("[data-due-date]").first.get_attribute("data-due-date") == (
            "2026-12-22"
        )
        page.locator("details:has(form[data-action=clarify]) > summary").click()
        page.fill("form[data-action=clarify] textarea[name=question]", "Какой номер дома?")
        submit(page, "form[data-action=clarify] button[type=submit]")
        assert page.locator("[data-paused-since]").get_attribute("data-paused-since") == (
            "2026-12-15"
        )
        assert page.locator(".portal-item-header .badge-paused").is_visible()
        assert page.locator("form[data-action=clarify]").count() == 0
        assert "Какой номер дома?" in page.locator("#clarifications").inner_text()

        # Friday 18 December: the deputy, on a phone, answers.
        time_machine.move_to(at(datetime.date(2026, 12, 18), 11))
        log_in(page, base, "deputy1", PHONE)
        page.goto(detail)
        assert page.locator("[data-paused-since]").is_visible()
        page.fill("form[data-action=answer_clarification] textarea[name=text]", "Дом 10.")
        submit(page, "form[data-action=answer_clarification] button[type=submit]")
        assert page.locator("[data-paused-since]").count() == 0
        assert page.locator(".alert-success").is_visible()

        # The new due date, by hand: 22 December + 2 working days (17, 18 paused) = 24.
        due = page.locator("[data-due-date]").first
        assert due.get_attribute("data-due-date") == "2026-12-24"
        assert "24.12.2026" in due.inner_text()
        due.locator("details summary").click()
        computed = due.locator("details").inner_text()
        assert "15.12.2026" in computed and "18.12.2026" in computed
        assert "22.12.2026" in computed and "24.12.2026" in computed
        assert "Дом 10." in page.locator("#clarifications").inner_text()
        assert not errors, errors
        assert not blocked, blocked

    after = DeputyRequest.objects.get(pk=item.pk)
    assert (after.due_date, after.original_due_date) == (
        datetime.date(2026, 12, 24),
        datetime.date(2026, 12, 24),
    )
    assert (after.paused_days, after.paused_since) == (2, None)
    assert Clarification.objects.get().paused_days == 2
