"""``/api/v1/meetings/``, ``/protocols/`` and ``/instructions/`` as ``docs/api.md`` describes them.

- the scenario of ``docs/api.md`` end to end, through the API only;
- the shapes: field names, the detail with reports, extensions, the deadline's basis
  and the caller's ``available_actions``; filters, search and ordering;
- periodic report dates (monthly, quarterly, month-end clamping) and the next one;
- when an instruction is overdue, and the departments' execution discipline;
- bad input anywhere is a 400 with field errors, never a 500.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from instructions import services
from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ReportPeriod,
    ReportStatus,
)
from instructions.selectors import (
    department_discipline,
    next_periodic_report_date,
    periodic_report_dates,
)
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import actor_for
from tests.factories import DemoDirectory
from tests.instruction_helpers import (
    World,
    create_instruction,
    make_instruction,
    make_protocol,
    make_world,
    pdf_upload,
    refresh,
    report_final,
)

pytestmark = pytest.mark.django_db

S = InstructionStatus
ALMATY = ZoneInfo("Asia/Almaty")
API = "/api/v1"


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=ALMATY)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


# --- The docs/api.md scenario, end to end -------------------------------------------------------


def test_the_instruction_scenario_of_the_api_contract_end_to_end(world: World, api_as: Any) -> None:
    d = world.d
    staff = api_as(d.staff)
    today = timezone.localdate()

    meeting = staff.post(
        f"{API}/meetings/",
        {
            "kind": "session",
            "date": today.isoformat(),
            "title": "Внеочередная сессия",
            "session_kind": "extraordinary",
            "location": "Зал сессий",
        },
        format="json",
    )
    assert meeting.status_code == 201, meeting.content
    assert meeting.json()["kind"] == "session"
    assert meeting.json()["session_kind"] == "extraordinary"
    assert meeting.json()["protocol_count"] == 0

    protocol = staff.post(
        f"{API}/protocols/",
        {
            "meeting": meeting.json()["id"],
            "number": "5",
            "date": today.isoformat(),
            "items": ["О состоянии дорог", "Об освещении улиц"],
        },
        format="json",
    )
    assert protocol.status_code == 201, protocol.content
    assert [(i["number"], i["title"]) for i in protocol.json()["items"]] == [
        (1, "О состоянии дорог"),
        (2, "Об освещении улиц"),
    ]
    first_item = protocol.json()["items"][0]["id"]

    due = today + datetime.timedelta(days=40)
    created = staff.post(
        f"{API}/instructions/",
        {
            "protocol": protocol.json()["id"],
            "item": first_item,
            "text": "Представить график ремонта дорог на 2027 год.",
            "lead_department": d.finance.pk,
            "co_departments": [d.mobility.pk],
            "controller_commission": world.commission.pk,
            "due_date": due.isoformat(),
            "report_period": "monthly",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["number"] == "1"
    assert body["status"] == S.ON_CONTROL
    assert (body["lead_department"], body["co_departments"]) == (d.finance.pk, [d.mobility.pk])
    assert (body["controller_commission"], body["controller_deputy"]) == (world.commission.pk, None)
    assert body["due_date"] == body["original_due_date"] == due.isoformat()
    assert body["due_date_basis"]["set_by_staff"] is True
    assert body["is_overdue"] is False
    assert body["version"] == 1

    finance_exec = api_as(d.finance_exec)
    interim = finance_exec.post(
        f"{API}/instructions/{pk}/reports/",
        {"text": "Обследовано 40% улиц.", "final": False, "version": 1},
        format="json",
    )
    assert interim.status_code == 201, interim.content
    assert (interim.json()["is_final"], interim.json()["status"]) == (False, "submitted")
    assert finance_exec.get(f"{API}/instructions/{pk}/").json()["status"] == S.ON_CONTROL

    final = finance_exec.post(
        f"{API}/instructions/{pk}/reports/", {"text": "График готов.", "final": True}, format="json"
    )
    assert final.status_code == 201, final.content
    reported = finance_exec.get(f"{API}/instructions/{pk}/").json()
    assert reported["status"] == S.REPORTED
    assert reported["reported_at"] is not None

    returned = staff.post(
        f"{API}/instructions/{pk}/return/",
        {"comment": "Нет разбивки по районам.", "version": reported["version"]},
        format="json",
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == S.RETURNED
    assert returned.json()["reported_at"] is None
    assert [r["status"] for r in returned.json()["reports"]] == ["submitted", "returned"]
    assert returned.json()["reports"][1]["comment"] == "Нет разбивки по районам."

    again = api_as(d.finance_head).post(
        f"{API}/instructions/{pk}/reports/",
        {"text": "График с разбивкой по районам.", "final": True},
        format="json",
    )
    assert again.status_code == 201, again.content

    accepted = staff.post(f"{API}/instructions/{pk}/accept/", {"comment": "Принято"}, format="json")
    assert accepted.status_code == 200, accepted.content
    done = accepted.json()
    assert done["status"] == S.EXECUTED
    assert done["executed_at"] is not None
    assert done["is_overdue"] is False
    assert done["available_actions"] == ["remove_from_control"]
    assert [(r["is_final"], r["status"]) for r in done["reports"]] == [
        (False, "submitted"),
        (True, "returned"),
        (True, "accepted"),
    ]

    history = staff.get(f"{API}/instructions/{pk}/history/").json()
    assert history["count"] == 6
    steps = [(e["action"], e["from_status"], e["to_status"]) for e in history["results"]]
    assert sorted(steps) == sorted(
        [
            ("create", "", "on_control"),
            ("report_interim", "on_control", "on_control"),
            ("report_final", "on_control", "reported"),
            ("return", "reported", "returned"),
            ("report_final", "returned", "reported"),
            ("accept", "reported", "executed"),
        ]
    )
    actors = {e["action"]: e["actor"]["id"] for e in history["results"]}
    assert actors["report_interim"] == d.finance_exec.pk
    assert actors["accept"] == d.staff.pk

    listed = staff.get(f"{API}/protocols/{protocol.json()['id']}/").json()
    assert listed["instruction_count"] == 1
    assert staff.get(f"{API}/meetings/{meeting.json()['id']}/").json()["protocol_count"] == 1


def test_the_thread_and_attachments_of_an_instruction(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    carol = api_as(world.carol.user)
    posted = carol.post(
        f"{API}/instructions/{item.pk}/messages/", {"text": "Когда будет график?"}, format="json"
    )
    assert posted.status_code == 201, posted.content
    uploaded = api_as(world.d.finance_exec).post(
        f"{API}/instructions/{item.pk}/attachments/", {"file": pdf_upload()}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.content
    messages = api_as(world.d.finance_head).get(f"{API}/instructions/{item.pk}/messages/").json()
    assert [m["text"] for m in messages["results"]] == ["Когда будет график?"]
    files = carol.get(f"{API}/instructions/{item.pk}/attachments/").json()
    assert [f["original_name"] for f in files["results"]] == ["report.pdf"]
    actions = [
        e["action"] for e in carol.get(f"{API}/instructions/{item.pk}/history/").json()["results"]
    ]
    assert "attachment_added" in actions


# --- Shapes, filters, search, ordering ----------------------------------------------------

LIST_FIELDS = {
    "id",
    "number",
    "protocol",
    "text",
    "lead_department",
    "co_departments",
    "controller_commission",
    "controller_deputy",
    "due_date",
    "original_due_date",
    "report_period",
    "status",
    "is_overdue",
    "version",
    "reported_at",
    "executed_at",
    "removal_reason",
    "next_report_date",
    "convocation",
}
DETAIL_FIELDS = LIST_FIELDS | {"reports", "extensions", "due_date_basis", "available_actions"}


def test_the_list_and_the_detail_have_the_contract_fields(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    client = api_as(world.d.staff)
    listed = client.get(f"{API}/instructions/").json()
    assert set(listed) >= {"count", "next", "previous", "results"}
    assert set(listed["results"][0]) >= LIST_FIELDS
    detail = client.get(f"{API}/instructions/{item.pk}/").json()
    assert set(detail) >= DETAIL_FIELDS
    meeting = client.get(f"{API}/meetings/").json()["results"][0]
    assert set(meeting) >= {
        "id",
        "kind",
        "session_kind",
        "date",
        "commission",
        "department",
        "title",
        "agenda",
        "location",
        "is_field_visit",
        "convocation",
        "protocol_count",
    }
    protocol = client.get(f"{API}/protocols/").json()["results"][0]
    assert set(protocol) >= {"id", "meeting", "number", "date", "items", "instruction_count"}


def test_without_a_due_date_the_deadline_rule_gives_it(world: World, api_as: Any) -> None:
    result = api_as(world.d.staff).post(
        f"{API}/instructions/",
        {
            "protocol": world.protocol.pk,
            "text": "Изучить вопрос",
            "lead_department": world.d.mobility.pk,
            "controller_deputy": world.d.bob.pk,
        },
        format="json",
    )
    assert result.status_code == 201, result.content
    body = result.json()
    assert body["due_date_basis"]["rule"] == services.INSTRUCTION_RULE
    assert body["due_date"] == body["due_date_basis"]["due"]
    due = datetime.date.fromisoformat(body["due_date"])
    assert due >= timezone.localdate() + datetime.timedelta(days=30)  # 30 calendar days
    assert body["report_period"] == ReportPeriod.NONE
    assert body["co_departments"] == []


def test_the_reports_and_extensions_sub_lists(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    services.instruction_report(pk=item.pk, by=world.d.mobility_exec, text="Наша часть")
    services.instruction_extension_ask(
        pk=item.pk,
        by=world.d.finance_head,
        new_due_date=item.due_date + datetime.timedelta(days=3),
        reason="Экспертиза",
    )
    client = api_as(world.d.alice.user)
    reports = client.get(f"{API}/instructions/{item.pk}/reports/").json()
    assert [(r["department"], r["text"]) for r in reports] == [(world.d.mobility.pk, "Наша часть")]
    assert reports[0]["submitted_by"]["id"] == world.d.mobility_exec.pk
    extensions = client.get(f"{API}/instructions/{item.pk}/extensions/").json()
    assert [(e["status"], e["reason"]) for e in extensions] == [("pending", "Экспертиза")]
    detail = api_as(world.d.chair).get(f"{API}/instructions/{item.pk}/").json()
    assert detail["available_actions"] == ["decide_extension"]


@pytest.fixture
def registry(world: World, time_machine: Any) -> dict[str, Instruction]:
    """Instructions of several departments, states and due dates (created on 1 March 2026)."""
    time_machine.move_to(at(datetime.date(2026, 3, 1)))
    d = world.d
    protocol = make_protocol(world, datetime.date(2026, 3, 1))
    second = make_protocol(world, datetime.date(2026, 3, 1), number="8")
    rows = {
        "roads": create_instruction(
            world,
            protocol=protocol,
            due_date=datetime.date(2026, 3, 20),
            text="Отремонтировать дороги Алатауского района",
        ),
        "lights": create_instruction(
            world,
            protocol=protocol,
            lead=d.mobility,
            co_departments=(d.finance,),
            due_date=datetime.date(2026, 4, 30),
            text="Установить освещение во дворах",
        ),
        "budget": create_instruction(
            world,
            protocol=second,
            lead=world.energy,
            co_departments=(),
            due_date=datetime.date(2026, 3, 10),
            text="Уточнить бюджет на отопление",
        ),
    }
    report_final(world, rows["lights"])
    return {name: refresh(item) for name, item in rows.items()}


def ids_of(result: Any) -> set[int]:
    assert result.status_code == 200, result.content
    return {row["id"] for row in result.json()["results"]}


def test_the_instruction_filters(
    world: World, api_as: Any, registry: dict[str, Instruction]
) -> None:
    client = api_as(world.d.staff)
    r = registry
    url = f"{API}/instructions/"
    assert ids_of(client.get(url)) == {i.pk for i in r.values()}
    assert ids_of(client.get(url, {"status": "reported"})) == {r["lights"].pk}
    both = client.get(f"{url}?status=reported&status=on_control")
    assert ids_of(both) == {i.pk for i in r.values()}
    assert ids_of(client.get(url, {"lead_department": world.d.finance.pk})) == {r["roads"].pk}
    # lead or co-executor
    assert ids_of(client.get(url, {"department": world.d.finance.pk})) == {
        r["roads"].pk,
        r["lights"].pk,
    }
    assert ids_of(client.get(url, {"protocol": r["budget"].protocol_id})) == {r["budget"].pk}
    assert ids_of(client.get(url, {"due_before": "2026-03-20"})) == {r["roads"].pk, r["budget"].pk}
    assert ids_of(client.get(url, {"due_after": "2026-03-11"})) == {r["roads"].pk, r["lights"].pk}
    assert ids_of(client.get(url, {"controller_deputy": world.d.alice.pk})) == {
        i.pk for i in r.values()
    }
    assert ids_of(client.get(url, {"meeting": world.meeting.pk})) == {i.pk for i in r.values()}


def test_search_finds_words_of_the_text_and_the_number(
    world: World, api_as: Any, registry: dict[str, Instruction]
) -> None:
    client = api_as(world.d.staff)
    url = f"{API}/instructions/"
    assert ids_of(client.get(url, {"search": "освещение дворах"})) == {registry["lights"].pk}
    assert ids_of(client.get(url, {"search": "отопление"})) == {registry["budget"].pk}
    assert ids_of(client.get(url, {"search": "метро"})) == set()
    numbered = client.get(url, {"search": registry["budget"].number})
    assert registry["budget"].pk in ids_of(numbered)


@pytest.mark.parametrize("field", ["due_date", "number", "status", "created_at", "updated_at"])
def test_the_list_orders_by_each_declared_field_both_ways(
    world: World, api_as: Any, registry: dict[str, Instruction], field: str
) -> None:
    client = api_as(world.d.staff)
    up = client.get(f"{API}/instructions/", {"ordering": field}).json()["results"]
    down = client.get(f"{API}/instructions/", {"ordering": f"-{field}"}).json()["results"]
    values = [row[field] for row in up]
    assert values == sorted(values)
    assert [row[field] for row in down] == sorted(values, reverse=True)


def test_the_default_order_is_by_due_date(
    world: World, api_as: Any, registry: dict[str, Instruction]
) -> None:
    rows = api_as(world.d.staff).get(f"{API}/instructions/").json()["results"]
    assert [row["id"] for row in rows] == [
        registry["budget"].pk,
        registry["roads"].pk,
        registry["lights"].pk,
    ]


def test_meetings_filter_search_and_order_by_date(world: World, api_as: Any) -> None:
    d = world.d
    hearing = services.meeting_create(
        by=d.staff,
        kind=MeetingKind.HEARING,
        date=datetime.date(2026, 2, 3),
        title="Заслушивание управления финансов",
        department=d.finance,
    )
    committee = services.meeting_create(
        by=d.staff,
        kind=MeetingKind.COMMISSION,
        date=datetime.date(2026, 1, 15),
        title="Заседание комиссии",
        commission=world.commission,
        is_field_visit=True,
    )
    client = api_as(d.mobility_exec)
    url = f"{API}/meetings/"
    assert ids_of(client.get(url, {"kind": "hearing"})) == {hearing.pk}
    assert ids_of(client.get(url, {"commission": world.commission.pk})) == {committee.pk}
    assert ids_of(client.get(url, {"is_field_visit": "true"})) == {committee.pk}
    assert ids_of(client.get(url, {"date_before": "2026-02-01"})) == {committee.pk}
    assert ids_of(client.get(url, {"search": "финансов"})) == {hearing.pk}
    up = [row["id"] for row in client.get(url, {"ordering": "date"}).json()["results"]]
    assert up == [committee.pk, hearing.pk, world.meeting.pk]
    default = [row["id"] for row in client.get(url).json()["results"]]
    assert default == [world.meeting.pk, hearing.pk, committee.pk]


def test_protocols_filter_by_meeting_and_number(world: World, api_as: Any) -> None:
    other = make_protocol(world, timezone.localdate(), number="99")
    client = api_as(world.d.bob.user)
    url = f"{API}/protocols/"
    assert ids_of(client.get(url, {"meeting": world.meeting.pk})) == {world.protocol.pk, other.pk}
    assert ids_of(client.get(url, {"number": "99"})) == {other.pk}
    assert ids_of(client.get(url, {"search": "99"})) == {other.pk}


def test_search_ignores_the_case_of_cyrillic_words(
    world: World, api_as: Any, registry: dict[str, Instruction]
) -> None:
    client = api_as(world.d.staff)
    found = ids_of(client.get(f"{API}/instructions/", {"search": "Отопление"}))
    assert found == {registry["budget"].pk}
    meetings = ids_of(client.get(f"{API}/meetings/", {"search": "очередная"}))
    assert meetings == {world.meeting.pk}


# --- Periodic reports --------------------------------------------------------------------


def test_monthly_report_dates_run_from_the_start_until_the_due_date() -> None:
    dates = periodic_report_dates(
        start=datetime.date(2026, 3, 10), due=datetime.date(2026, 7, 10), period="monthly"
    )
    assert dates == [
        datetime.date(2026, 4, 10),
        datetime.date(2026, 5, 10),
        datetime.date(2026, 6, 10),
    ]  # the final report is due on 10 July itself


def test_quarterly_report_dates_run_every_three_months() -> None:
    dates = periodic_report_dates(
        start=datetime.date(2026, 1, 15), due=datetime.date(2026, 12, 31), period="quarterly"
    )
    assert dates == [
        datetime.date(2026, 4, 15),
        datetime.date(2026, 7, 15),
        datetime.date(2026, 10, 15),
    ]


def test_report_dates_clamp_to_the_end_of_short_months_without_drifting() -> None:
    dates = periodic_report_dates(
        start=datetime.date(2026, 1, 31), due=datetime.date(2026, 6, 1), period="monthly"
    )
    assert dates == [
        datetime.date(2026, 2, 28),  # 31 January + 1 month
        datetime.date(2026, 3, 31),  # not 28 March: counted from the start, not the last date
        datetime.date(2026, 4, 30),
        datetime.date(2026, 5, 31),
    ]
    leap = periodic_report_dates(
        start=datetime.date(2027, 11, 30), due=datetime.date(2028, 3, 1), period="quarterly"
    )
    assert leap == [datetime.date(2028, 2, 29)]


@pytest.mark.parametrize("period", [ReportPeriod.NONE, "yearly", ""])
def test_there_are_no_periodic_dates_without_a_period(period: str) -> None:
    assert (
        periodic_report_dates(
            start=datetime.date(2026, 1, 1), due=datetime.date(2026, 12, 31), period=period
        )
        == []
    )


def test_the_next_periodic_report_date_follows_the_calendar(
    world: World, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(at(datetime.date(2026, 1, 31)), tick=False)
    protocol = make_protocol(world, datetime.date(2026, 1, 31))
    item = create_instruction(
        world, protocol=protocol, due_date=datetime.date(2026, 5, 15), report_period="monthly"
    )
    plain = create_instruction(world, protocol=protocol, due_date=datetime.date(2026, 5, 15))
    expected = {
        datetime.date(2026, 2, 10): datetime.date(2026, 2, 28),
        datetime.date(2026, 2, 28): datetime.date(2026, 2, 28),  # on the day itself
        datetime.date(2026, 3, 1): datetime.date(2026, 3, 31),
        datetime.date(2026, 4, 30): datetime.date(2026, 4, 30),
        datetime.date(2026, 5, 1): None,  # only the final report is left (15 May)
    }
    client = api_as(world.d.finance_exec)
    for day, next_date in expected.items():
        time_machine.move_to(at(day), tick=False)
        assert next_periodic_report_date(refresh(item), day) == next_date, day
        body = client.get(f"{API}/instructions/{item.pk}/").json()
        assert body["next_report_date"] == (next_date.isoformat() if next_date else None), day
        assert client.get(f"{API}/instructions/{plain.pk}/").json()["next_report_date"] is None
    time_machine.move_to(at(datetime.date(2026, 3, 5)), tick=False)
    report_final(world, item)
    assert next_periodic_report_date(refresh(item), datetime.date(2026, 3, 5)) is None


# --- Overdue ------------------------------------------------------------------------------

DUE = datetime.date(2026, 3, 20)


def overdue_ids(client: Any, value: str) -> set[int]:
    return ids_of(client.get(f"{API}/instructions/", {"is_overdue": value, "page_size": 200}))


@pytest.fixture
def protocol_of_march(world: World, time_machine: Any) -> Protocol:
    time_machine.move_to(at(datetime.date(2026, 3, 2)))
    return make_protocol(world, datetime.date(2026, 3, 2))


def test_an_open_instruction_past_its_due_date_is_overdue(
    world: World, api_as: Any, time_machine: Any, protocol_of_march: Protocol
) -> None:
    on_control = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    returned = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    report_final(world, returned)
    services.instruction_return(pk=returned.pk, by=world.d.staff, comment="Дополните")
    client = api_as(world.d.staff)
    time_machine.move_to(at(DUE))
    assert overdue_ids(client, "true") == set()  # due today: not yet
    time_machine.move_to(at(DUE + datetime.timedelta(days=1)))
    assert overdue_ids(client, "true") == {on_control.pk, returned.pk}
    assert overdue_ids(client, "false") == set()
    for item in (on_control, returned):
        assert client.get(f"{API}/instructions/{item.pk}/").json()["is_overdue"] is True
        assert refresh(item).is_overdue is True


def test_a_report_before_the_due_date_is_not_overdue_even_after_it(
    world: World, api_as: Any, time_machine: Any, protocol_of_march: Protocol
) -> None:
    awaiting = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    executed = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    time_machine.move_to(at(DUE, hour=18))  # on the due date itself
    report_final(world, awaiting)
    report_final(world, executed)
    time_machine.move_to(at(DUE + datetime.timedelta(days=10)))
    services.instruction_accept(pk=executed.pk, by=world.d.staff)
    client = api_as(world.d.staff)
    assert overdue_ids(client, "true") == set()
    assert overdue_ids(client, "false") == {awaiting.pk, executed.pk}
    for item in (awaiting, executed):
        assert client.get(f"{API}/instructions/{item.pk}/").json()["is_overdue"] is False
        assert refresh(item).is_overdue is False


def test_an_accepted_report_submitted_after_the_due_date_stays_overdue(
    world: World, api_as: Any, time_machine: Any, protocol_of_march: Protocol
) -> None:
    item = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    time_machine.move_to(at(DUE + datetime.timedelta(days=1), hour=0))  # just after midnight
    report_final(world, item)
    services.instruction_accept(pk=item.pk, by=world.d.staff)
    client = api_as(world.d.staff)
    assert refresh(item).status == S.EXECUTED
    assert overdue_ids(client, "true") == {item.pk}
    assert client.get(f"{API}/instructions/{item.pk}/").json()["is_overdue"] is True
    assert refresh(item).is_overdue is True  # the model says the same without the annotation


def test_an_instruction_removed_from_control_is_never_overdue(
    world: World, api_as: Any, time_machine: Any, protocol_of_march: Protocol
) -> None:
    open_one = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    late_one = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    time_machine.move_to(at(DUE + datetime.timedelta(days=5)))
    report_final(world, late_one)
    for item in (open_one, late_one):
        services.instruction_remove_from_control(pk=item.pk, by=world.d.staff, reason="Снято")
    client = api_as(world.d.staff)
    assert overdue_ids(client, "true") == set()
    for item in (open_one, late_one):
        assert client.get(f"{API}/instructions/{item.pk}/").json()["is_overdue"] is False
        assert refresh(item).is_overdue is False


def test_an_approved_extension_moves_the_overdue_line(
    world: World, api_as: Any, time_machine: Any, protocol_of_march: Protocol
) -> None:
    item = create_instruction(world, protocol=protocol_of_march, due_date=DUE)
    extension = services.instruction_extension_ask(
        pk=item.pk,
        by=world.d.finance_head,
        new_due_date=DUE + datetime.timedelta(days=10),
        reason="Экспертиза",
    )
    services.instruction_extension_decide(
        pk=item.pk, extension_id=extension.pk, by=world.d.staff, approve=True
    )
    time_machine.move_to(at(DUE + datetime.timedelta(days=5)))
    client = api_as(world.d.staff)
    assert overdue_ids(client, "true") == set()
    body = client.get(f"{API}/instructions/{item.pk}/").json()
    assert (body["is_overdue"], body["original_due_date"]) == (False, DUE.isoformat())


def test_department_discipline_counts_on_time_late_and_open_overdue(
    world: World, api_as: Any, time_machine: Any, protocol_of_march: Protocol
) -> None:
    """A hand-made set, as of 1 April 2026 (everything below was due on 20 March).

    A final report counts by the day it came in (``reported_at``), accepted or still
    awaiting the controller; a returned one counts nowhere until the department reports
    again; an instruction removed from control counts in the total only.
    """
    d = world.d

    def new(lead: Any = None) -> Instruction:
        return create_instruction(
            world, protocol=protocol_of_march, due_date=DUE, lead=lead, co_departments=()
        )

    fin_on_time, fin_awaiting, fin_late = new(), new(), new()
    fin_open_overdue, fin_returned_overdue, fin_removed = new(), new(), new()
    mob_late_awaiting, mob_open = new(d.mobility), new(d.mobility)
    fin_not_due = create_instruction(
        world, protocol=protocol_of_march, due_date=datetime.date(2026, 5, 1), co_departments=()
    )

    time_machine.move_to(at(datetime.date(2026, 3, 18)))
    report_final(world, fin_on_time)
    report_final(world, fin_awaiting)  # on time, awaiting the controller's decision
    report_final(world, fin_returned_overdue)
    services.instruction_return(pk=fin_returned_overdue.pk, by=d.staff, comment="Дополните")
    services.instruction_accept(pk=fin_on_time.pk, by=d.staff)

    time_machine.move_to(at(datetime.date(2026, 3, 25)))
    report_final(world, fin_late)
    services.instruction_accept(pk=fin_late.pk, by=d.staff)
    report_final(world, mob_late_awaiting)
    report_final(world, fin_removed)  # late, then removed: counts nowhere
    services.instruction_remove_from_control(pk=fin_removed.pk, by=d.staff, reason="Снято")
    mob_extended = services.instruction_extension_ask(
        pk=mob_open.pk,
        by=d.mobility_head,
        new_due_date=datetime.date(2026, 4, 10),
        reason="Подрядчик",
    )
    services.instruction_extension_decide(
        pk=mob_open.pk, extension_id=mob_extended.pk, by=d.chair, approve=True
    )

    time_machine.move_to(at(datetime.date(2026, 4, 1)))
    assert fin_open_overdue.status == fin_not_due.status == S.ON_CONTROL
    expected = {
        d.finance.pk: {"total": 7, "on_time": 2, "late": 1, "open_overdue": 2, "on_control": 3},
        d.mobility.pk: {"total": 2, "on_time": 0, "late": 1, "open_overdue": 0, "on_control": 1},
    }
    rows = department_discipline(actor=actor_for(d.staff))
    assert {
        row["lead_department"]: {k: row[k] for k in expected[d.finance.pk]} for row in rows
    } == expected
    api_rows = api_as(d.staff).get(f"{API}/instructions/discipline/").json()["results"]
    assert [row["lead_department"] for row in api_rows] == [d.finance.pk, d.mobility.pk]
    assert {row["lead_department_code"] for row in api_rows} == {"finance", "mobility"}
    for row in api_rows:
        assert {k: row[k] for k in expected[d.finance.pk]} == expected[row["lead_department"]]
    # A department sees its own row only.
    mobility_rows = api_as(d.mobility_exec).get(f"{API}/instructions/discipline/").json()
    assert [row["lead_department"] for row in mobility_rows["results"]] == [d.mobility.pk]
    assert ExecutionReport.objects.filter(status=ReportStatus.ACCEPTED).count() == 2


# --- Bad input: 400 with field errors, never 500 --------------------------------------------


def instruction_body(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "protocol": world.protocol.pk,
        "text": "Подготовить отчёт",
        "lead_department": world.d.finance.pk,
        "co_departments": [world.d.mobility.pk],
        "controller_commission": world.commission.pk,
        "due_date": (timezone.localdate() + datetime.timedelta(days=20)).isoformat(),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


BAD_INSTRUCTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "no controller": ({"controller_commission": ...}, "controller_commission"),
    "null controllers": (
        {"controller_commission": None, "controller_deputy": None},
        "controller_commission",
    ),
    "unknown lead department": ({"lead_department": 999999}, "lead_department"),
    "lead department as text": ({"lead_department": "finance"}, "lead_department"),
    "unknown co-executor": ({"co_departments": [999999]}, "co_departments"),
    "co-executors not a list": ({"co_departments": "mobility"}, "co_departments"),
    "unknown commission": ({"controller_commission": 999999}, "controller_commission"),
    "unknown deputy": ({"controller_deputy": 999999}, "controller_deputy"),
    "unknown protocol": ({"protocol": 999999}, "protocol"),
    "no protocol": ({"protocol": ...}, "protocol"),
    "no text": ({"text": ...}, "text"),
    "blank text": ({"text": "   "}, "text"),
    "text too long": ({"text": "я" * 20_001}, "text"),
    "impossible due date": ({"due_date": "2026-13-45"}, "due_date"),
    "due date in dd.mm.yyyy": ({"due_date": "31.12.2026"}, "due_date"),
    "due date before the protocol": ({"due_date": "2000-01-01"}, "due_date"),
    "unknown report period": ({"report_period": "weekly"}, "report_period"),
    "number too long": ({"number": "1" * 21}, "number"),
    "unknown protocol item": ({"item": 999999}, "item"),
}


@pytest.mark.parametrize("case", list(BAD_INSTRUCTIONS))
def test_a_bad_instruction_is_400_with_the_field_and_nothing_is_created(
    world: World, api_as: Any, case: str
) -> None:
    changes, field = BAD_INSTRUCTIONS[case]
    result = api_as(world.d.staff).post(
        f"{API}/instructions/", instruction_body(world, **changes), format="json"
    )
    assert result.status_code == 400, result.content
    assert field in result.json(), result.json()
    assert Instruction.objects.count() == 0


def test_an_item_of_another_protocol_is_400(world: World, api_as: Any) -> None:
    other = make_protocol(world, timezone.localdate())
    foreign_item = other.items.get()
    result = api_as(world.d.staff).post(
        f"{API}/instructions/", instruction_body(world, item=foreign_item.pk), format="json"
    )
    assert result.status_code == 400
    assert list(result.json()) == ["item"]


def test_a_duplicate_instruction_number_is_400(world: World, api_as: Any) -> None:
    client = api_as(world.d.staff)
    first = client.post(f"{API}/instructions/", instruction_body(world, number="3"), format="json")
    assert first.status_code == 201
    again = client.post(f"{API}/instructions/", instruction_body(world, number="3"), format="json")
    assert again.status_code == 400
    assert list(again.json()) == ["number"]
    assert Instruction.objects.count() == 1


def test_an_inactive_lead_department_is_400(world: World, api_as: Any) -> None:
    world.energy.is_active = False
    world.energy.save(update_fields=["is_active"])
    result = api_as(world.d.staff).post(
        f"{API}/instructions/",
        instruction_body(world, lead_department=world.energy.pk),
        format="json",
    )
    assert result.status_code == 400
    assert list(result.json()) == ["lead_department"]


BAD_MEETINGS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown kind": ({"kind": "party", "date": "2026-03-01", "title": "Т"}, "kind"),
    "commission meeting without commission": (
        {"kind": "commission", "date": "2026-03-01", "title": "Т"},
        "commission",
    ),
    "hearing without department": (
        {"kind": "hearing", "date": "2026-03-01", "title": "Т"},
        "department",
    ),
    "bad date": ({"kind": "session", "date": "2026-02-30", "title": "Т"}, "date"),
    "no title": ({"kind": "session", "date": "2026-03-01"}, "title"),
    "title too long": ({"kind": "session", "date": "2026-03-01", "title": "я" * 301}, "title"),
    "unknown session kind": (
        {"kind": "session", "session_kind": "secret", "date": "2026-03-01", "title": "Т"},
        "session_kind",
    ),
}


@pytest.mark.parametrize("case", list(BAD_MEETINGS))
def test_a_bad_meeting_is_400_with_the_field(world: World, api_as: Any, case: str) -> None:
    body, field = BAD_MEETINGS[case]
    before = Meeting.objects.count()
    result = api_as(world.d.staff).post(f"{API}/meetings/", body, format="json")
    assert result.status_code == 400, result.content
    assert field in result.json(), result.json()
    assert Meeting.objects.count() == before


BAD_PROTOCOLS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown meeting": ({"meeting": 999999, "number": "1", "date": "2026-03-01"}, "meeting"),
    "no number": ({"meeting": "M", "date": "2026-03-01"}, "number"),
    "bad date": ({"meeting": "M", "number": "1", "date": "вчера"}, "date"),
    "items not a list": (
        {"meeting": "M", "number": "1", "date": "2026-03-01", "items": 5},
        "items",
    ),
    "duplicate number": ({"meeting": "M", "number": "12", "date": "2026-03-01"}, "number"),
}


@pytest.mark.parametrize("case", list(BAD_PROTOCOLS))
def test_a_bad_protocol_is_400_with_the_field(world: World, api_as: Any, case: str) -> None:
    body, field = BAD_PROTOCOLS[case]
    body = {k: (world.meeting.pk if v == "M" else v) for k, v in body.items()}
    before = Protocol.objects.count()
    result = api_as(world.d.staff).post(f"{API}/protocols/", body, format="json")
    assert result.status_code == 400, result.content
    assert field in result.json(), result.json()
    assert Protocol.objects.count() == before


#: Action bodies that must be refused with a 400 naming the field.
BAD_ACTIONS: dict[str, tuple[str, str, str, dict[str, Any], str]] = {
    "report without text": ("finance_exec", S.ON_CONTROL, "reports/", {"final": True}, "text"),
    "final not a boolean": (
        "finance_exec",
        S.ON_CONTROL,
        "reports/",
        {"text": "Т", "final": "maybe"},
        "final",
    ),
    "version not a number": (
        "finance_exec",
        S.ON_CONTROL,
        "reports/",
        {"text": "Т", "version": "new"},
        "version",
    ),
    "version zero": (
        "finance_exec",
        S.ON_CONTROL,
        "reports/",
        {"text": "Т", "version": 0},
        "version",
    ),
    "extension without date": (
        "finance_head",
        S.ON_CONTROL,
        "extensions/",
        {"reason": "Экспертиза"},
        "new_due_date",
    ),
    "extension with a bad date": (
        "finance_head",
        S.ON_CONTROL,
        "extensions/",
        {"new_due_date": "2026-02-31", "reason": "Экспертиза"},
        "new_due_date",
    ),
    "extension without reason": (
        "finance_head",
        S.ON_CONTROL,
        "extensions/",
        {"new_due_date": "2030-01-01"},
        "reason",
    ),
    "return without comment": ("staff", S.REPORTED, "return/", {"comment": ""}, "comment"),
    "removal without reason": ("staff", S.ON_CONTROL, "remove-from-control/", {}, "reason"),
    "comment not text": ("staff", S.REPORTED, "accept/", {"comment": {"a": 1}}, "comment"),
}


@pytest.mark.parametrize("case", list(BAD_ACTIONS))
def test_a_bad_action_body_is_400_with_the_field_and_changes_nothing(
    world: World, api_as: Any, case: str
) -> None:
    persona, status, suffix, body, field = BAD_ACTIONS[case]
    item = make_instruction(world, status=status)
    result = api_as(world.user(persona)).post(
        f"{API}/instructions/{item.pk}/{suffix}", body, format="json"
    )
    assert result.status_code == 400, result.content
    assert field in result.json(), result.json()
    after = refresh(item)
    assert (after.status, after.version, after.due_date) == (status, item.version, item.due_date)


def test_a_bad_extension_decision_is_400(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    extension = services.instruction_extension_ask(
        pk=item.pk,
        by=world.d.finance_head,
        new_due_date=item.due_date + datetime.timedelta(days=3),
        reason="Экспертиза",
    )
    url = f"{API}/instructions/{item.pk}/extensions/{extension.pk}/decide/"
    client = api_as(world.d.staff)
    assert list(client.post(url, {}, format="json").json()) == ["approve"]
    refused = client.post(url, {"approve": False}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["comment"]
    assert refresh(item).due_date == item.due_date


@pytest.mark.parametrize(
    "path",
    [
        "instructions/",
        "meetings/",
        "protocols/",
        "instructions/{pk}/reports/",
        "instructions/{pk}/extensions/",
        "instructions/{pk}/remove-from-control/",
        "instructions/{pk}/accept/",
    ],
)
def test_malformed_json_is_400_with_a_detail(world: World, api_as: Any, path: str) -> None:
    item = make_instruction(world)
    result = api_as(world.d.staff).post(
        f"{API}/" + path.format(pk=item.pk),
        data='{"text": "незакрытая строка',
        content_type="application/json",
    )
    assert result.status_code == 400, result.content
    assert "detail" in result.json()
    assert refresh(item).version == item.version


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "due_before=yesterday",
        "lead_department=abc",
        "protocol=999999",
        "department=-1",
        "convocation=x",
        "report_period=weekly",
        "meeting=0",
    ],
)
def test_a_bad_filter_is_400_never_500(world: World, api_as: Any, query: str) -> None:
    make_instruction(world)
    result = api_as(world.d.staff).get(f"{API}/instructions/?{query}")
    assert result.status_code == 400, result.content
    assert result.json()


@pytest.mark.parametrize(
    "query",
    [
        "ordering=bogus",
        "ordering=-text",
        "search=" + "слово " * 500,
        "search=%00",
        "page_size=100000",
        "page_size=-5",
        "page=abc",
        "page=99",
        # django-filter's boolean filters ignore what is not a boolean (the list is unfiltered)
        "is_overdue=maybe",
        "due_this_week=perhaps",
        "is_field_visit=perhaps",
    ],
)
def test_odd_query_strings_are_answered_without_a_server_error(
    world: World, api_as: Any, query: str
) -> None:
    make_instruction(world)
    for path in ("instructions/", "meetings/", "protocols/", "instructions/discipline/"):
        result = api_as(world.d.staff).get(f"{API}/{path}?{query}")
        assert result.status_code in (200, 400, 404), (path, result.status_code)
        assert result.json()


def test_history_records_who_did_what(world: World) -> None:
    item = make_instruction(world, status=S.EXECUTED)
    actions = list(
        AuditEvent.objects.for_item(item).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["create", "report_final", "accept"]
