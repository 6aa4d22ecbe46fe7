"""A user's own settings: the language of e-mail and reminders by e-mail."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db


def test_a_user_turns_off_reminder_emails_and_picks_kazakh(
    client: Client, directory: DemoDirectory
) -> None:
    client.force_login(directory.finance_exec)
    assert client.get("/accounts/settings/").status_code == 200
    response = client.post("/accounts/settings/", {"language": "kk"})
    assert response.status_code == 302
    directory.finance_exec.refresh_from_db()
    assert directory.finance_exec.language == "kk"
    assert directory.finance_exec.email_reminders is False


def test_an_unknown_language_is_refused_with_a_message(
    client: Client, directory: DemoDirectory
) -> None:
    client.force_login(directory.staff)
    response = client.post("/accounts/settings/", {"language": "xx", "email_reminders": "on"})
    assert response.status_code == 400
    before = directory.staff.language
    directory.staff.refresh_from_db()
    assert directory.staff.language == before


def test_settings_need_a_login(client: Client) -> None:
    response = client.get("/accounts/settings/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
