"""Nothing of the record is hard-deleted, and the admin never bypasses the services unseen.

The admin shows no delete page and no bulk delete for the item record (requests and their
answers, instructions, meetings, protocols, evaluations, messages, attachments, history,
notifications, the KPI's inputs and results); an administrator's correction of an item is
written to its history; the API answers DELETE with 405 on every route.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from maslikhat.core.admin import ADMIN_EDIT_ACTION
from maslikhat.core.threads import AuditEvent
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

#: Apps whose every row is part of the record. Anything of them registered in the admin
#: must not be deletable there; of the shared machinery (core) only the reference tables
#: below may be.
RECORD_APPS = {"requests_app", "kpi", "reports", "core"}
REFERENCE_MODELS = {"core.DeadlineRule", "core.CalendarDay"}


def record_admins() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in RECORD_APPS and model._meta.label not in REFERENCE_MODELS
    ]


def admin_url(model: type[models.Model], view: str, pk: int | None = None) -> str:
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return base + (f"{pk}/{view}/" if pk is not None else "")


def test_the_record_admins_are_the_ones_expected() -> None:
    labels = {model._meta.label for model, _ in record_admins()}
    assert {"requests_app.DeputyRequest", "requests_app.RegistrationCounter"} <= labels
    assert {"kpi.DeputyActivity", "kpi.KpiSnapshot"} <= labels


@pytest.mark.parametrize("model", [m for m, _ in record_admins()], ids=lambda m: m._meta.label)
def test_the_admin_has_no_delete_page_for_the_record(
    directory: DemoDirectory, model: type[models.Model]
) -> None:
    client = Client()
    client.force_login(directory.admin)
    # The permission is asked before the row is looked up: refused for any row.
    response = client.get(admin_url(model, "delete", pk=1))
    assert response.status_code == 403
    posted = client.post(admin_url(model, "delete", pk=1), {"post": "yes"})
    assert posted.status_code == 403


@pytest.mark.parametrize("model", [m for m, _ in record_admins()], ids=lambda m: m._meta.label)
def test_the_admin_offers_no_bulk_delete_for_the_record(
    directory: DemoDirectory, model: type[models.Model]
) -> None:
    request = RequestFactory().get(admin_url(model, "changelist"))
    request.user = directory.admin
    model_admin = admin.site._registry[model]
    assert model_admin.has_delete_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)
    client = Client()
    client.force_login(directory.admin)
    page = client.get(admin_url(model, "changelist"))
    assert page.status_code == 200
    assert 'value="delete_selected"' not in page.content.decode()


def test_a_request_cannot_be_deleted_in_the_admin_and_stays(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    client = Client()
    client.force_login(directory.admin)
    response = client.post(admin_url(DeputyRequest, "delete", pk=item.pk), {"post": "yes"})
    assert response.status_code == 403
    bulk = client.post(
        admin_url(DeputyRequest, "changelist"),
        {"action": "delete_selected", "_selected_action": [item.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert DeputyRequest.objects.filter(pk=item.pk).exists()


def change_form_data(client: Client, item: DeputyRequest) -> dict[str, Any]:
    """What the admin's change form posts back: its editable fields and inline forms."""
    page = client.get(admin_url(DeputyRequest, "change", pk=item.pk))
    assert page.status_code == 200
    html = page.content.decode()
    data: dict[str, Any] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        data[name] = value
    data.update({"title": item.title, "address": item.address})
    return data


def test_an_admin_correction_is_written_to_the_history_with_from_and_to(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    old_title, version = item.title, item.version
    client = Client()
    client.force_login(directory.admin)
    data = change_form_data(client, item)
    data.update({"title": "Ремонт дороги на ул. Абая", "status": RequestStatus.CLOSED})
    response = client.post(admin_url(DeputyRequest, "change", pk=item.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    item.refresh_from_db()
    assert item.title == "Ремонт дороги на ул. Абая"
    # The state is not a field of the admin's form: it moves only through the services.
    assert item.status == RequestStatus.IN_PROGRESS
    assert item.version == version + 1
    event = AuditEvent.objects.for_item(item).get(action=ADMIN_EDIT_ACTION)
    assert event.actor == directory.admin
    assert event.changes == {"title": [old_title, "Ремонт дороги на ул. Абая"]}
    assert event.from_status == event.to_status == RequestStatus.IN_PROGRESS
    # The request's page names the correction in its history.
    page = client.get(f"/requests/{item.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Corrected in the administration panel" in page.content.decode()


def test_saving_the_admin_form_unchanged_writes_nothing(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    client = Client()
    client.force_login(directory.admin)
    before = AuditEvent.objects.for_item(item).count()
    response = client.post(
        admin_url(DeputyRequest, "change", pk=item.pk), change_form_data(client, item)
    )
    assert response.status_code == 302
    assert AuditEvent.objects.for_item(item).count() == before
    item.refresh_from_db()
    assert not AuditEvent.objects.for_item(item).filter(action=ADMIN_EDIT_ACTION).exists()


def test_only_the_corrections_are_editable_in_the_request_admin(
    directory: DemoDirectory,
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = directory.admin
    model_admin = admin.site._registry[DeputyRequest]
    readonly = set(model_admin.get_readonly_fields(request))
    names = {f.name for f in [*DeputyRequest._meta.fields, *DeputyRequest._meta.many_to_many]}
    assert names - readonly == {"title", "address"}
    assert {"status", "due_date", "lead_department", "version", "author"} <= readonly


# --- The API ------------------------------------------------------------------------


def api_routes() -> list[str]:
    """Every route under /api/v1/, with 1 for each id (format-suffix twins left out)."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            text = str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + text)
            elif isinstance(pattern, URLPattern):
                if "format" in text:
                    continue
                path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", prefix + text)
                path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
                found.append("/" + path)

    walk(get_resolver().url_patterns, "")
    return sorted({p for p in found if p.startswith("/api/v1/")})


def test_the_api_routes_include_every_item_endpoint() -> None:
    routes = api_routes()
    for path in (
        "/api/v1/requests/1/",
        "/api/v1/instructions/1/",
        "/api/v1/meetings/1/",
        "/api/v1/protocols/1/",
        "/api/v1/notifications/1/",
        "/api/v1/requests/1/messages/",
        "/api/v1/requests/1/attachments/",
        "/api/v1/requests/1/history/",
        "/api/v1/instructions/1/attachments/",
    ):
        assert path in routes


@pytest.mark.parametrize("path", api_routes())
def test_the_api_answers_delete_with_405_everywhere(directory: DemoDirectory, path: str) -> None:
    client = APIClient()
    client.force_authenticate(directory.admin)
    response = client.delete(path)
    assert response.status_code == 405, (path, response.status_code)


def test_deleting_a_visible_request_through_the_api_leaves_it_in_place(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    client = APIClient()
    client.force_authenticate(directory.alice.user)
    assert client.delete(f"/api/v1/requests/{item.pk}/").status_code == 405
    assert client.delete(f"/api/v1/requests/{item.pk}/history/").status_code == 405
    assert DeputyRequest.objects.filter(pk=item.pk, status=RequestStatus.IN_PROGRESS).exists()
