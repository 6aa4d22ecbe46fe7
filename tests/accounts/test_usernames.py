"""One spelling of a username: surrounding spaces and letter case never make another account."""

from __future__ import annotations

import io

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from maslikhat.accounts.admin import UserAdmin
from maslikhat.accounts.forms import PortalUserChangeForm, PortalUserCreationForm
from maslikhat.accounts.models import Role, User, canonical_username
from tests.factories import DemoDirectory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "maslikhat-demo"
SPELLINGS = [" deputy1 ", "DEPUTY1", "Deputy1", "\tdeputy1"]


def test_the_canonical_spelling_is_stripped_lower_case_and_nfkc() -> None:
    assert canonical_username("  Deputy1 ") == "deputy1"
    assert canonical_username("ДЕПУТАТ") == "депутат"
    assert canonical_username("ｄｅｐｕｔｙ１") == "deputy1"  # full-width letters
    assert canonical_username(None) == ""


@pytest.mark.parametrize("typed", SPELLINGS)
def test_the_login_page_accepts_any_case_and_surrounding_spaces(
    directory: DemoDirectory, typed: str
) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    me = client.get("/api/v1/auth/me/")
    assert me.json()["username"] == "deputy1"


@pytest.mark.parametrize("typed", SPELLINGS)
def test_the_token_endpoint_accepts_any_case_and_surrounding_spaces(
    directory: DemoDirectory, api_client: APIClient, typed: str
) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": typed, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    me = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/auth/me/")
    assert me.json()["username"] == "deputy1"
    assert me.json()["id"] == directory.alice.user.pk


def test_the_password_stays_case_sensitive(directory: DemoDirectory) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": "deputy1", "password": PASSWORD.upper()}
    )
    assert response.status_code == 200
    assert "the username is not" in response.content.decode()


def test_failed_logins_in_any_spelling_share_one_lockout_counter(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    # Five failures (the limit) spread over three spellings, on the page and the API.
    for typed in ("Deputy1", " deputy1 ", "DEPUTY1"):
        Client().post("/accounts/login/", {"username": typed, "password": "wrong"})
    for typed in ("deputy1", "Deputy1 "):
        api_client.post(
            "/api/v1/auth/token/", {"username": typed, "password": "wrong"}, format="json"
        )
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["deputy1"]
    assert AccessAttempt.objects.get().failures_since_start == 5

    # Now the right password is refused in every spelling until the cool-off ends.
    page = Client().post("/accounts/login/", {"username": "deputy1", "password": PASSWORD})
    assert page.status_code == 429
    token = api_client.post(
        "/api/v1/auth/token/", {"username": "DEPUTY1", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 429


def test_create_user_stores_the_canonical_username() -> None:
    user = User.objects.create_user(username="  Staff.Officer ", password=PASSWORD)
    user.refresh_from_db()
    assert user.username == "staff.officer"


def test_createsuperuser_stores_the_canonical_username() -> None:
    # (Spaces are refused there as invalid characters, before anything is stored.)
    call_command(
        "createsuperuser",
        username="Root.Admin",
        email="root@maslikhat.local",
        interactive=False,
        stdout=io.StringIO(),
    )
    admin = get_user_model().objects.get(username="root.admin")
    assert admin.role == Role.ADMIN
    assert admin.is_superuser


def test_createsuperuser_refuses_a_name_taken_in_another_case(directory: DemoDirectory) -> None:
    with pytest.raises(Exception, match="already taken"):
        call_command(
            "createsuperuser",
            username="Deputy1",
            email="x@maslikhat.local",
            interactive=False,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert User.objects.filter(username__iexact="deputy1").count() == 1


def test_the_admin_refuses_a_new_user_named_like_an_existing_one(
    directory: DemoDirectory,
) -> None:
    form = PortalUserCreationForm(
        data={"username": "Deputy1", "password1": "", "password2": "", "usable_password": "false"}
    )
    with translation.override("en"):
        assert not form.is_valid()
        message = str(form.errors["username"][0])
    assert "deputy1" in message
    assert "letter case" in message
    assert User.objects.filter(username__iexact="deputy1").count() == 1


def test_the_admin_add_page_refuses_a_taken_name_and_stores_a_new_one_canonically(
    directory: DemoDirectory,
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(directory.admin)
    refused = client.post(
        "/admin/accounts/user/add/",
        {"username": " DEPUTY1 ", "usable_password": "false", "role": "deputy"},
    )
    assert refused.status_code == 200
    assert "letter case" in refused.content.decode()

    created = client.post(
        "/admin/accounts/user/add/",
        {"username": " New.Deputy ", "usable_password": "false", "role": "deputy"},
    )
    assert created.status_code == 302
    assert User.objects.filter(username="new.deputy").exists()


def test_renaming_a_user_in_the_admin_to_another_users_name_is_refused(
    directory: DemoDirectory,
) -> None:
    bob = directory.bob.user
    form = PortalUserChangeForm(instance=bob, data={"username": "DEPUTY1"})
    with translation.override("en"):
        form.is_valid()
        assert "letter case" in str(form.errors["username"][0])
    renamed = PortalUserChangeForm(instance=bob, data={"username": " Deputy.Bob "})
    renamed.is_valid()
    assert "username" not in renamed.errors
    assert renamed.cleaned_data["username"] == "deputy.bob"


def test_the_user_admin_uses_the_canonical_forms() -> None:
    assert issubclass(UserAdmin.form, PortalUserChangeForm)
    assert issubclass(UserAdmin.add_form, PortalUserCreationForm)


def test_the_migration_canonicalises_stored_names_and_stops_on_clashes() -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("maslikhat.accounts.migrations.0003_canonical_usernames")
    UserFactory.create(username="Mixed.Case")  # stored as typed: the factory bypasses clean()
    migration.canonicalise_usernames(apps, None)
    assert User.objects.filter(username="mixed.case").exists()

    UserFactory.create(username="Twin")
    UserFactory.create(username="twin ")
    with pytest.raises(RuntimeError, match="'twin'"):
        migration.canonicalise_usernames(apps, None)
    assert set(
        User.objects.filter(username__in=["Twin", "twin "]).values_list("username", flat=True)
    ) == {
        "Twin",
        "twin ",
    }
