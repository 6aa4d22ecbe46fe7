"""Token login and ``/api/v1/auth/me/``."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db


def test_staff_gets_a_token_with_the_demo_password(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "staff", "password": "maslikhat-demo"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40

    me = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "staff"
    assert me.json()["role"] == "staff"


def test_a_wrong_password_gets_400_with_a_message(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "staff", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"]


def test_missing_fields_get_field_errors(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_malformed_json_gets_400_not_500(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_repeated_failures_lock_the_username_out(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    for _ in range(5):
        api_client.post(
            "/api/v1/auth/token/", {"username": "staff", "password": "bad"}, format="json"
        )
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "staff", "password": "maslikhat-demo"}, format="json"
    )
    assert response.status_code == 429
    assert "minute" in response.json()["detail"].lower() or "мин" in response.json()["detail"]


def test_me_of_a_department_head_names_the_department(directory: DemoDirectory, api_as) -> None:
    body = api_as(directory.finance_head).get("/api/v1/auth/me/").json()
    assert body["role"] == "head"
    assert body["department"] == directory.finance.pk
    assert body["deputy"] is None
    assert body["full_name"] == directory.finance_head.full_name


def test_me_of_a_deputy_names_the_deputy(directory: DemoDirectory, api_as) -> None:
    body = api_as(directory.alice.user).get("/api/v1/auth/me/").json()
    assert body["role"] == "deputy"
    assert body["deputy"] == directory.alice.pk
    assert body["department"] is None


def test_me_needs_authentication(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/auth/me/").status_code == 401
