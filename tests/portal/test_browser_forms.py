"""Forms on a phone, in a real Chromium with the portal's own Content-Security-Policy.

A deputy on a 390 px screen picks two co-authors from the searchable list by typing part of a
name and tapping it, and submits the request: the confirmation is asked first, cancelling it
posts nothing, accepting it files the request with both co-authors. Staff choose co-executor
departments with the keyboard only. The page never scrolls sideways, nothing breaks the
policy (no inline script or style attribute: the page reports every violation), and the
console stays clean. The markup without JavaScript: ``tests/portal/test_searchable_selects.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from maslikhat.accounts.models import Role
from requests_app.models import DeputyRequest, RequestStatus
from tests.browser import axe_violations, blocking, browser_page, checked_browser_page
from tests.factories import CategoryFactory, DemoDirectory, DeputyFactory, UserFactory
from tests.requests_helpers import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SUBMIT_QUESTION = "Submit the request? It gets a number and can no longer be edited."

#: Every Content-Security-Policy violation of the page, as the page itself reports it.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


def watch(page: Any) -> list[str]:
    """Collect console errors and uncaught exceptions; record policy violations in the page."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(CSP_WATCH)
    return errors


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__cspViolations || []"))


def log_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "maslikhat-demo")
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")


def fits_the_screen(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def more_deputies(directory: DemoDirectory) -> dict[str, Any]:
    names = {
        "saparova": ("Сапарова", "Айгерим"),
        "saparov": ("Сапаров", "Ерлан"),
        "zhumabaev": ("Жумабаев", "Нурлан"),
        "kim": ("Ким", "Ольга"),
    }
    return {
        key: DeputyFactory.create(
            user=UserFactory.create(
                username=f"deputy-{key}", role=Role.DEPUTY, last_name=last, first_name=first
            ),
            convocation=directory.convocation,
        )
        for key, (last, first) in names.items()
    }


def pick(page: Any, field: str, typed: str, option: str) -> None:
    """Type part of a name into the searchable list ``field`` and tap the option shown."""
    search = page.locator(f"#{field}-ts-control")
    search.click()
    search.press_sequentially(typed)
    # Only the matching name is offered (those already chosen are not offered again).
    page.wait_for_function(
        "selector => document.querySelectorAll(selector).length === 1",
        arg=f"#{field}-ts-dropdown .option",
    )
    choice = page.locator(f"#{field}-ts-dropdown .option", has_text=option)
    assert choice.is_visible()
    choice.click()


def test_a_deputy_picks_co_authors_by_typing_and_confirms_the_submission(
    live_server, directory: DemoDirectory
) -> None:
    deputies = more_deputies(directory)
    category = CategoryFactory.create(code="lighting", name_ru="Освещение", name_en="Lighting")
    base = live_server.url
    with translation.override("ru"):
        question = translation.gettext(SUBMIT_QUESTION)
    with browser_page(base, **PHONE) as (page, blocked):
        errors = watch(page)
        log_in(page, base, "deputy1")
        page.goto(f"{base}/requests/new/")
        # The co-authors list is searchable, its label now names the search field.
        assert page.locator("select#id_co_authors[data-searchable]").count() == 1
        assert page.locator("#id_co_authors-ts-control").count() == 1
        assert page.locator("label[for='id_co_authors-ts-control']").count() == 1

        page.fill("#id_title", "Не горят фонари на проспекте Абая")
        page.fill("#id_body", "С марта не горят четыре фонаря у дома 10.")
        page.select_option("#id_category", str(category.pk))
        page.locator(".portal-more > summary").click()
        pick(page, "id_co_authors", "Айгер", "Сапарова Айгерим")
        pick(page, "id_co_authors", "жумаб", "Жумабаев Нурлан")
        chips = page.locator("#id_co_authors-ts-control").locator("xpath=..").locator(".item")
        assert chips.count() == 2
        assert fits_the_screen(page)

        # Cancelling the confirmation posts nothing: the page and what was typed stay.
        asked: list[str] = []

        def dismiss(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", dismiss)
        page.locator("button[name=intent][value=submit]").click()
        page.wait_for_timeout(300)
        assert asked == [question]
        assert page.url == f"{base}/requests/new/"
        assert not DeputyRequest.objects.exists()
        assert page.input_value("#id_title") == "Не горят фонари на проспекте Абая"

        # Accepting it submits the request, with both co-authors.
        def accept(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        with page.expect_navigation(timeout=45_000):
            page.locator("button[name=intent][value=submit]").click()
        assert asked == [question, question]
        assert re.search(r"/requests/\d+/$", page.url)
        item = DeputyRequest.objects.get()
        assert item.status == RequestStatus.SUBMITTED
        assert set(item.co_authors.all()) == {deputies["saparova"], deputies["zhumabaev"]}
        assert fits_the_screen(page)

        assert csp_violations(page) == []
        assert not errors, errors
    assert blocked == []


def test_staff_choose_co_executor_departments_with_the_keyboard(
    live_server, directory: DemoDirectory
) -> None:
    item = make_request(directory, status=RequestStatus.SUBMITTED)
    base = live_server.url
    with browser_page(base, **PHONE) as (page, blocked):
        errors = watch(page)
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, base, "staff")
        page.goto(f"{base}/requests/{item.pk}/")
        form = page.locator("form[data-action=route]")
        form.locator("select[name=lead_department]").select_option(str(directory.finance.pk))
        # Only the keyboard: Tab into the search field, type, Enter chooses the first match.
        search = page.locator("#id_route_co_departments-ts-control")
        page.locator("#id_route_lead_department").focus()
        page.keyboard.press("Tab")
        assert search.evaluate("field => field === document.activeElement")
        assert search.get_attribute("role") == "combobox"
        page.keyboard.type("мобил")
        page.locator("#id_route_co_departments-ts-dropdown .option.active").wait_for()
        page.keyboard.press("Enter")
        chips = form.locator(".ts-control .item")
        chosen = chips.evaluate_all("all => all.map(chip => chip.dataset.value)")
        assert chosen == [str(directory.mobility.pk)]
        # Tab leaves the list (it closes) for the button; Enter posts the form.
        page.keyboard.press("Tab")
        button = form.locator("button[type=submit]")
        page.wait_for_function("b => b === document.activeElement", arg=button.element_handle())
        assert search.get_attribute("aria-expanded") == "false"
        assert fits_the_screen(page)
        # (A generous wait: the machine running the tests may be busy.)
        with page.expect_navigation(timeout=45_000):
            page.keyboard.press("Enter")
        item.refresh_from_db()
        assert item.status == RequestStatus.IN_PROGRESS
        assert list(item.co_departments.all()) == [directory.mobility]
        assert csp_violations(page) == []
        assert not errors, errors
    assert blocked == []


def test_the_searchable_lists_pass_the_accessibility_checker_while_open(
    live_server, directory: DemoDirectory
) -> None:
    more_deputies(directory)
    item = make_request(directory, status=RequestStatus.SUBMITTED)
    base = live_server.url
    found: list[str] = []
    with checked_browser_page(base, **PHONE) as (page, blocked):
        log_in(page, base, "deputy1")
        page.goto(f"{base}/requests/new/")
        page.locator(".portal-more > summary").click()
        pick(page, "id_co_authors", "Айгер", "Сапарова Айгерим")
        # The list open on a search that finds nothing, and a chip chosen.
        page.locator("#id_co_authors-ts-control").press_sequentially("Сапар")
        page.locator("#id_co_authors-ts-dropdown .option").first.wait_for()
        found += [f"{v['id']} at {v['targets']}" for v in blocking(axe_violations(page))]
        page.locator("#id_co_authors-ts-control").press_sequentially("zzz")
        page.locator("#id_co_authors-ts-dropdown .no-results").wait_for()
        found += [f"{v['id']} at {v['targets']}" for v in blocking(axe_violations(page))]

        log_in(page, base, "staff")
        page.goto(f"{base}/requests/{item.pk}/")
        page.locator("#id_route_co_departments-ts-control").click()
        page.locator("#id_route_co_departments-ts-dropdown .option").first.wait_for()
        found += [f"{v['id']} at {v['targets']}" for v in blocking(axe_violations(page))]
    assert found == [], "\n".join(found)
    assert blocked == []
