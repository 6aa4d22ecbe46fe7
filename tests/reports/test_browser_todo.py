"""Browser journeys: a deputy, an executor, a head and staff log in, land on the to-do home and
reach every item waiting for them from it — on a desktop (1366 px) and a phone (390 px), with
no sideways scroll."""

from __future__ import annotations

import pytest
from django.utils import timezone

from maslikhat.accounts.models import User
from maslikhat.directory.actors import actor_for
from reports.todo import todo_for
from tests.browser import browser_page
from tests.factories import DemoDirectory
from tests.instruction_helpers import make_world
from tests.todo_helpers import todo_scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONAS = {
    "deputy": "alice",
    "executor": "finance_exec",
    "head": "finance_head",
    "staff": "staff",
}
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def collect_console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def expected_links(user: User) -> set[str]:
    """The item pages the to-do of ``user`` lists (the same groups the page renders)."""
    groups = todo_for(actor_for(user), timezone.localdate())
    return {item.url for group in groups for item in group.items}


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("role", list(PERSONAS))
def test_from_the_todo_to_every_pending_item(
    live_server, directory: DemoDirectory, role: str, width: int
) -> None:
    world = make_world(directory)
    todo_scene(world)
    user = world.user(PERSONAS[role])
    expected = expected_links(User.objects.get(pk=user.pk))
    assert len(expected) >= 4, expected  # every persona has several groups with work

    with browser_page(live_server.url, width=width, height=900) as (page, blocked):
        errors = collect_console_errors(page)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", "maslikhat-demo")
        page.locator("main form [type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/")
        page.wait_for_selector("[data-todo]")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "the to-do scrolls sideways"

        links = page.locator("[data-todo-link]")
        hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
        assert hrefs == expected

        for href in sorted(hrefs):
            link = page.locator(f'[data-todo-link][href="{href}"]').first
            link.scroll_into_view_if_needed()
            link.click()
            page.wait_for_url(f"{live_server.url}{href}")
            assert page.locator("main h1").count() >= 1
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{href} scrolls sideways"
            page.go_back()
            page.wait_for_selector("[data-todo]")
        assert errors == [], errors
    assert blocked == []
