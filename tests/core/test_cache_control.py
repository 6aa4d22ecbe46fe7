"""Nothing private is kept by browsers or proxies: ``Cache-Control: no-store``.

Every page a signed-in person sees, every API answer (session or token) and every download
of an item's file is marked no-store; the public portal's anonymous pages stay cacheable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request, pdf_upload

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = [
    "/",
    "/requests/",
    "/instructions/",
    "/notifications/",
    "/accounts/settings/",
    "/dashboard/",
    "/kpi/",
    "/exports/",
    "/public/",  # the public portal, seen by a signed-in person, shows their navigation
    "/admin/",
]
API_ENDPOINTS = [
    "/api/v1/auth/me/",
    "/api/v1/requests/",
    "/api/v1/instructions/",
    "/api/v1/meetings/",
    "/api/v1/notifications/",
    "/api/v1/departments/",
    "/api/v1/reports/summary/",
    "/api/v1/kpi/methodology/",
]
PUBLIC_PAGES = ["/public/", "/public/requests/", "/public/statistics/", "/public/deputies/"]


def no_store(response: Any) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_every_signed_in_page_is_marked_no_store(directory: DemoDirectory, path: str) -> None:
    response = signed_in(directory.admin).get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert no_store(response), (path, response.get("Cache-Control"))
    assert "private" in response["Cache-Control"]


def test_a_deputys_own_request_page_is_marked_no_store(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    response = signed_in(directory.alice.user).get(f"/requests/{item.pk}/")
    assert response.status_code == 200
    assert no_store(response)


@pytest.mark.parametrize("path", API_ENDPOINTS)
def test_every_api_answer_to_a_token_is_marked_no_store(
    directory: DemoDirectory, path: str
) -> None:
    token = Token.objects.create(user=directory.staff)
    response = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}").get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert no_store(response), (path, response.get("Cache-Control"))


@pytest.mark.parametrize("path", API_ENDPOINTS)
def test_every_api_answer_to_a_browser_session_is_marked_no_store(
    directory: DemoDirectory, path: str
) -> None:
    response = signed_in(directory.staff).get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert no_store(response)


def test_the_token_itself_is_never_stored(directory: DemoDirectory) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "staff", "password": "maslikhat-demo"}, format="json"
    )
    assert response.status_code == 200
    assert no_store(response)


def test_an_api_error_to_an_anonymous_caller_is_marked_no_store() -> None:
    response = APIClient().get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert no_store(response)


def test_the_login_answer_that_sets_the_session_is_marked_no_store(
    directory: DemoDirectory,
) -> None:
    response = Client().post(
        "/accounts/login/", {"username": "deputy1", "password": "maslikhat-demo"}
    )
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert no_store(response)


def test_a_private_attachment_download_is_marked_no_store(directory: DemoDirectory) -> None:
    item: DeputyRequest = make_request(directory, status=RequestStatus.IN_PROGRESS)
    attachment = core_services.attachment_add(
        item=item, by=directory.alice.user, upload=pdf_upload()
    )
    assert default_storage.exists(str(attachment.file.name))
    response = signed_in(directory.alice.user).get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert no_store(response)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_anonymous_public_pages_are_not_forced_to_no_store(
    directory: DemoDirectory, path: str
) -> None:
    response = Client().get(path)
    assert response.status_code == 200, path
    assert not no_store(response), (path, response.get("Cache-Control"))


def test_static_files_are_answered_before_the_middleware_sees_them() -> None:
    # WhiteNoise answers static files itself; only what comes after it is marked.
    order = settings.MIDDLEWARE
    marker = "maslikhat.core.middleware.PrivateResponsesNotStoredMiddleware"
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") < order.index(marker)
