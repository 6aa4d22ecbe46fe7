"""The to-do home ("What awaits me") and ``GET /api/v1/me/todo/``: each person sees exactly
the items that need their action — never another deputy's, department's or executor's —
with the working days left or overdue, in a number of queries that does not grow with rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from instructions import services as instruction_services
from instructions.models import Instruction, InstructionStatus
from maslikhat.accounts.models import User
from maslikhat.core.deadlines import CalendarDay, CalendarDayKind, WorkingCalendar
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.items import ItemType
from maslikhat.directory.actors import actor_for
from reports.todo import GROUPS, PAGE_SIZE, todo_for
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, make_instruction, make_world
from tests.reports_helpers import bulk_requests, places
from tests.requests_helpers import make_request
from tests.todo_helpers import clarification, extension, past_due, todo_scene

pytestmark = pytest.mark.django_db

S = RequestStatus
IS = InstructionStatus


def mine(user: User) -> dict[str, set[tuple[str, int]]]:
    """``{group kind: {(type, id), …}}`` of the to-do of ``user`` (non-empty groups only)."""
    groups = todo_for(actor_for(user), timezone.localdate())
    return {g.kind: {(i.type, i.id) for i in g.items} for g in groups if g.count}


def req(item: DeputyRequest) -> tuple[str, int]:
    return (ItemType.REQUEST, item.pk)


def ins(item: Instruction) -> tuple[str, int]:
    return (ItemType.INSTRUCTION, item.pk)


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


@pytest.fixture
def scene(world: World) -> dict[str, Any]:
    return todo_scene(world)


def test_each_person_sees_exactly_their_pending_items(world: World, scene: dict[str, Any]) -> None:
    d, s = world.d, scene
    alice = mine(d.alice.user)
    assert alice["request_evaluations"] == {req(s["alice_answered"])}
    assert alice["request_drafts"] == {req(s["alice_draft"])}
    assert alice["request_clarifications"] == {req(s["alice_asked"])}
    assert alice["request_own_overdue"] == {req(s["alice_late"])}
    # Alice controls the finance instructions: the reported one waits for her decision.
    assert alice["instruction_reports_to_decide"] == {ins(s["ins_reported"])}

    bob = mine(d.bob.user)
    assert bob["request_evaluations"] == {req(s["bob_answered"])}
    assert bob["request_drafts"] == {req(s["bob_draft"])}
    assert bob["request_clarifications"] == {req(s["bob_asked"])}
    assert bob["request_own_overdue"] == {req(s["bob_late"])}
    assert "instruction_reports_to_decide" not in bob

    finance_exec = mine(d.finance_exec)
    assert finance_exec["request_assigned"] == {req(s["finance_assigned"])}
    assert finance_exec["request_drafts_returned"] == {req(s["returned"])}
    assert finance_exec["instruction_to_execute"] == {ins(s["ins_finance"])}
    assert finance_exec["instruction_returned"] == {ins(s["ins_returned"])}
    assert set(finance_exec) == {
        "request_assigned",
        "request_drafts_returned",
        "instruction_to_execute",
        "instruction_returned",
    }

    mobility_exec = mine(d.mobility_exec)
    assert mobility_exec["request_assigned"] == {req(s["mobility_assigned"])}
    # Mobility co-executes the finance instruction; the returned report is finance's.
    assert mobility_exec["instruction_to_execute"] == {ins(s["ins_finance"])}
    assert "request_drafts_returned" not in mobility_exec
    assert "instruction_returned" not in mobility_exec

    finance_head = mine(d.finance_head)
    assert finance_head["request_drafts_to_approve"] == {req(s["finance_draft_answer"])}
    assert finance_head["request_extensions_decided"] == {req(s["finance_extended"])}
    assert finance_head["request_department_overdue"] == {req(s["alice_late"])}
    assert finance_head["instruction_returned"] == {ins(s["ins_returned"])}
    finance_unassigned = finance_head["request_unassigned"]
    assert req(s["finance_assigned"]) not in finance_unassigned
    assert req(s["alice_asked"]) in finance_unassigned
    assert not {req(s["mobility_assigned"]), req(s["bob_late"])} & finance_unassigned
    assert "request_assigned" not in finance_head

    mobility_head = mine(d.mobility_head)
    assert mobility_head["request_drafts_to_approve"] == {req(s["mobility_draft_answer"])}
    assert mobility_head["request_extensions_decided"] == {req(s["mobility_extended"])}
    assert mobility_head["request_department_overdue"] == {req(s["bob_late"])}
    assert "instruction_returned" not in mobility_head

    energy_head = mine(world.energy_head)
    assert energy_head["instruction_department_overdue"] == {ins(s["ins_late"])}
    assert "request_unassigned" not in energy_head

    staff = mine(d.staff)
    assert staff["request_to_route"] == {req(s["submitted"])}
    assert staff["request_extensions_to_decide"] == {req(s["pending_extension"])}
    assert staff["instruction_extensions_to_decide"] == {ins(s["ins_pending"])}
    assert staff["instruction_reports_to_accept"] == {ins(s["ins_reported"])}
    assert staff["request_overdue"] == {req(s["alice_late"]), req(s["bob_late"])}
    assert staff["instruction_overdue"] == {ins(s["ins_late"])}

    chair = mine(d.chair)
    assert set(chair) == {
        "request_overdue_by_department",
        "instruction_overdue_by_department",
        "instruction_extensions_to_decide",
    }
    assert chair["request_overdue_by_department"] == {
        ("department", d.finance.pk),
        ("department", d.mobility.pk),
    }
    assert chair["instruction_overdue_by_department"] == {("department", world.energy.pk)}
    # An administrator acts on no item: no to-do.
    assert mine(d.admin) == {}


def test_the_chair_sees_overdue_counts_by_department(world: World, scene: dict[str, Any]) -> None:
    past_due(make_request(world.d, status=S.IN_PROGRESS))
    groups = {g.kind: g for g in todo_for(actor_for(world.d.chair), timezone.localdate())}
    requests = groups["request_overdue_by_department"]
    assert requests.count == 3
    rows = {item.id: item for item in requests.items}
    assert rows[world.d.finance.pk].count == 2
    assert rows[world.d.mobility.pk].count == 1
    assert requests.items[0].id == world.d.finance.pk  # the most overdue department first
    assert f"lead_department={world.d.finance.pk}" in rows[world.d.finance.pk].url
    assert "is_overdue=true" in requests.list_url


def test_the_api_answers_the_same_groups(
    world: World, scene: dict[str, Any], api_as: Callable[[User], APIClient]
) -> None:
    response = api_as(world.d.alice.user).get("/api/v1/me/todo/")
    assert response.status_code == 200
    groups = {g["kind"]: g for g in response.json()["groups"]}
    evaluations = groups["request_evaluations"]
    assert evaluations["count"] == 1
    [item] = evaluations["items"]
    answered = scene["alice_answered"]
    assert item["type"] == "request" and item["id"] == answered.pk
    assert item["number"] == answered.number
    assert item["status"] == S.ANSWERED
    assert item["url"] == f"/requests/{answered.pk}/"
    assert item["api_url"] == f"/api/v1/requests/{answered.pk}/"
    assert item["due_date"] == answered.evaluation_due_date.isoformat()
    assert item["days_left"] is not None and item["overdue_days"] is None
    assert evaluations["list_url"].startswith("/requests/?")
    late = groups["request_own_overdue"]["items"][0]
    assert late["overdue_days"] > 0 and late["days_left"] is None
    # Another deputy's items never appear.
    ids = {i["id"] for g in groups.values() for i in g["items"] if i["type"] == "request"}
    assert not ids & {scene["bob_answered"].pk, scene["bob_draft"].pk, scene["bob_late"].pk}


def test_an_anonymous_caller_gets_401(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/me/todo/").status_code == 401


def test_empty_groups_say_what_is_fine(directory: DemoDirectory) -> None:
    client = Client()
    client.force_login(directory.alice.user)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "What awaits me" in html
    assert "Nothing awaits your evaluation." in html
    assert "You have no unfinished drafts." in html
    groups = todo_for(actor_for(directory.alice.user), timezone.localdate())
    assert groups and all(g.count == 0 and g.items == [] for g in groups)


def test_the_home_page_lists_the_items_with_links_and_days(
    world: World, scene: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(world.d.staff)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert f'href="/requests/{scene["submitted"].pk}/"' in html
    assert f'href="/instructions/{scene["ins_reported"].pk}/"' in html
    assert "overdue by" in html and "working days" in html
    assert 'data-todo-group="request_to_route"' in html
    # "Show all" opens the registry filtered to the group.
    assert 'href="/requests/?status=submitted&amp;ordering=submitted_at"' in html
    # Groups holding overdue items come first.
    kinds = [g.kind for g in response.context["todo"]]
    assert kinds.index("request_overdue") < kinds.index("request_to_route")


# --- The working days: "N working days left" / "overdue by N working days" ------------------


def test_days_left_and_overdue_skip_weekends_and_holidays(directory: DemoDirectory) -> None:
    # Friday 2026-12-11; Monday 12-14 and Tuesday 12-15 decreed days off; Wednesday 12-16 is
    # Independence Day (a public holiday); Thursday 12-17 is the next working day.
    for day in (14, 15):
        CalendarDay.objects.create(
            date=datetime.date(2026, 12, day), kind=CalendarDayKind.DAY_OFF, name_ru="Перенос"
        )
    calendar = WorkingCalendar.load(datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    friday = datetime.date(2026, 12, 11)
    assert not calendar.is_working_day(datetime.date(2026, 12, 16))
    due_thursday = make_request(directory, status=S.IN_PROGRESS, title="До четверга")
    DeputyRequest.objects.filter(pk=due_thursday.pk).update(due_date=datetime.date(2026, 12, 17))
    due_friday = make_request(directory, status=S.IN_PROGRESS, title="До пятницы")
    DeputyRequest.objects.filter(pk=due_friday.pk).update(due_date=friday)

    def rows(today: datetime.date) -> dict[int, Any]:
        groups = todo_for(actor_for(directory.finance_head), today, calendar=calendar)
        overdue = next(g for g in groups if g.kind == "request_department_overdue")
        unassigned = next(g for g in groups if g.kind == "request_unassigned")
        return {i.id: i for i in [*unassigned.items, *overdue.items]}

    on_friday = rows(friday)
    # The weekend, two decreed days and the holiday pass: Thursday is 1 working day on.
    assert on_friday[due_thursday.pk].days_left == 1
    assert on_friday[due_thursday.pk].overdue_days is None
    assert on_friday[due_friday.pk].days_left == 0  # due today
    # Overdue since Friday: on Thursday one working day has passed (the 17th itself).
    on_thursday = rows(datetime.date(2026, 12, 17))
    assert on_thursday[due_friday.pk].overdue_days == 1
    assert on_thursday[due_friday.pk].days_left is None
    assert on_thursday[due_thursday.pk].days_left == 0
    # On the Saturday after the due date the item is overdue, by no working day yet.
    assert rows(datetime.date(2026, 12, 12))[due_friday.pk].overdue_days == 0
    on_next_friday = rows(datetime.date(2026, 12, 18))
    assert on_next_friday[due_friday.pk].overdue_days == 2
    assert on_next_friday[due_thursday.pk].overdue_days == 1


# --- Queries do not grow with rows --------------------------------------------------------


def _queries(run: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def _instructions(world: World, how_many: int) -> None:
    """Instructions in bulk for every department, some past due, some reported."""
    protocol = world.protocol
    template = make_instruction(world)
    rows = []
    today = timezone.localdate()
    for i in range(how_many):
        rows.append(
            Instruction(
                protocol=protocol,
                number=f"b{how_many}-{i}",
                convocation=template.convocation,
                text=f"Поручение {i}",
                lead_department=[world.d.finance, world.d.mobility, world.energy][i % 3],
                controller_deputy=world.d.alice,
                due_date=today + datetime.timedelta(days=i % 40 - 20),
                original_due_date=today,
                status=[IS.ON_CONTROL, IS.REPORTED, IS.RETURNED][i % 3],
                created_by=world.d.staff,
            )
        )
    Instruction.objects.bulk_create(rows)


@pytest.mark.parametrize("persona", ["alice", "finance_exec", "finance_head", "staff", "chair"])
def test_queries_do_not_grow_with_items(
    world: World, persona: str, api_as: Callable[[User], APIClient]
) -> None:
    user = world.user(persona)
    where = places()
    client = Client()
    client.force_login(user)
    counts = []
    for how_many in (10, 1000):
        bulk_requests(world.d, how_many, where, drafts=how_many // 10, with_answers=True)
        _instructions(world, how_many // 2)
        # A fresh user object each time: the actor cached on it would save a query.
        api = api_as(User.objects.get(pk=user.pk))
        page = _queries(lambda: client.get("/"))
        answer = _queries(partial(api.get, "/api/v1/me/todo/"))
        counts.append((page, answer))
    assert counts[0] == counts[1], counts
    groups = api.get("/api/v1/me/todo/").json()["groups"]
    assert any(g["count"] > PAGE_SIZE for g in groups)
    assert all(len(g["items"]) <= PAGE_SIZE for g in groups)


def test_every_group_is_declared_once() -> None:
    kinds = [group.kind for group in GROUPS]
    assert len(kinds) == len(set(kinds))
    assert all(group.roles for group in GROUPS)


def test_instruction_extension_decided_reaches_the_lead_head(world: World) -> None:
    item = make_instruction(world)
    ext = extension(item, ExtensionStatus.PENDING, world.d.finance_head)
    assert ins(item) in mine(world.d.staff)["instruction_extensions_to_decide"]
    Extension.objects.filter(pk=ext.pk).update(
        status=ExtensionStatus.APPROVED, decided_by=world.d.staff, decided_at=timezone.now()
    )
    assert mine(world.d.finance_head)["instruction_extensions_decided"] == {ins(item)}
    assert "instruction_extensions_decided" not in mine(world.d.mobility_head)
    assert "instruction_extensions_to_decide" not in mine(world.d.staff)
    # A report accepted leaves the controller's and staff's lists.
    instruction_services.instruction_report(
        pk=item.pk, by=world.d.finance_exec, text="Готово.", final=True
    )
    assert ins(item) in mine(world.d.staff)["instruction_reports_to_accept"]
    instruction_services.instruction_accept(pk=item.pk, by=world.d.staff)
    assert "instruction_reports_to_accept" not in mine(world.d.staff)


def test_staff_home_warns_when_the_working_calendar_lacks_a_year(
    directory: DemoDirectory,
) -> None:
    client = Client()
    client.force_login(directory.staff)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No decreed days" in html
    assert 'href="/calendar/"' in html
    # A deputy is never told about the calendar.
    client.force_login(directory.alice.user)
    assert "No decreed days" not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        CalendarDay.objects.create(
            date=datetime.date(year, 1, 2), kind=CalendarDayKind.DAY_OFF, name_ru="Перенос"
        )
    client.force_login(directory.staff)
    assert "No decreed days" not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_show_all_lists_exactly_the_group_where_a_filter_says_it(
    world: World, scene: dict[str, Any]
) -> None:
    """The "show all" list of these groups holds the group's items, no more."""
    exact = {
        "finance_head": ["request_unassigned", "request_department_overdue"],
        "finance_exec": ["request_assigned", "instruction_returned", "instruction_to_execute"],
        "alice": ["request_evaluations", "request_drafts", "request_own_overdue"],
        "staff": ["request_to_route", "request_overdue", "instruction_reports_to_accept"],
    }
    for persona, kinds in exact.items():
        user = world.user(persona)
        client = Client()
        client.force_login(user)
        groups = {g.kind: g for g in todo_for(actor_for(user), timezone.localdate())}
        for kind in kinds:
            group = groups[kind]
            response = client.get(group.list_url)
            assert response.status_code == 200, (persona, kind)
            listed = {row.pk for row in response.context["rows"]}
            assert listed == {item.id for item in group.items}, (persona, kind)


def test_a_stopped_clock_is_neither_counted_down_nor_overdue(
    world: World, api_as: Callable[[User], APIClient]
) -> None:
    d = world.d
    item = make_request(d, status=S.IN_PROGRESS, title="Ждёт уточнения")
    past_due(item)
    today = timezone.localdate()
    DeputyRequest.objects.filter(pk=item.pk).update(
        paused_since=today - datetime.timedelta(days=40)
    )
    clarification(item, d.finance_exec)
    alice = mine(d.alice.user)
    assert alice["request_clarifications"] == {req(item)}
    assert "request_own_overdue" not in alice
    assert "request_department_overdue" not in mine(d.finance_head)
    assert "request_overdue" not in mine(d.staff)
    groups = {g["kind"]: g for g in api_as(d.alice.user).get("/api/v1/me/todo/").json()["groups"]}
    [row] = groups["request_clarifications"]["items"]
    assert row["paused_since"] == (today - datetime.timedelta(days=40)).isoformat()
    assert row["days_left"] is None and row["overdue_days"] is None


# --- Counts stop at a bound: "1000+" ------------------------------------------------------


def test_a_count_above_the_limit_stops_there_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch, api_as: Callable[[User], APIClient]
) -> None:
    import reports.todo as todo_module

    for _ in range(4):
        past_due(make_request(world.d, status=S.IN_PROGRESS))
    monkeypatch.setattr(todo_module, "COUNT_LIMIT", 3)
    groups = {g.kind: g for g in todo_for(actor_for(world.d.staff), timezone.localdate())}
    overdue = groups["request_overdue"]
    assert (overdue.count, overdue.count_is_capped, overdue.count_label) == (3, True, "3+")
    assert len(overdue.items) == 4  # the page is not cut by the count's limit
    to_route = groups["request_to_route"]
    assert (to_route.count, to_route.count_is_capped, to_route.count_label) == (0, False, "0")

    body = {g["kind"]: g for g in api_as(world.d.staff).get("/api/v1/me/todo/").json()["groups"]}
    assert body["request_overdue"]["count"] == 3
    assert body["request_overdue"]["count_is_capped"] is True
    assert body["request_to_route"]["count_is_capped"] is False

    client = Client()
    client.force_login(world.d.staff)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Show all (3+)" in html
    monkeypatch.setattr(todo_module, "COUNT_LIMIT", 4)
    exact = {g.kind: g for g in todo_for(actor_for(world.d.staff), timezone.localdate())}
    assert (exact["request_overdue"].count, exact["request_overdue"].count_is_capped) == (4, False)


def test_extensions_to_decide_are_the_pending_ones_earliest_due_first(world: World) -> None:
    """The pending extensions' items, read by id, sorted by due date like every group."""
    d = world.d
    late = make_request(d, status=S.IN_PROGRESS, title="Позже")
    soon = make_request(d, status=S.IN_PROGRESS, title="Раньше")
    decided = make_request(d, status=S.IN_PROGRESS, title="Решено")
    today = timezone.localdate()
    DeputyRequest.objects.filter(pk=late.pk).update(due_date=today + datetime.timedelta(days=20))
    DeputyRequest.objects.filter(pk=soon.pk).update(due_date=today + datetime.timedelta(days=2))
    for item in (late, soon, decided):
        item.refresh_from_db()
    extension(late, ExtensionStatus.PENDING, d.finance_head)
    extension(soon, ExtensionStatus.PENDING, d.finance_head)
    extension(decided, ExtensionStatus.APPROVED, d.finance_head, decided_by=d.staff)
    first = make_instruction(world)
    second = make_instruction(world)
    Instruction.objects.filter(pk=first.pk).update(due_date=today + datetime.timedelta(days=9))
    Instruction.objects.filter(pk=second.pk).update(due_date=today + datetime.timedelta(days=1))
    for instruction in (first, second):
        instruction.refresh_from_db()
        extension(instruction, ExtensionStatus.PENDING, d.finance_head)
    groups = {g.kind: g for g in todo_for(actor_for(d.staff), today)}
    requests = groups["request_extensions_to_decide"]
    assert [i.id for i in requests.items] == [soon.pk, late.pk]
    assert requests.count == 2
    instructions = groups["instruction_extensions_to_decide"]
    assert [i.id for i in instructions.items] == [second.pk, first.pk]
    # The chair decides instructions' extensions too; none of the requests'.
    chair = {g.kind: g for g in todo_for(actor_for(d.chair), today)}
    assert [i.id for i in chair["instruction_extensions_to_decide"].items] == [second.pk, first.pk]
    assert "request_extensions_to_decide" not in chair


def test_reports_to_decide_reach_the_controlling_deputy_and_the_commission_chair(
    world: World,
) -> None:
    """A final report waits for the deputy who controls the instruction and for the chair
    of the controlling commission; for nobody else, and for nobody once decided."""
    by_commission = make_instruction(world, status=IS.REPORTED, controller_deputy=None)
    by_alice = make_instruction(world, status=IS.REPORTED, controller_commission=None)
    not_yet = make_instruction(world, controller_deputy=None)

    def decide(persona: str) -> set[tuple[str, int]]:
        return mine(world.user(persona)).get("instruction_reports_to_decide", set())

    assert decide("carol") == {ins(by_commission)}
    assert decide("alice") == {ins(by_alice)}
    assert decide("bob") == set()
    assert ins(not_yet) not in decide("carol")
    instruction_services.instruction_accept(pk=by_commission.pk, by=world.d.staff)
    assert decide("carol") == set()
