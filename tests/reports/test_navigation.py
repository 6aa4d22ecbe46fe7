"""The menu and the home page follow the user's role; pages that do not exist yet are not linked."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from maslikhat.accounts.models import Role, User
from reports.navigation import ANONYMOUS, NAVIGATION, items_for
from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db


def home_of(client: Client, user: User | None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_every_role_has_a_home_page(client: Client, directory: DemoDirectory) -> None:
    users = {
        Role.DEPUTY: directory.alice.user,
        Role.EXECUTOR: directory.finance_exec,
        Role.HEAD: directory.finance_head,
        Role.STAFF: directory.staff,
        Role.CHAIR: directory.chair,
        Role.ADMIN: directory.admin,
    }
    for role, user in users.items():
        client.logout()
        html = home_of(client, user)
        assert user.full_name in html, role
        assert str(Role(role).label) in html, role


def test_the_menu_only_links_pages_that_exist(client: Client, directory: DemoDirectory) -> None:
    html = home_of(client, directory.admin)
    available, coming = items_for(Role.ADMIN)
    for entry in available:
        assert f'href="{entry["url"]}"' in html
    for item in coming:
        assert str(item.label) in html  # listed under "coming next", without a link


def test_only_the_administrator_is_offered_the_django_admin(
    client: Client, directory: DemoDirectory
) -> None:
    assert 'href="/admin/"' in home_of(client, directory.admin)
    client.logout()
    assert 'href="/admin/"' not in home_of(client, directory.staff)
    client.logout()
    assert 'href="/admin/"' not in home_of(client, directory.alice.user)


def test_each_role_is_offered_its_own_entries() -> None:
    def labels(role: str) -> set[str]:
        with translation.override("en"):
            return {str(item.label) for item in NAVIGATION if role in item.roles}

    assert "My requests" in labels(Role.DEPUTY) and "Registry" not in labels(Role.DEPUTY)
    assert "Inbox" in labels(Role.EXECUTOR) and "Inbox" in labels(Role.HEAD)
    assert "Registry" in labels(Role.STAFF) and "Dashboard" in labels(Role.CHAIR)
    assert "Dashboard" not in labels(Role.DEPUTY) and "Dashboard" not in labels(Role.HEAD)
    # Every role with a dashboard finds it in the menu.
    assert "My dashboard" in labels(Role.DEPUTY) and "My dashboard" not in labels(Role.HEAD)
    assert "Department dashboard" in labels(Role.HEAD)
    assert "Department dashboard" in labels(Role.EXECUTOR)
    assert "Department dashboard" not in labels(Role.STAFF)
    assert labels(ANONYMOUS) == {"Public portal", "KPI"}
    # The working calendar and the deadline rules: staff and administrators keep them.
    assert "Calendar" in labels(Role.STAFF) and "Calendar" in labels(Role.ADMIN)
    assert not any("Calendar" in labels(role) for role in (Role.CHAIR, Role.HEAD, Role.DEPUTY))


def test_the_menu_links_each_role_to_its_dashboard(
    client: Client, directory: DemoDirectory
) -> None:
    for user, url in (
        (directory.alice.user, "/dashboard/deputy/"),
        (directory.finance_head, "/dashboard/department/"),
        (directory.finance_exec, "/dashboard/department/"),
        (directory.staff, "/dashboard/"),
        (directory.chair, "/dashboard/"),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        menu = response.context["nav_items"]
        assert [e["url"] for e in menu if e["active"]] == [url], user.username
        client.logout()


def test_an_anonymous_visitor_sees_the_welcome_page_with_a_login_link(client: Client) -> None:
    html = home_of(client, None)
    assert 'href="/accounts/login/' in html


def test_login_page_renders_and_logs_in(client: Client, directory: DemoDirectory) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    response = client.post("/accounts/login/", {"username": "staff", "password": "maslikhat-demo"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_shows_a_message_and_keeps_the_username(
    client: Client, directory: DemoDirectory
) -> None:
    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wrong username or password" in html
    assert 'value="staff"' in html


def test_too_many_failures_lock_the_login_page(client: Client, directory: DemoDirectory) -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"username": "staff", "password": "bad"})
    response = client.post("/accounts/login/", {"username": "staff", "password": "maslikhat-demo"})
    assert response.status_code == 429


def test_logout_is_a_post_and_returns_to_login(client: Client, directory: DemoDirectory) -> None:
    client.force_login(directory.staff)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_the_language_switcher_persists_the_choice(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "kk", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get("/accounts/login/")
    assert 'lang="kk"' in page.content.decode()


def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "cdn" not in response.content.decode().lower()
    assert response["X-Content-Type-Options"] == "nosniff"
