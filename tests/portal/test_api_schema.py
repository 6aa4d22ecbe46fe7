"""The OpenAPI schema at ``/api/schema/`` tells the truth about what the API answers.

Each test calls an endpoint as a client would and checks the answer against the operation's
documented response (schemathesis' ``response_schema_conformance``, ``status_code_conformance``
and ``content_type_conformance``), plus the specific shape a generated client relies on. They
pin the mismatches the conformance run found: envelopes documented as arrays, a plain list
documented as paginated, ``executor`` null though documented non-null, ``session_kind`` ``""``
outside its enum, and error answers (400, 401, 403, 404, 409) the schema did not declare.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kpi import services as kpi_services
from maslikhat.accounts.models import User
from requests_app.models import RequestStatus
from tests import instruction_helpers as ih
from tests import requests_helpers as rh
from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db

API = "/api/v1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@functools.cache
def openapi() -> dict[str, Any]:
    """The schema ``/api/schema/`` serves, as JSON (generated once per test process)."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return dict(json.loads(OpenApiJsonRenderer().render(spec)))


@functools.cache
def loaded_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(openapi())


def assert_conforms(response: Any, method: str, template: str, **path_parameters: int) -> None:
    """The Django test response is one the schema documents for ``method template``."""
    url = template.format(**path_parameters)
    prepared = requests.Request(method, f"http://testserver{url}").prepare()
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=prepared,
        elapsed=0.0,
        verify=False,
    )
    operation = loaded_schema()[template][method]
    case = operation.Case(path_parameters=path_parameters)
    case.validate_response(answer, checks=CHECKS)


def documented(method: str, template: str, code: int) -> dict[str, Any]:
    """The JSON schema of the documented ``code`` answer of an operation."""
    response = openapi()["paths"][template][method.lower()]["responses"][str(code)]
    return dict(response["content"]["application/json"]["schema"])


@pytest.fixture
def token_client() -> Callable[[User], APIClient]:
    """A client with a real token, as integrations call the API (so 401 can be seen too)."""

    def make(user: User) -> APIClient:
        client = APIClient()
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def test_the_generated_schema_is_valid_openapi_without_warnings(tmp_path: Any) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "openapi: 3." in target.read_text()


# --- KPI envelopes ------------------------------------------------------------------------------


def test_kpi_rankings_are_documented_and_answered_as_one_envelope_object(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    kpi_services.kpi_compute_current(as_of=timezone.localdate())
    for kind in ("departments", "deputies"):
        template = f"{API}/kpi/{kind}/"
        assert documented("GET", template, 200) == {"$ref": "#/components/schemas/Rankings"}
        response = api_client.get(template)
        assert response.status_code == 200
        assert set(response.json()) >= {"kind", "period", "count", "results"}
        assert_conforms(response, "GET", template)


def test_kpi_weights_and_the_survey_report_are_one_object_each(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    kpi_services.survey_round_open(by=directory.staff, year=timezone.localdate().year)
    for name, component in (("weights", "WeightsInForce"), ("survey", "SurveyReport")):
        template = f"{API}/kpi/{name}/"
        assert documented("GET", template, 200) == {"$ref": f"#/components/schemas/{component}"}
        response = api_client.get(template)
        assert response.status_code == 200
        assert isinstance(response.json(), dict)
        assert_conforms(response, "GET", template)


def test_a_period_the_api_cannot_read_is_a_documented_400(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    response = api_client.get(f"{API}/kpi/departments/", {"period": "someday"})
    assert response.status_code == 400
    assert_conforms(response, "GET", f"{API}/kpi/departments/")


# --- Requests: similar, executor, sub-lists -----------------------------------------------------


def test_similar_requests_are_documented_and_answered_as_a_plain_list(
    directory: DemoDirectory, token_client: Callable[[User], APIClient]
) -> None:
    rh.make_request(directory, status=RequestStatus.SUBMITTED)
    template = f"{API}/requests/similar/"
    schema = documented("GET", template, 200)
    assert schema["type"] == "array"
    parameters = openapi()["paths"][template]["get"]["parameters"]
    assert "page" not in {p["name"] for p in parameters}
    response = token_client(directory.alice.user).get(template, {"title": "Ремонт дороги"})
    assert response.status_code == 200
    assert isinstance(response.json(), list) and response.json()
    assert_conforms(response, "GET", template)


def test_a_request_without_an_executor_conforms_through_create_submit_route_and_decline(
    directory: DemoDirectory, token_client: Callable[[User], APIClient]
) -> None:
    """``executor`` is null until the head assigns one: list, detail and every action say so."""
    deputy = token_client(directory.alice.user)
    staff = token_client(directory.staff)
    category = rh.category()
    body = {"title": "Освещение двора", "body": "Во дворе нет фонарей.", "category": category.pk}

    created = deputy.post(f"{API}/requests/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["executor"] is None
    assert_conforms(created, "POST", f"{API}/requests/")
    pk = created.json()["id"]
    detail = f"{API}/requests/{{id}}/"

    submitted = deputy.post(f"{API}/requests/{pk}/submit/", {}, format="json")
    assert submitted.status_code == 200, submitted.content
    assert_conforms(submitted, "POST", f"{detail}submit/", id=pk)

    listed = staff.get(f"{API}/requests/")
    assert [row["executor"] for row in listed.json()["results"]] == [None]
    assert_conforms(listed, "GET", f"{API}/requests/")
    shown = staff.get(f"{API}/requests/{pk}/")
    assert_conforms(shown, "GET", detail, id=pk)

    routed = staff.post(
        f"{API}/requests/{pk}/route/", {"lead_department": directory.finance.pk}, format="json"
    )
    assert routed.status_code == 200, routed.content
    assert routed.json()["executor"] is None
    assert_conforms(routed, "POST", f"{detail}route/", id=pk)

    other = rh.make_request(directory, status=RequestStatus.SUBMITTED)
    declined = staff.post(f"{API}/requests/{other.pk}/decline/", {"reason": "Не к нам."})
    assert declined.status_code == 200, declined.content
    assert_conforms(declined, "POST", f"{detail}decline/", id=other.pk)


def test_the_answers_and_extensions_sub_lists_are_documented_as_200_lists(
    directory: DemoDirectory, token_client: Callable[[User], APIClient]
) -> None:
    item = rh.make_request(directory, status=RequestStatus.IN_PROGRESS)
    rh.draft_answer(directory, item)
    client = token_client(directory.finance_head)
    for name in ("responses", "extensions"):
        template = f"{API}/requests/{{id}}/{name}/"
        assert documented("GET", template, 200)["type"] == "array"
        response = client.get(f"{API}/requests/{item.pk}/{name}/")
        assert response.status_code == 200
        assert_conforms(response, "GET", template, id=item.pk)


def test_a_new_message_is_a_documented_201(
    directory: DemoDirectory, token_client: Callable[[User], APIClient]
) -> None:
    item = rh.make_request(directory, status=RequestStatus.IN_PROGRESS)
    url = f"{API}/requests/{item.pk}/messages/"
    response = token_client(directory.alice.user).post(url, {"text": "Когда начнут?"})
    assert response.status_code == 201, response.content
    assert_conforms(response, "POST", f"{API}/requests/{{id}}/messages/", id=item.pk)


# --- Meetings -----------------------------------------------------------------------------------


def test_a_meeting_that_is_not_a_session_has_a_null_session_kind(
    directory: DemoDirectory, token_client: Callable[[User], APIClient]
) -> None:
    world = ih.make_world(directory)
    staff = token_client(directory.staff)
    hearing = staff.post(
        f"{API}/meetings/",
        {
            "kind": "hearing",
            "date": "2026-03-02",
            "title": "Отчёт управления",
            "department": world.d.finance.pk,
            "session_kind": None,
        },
        format="json",
    )
    assert hearing.status_code == 201, hearing.content
    assert hearing.json()["session_kind"] is None
    assert_conforms(hearing, "POST", f"{API}/meetings/")
    listed = staff.get(f"{API}/meetings/")
    assert_conforms(listed, "GET", f"{API}/meetings/")
    assert {row["session_kind"] for row in listed.json()["results"]} <= {
        None,
        "regular",
        "extraordinary",
    }


# --- Errors -------------------------------------------------------------------------------------


def test_every_operation_documents_the_errors_it_can_answer() -> None:
    for template, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            where = f"{method.upper()} {template}"
            if "{" in template:
                assert "404" in codes, where
            if method in ("post", "patch", "put", "delete") and template != f"{API}/auth/token/":
                assert {"400", "401", "403", "409"} <= codes, where
            for code in codes & {"401", "403", "404", "409"}:
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, where


def test_the_error_answers_match_the_documented_error_shapes(
    directory: DemoDirectory, token_client: Callable[[User], APIClient]
) -> None:
    item = rh.make_request(directory, status=RequestStatus.IN_PROGRESS)
    url = f"{API}/requests/{item.pk}/route/"
    template = f"{API}/requests/{{id}}/route/"
    body = {"lead_department": directory.finance.pk}

    conflict = token_client(directory.staff).post(url, body, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "transition_not_allowed"
    assert_conforms(conflict, "POST", template, id=item.pk)

    invalid = token_client(directory.staff).post(url, {"lead_department": "x"}, format="json")
    assert invalid.status_code == 400
    assert "lead_department" in invalid.json()
    assert_conforms(invalid, "POST", template, id=item.pk)

    hidden = token_client(directory.bob.user).post(url, body, format="json")
    assert hidden.status_code == 404
    assert_conforms(hidden, "POST", template, id=item.pk)

    anonymous = APIClient().post(url, body, format="json")
    assert anonymous.status_code == 401
    assert_conforms(anonymous, "POST", template, id=item.pk)

    forbidden = token_client(directory.alice.user).post(url, body, format="json")
    assert forbidden.status_code in (403, 404)
    assert_conforms(forbidden, "POST", template, id=item.pk)


def test_an_api_address_that_matches_no_route_answers_json_404(directory: DemoDirectory) -> None:
    client = Client()
    client.force_login(directory.staff)
    response = client.get(f"{API}/requests/1/responses/abc/approve/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_page_that_does_not_exist_is_still_the_friendly_html_page(
    directory: DemoDirectory,
) -> None:
    client = Client()
    client.force_login(directory.staff)
    response = client.get("/requests/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
