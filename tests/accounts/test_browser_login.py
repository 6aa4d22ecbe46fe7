"""Browser smoke test: a deputy logs in on a phone-sized screen and sees their home page."""

from __future__ import annotations

import pytest

from tests.browser import browser_page
from tests.factories import DemoDirectory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_deputy_logs_in_on_a_phone_and_sees_the_home_page(
    live_server, directory: DemoDirectory
) -> None:
    with browser_page(live_server.url, width=390, height=844) as (page, blocked):
        page.goto(f"{live_server.url}/accounts/login/")
        assert page.locator("input[name=username]").is_visible()
        console_errors: list[str] = []
        page.on(
            "console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None
        )

        page.fill("input[name=username]", "deputy1")
        page.fill("input[name=password]", "wrong-password")
        page.locator("form [type=submit]").first.click()
        page.wait_for_load_state()
        assert page.locator(".alert, .errorlist, .invalid-feedback").first.is_visible()

        page.fill("input[name=username]", "deputy1")
        page.fill("input[name=password]", "maslikhat-demo")
        page.locator("form [type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/")
        assert directory.alice.user.last_name in page.content()
        # The page fits a 390 px phone: nothing scrolls sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert not console_errors, console_errors
    assert blocked == []


def test_the_language_switcher_changes_the_interface_language(
    live_server, directory: DemoDirectory
) -> None:
    with browser_page(live_server.url) as (page, blocked):
        page.goto(f"{live_server.url}/accounts/login/")
        assert page.locator("html").get_attribute("lang") == "ru"
        page.locator("button[name=language][value=en]").first.click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        page.reload()
        assert page.locator("html").get_attribute("lang") == "en"
    assert blocked == []
