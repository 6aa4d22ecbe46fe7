"""The ``/api/v1/requests/`` contract of ``docs/api.md``, end to end with the personas.

The full scenario (draft → submit → route → assign → final answer → approve →
rework → answer again → approve → accept with a rating → the department rates the
request) checks the fields ``docs/api.md`` names at every step; then bad input (always a
400 with field errors, never a 500), overdue items, filters, ordering and paging.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from maslikhat.accounts.models import Role
from maslikhat.core.deadlines import compute_due_date, get_rule
from requests_app import services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import (
    CategoryFactory,
    ConvocationFactory,
    DemoDirectory,
    DeputyFactory,
    DistrictFactory,
    UserFactory,
)
from tests.requests_helpers import answer, category, make_request, refresh

pytestmark = pytest.mark.django_db

S = RequestStatus
ALMATY = ZoneInfo("Asia/Almaty")
MONDAY = datetime.datetime(2026, 4, 13, 10, 0, tzinfo=ALMATY)
ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
NUMBER = re.compile(r"^DZ-\d{4}-\d{5}$")

#: Every field ``docs/api.md`` lists for a deputy request.
CONTRACT_FIELDS = {
    "id",
    "number",
    "title",
    "body",
    "proposed_solution",
    "category",
    "district",
    "address",
    "author",
    "co_authors",
    "lead_department",
    "co_departments",
    "executor",
    "status",
    "outcome",
    "is_public",
    "submitted_at",
    "routed_at",
    "due_date",
    "original_due_date",
    "answered_at",
    "closed_at",
    "is_overdue",
    "rework_count",
    "rating",
    "request_rating",
    "version",
}


def due_after(day: datetime.date) -> str:
    return compute_due_date(rule=get_rule("deputy_request"), start=day).due.isoformat()


def ok(result: Any, code: int = 200) -> dict[str, Any]:
    assert result.status_code == code, result.content
    body: dict[str, Any] = result.json()
    return body


def test_the_full_scenario_through_the_api(
    directory: DemoDirectory, api_as: Any, time_machine: Any
) -> None:
    d = directory
    time_machine.move_to(MONDAY)
    alice, staff = api_as(d.alice.user), api_as(d.staff)
    head, executor = api_as(d.finance_head), api_as(d.finance_exec)
    roads = category()
    medeu = DistrictFactory.create(code="medeu", name_ru="Медеуский район")
    versions: list[int] = []

    # 1. alice drafts, with bob as co-author.
    draft = ok(
        alice.post(
            "/api/v1/requests/",
            {
                "title": "Ремонт дороги на ул. Абая",
                "body": "Ямы на проезжей части.",
                "proposed_solution": "Включить в план ремонта.",
                "category": roads.pk,
                "district": medeu.pk,
                "address": "ул. Абая, 10",
                "co_authors": [d.bob.pk],
            },
            format="json",
        ),
        201,
    )
    assert set(draft) >= CONTRACT_FIELDS
    assert draft["status"] == S.DRAFT
    assert (draft["number"], draft["submitted_at"], draft["due_date"]) == (None, None, None)
    assert (draft["author"], draft["co_authors"]) == (d.alice.pk, [d.bob.pk])
    assert (draft["category"], draft["district"], draft["address"]) == (
        roads.pk,
        medeu.pk,
        "ул. Абая, 10",
    )
    assert (draft["is_public"], draft["is_overdue"], draft["rework_count"]) == (False, False, 0)
    assert (draft["rating"], draft["request_rating"], draft["outcome"]) == (None, None, None)
    assert "submit" in draft["available_actions"]
    pk = draft["id"]
    url = f"/api/v1/requests/{pk}/"
    versions.append(draft["version"])

    # 2. alice submits: a registration number.
    submitted = ok(alice.post(f"{url}submit/", {"version": draft["version"]}, format="json"))
    assert submitted["status"] == S.SUBMITTED
    assert NUMBER.match(submitted["number"]) and submitted["number"] == "DZ-2026-00001"
    assert submitted["submitted_at"].startswith("2026-04-13T10:00")
    assert submitted["submitted_at"].endswith("+05:00")  # Asia/Almaty
    versions.append(submitted["version"])

    # 3. staff route it to finance with mobility as co-executor: the clock starts.
    routed = ok(
        staff.post(
            f"{url}route/",
            {"lead_department": d.finance.pk, "co_departments": [d.mobility.pk]},
            format="json",
        )
    )
    assert routed["status"] == S.IN_PROGRESS
    assert (routed["lead_department"], routed["co_departments"]) == (
        d.finance.pk,
        [d.mobility.pk],
    )
    assert routed["routed_at"] is not None
    assert routed["due_date"] == routed["original_due_date"] == due_after(MONDAY.date())
    assert routed["is_overdue"] is False
    versions.append(routed["version"])

    # 4. the head assigns the executor.
    assigned = ok(head.post(f"{url}assign/", {"executor": d.finance_exec.pk}, format="json"))
    assert assigned["executor"] == d.finance_exec.pk
    versions.append(assigned["version"])

    # 5. the executor drafts a final answer; 6. the head approves it.
    time_machine.move_to(MONDAY + datetime.timedelta(days=3))
    answer = ok(
        executor.post(
            f"{url}responses/",
            {
                "kind": "final",
                "text": "Ремонт включён в план.",
                "outcome": "planned",
                "planned_date": "2026-09-01",
            },
            format="json",
        ),
        201,
    )
    assert (answer["kind"], answer["status"], answer["outcome"]) == ("final", "draft", "planned")
    assert answer["planned_date"] == "2026-09-01"
    answered = ok(head.post(f"{url}responses/{answer['id']}/approve/", {}, format="json"))
    assert answered["status"] == S.ANSWERED
    assert answered["outcome"] == "planned"
    assert answered["answered_at"].startswith("2026-04-16")
    assert answered["is_overdue"] is False
    assert [r["id"] for r in answered["responses"]] == [answer["id"]]
    versions.append(answered["version"])

    # 7. alice returns it for rework: a new due date from today, rework_count 1.
    time_machine.move_to(MONDAY + datetime.timedelta(days=8))
    rework = ok(
        alice.post(
            f"{url}evaluate/",
            {"decision": "rework", "comment": "Нет конкретных сроков"},
            format="json",
        )
    )
    assert rework["status"] == S.IN_PROGRESS
    assert rework["rework_count"] == 1
    assert rework["answered_at"] is None and rework["outcome"] is None
    assert rework["due_date"] == due_after((MONDAY + datetime.timedelta(days=8)).date())
    assert rework["due_date"] > routed["due_date"]
    versions.append(rework["version"])

    # 8. a second answer, approved.
    second = ok(
        executor.post(
            f"{url}responses/",
            {"kind": "final", "text": "Ремонт выполнен 30 апреля.", "outcome": "resolved"},
            format="json",
        ),
        201,
    )
    again = ok(head.post(f"{url}responses/{second['id']}/approve/", {}, format="json"))
    assert (again["status"], again["outcome"], again["rework_count"]) == (
        S.ANSWERED,
        "resolved",
        1,
    )
    versions.append(again["version"])

    # 9. alice accepts with a rating of 4.
    closed = ok(alice.post(f"{url}evaluate/", {"decision": "accept", "rating": 4}, format="json"))
    assert (closed["status"], closed["rating"]) == (S.CLOSED, 4)
    assert closed["closed_at"] is not None
    assert closed["is_overdue"] is False
    versions.append(closed["version"])

    # 10. the department rates the request.
    rated = ok(
        executor.post(f"{url}rate-request/", {"rating": 5, "comment": "Чётко"}, format="json")
    )
    assert (rated["request_rating"], rated["rating"]) == (5, 4)
    versions.append(rated["version"])

    assert versions == sorted(set(versions)), versions
    assert versions[0] == 1 and len(versions) == 9

    # The detail, the co-author's view and the history agree.
    detail = ok(api_as(d.bob.user).get(url))
    assert set(detail) >= CONTRACT_FIELDS
    assert (detail["status"], detail["rating"], detail["request_rating"]) == (S.CLOSED, 4, 5)
    assert (detail["number"], detail["rework_count"]) == ("DZ-2026-00001", 1)
    history = ok(alice.get(f"{url}history/"))["results"]
    assert [e["action"] for e in history if e["from_status"] != e["to_status"]] == [
        "create",
        "submit",
        "route",
        "approve_final",
        "rework",
        "approve_final",
        "accept",
    ]
    assert {"assign", "response_drafted", "rate_request"} <= {e["action"] for e in history}
    assert all(e["actor"] is None or {"id", "name"} == set(e["actor"]) for e in history)


def test_list_rows_carry_the_contract_fields(directory: DemoDirectory, api_as: Any) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    body = ok(api_as(directory.staff).get("/api/v1/requests/"))
    assert {"count", "next", "previous", "results"} <= set(body)
    (row,) = body["results"]
    assert set(row) >= CONTRACT_FIELDS
    assert (row["id"], row["number"], row["status"]) == (item.pk, item.number, S.IN_PROGRESS)


# --- Bad input: 400 with field errors, never 500 ---------------------------------------------


def test_a_draft_without_its_fields_is_a_400_naming_them(
    directory: DemoDirectory, api_as: Any
) -> None:
    result = api_as(directory.alice.user).post("/api/v1/requests/", {}, format="json")
    assert result.status_code == 400
    assert {"title", "body", "category"} <= set(result.json())
    assert not DeputyRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": ["список"], "body": "текст", "category": "cat"}, {"title"}),
        ({"title": "t", "body": "текст", "category": "abc"}, {"category"}),
        ({"title": "t", "body": "текст", "category": "cat", "district": 999999}, {"district"}),
        ({"title": "t", "body": "текст", "category": "cat", "is_public": "maybe"}, {"is_public"}),
        ({"title": "t", "body": "текст", "category": "cat", "co_authors": "bob"}, {"co_authors"}),
        ({"title": "   ", "body": "текст", "category": "cat"}, {"title"}),
        ({"title": "x" * 301, "body": "текст", "category": "cat"}, {"title"}),
        ({"title": "t", "body": {"a": 1}, "category": "cat"}, {"body"}),
    ],
)
def test_a_draft_with_wrong_types_is_a_400_with_field_errors(
    directory: DemoDirectory, api_as: Any, body: dict[str, Any], fields: set[str]
) -> None:
    body = {k: (category().pk if v == "cat" else v) for k, v in body.items()}
    result = api_as(directory.alice.user).post("/api/v1/requests/", body, format="json")
    assert result.status_code == 400, result.content
    assert set(result.json()) == fields
    assert all(isinstance(m, list) and m for m in result.json().values())


def test_malformed_json_is_a_400_with_detail(directory: DemoDirectory, api_as: Any) -> None:
    result = api_as(directory.alice.user).post(
        "/api/v1/requests/", '{"title": "Ремонт", ', content_type="application/json"
    )
    assert result.status_code == 400
    assert result.json()["detail"]


BUG_REASON_MISSING = (
    "BUG: requests_app/serializers.py ReasonSerializer has reason required=False with no "
    "default, and services.deputy_request_decline / deputy_request_redirect take `reason` as a "
    "required keyword: POST decline/ or redirect/ without `reason` raises TypeError (a 500). "
    "Give the field default='' (or make `reason` required in the serializer)"
)


@pytest.mark.parametrize(
    ("state", "persona", "path"),
    [(S.SUBMITTED, "staff", "decline/"), (S.IN_PROGRESS, "finance_exec", "redirect/")],
)
def test_decline_or_redirect_without_a_reason_is_a_400_not_a_500(
    directory: DemoDirectory, api_as: Any, state: str, persona: str, path: str
) -> None:
    item = make_request(directory, status=state)
    client = api_as(getattr(directory, persona))
    result = client.post(f"/api/v1/requests/{item.pk}/{path}", {}, format="json")
    assert result.status_code == 400
    assert "reason" in result.json()
    assert refresh(item).status == state


@pytest.mark.parametrize(
    ("state", "persona", "path", "body", "field"),
    [
        (S.ANSWERED, "alice", "evaluate/", {"decision": "accept", "rating": 9}, "rating"),
        (S.ANSWERED, "alice", "evaluate/", {"decision": "accept", "rating": 0}, "rating"),
        (S.ANSWERED, "alice", "evaluate/", {"decision": "accept", "rating": "x"}, "rating"),
        (S.ANSWERED, "alice", "evaluate/", {"decision": "maybe", "rating": 4}, "decision"),
        (S.IN_PROGRESS, "finance_exec", "rate-request/", {"rating": 9}, "rating"),
        (S.SUBMITTED, "staff", "route/", {"lead_department": 999999}, "lead_department"),
        (S.SUBMITTED, "staff", "route/", {"lead_department": "finance"}, "lead_department"),
        (S.SUBMITTED, "staff", "route/", {}, "lead_department"),
        (
            S.SUBMITTED,
            "staff",
            "route/",
            {"lead_department": "id", "co_departments": [999999]},
            "co_departments",
        ),
        (S.IN_PROGRESS, "finance_head", "assign/", {"executor": 999999}, "executor"),
        (S.IN_PROGRESS, "finance_head", "assign/", {"executor": "mobility_exec"}, "executor"),
        (
            S.IN_PROGRESS,
            "finance_exec",
            "extensions/",
            {"new_due_date": "2026-13-45", "reason": "Экспертиза"},
            "new_due_date",
        ),
        (S.IN_PROGRESS, "finance_exec", "extensions/", {"new_due_date": "2027-01-01"}, "reason"),
        (S.IN_PROGRESS, "finance_exec", "responses/", {"kind": "final", "text": "Т"}, "outcome"),
        (S.IN_PROGRESS, "finance_exec", "responses/", {"kind": "other", "text": "Т"}, "kind"),
        (
            S.IN_PROGRESS,
            "finance_exec",
            "responses/",
            {"kind": "final", "text": "Т", "outcome": "planned", "planned_date": "2026-02-30"},
            "planned_date",
        ),
        (S.IN_PROGRESS, "finance_exec", "messages/", {"text": ""}, "text"),
        (S.IN_PROGRESS, "finance_exec", "messages/", {}, "text"),
        (S.IN_PROGRESS, "finance_exec", "redirect/", {"reason": ""}, "reason"),
        (S.SUBMITTED, "staff", "decline/", {"reason": " "}, "reason"),
        (S.IN_PROGRESS, "alice", "withdraw/", {}, "reason"),
        (S.IN_PROGRESS, "finance_exec", "rate-request/", {"rating": 4, "version": 0}, "version"),
        (S.IN_PROGRESS, "finance_exec", "rate-request/", {"rating": 4, "version": "x"}, "version"),
    ],
)
def test_a_bad_action_body_is_a_400_naming_the_field_and_changes_nothing(
    directory: DemoDirectory,
    api_as: Any,
    state: str,
    persona: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    item = make_request(directory, status=state)
    body = dict(body)
    if body.get("lead_department") == "id":
        body["lead_department"] = directory.finance.pk
    if body.get("executor") == "mobility_exec":
        body["executor"] = directory.mobility_exec.pk
    user = getattr(directory, persona)
    client = api_as(user if persona != "alice" else user.user)
    result = client.post(f"/api/v1/requests/{item.pk}/{path}", body, format="json")
    assert result.status_code == 400, result.content
    assert field in result.json(), result.json()
    after = refresh(item)
    assert (after.status, after.version) == (item.status, item.version)


@pytest.mark.parametrize(
    "query",
    [
        "due_before=2026-13-45",
        "due_after=yesterday",
        "submitted_after=2026-02-30",
        "submitted_before=2026-12-32",
        "status=bogus",
        "lead_department=abc",
        "author=999999",
        "category=abc",
        "district=-1",
        "convocation=abc",
    ],
)
def test_a_bad_filter_is_a_400_naming_it(directory: DemoDirectory, api_as: Any, query: str) -> None:
    result = api_as(directory.staff).get(f"/api/v1/requests/?{query}")
    assert result.status_code == 400, result.content
    assert query.split("=")[0] in result.json()


@pytest.mark.parametrize(
    "query",
    [
        "page_size=abc",
        "page_size=-1",
        "page_size=100000",
        "ordering=bogus",
        "ordering=-due_date,password",
        "is_overdue=maybe",
        "search=" + "%27%22%25" * 50,
        "lead_department=99999999999999999999",
        "page=99999999999999999999",
    ],
)
def test_odd_query_strings_never_500(directory: DemoDirectory, api_as: Any, query: str) -> None:
    make_request(directory, status=S.IN_PROGRESS)
    result = api_as(directory.staff).get(f"/api/v1/requests/?{query}")
    assert result.status_code in (200, 400, 404), result.content


def test_a_huge_executor_filter_is_not_a_500(directory: DemoDirectory, api_as: Any) -> None:
    result = api_as(directory.staff).get("/api/v1/requests/?executor=99999999999999999999")
    assert result.status_code in (200, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/requests/99999999999999999999/",
        "/api/v1/requests/0/",
        "/api/v1/requests/-1/history/",
    ],
)
def test_an_absurd_id_is_404(directory: DemoDirectory, api_as: Any, path: str) -> None:
    assert api_as(directory.staff).get(path).status_code == 404


# --- Overdue ---------------------------------------------------------------------------------


def test_an_in_progress_request_past_its_due_date_is_overdue(
    directory: DemoDirectory, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    late = make_request(directory, status=S.IN_PROGRESS, title="Просрочен")
    answered = make_request(directory, status=S.ANSWERED, title="Отвечен вовремя")
    fresh_day = MONDAY + datetime.timedelta(days=30)
    assert late.due_date is not None
    client = api_as(directory.staff)
    assert ok(client.get(f"/api/v1/requests/{late.pk}/"))["is_overdue"] is False
    time_machine.move_to(fresh_day)
    fresh = make_request(directory, status=S.IN_PROGRESS, title="Свежий")
    assert fresh_day.date() > late.due_date
    assert ok(client.get(f"/api/v1/requests/{late.pk}/"))["is_overdue"] is True
    assert ok(client.get(f"/api/v1/requests/{answered.pk}/"))["is_overdue"] is False
    overdue = ok(client.get("/api/v1/requests/?is_overdue=true"))["results"]
    assert [row["id"] for row in overdue] == [late.pk]
    assert overdue[0]["is_overdue"] is True
    not_overdue = {
        row["id"] for row in ok(client.get("/api/v1/requests/?is_overdue=false"))["results"]
    }
    assert not_overdue == {answered.pk, fresh.pk}


def test_an_answer_after_the_due_date_stays_overdue_answered_late(
    directory: DemoDirectory, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    time_machine.move_to(
        datetime.datetime.combine(item.due_date, datetime.time(10), ALMATY)
        + datetime.timedelta(days=2)
    )
    answer(directory, item)
    detail = ok(api_as(directory.staff).get(f"/api/v1/requests/{item.pk}/"))
    assert (detail["status"], detail["is_overdue"]) == (S.ANSWERED, True)
    listed = ok(api_as(directory.staff).get("/api/v1/requests/?is_overdue=true"))["results"]
    assert [row["id"] for row in listed] == [item.pk]


# --- Filters, ordering, paging -----------------------------------------------------------------


@pytest.fixture
def registry(directory: DemoDirectory, time_machine: Any) -> dict[str, Any]:
    """Four requests of different authors, departments, districts, categories, dates."""
    d = directory
    roads = CategoryFactory.create(code="roads", name_ru="Дороги")
    parks = CategoryFactory.create(code="parks", name_ru="Парки")
    medeu = DistrictFactory.create(code="medeu")
    almaly = DistrictFactory.create(code="almaly")
    seventh = ConvocationFactory.create(
        number=7, elected_on=datetime.date(2021, 1, 10), is_current=False
    )
    veteran = DeputyFactory.create(
        user=UserFactory.create(username="veteran", role=Role.DEPUTY), convocation=seventh
    )
    time_machine.move_to(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=ALMATY))
    old = make_request(d, status=S.SUBMITTED, author=veteran, category_obj=roads, title="в Жетысу")
    time_machine.move_to(datetime.datetime(2026, 4, 13, 10, 0, tzinfo=ALMATY))
    a = make_request(
        d, status=S.IN_PROGRESS, category_obj=roads, district=medeu, title="б Медеу дороги"
    )
    time_machine.move_to(datetime.datetime(2026, 4, 20, 10, 0, tzinfo=ALMATY))
    b = make_request(
        d,
        status=S.IN_PROGRESS,
        author=d.bob,
        lead=d.mobility,
        category_obj=parks,
        district=almaly,
        title="а Алмалы парк",
    )
    time_machine.move_to(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=ALMATY))
    c = make_request(d, status=S.SUBMITTED, category_obj=parks, title="г без района")
    return {
        "old": old,
        "a": a,
        "b": b,
        "c": c,
        "roads": roads,
        "parks": parks,
        "medeu": medeu,
        "almaly": almaly,
        "seventh": seventh,
    }


def listed(client: Any, query: str) -> list[int]:
    return [
        row["id"] for row in ok(client.get(f"/api/v1/requests/?page_size=200&{query}"))["results"]
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=submitted", {"old", "c"}),
        ("status=submitted&status=in_progress", {"old", "a", "b", "c"}),
        ("status=closed", set()),
        ("lead_department={finance}", {"a"}),
        ("lead_department={mobility}", {"b"}),
        ("author={alice}", {"a", "c"}),
        ("author={bob}", {"b"}),
        ("district={medeu}", {"a"}),
        ("category={parks}", {"b", "c"}),
        ("category={roads}&district={medeu}", {"a"}),
        ("convocation={seventh}", {"old"}),
        ("convocation={eighth}", {"a", "b", "c"}),
        ("submitted_after=2026-04-13", {"a", "b", "c"}),
        ("submitted_after=2026-04-14", {"b", "c"}),
        ("submitted_before=2026-04-13", {"old", "a"}),
        ("submitted_after=2026-04-01&submitted_before=2026-04-30", {"a", "b"}),
        ("due_before={due_a}", {"a"}),
        ("due_after={due_b}", {"b"}),
        ("due_after={due_a}&due_before={due_b}", {"a", "b"}),
    ],
)
def test_the_filters_of_api_md(
    directory: DemoDirectory,
    api_as: Any,
    registry: dict[str, Any],
    query: str,
    expected: set[str],
) -> None:
    d = directory
    values = {
        "finance": d.finance.pk,
        "mobility": d.mobility.pk,
        "alice": d.alice.pk,
        "bob": d.bob.pk,
        "medeu": registry["medeu"].pk,
        "parks": registry["parks"].pk,
        "roads": registry["roads"].pk,
        "seventh": registry["seventh"].pk,
        "eighth": d.convocation.pk,
        "due_a": registry["a"].due_date.isoformat(),
        "due_b": registry["b"].due_date.isoformat(),
    }
    assert registry["a"].due_date < registry["b"].due_date
    ids = {registry[name].pk: name for name in ("old", "a", "b", "c")}
    got = {ids[pk] for pk in listed(api_as(d.staff), query.format(**values))}
    assert got == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["c", "b", "a", "old"]),  # newest first by default
        ("submitted_at", ["old", "a", "b", "c"]),
        ("title", ["b", "a", "old", "c"]),
        ("-title", ["c", "old", "a", "b"]),
        ("number", ["old", "a", "b", "c"]),
        ("-number", ["c", "b", "a", "old"]),
    ],
)
def test_ordering_sorts_the_list_by_the_field_asked(
    directory: DemoDirectory,
    api_as: Any,
    registry: dict[str, Any],
    ordering: str,
    expected: list[str],
) -> None:
    ids = {registry[name].pk: name for name in ("old", "a", "b", "c")}
    got = listed(api_as(directory.staff), f"ordering={ordering}" if ordering else "")
    assert [ids[pk] for pk in got] == expected


def test_ordering_by_due_date_puts_the_earliest_first(
    directory: DemoDirectory, api_as: Any, registry: dict[str, Any]
) -> None:
    got = listed(api_as(directory.staff), "ordering=due_date&status=in_progress")
    assert got == [registry["a"].pk, registry["b"].pk]


def test_page_size_pages_through_the_list(
    directory: DemoDirectory, api_as: Any, registry: dict[str, Any]
) -> None:
    client = api_as(directory.staff)
    first = ok(client.get("/api/v1/requests/?page_size=3"))
    assert first["count"] == 4 and len(first["results"]) == 3
    assert first["previous"] is None and "page=2" in first["next"]
    assert "count_is_estimate" not in first
    second = ok(client.get(first["next"]))
    assert len(second["results"]) == 1
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert sorted(ids) == sorted(registry[n].pk for n in ("old", "a", "b", "c"))


def test_page_size_is_capped_at_200(directory: DemoDirectory, api_as: Any) -> None:
    kind = category()
    rows = [
        DeputyRequest(
            number=f"DZ-2025-{n:05d}",
            convocation=directory.convocation,
            author=directory.alice,
            title=f"Запрос {n}",
            body="Текст",
            category=kind,
            status=S.SUBMITTED,
        )
        for n in range(1, 206)
    ]
    DeputyRequest.objects.bulk_create(rows)
    body = ok(api_as(directory.staff).get("/api/v1/requests/?page_size=500"))
    assert body["count"] == 205
    assert len(body["results"]) == 200


def test_a_route_returns_the_updated_item_with_its_deadline(
    directory: DemoDirectory, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    item = make_request(directory, status=S.SUBMITTED)
    body = ok(
        api_as(directory.staff).post(
            f"/api/v1/requests/{item.pk}/route/",
            {"lead_department": directory.finance.pk},
            format="json",
        )
    )
    assert body["due_date"] == due_after(MONDAY.date())
    basis = body["due_date_basis"]
    assert (basis["rule"], basis["days"], basis["unit"]) == ("deputy_request", 15, "working")
    assert (basis["start"], basis["due"]) == ("2026-04-13", body["due_date"])
    assert body["version"] == item.version + 1


def test_a_redirect_through_the_api_answers_200_with_the_item_back_at_staff(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    result = api_as(directory.finance_exec).post(
        f"/api/v1/requests/{item.pk}/redirect/", {"reason": "Не наша компетенция"}, format="json"
    )
    assert refresh(item).status == S.SUBMITTED  # it happened…
    assert result.status_code == 200  # …and the caller is told so, not 404
    body = result.json()
    assert (body["status"], body["lead_department"], body["due_date"]) == (S.SUBMITTED, None, None)
    assert body["status_reason"] == "Не наша компетенция"


def test_a_redirected_request_can_be_routed_again_through_the_api(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    services.deputy_request_redirect(pk=item.pk, by=directory.finance_exec, reason="Не наше")
    assert api_as(directory.finance_exec).get(f"/api/v1/requests/{item.pk}/").status_code == 404
    body = ok(
        api_as(directory.staff).post(
            f"/api/v1/requests/{item.pk}/route/",
            {"lead_department": directory.mobility.pk},
            format="json",
        )
    )
    assert (body["status"], body["lead_department"]) == (S.IN_PROGRESS, directory.mobility.pk)
    assert api_as(directory.mobility_exec).get(f"/api/v1/requests/{item.pk}/").status_code == 200


def test_a_partial_update_changes_only_the_fields_sent(
    directory: DemoDirectory, api_as: Any
) -> None:
    medeu = DistrictFactory.create(code="medeu")
    item = make_request(directory, status=S.DRAFT, district=medeu, address="ул. Абая, 1")
    body = ok(
        api_as(directory.alice.user).patch(
            f"/api/v1/requests/{item.pk}/",
            {"title": "Новый заголовок", "is_public": True, "version": item.version},
            format="json",
        )
    )
    assert (body["title"], body["is_public"], body["version"]) == (
        "Новый заголовок",
        True,
        item.version + 1,
    )
    assert (body["district"], body["address"], body["body"]) == (medeu.pk, "ул. Абая, 1", item.body)


BUG_PATCH_DISTRICT = (
    "BUG: requests_app/services.py _apply_draft_fields: `if district is not None or address "
    "is not None: item.district = district` — PATCH {'address': …} alone wipes the district, "
    "and PATCH {'district': null} cannot clear it. Use a sentinel (e.g. UNSET) for 'not sent' "
    "and set district only when it was sent"
)


def test_patching_the_address_keeps_the_district(directory: DemoDirectory, api_as: Any) -> None:
    medeu = DistrictFactory.create(code="medeu")
    item = make_request(directory, status=S.DRAFT, district=medeu, address="ул. Абая, 1")
    body = ok(
        api_as(directory.alice.user).patch(
            f"/api/v1/requests/{item.pk}/", {"address": "ул. Абая, 2"}, format="json"
        )
    )
    assert (body["address"], body["district"]) == ("ул. Абая, 2", medeu.pk)


def test_patching_the_district_to_null_clears_it(directory: DemoDirectory, api_as: Any) -> None:
    medeu = DistrictFactory.create(code="medeu")
    item = make_request(directory, status=S.DRAFT, district=medeu)
    body = ok(
        api_as(directory.alice.user).patch(
            f"/api/v1/requests/{item.pk}/", {"district": None}, format="json"
        )
    )
    assert body["district"] is None


def test_an_extension_through_the_api_moves_due_date_and_keeps_original_due_date(
    directory: DemoDirectory, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(MONDAY)
    item = make_request(directory, status=S.IN_PROGRESS)
    assert item.due_date is not None
    url = f"/api/v1/requests/{item.pk}/"
    new_due = (item.due_date + datetime.timedelta(days=14)).isoformat()
    asked = ok(
        api_as(directory.finance_exec).post(
            f"{url}extensions/",
            {"new_due_date": new_due, "reason": "Нужна экспертиза"},
            format="json",
        ),
        201,
    )
    assert (asked["status"], asked["new_due_date"]) == ("pending", new_due)
    assert asked["previous_due_date"] == item.due_date.isoformat()
    decided = ok(
        api_as(directory.staff).post(
            f"{url}extensions/{asked['id']}/decide/", {"approve": True}, format="json"
        )
    )
    assert decided["due_date"] == new_due
    assert decided["original_due_date"] == item.due_date.isoformat()
    assert decided["version"] == item.version + 1
    assert [e["status"] for e in decided["extensions"]] == ["approved"]
    result = api_as(directory.alice.user).get(f"{url}extensions/")
    assert result.status_code == 200
    listed: list[dict[str, Any]] = result.json()
    assert [(e["id"], e["status"]) for e in listed] == [(asked["id"], "approved")]
