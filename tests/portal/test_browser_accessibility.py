"""Accessibility: every public page and the first pages a deputy, staff and a head use pass
axe-core's WCAG 2 A and AA rules with no serious or critical violation, in Russian and Kazakh.

axe-core is vendored under ``static/vendor/axe-core/`` for the tests only and injected into
each page by Playwright; no template refers to it. Each page is opened as a person would reach
it (the public menu, a published request and a deputy from its lists, the home page after
logging in through the login form); the language is switched with the language cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from instructions.models import Instruction
from kpi import services as kpi_services
from requests_app.models import DeputyRequest, RegistrationCounter, RequestStatus
from tests.browser import axe_violations, blocking, checked_browser_page
from tests.factories import DemoDirectory, DistrictFactory
from tests.instruction_helpers import make_instruction, make_world
from tests.kpi.test_kpi_services import AS_OF, Q3, worked_example
from tests.requests_helpers import category, make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ("ru", "kk")
# The public menu's pages are read from the menu itself; these must be among them.
MENU_PAGES = {
    "/public/",
    "/public/requests/",
    "/public/instructions/",
    "/public/statistics/",
    "/public/rankings/",
    "/public/methodology/",
    "/public/deputies/",
    "/public/plan/",
}
PERSONAS = ("deputy1", "staff", "finance-head")
# Each language on one layout (Russian on a phone, Kazakh on a desktop): both are checked.
WIDTHS = {"ru": 390, "kk": 1280}
# Besides the pages everyone opens: what each of them does first.
FIRST_PAGES = {
    "deputy1": ("/requests/new/",),
    "staff": ("/dashboard/", "/kpi/weights/"),
    "finance-head": (),
}


@dataclass
class Scene:
    published: DeputyRequest
    in_work: DeputyRequest
    instruction: Instruction


def make_scene(directory: DemoDirectory) -> Scene:
    # Rankings with rows, so their tables are checked too, not only their empty states.
    worked_example(directory)
    kpi_services.kpi_compute(as_of=AS_OF, period=Q3)
    # The worked example writes its rows with numbers of its own: registration goes on after them.
    last = max(
        int(str(number).rsplit("-", 1)[1])
        for number in DeputyRequest.objects.values_list("number", flat=True)
        if number
    )
    RegistrationCounter.objects.update_or_create(
        year=timezone.localdate().year, defaults={"last_number": last}
    )
    district = DistrictFactory.create(code="almaly", name_ru="Алмалинский", name_en="Almaly")
    published = make_request(
        directory,
        status=RequestStatus.CLOSED,
        title="Установить светофор у школы № 12",
        body="Дети переходят дорогу без светофора.",
        district=district,
        category_obj=category("roads"),
        is_public=True,
    )
    # A request in work: its page carries the thread and the department's forms.
    in_work = make_request(
        directory,
        status=RequestStatus.IN_PROGRESS,
        title="Отремонтировать тротуар на улице Жибек жолы",
        body="Плитка разбита на участке у дома 50.",
        district=district,
        category_obj=category("roads"),
    )
    instruction = make_instruction(make_world(directory))
    return Scene(published=published, in_work=in_work, instruction=instruction)


def use_language(page: Any, base: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])


def log_in(page: Any, base: str, username: str, language: str) -> None:
    page.context.clear_cookies()
    use_language(page, base, language)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "maslikhat-demo")
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()


def check(page: Any, url: str, language: str, found: list[str], seen: list[str]) -> None:
    """Open ``url`` (unless it is open already), run axe, and note what blocks."""
    if url and page.url != url:
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language, page.url
    seen.append(f"{language} {page.url}")
    violations = axe_violations(page)
    for violation in violations:
        # Every finding, blocking or not, is printed for whoever reads the run (-s).
        print(f"axe [{language}] {page.url}: {violation['id']} ({violation['impact']})")
    for violation in blocking(violations):
        found.append(
            f"[{language}] {page.url}: {violation['id']} ({violation['impact']}) "
            f"{violation['help']} at {violation['targets']}"
        )


def test_the_checker_reports_a_field_without_a_label_and_unreadable_text(
    live_server, directory: DemoDirectory
) -> None:
    with checked_browser_page(live_server.url) as (page, blocked):
        page.goto(f"{live_server.url}/public/")
        # The same page, spoiled: the search field loses its name, a paragraph its contrast.
        page.evaluate(
            """() => {
                const field = document.createElement("input");
                field.type = "text";
                document.querySelector("main").append(field);
                const faint = document.createElement("p");
                faint.textContent = "Почти невидимый текст";
                faint.style.color = "#eeeeee";
                document.querySelector("main").append(faint);
            }"""
        )
        rules = {violation["id"] for violation in blocking(axe_violations(page))}
    assert {"label", "color-contrast"} <= rules
    assert blocked == []


def test_public_pages_have_no_serious_accessibility_violations(
    live_server, directory: DemoDirectory
) -> None:
    scene = make_scene(directory)
    base = live_server.url
    found: list[str] = []
    seen: list[str] = []
    with checked_browser_page(base) as (page, blocked):
        page.goto(f"{base}/public/")
        menu = page.locator(".portal-public-nav a").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))"
        )
        assert set(menu) >= MENU_PAGES, menu
        # Russian on a phone, Kazakh on a desktop: both layouts, both languages.
        for language in LANGUAGES:
            page.set_viewport_size({"width": WIDTHS[language], "height": 844})
            page.context.clear_cookies()
            use_language(page, base, language)
            for path in (*menu, "/public/follow/", f"/public/rankings/?period={Q3}"):
                check(page, f"{base}{path}", language, found, seen)
            # A published request and a deputy, reached from their lists.
            page.goto(f"{base}/public/requests/")
            page.locator(f'a[href="/public/requests/{scene.published.pk}/"]').first.click()
            page.wait_for_url(f"{base}/public/requests/{scene.published.pk}/")
            check(page, "", language, found, seen)
            page.goto(f"{base}/public/deputies/")
            page.locator(f'a[href="/public/deputies/{directory.alice.pk}/"]').first.click()
            page.wait_for_url(f"{base}/public/deputies/{directory.alice.pk}/")
            check(page, "", language, found, seen)
            # The list filtered by district, where the district's follow form is.
            district = scene.published.district_id
            check(page, f"{base}/public/requests/?district={district}", language, found, seen)
    print(f"accessibility: {len(seen)} public pages checked")
    assert found == [], "\n".join(found)
    assert blocked == []


def test_the_first_signed_in_pages_have_no_serious_accessibility_violations(
    live_server, directory: DemoDirectory
) -> None:
    scene = make_scene(directory)
    base = live_server.url
    found: list[str] = []
    seen: list[str] = []
    with checked_browser_page(base) as (page, blocked):
        for language in LANGUAGES:
            for username in PERSONAS:
                page.set_viewport_size({"width": WIDTHS[language], "height": 844})
                log_in(page, base, username, language)
                assert page.url == f"{base}/", page.url
                check(page, "", language, found, seen)  # the home page after login
                for path in (
                    "/requests/",
                    f"/requests/{scene.published.pk}/",
                    f"/requests/{scene.in_work.pk}/",
                    "/instructions/",
                    f"/instructions/{scene.instruction.pk}/",
                    "/kpi/",
                    f"/kpi/?period={Q3}",
                    "/kpi/methodology/",
                    *FIRST_PAGES[username],
                ):
                    check(page, f"{base}{path}", language, found, seen)
    print(f"accessibility: {len(seen)} signed-in pages checked")
    assert found == [], "\n".join(found)
    assert blocked == []
