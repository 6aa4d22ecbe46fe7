"""Who may open the import pages: staff (and Django superusers); 403 or 404 for the rest.

Every URL pattern of the ``imports`` app is read from the URLconf; a pattern without a row
here fails ``test_every_imports_pattern_has_a_row``. The list, the upload and the
templates answer 403 to a signed-in user who may not import; a batch's pages answer 404
(an object one may not see does not exist for them); an anonymous visitor is sent to log in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from imports.models import ImportBatch, ImportKind
from maslikhat.accounts.models import User
from tests.factories import DemoDirectory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "deputy", "executor", "head", "chair", "admin_role", "staff", "superuser")
LOGIN = "login"
STAFF_ONLY_403 = {
    "anonymous": LOGIN,
    "deputy": 403,
    "executor": 403,
    "head": 403,
    "chair": 403,
    "admin_role": 403,
    "staff": 200,
    "superuser": 200,
}
STAFF_ONLY_404 = {**STAFF_ONLY_403, **{r: 404 for r in STAFF_ONLY_403 if STAFF_ONLY_403[r] == 403}}

#: (route as the URLconf spells it, method, path with {batch}, expected status per role)
ROWS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("imports/", "GET", "/imports/", STAFF_ONLY_403),
    ("imports/", "POST", "/imports/", {**STAFF_ONLY_403, "staff": 400, "superuser": 400}),
    ("imports/template/<str:kind>.xlsx", "GET", "/imports/template/requests.xlsx", STAFF_ONLY_403),
    ("imports/<int:pk>/", "GET", "/imports/{batch}/", STAFF_ONLY_404),
    (
        "imports/<int:pk>/",
        "POST",
        "/imports/{batch}/",
        {**STAFF_ONLY_404, "staff": 302, "superuser": 302},
    ),
    (
        "imports/<int:pk>/commit/",
        "POST",
        "/imports/{batch}/commit/",
        {**STAFF_ONLY_404, "staff": 302, "superuser": 302},
    ),
    ("imports/<int:pk>/progress/", "GET", "/imports/{batch}/progress/", STAFF_ONLY_404),
]


def imports_routes() -> set[str]:
    routes: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("imports/"):
                routes.add(route)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_imports_pattern_has_a_row() -> None:
    assert imports_routes() == {route for route, *_rest in ROWS}


def persona(directory: DemoDirectory, role: str) -> User | None:
    return {
        "anonymous": None,
        "deputy": directory.alice.user,
        "executor": directory.finance_exec,
        "head": directory.finance_head,
        "chair": directory.chair,
        "admin_role": UserFactory.create(username="admin-role", role="admin"),
        "staff": directory.staff,
        "superuser": directory.admin,
    }[role]


@pytest.fixture
def batch(directory: DemoDirectory, tmp_path: Path, settings: Any) -> ImportBatch:
    settings.MEDIA_ROOT = tmp_path / "media"
    return ImportBatch.objects.create(
        user=directory.staff, kind=ImportKind.REQUESTS, file_name="past.csv", sha256="0" * 64
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r[1]} {r[0]}")
def test_who_may_open_what(
    directory: DemoDirectory,
    batch: ImportBatch,
    row: tuple[str, str, str, dict[str, Any]],
    role: str,
) -> None:
    _route, method, path, expected = row
    user = persona(directory, role)
    client = Client()
    if user is not None:
        client.force_login(user)
    url = path.format(batch=batch.pk)
    response = client.get(url) if method == "GET" else client.post(url, {})
    want = expected[role]
    if want == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == want, (url, role, response.status_code)
