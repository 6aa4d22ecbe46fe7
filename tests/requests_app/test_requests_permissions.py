"""Who may do what through ``/api/v1/requests/``: one declared table drives the tests.

Each row of ``TABLE`` is an endpoint (an action in the state where it is allowed)
and the status each persona gets. The rules behind the numbers (``docs/domain.md``):

- a deputy sees own requests (authored, co-authored) and published ones, never
  another deputy's private request (404) and nobody's draft but their own;
- a department sees what is addressed to it (lead or co-executor), nothing else (404);
- staff see every registered request and route, decline and decide extensions;
- the chair and administrators see everything and act on nothing (403);
- the API requires a login: anonymous callers get 401.

An item the caller may not see is 404 (never 403), and a refused call leaves the
row as it was (status, version, answers, thread, attachments, extensions).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from maslikhat.accounts.models import User
from maslikhat.core.extensions import Extension
from maslikhat.core.threads import Attachment, Message
from requests_app import services
from requests_app.models import Clarification, DeputyRequest, RequestStatus, Response
from tests.factories import DemoDirectory
from tests.requests_helpers import (
    answer,
    category,
    draft_answer,
    make_request,
    pdf_upload,
    refresh,
)

pytestmark = pytest.mark.django_db

S = RequestStatus

PERSONAS = (
    "alice",  # the author (deputy1)
    "bob",  # another deputy (deputy2)
    "finance_head",  # the lead department
    "finance_exec",
    "mobility_head",  # another department
    "mobility_exec",
    "staff",
    "chair",
    "admin",
    "anonymous",
)


@dataclass(frozen=True)
class Endpoint:
    """One API call on a request prepared in ``state`` (a key of ``prepare``)."""

    method: str
    path: str  # after /api/v1/requests/; {pk}, {rid} (draft answer), {eid} (extension)
    state: str
    body: Callable[[DemoDirectory], dict[str, Any]] = field(default=lambda d: {})
    multipart: bool = False


ENDPOINTS: dict[str, Endpoint] = {
    "list": Endpoint("get", "", S.IN_PROGRESS),
    "detail": Endpoint("get", "{pk}/", S.IN_PROGRESS),
    "create": Endpoint(
        "post",
        "",
        S.IN_PROGRESS,
        lambda d: {"title": "Освещение двора", "body": "Нет фонарей.", "category": "category"},
    ),
    "partial_update": Endpoint("patch", "{pk}/", S.DRAFT, lambda d: {"title": "Правка"}),
    "submit": Endpoint("post", "{pk}/submit/", S.DRAFT),
    "route": Endpoint(
        "post", "{pk}/route/", S.SUBMITTED, lambda d: {"lead_department": d.finance.pk}
    ),
    "decline": Endpoint("post", "{pk}/decline/", S.SUBMITTED, lambda d: {"reason": "Не наше"}),
    "assign": Endpoint(
        "post", "{pk}/assign/", S.IN_PROGRESS, lambda d: {"executor": d.finance_exec.pk}
    ),
    "redirect": Endpoint("post", "{pk}/redirect/", S.IN_PROGRESS, lambda d: {"reason": "Не наше"}),
    "reroute": Endpoint(
        "post",
        "{pk}/reroute/",
        S.IN_PROGRESS,
        lambda d: {"lead_department": d.mobility.pk, "reason": "Не их", "deadline": "keep"},
    ),
    "clarification": Endpoint(
        "post", "{pk}/clarification/", S.IN_PROGRESS, lambda d: {"question": "Какой дом?"}
    ),
    "clarification_answer": Endpoint(
        "post", "{pk}/clarification/answer/", "with_clarification", lambda d: {"text": "Дом 10"}
    ),
    "responses_list": Endpoint("get", "{pk}/responses/", S.IN_PROGRESS),
    "responses_create": Endpoint(
        "post",
        "{pk}/responses/",
        S.IN_PROGRESS,
        lambda d: {"kind": "interim", "text": "Работаем"},
    ),
    "response_approve": Endpoint("post", "{pk}/responses/{rid}/approve/", "with_draft_answer"),
    "response_return": Endpoint(
        "post", "{pk}/responses/{rid}/return/", "with_draft_answer", lambda d: {"comment": "Нет"}
    ),
    "evaluate": Endpoint(
        "post", "{pk}/evaluate/", S.ANSWERED, lambda d: {"decision": "accept", "rating": 4}
    ),
    "rate_request": Endpoint("post", "{pk}/rate-request/", S.IN_PROGRESS, lambda d: {"rating": 4}),
    "extensions_list": Endpoint("get", "{pk}/extensions/", S.IN_PROGRESS),
    "extensions_create": Endpoint(
        "post",
        "{pk}/extensions/",
        S.IN_PROGRESS,
        lambda d: {"new_due_date": "due+7", "reason": "Экспертиза"},
    ),
    "extension_decide": Endpoint(
        "post", "{pk}/extensions/{eid}/decide/", "with_extension", lambda d: {"approve": True}
    ),
    "withdraw": Endpoint("post", "{pk}/withdraw/", S.IN_PROGRESS, lambda d: {"reason": "Решено"}),
    "messages_list": Endpoint("get", "{pk}/messages/", S.IN_PROGRESS),
    "messages_create": Endpoint(
        "post", "{pk}/messages/", S.IN_PROGRESS, lambda d: {"text": "Есть новости?"}
    ),
    "attachments_list": Endpoint("get", "{pk}/attachments/", S.IN_PROGRESS),
    "attachments_create": Endpoint(
        "post", "{pk}/attachments/", S.IN_PROGRESS, lambda d: {"file": pdf_upload()}, True
    ),
    "history": Endpoint("get", "{pk}/history/", S.IN_PROGRESS),
    "evaluations": Endpoint("get", "{pk}/evaluations/", "with_evaluations"),
    "similar": Endpoint("get", "similar/?address=Абая", S.IN_PROGRESS),
}

# fmt: off
#: The declared table: endpoint × persona -> expected status. The request is alice's,
#: private, addressed to finance (where it is routed at all).
#                        alice bob  f_head f_exec m_head m_exec staff chair admin anon
TABLE: list[tuple[str, int, int, int, int, int, int, int, int, int, int]] = [
    ("list",              200, 200, 200,   200,   200,   200,   200,  200,  200,  401),
    ("detail",            200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("create",            201, 201, 403,   403,   403,   403,   403,  403,  403,  401),
    ("partial_update",    200, 404, 404,   404,   404,   404,   404,  404,  404,  401),
    ("submit",            200, 404, 404,   404,   404,   404,   404,  404,  404,  401),
    ("route",             403, 404, 404,   404,   404,   404,   200,  403,  403,  401),
    ("decline",           403, 404, 404,   404,   404,   404,   200,  403,  403,  401),
    ("assign",            403, 404, 200,   403,   404,   404,   403,  403,  403,  401),
    ("redirect",          403, 404, 200,   200,   404,   404,   403,  403,  403,  401),
    ("reroute",           403, 404, 403,   403,   404,   404,   200,  403,  403,  401),
    ("clarification",     403, 404, 200,   200,   404,   404,   403,  403,  403,  401),
    ("clarification_answer", 200, 404, 403, 403,  404,   404,   403,  403,  403,  401),
    ("responses_list",    200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("responses_create",  403, 404, 201,   201,   404,   404,   403,  403,  403,  401),
    ("response_approve",  403, 404, 200,   403,   404,   404,   403,  403,  403,  401),
    ("response_return",   403, 404, 200,   403,   404,   404,   403,  403,  403,  401),
    ("evaluate",          200, 404, 403,   403,   404,   404,   403,  403,  403,  401),
    ("rate_request",      403, 404, 200,   200,   404,   404,   403,  403,  403,  401),
    ("extensions_list",   200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("extensions_create", 403, 404, 201,   201,   404,   404,   403,  403,  403,  401),
    ("extension_decide",  403, 404, 403,   403,   404,   404,   200,  403,  403,  401),
    ("withdraw",          200, 404, 403,   403,   404,   404,   403,  403,  403,  401),
    ("messages_list",     200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("messages_create",   201, 404, 201,   201,   404,   404,   201,  403,  403,  401),
    ("attachments_list",  200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("attachments_create", 201, 404, 201,  201,   404,   404,   201,  403,  403,  401),
    ("history",           200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("evaluations",       200, 404, 200,   200,   404,   404,   200,  200,  200,  401),
    ("similar",           200, 200, 200,   200,   200,   200,   200,  200,  200,  401),
]
# fmt: on

#: Cases that fail today because of a bug (persona, endpoint) -> reason (none open now).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def expand(table: list[tuple[Any, ...]], prefix: str = "") -> list[Any]:
    cases = []
    for endpoint, *codes in table:
        assert len(codes) == len(PERSONAS), endpoint
        for persona, code in zip(PERSONAS, codes, strict=True):
            bug = KNOWN_BUGS.get((persona, f"{prefix}{endpoint}"))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            cases.append(
                pytest.param(persona, endpoint, code, id=f"{endpoint}-{persona}", marks=marks)
            )
    return cases


def test_the_table_covers_every_endpoint_and_every_persona() -> None:
    assert [row[0] for row in TABLE] == list(ENDPOINTS)
    assert all(len(row) == len(PERSONAS) + 1 for row in TABLE)


def test_the_table_covers_every_action_route_of_the_request_api() -> None:
    """Each extra route the request viewset mounts has a row (a new action needs one too)."""
    from requests_app.api import DeputyRequestViewSet

    mounted = {getattr(a, "url_path") for a in DeputyRequestViewSet.get_extra_actions()}  # noqa: B009
    declared = {
        e.path.removeprefix("{pk}/")
        .split("?")[0]
        .rstrip("/")
        .replace("{rid}", r"(?P<rid>\d+)")
        .replace("{eid}", r"(?P<eid>\d+)")
        for e in ENDPOINTS.values()
    }
    assert mounted <= declared, mounted - declared


# --- Running one case -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def user_of(directory: DemoDirectory, persona: str) -> User | None:
    if persona == "anonymous":
        return None
    value = getattr(directory, persona)
    return value if isinstance(value, User) else value.user


def client_for(directory: DemoDirectory, persona: str) -> APIClient:
    client = APIClient()
    user = user_of(directory, persona)
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass
class Prepared:
    item: DeputyRequest
    response_id: int | None = None
    extension_id: int | None = None


def prepare(directory: DemoDirectory, state: str, co_departments: tuple[Any, ...] = ()) -> Prepared:
    if state == "with_draft_answer":
        item = make_request(directory, status=S.IN_PROGRESS, co_departments=co_departments)
        return Prepared(refresh(item), response_id=draft_answer(directory, item).pk)
    if state == "with_evaluations":
        # Returned for rework with a 2, answered again and accepted with a 4.
        item = make_request(directory, status=S.ANSWERED, co_departments=co_departments)
        services.deputy_request_evaluate(
            pk=item.pk, by=directory.alice.user, decision="rework", rating=2, comment="Отписка"
        )
        answer(directory, item)
        services.deputy_request_evaluate(
            pk=item.pk, by=directory.alice.user, decision="accept", rating=4
        )
        return Prepared(refresh(item))
    if state == "with_clarification":
        item = make_request(directory, status=S.IN_PROGRESS, co_departments=co_departments)
        services.deputy_request_clarify(
            pk=item.pk, by=directory.finance_exec, question="Уточните адрес"
        )
        return Prepared(refresh(item))
    if state == "with_extension":
        item = make_request(directory, status=S.IN_PROGRESS, co_departments=co_departments)
        assert item.due_date is not None
        extension = services.deputy_request_extension_ask(
            pk=item.pk,
            by=directory.finance_exec,
            new_due_date=item.due_date + datetime.timedelta(days=7),
            reason="Экспертиза",
        )
        return Prepared(refresh(item), extension_id=extension.pk)
    return Prepared(make_request(directory, status=state, co_departments=co_departments))


def snapshot(item: DeputyRequest) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    row = refresh(item)
    return {
        "requests": DeputyRequest.objects.count(),
        "status": row.status,
        "version": row.version,
        "lead_department": row.lead_department_id,
        "executor": row.executor_id,
        "due_date": row.due_date,
        "rating": row.rating,
        "request_rating": row.request_rating,
        "title": row.title,
        "responses": list(Response.objects.filter(request=row).values_list("id", "status")),
        "extensions": list(Extension.objects.for_item(row).values_list("id", "status")),
        "messages": Message.objects.for_item(row).count(),
        "attachments": Attachment.objects.for_item(row).count(),
        "clarifications": list(
            Clarification.objects.filter(request=row).values_list("id", "answered_at")
        ),
        "paused_since": row.paused_since,
    }


def call(directory: DemoDirectory, persona: str, name: str, prepared: Prepared) -> Any:
    endpoint = ENDPOINTS[name]
    body = endpoint.body(directory)
    if body.get("category") == "category":
        body["category"] = category().pk
    if body.get("new_due_date") == "due+7":
        assert prepared.item.due_date is not None
        body["new_due_date"] = (prepared.item.due_date + datetime.timedelta(days=7)).isoformat()
    path = "/api/v1/requests/" + endpoint.path.format(
        pk=prepared.item.pk, rid=prepared.response_id, eid=prepared.extension_id
    )
    client = client_for(directory, persona)
    method = getattr(client, endpoint.method)
    if endpoint.method == "get":
        return method(path)
    return method(path, body, format="multipart" if endpoint.multipart else "json")


@pytest.mark.parametrize(("persona", "endpoint", "expected"), expand(TABLE))
def test_each_persona_gets_the_declared_status(
    directory: DemoDirectory, persona: str, endpoint: str, expected: int
) -> None:
    prepared = prepare(directory, ENDPOINTS[endpoint].state)
    before = snapshot(prepared.item)
    result = call(directory, persona, endpoint, prepared)
    assert result.status_code == expected, result.content
    if expected >= 400:
        assert snapshot(prepared.item) == before
        assert "detail" in result.json()


# --- A co-executor department ----------------------------------------------------------

# fmt: off
#: The request is routed to finance with mobility as a co-executor: mobility sees it,
#: talks in the thread and rates the request, but neither answers nor approves.
#                        alice bob  f_head f_exec m_head m_exec staff chair admin anon
CO_EXECUTOR_TABLE: list[tuple[str, int, int, int, int, int, int, int, int, int, int]] = [
    ("detail",            200, 404, 200,   200,   200,   200,   200,  200,  200,  401),
    ("messages_list",     200, 404, 200,   200,   200,   200,   200,  200,  200,  401),
    ("messages_create",   201, 404, 201,   201,   201,   201,   201,  403,  403,  401),
    ("attachments_create", 201, 404, 201,  201,   201,   201,   201,  403,  403,  401),
    ("responses_create",  403, 404, 201,   201,   403,   403,   403,  403,  403,  401),
    ("response_approve",  403, 404, 200,   403,   403,   403,   403,  403,  403,  401),
    ("assign",            403, 404, 200,   403,   403,   403,   403,  403,  403,  401),
    ("redirect",          403, 404, 200,   200,   403,   403,   403,  403,  403,  401),
    ("reroute",           403, 404, 403,   403,   403,   403,   200,  403,  403,  401),
    ("clarification",     403, 404, 200,   200,   403,   403,   403,  403,  403,  401),
    ("extensions_create", 403, 404, 201,   201,   403,   403,   403,  403,  403,  401),
    ("rate_request",      403, 404, 200,   200,   200,   200,   403,  403,  403,  401),
    ("evaluations",       200, 404, 200,   200,   200,   200,   200,  200,  200,  401),
]
# fmt: on


@pytest.mark.parametrize(("persona", "endpoint", "expected"), expand(CO_EXECUTOR_TABLE, "co:"))
def test_a_co_executor_department_sees_and_talks_but_does_not_answer(
    directory: DemoDirectory, persona: str, endpoint: str, expected: int
) -> None:
    prepared = prepare(directory, ENDPOINTS[endpoint].state, co_departments=(directory.mobility,))
    before = snapshot(prepared.item)
    result = call(directory, persona, endpoint, prepared)
    assert result.status_code == expected, result.content
    if expected >= 400:
        assert snapshot(prepared.item) == before


# --- Published requests --------------------------------------------------------------------

# fmt: off
#: alice's submitted request, published: every deputy sees it and nobody else acts on it.
#                        alice bob  f_head f_exec m_head m_exec staff chair admin anon
PUBLIC_TABLE: list[tuple[str, int, int, int, int, int, int, int, int, int, int]] = [
    ("detail",            200, 200, 404,   404,   404,   404,   200,  200,  200,  401),
    ("withdraw",          200, 403, 404,   404,   404,   404,   403,  403,  403,  401),
    ("responses_list",    200, 200, 404,   404,   404,   404,   200,  200,  200,  401),
    ("evaluations",       200, 200, 404,   404,   404,   404,   200,  200,  200,  401),
    ("evaluate",          409, 403, 404,   404,   404,   404,   403,  403,  403,  401),
    # The request is public, its correspondence is not: thread, files, history.
    ("messages_list",     200, 404, 404,   404,   404,   404,   200,  200,  200,  401),
    ("messages_create",   201, 404, 404,   404,   404,   404,   201,  403,  403,  401),
    ("attachments_list",  200, 404, 404,   404,   404,   404,   200,  200,  200,  401),
    ("attachments_create", 201, 404, 404,  404,   404,   404,   201,  403,  403,  401),
    ("history",           200, 404, 404,   404,   404,   404,   200,  200,  200,  401),
]
# fmt: on


@pytest.mark.parametrize(("persona", "endpoint", "expected"), expand(PUBLIC_TABLE, "public:"))
def test_a_published_request_is_seen_by_every_deputy_but_only_its_author_acts(
    directory: DemoDirectory, persona: str, endpoint: str, expected: int
) -> None:
    item = make_request(directory, status=S.SUBMITTED, is_public=True)
    prepared = Prepared(item)
    before = snapshot(item)
    result = call(directory, persona, endpoint, prepared)
    assert result.status_code == expected, result.content
    if expected >= 400:
        assert snapshot(item) == before


def test_a_published_draft_is_still_its_authors_alone(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = make_request(directory, status=S.DRAFT, is_public=True)
    for user in (directory.bob.user, directory.staff, directory.chair, directory.finance_head):
        assert api_as(user).get(f"/api/v1/requests/{item.pk}/").status_code == 404
        listed = api_as(user).get("/api/v1/requests/?page_size=200").json()["results"]
        assert item.pk not in {row["id"] for row in listed}
    assert api_as(directory.alice.user).get(f"/api/v1/requests/{item.pk}/").status_code == 200


def test_a_co_author_sees_the_request_but_only_the_author_submits_it(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = make_request(directory, status=S.DRAFT, co_authors=[directory.bob])
    bob = api_as(directory.bob.user)
    assert bob.get(f"/api/v1/requests/{item.pk}/").status_code == 200
    assert bob.post(f"/api/v1/requests/{item.pk}/submit/").status_code == 403
    assert refresh(item).status == S.DRAFT


def test_deputies_see_only_sent_answers_and_the_department_sees_its_drafts(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    draft = draft_answer(directory, item, kind="interim", outcome=None)
    path = f"/api/v1/requests/{item.pk}/responses/"
    assert api_as(directory.alice.user).get(path).json() == []
    assert [r["id"] for r in api_as(directory.finance_exec).get(path).json()] == [draft.pk]
    detail = api_as(directory.alice.user).get(f"/api/v1/requests/{item.pk}/").json()
    assert detail["responses"] == []


def test_an_unknown_or_malformed_id_is_404(directory: DemoDirectory, api_as: Any) -> None:
    client = api_as(directory.staff)
    assert client.get("/api/v1/requests/999999/").status_code == 404
    assert client.get("/api/v1/requests/abc/").status_code == 404
    assert client.post("/api/v1/requests/999999/route/", {}, format="json").status_code == 404


# --- Lists show only the visible rows ------------------------------------------------------


@pytest.fixture
def requests_of_everyone(directory: DemoDirectory) -> dict[str, DeputyRequest]:
    d = directory
    return {
        "alice_draft": make_request(d, status=S.DRAFT),
        "alice_private_submitted": make_request(d, status=S.SUBMITTED),
        "alice_public_submitted": make_request(d, status=S.SUBMITTED, is_public=True),
        "alice_finance": make_request(d, status=S.IN_PROGRESS),
        "alice_finance_with_mobility": make_request(
            d, status=S.IN_PROGRESS, co_departments=[d.mobility]
        ),
        "bob_mobility": make_request(d, status=S.IN_PROGRESS, author=d.bob, lead=d.mobility),
        "bob_draft": make_request(d, status=S.DRAFT, author=d.bob),
        "bob_public_draft": make_request(d, status=S.DRAFT, author=d.bob, is_public=True),
        "bob_with_alice": make_request(d, status=S.SUBMITTED, author=d.bob, co_authors=[d.alice]),
        "alice_closed": make_request(d, status=S.CLOSED),
    }


ALL_REGISTERED = {
    "alice_private_submitted",
    "alice_public_submitted",
    "alice_finance",
    "alice_finance_with_mobility",
    "bob_mobility",
    "bob_with_alice",
    "alice_closed",
}
VISIBLE_IN_LIST: dict[str, set[str]] = {
    "alice": {
        "alice_draft",
        "alice_private_submitted",
        "alice_public_submitted",
        "alice_finance",
        "alice_finance_with_mobility",
        "bob_with_alice",
        "alice_closed",
    },
    "bob": {
        "alice_public_submitted",
        "bob_mobility",
        "bob_draft",
        "bob_public_draft",
        "bob_with_alice",
    },
    "finance_head": {"alice_finance", "alice_finance_with_mobility", "alice_closed"},
    "finance_exec": {"alice_finance", "alice_finance_with_mobility", "alice_closed"},
    "mobility_head": {"alice_finance_with_mobility", "bob_mobility"},
    "mobility_exec": {"alice_finance_with_mobility", "bob_mobility"},
    "staff": ALL_REGISTERED,
    "chair": ALL_REGISTERED,
    "admin": ALL_REGISTERED,
}


@pytest.mark.parametrize("persona", list(VISIBLE_IN_LIST))
def test_the_list_shows_each_persona_exactly_the_requests_it_may_see(
    directory: DemoDirectory, requests_of_everyone: dict[str, DeputyRequest], persona: str
) -> None:
    result = client_for(directory, persona).get("/api/v1/requests/?page_size=200")
    assert result.status_code == 200
    body = result.json()
    names = {pk: name for name, pk in ((n, r.pk) for n, r in requests_of_everyone.items())}
    seen = {names[row["id"]] for row in body["results"]}
    assert seen == VISIBLE_IN_LIST[persona]
    assert body["count"] == len(VISIBLE_IN_LIST[persona])
    for name, item in requests_of_everyone.items():
        code = client_for(directory, persona).get(f"/api/v1/requests/{item.pk}/").status_code
        assert code == (200 if name in VISIBLE_IN_LIST[persona] else 404), name


def test_the_list_is_closed_to_anonymous_callers(
    directory: DemoDirectory, requests_of_everyone: dict[str, DeputyRequest]
) -> None:
    result = APIClient().get("/api/v1/requests/")
    assert result.status_code == 401
    assert "results" not in result.json()
