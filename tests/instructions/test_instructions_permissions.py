"""Who may do what through ``/api/v1/meetings/``, ``/protocols/`` and ``/instructions/``.

One declared table (``TABLE``: endpoint × persona -> status) drives the generated
tests. The instruction is finance's, with mobility as co-executor, controlled by a
commission chaired by carol and by the deputy alice. The rules (``docs/domain.md``):

- meetings and protocols are council business: every signed-in user reads them;
  only staff create them, and instructions (everybody else 403);
- the lead department sees the instruction, reports (interim and final) and asks
  for extensions; a co-executor sees it and reports its part (interim only:
  a final report is 403); an uninvolved department gets 404 on everything;
- the controller — the deputy ``controller_deputy`` or the chair of the controlling
  commission — sees it and accepts or returns the report; another deputy gets 404;
- staff see everything, accept, return, decide extensions and remove from control;
- the chair sees everything and decides extensions, nothing else; a department
  never decides its own extension (403);
- anonymous callers get 401.

An instruction the caller may not see is 404 (never 403), and a refused call leaves
everything as it was (status, version, dates, reports, extensions, thread, files).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from instructions import services
from instructions.models import ExecutionReport, Instruction, InstructionStatus, Meeting, Protocol
from maslikhat.core.extensions import Extension
from maslikhat.core.threads import Attachment, Message
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, make_instruction, make_world, pdf_upload, refresh

pytestmark = pytest.mark.django_db

S = InstructionStatus

PERSONAS = (
    "alice",  # the controlling deputy (deputy1)
    "carol",  # chair of the controlling commission (deputy3)
    "bob",  # another deputy (deputy2)
    "finance_head",  # the lead department
    "finance_exec",
    "mobility_head",  # the co-executor department
    "mobility_exec",
    "energy_head",  # a department the instruction does not concern
    "energy_exec",
    "staff",
    "chair",
    "admin",
    "anonymous",
)


def today() -> str:
    return timezone.localdate().isoformat()


@dataclass(frozen=True)
class Endpoint:
    """One API call (path after ``/api/v1/``) on an instruction prepared in ``state``."""

    method: str
    path: str  # {pk} the instruction, {eid} its pending extension, {rid} its report,
    # {meeting}, {protocol}
    state: str = S.ON_CONTROL
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    multipart: bool = False


ENDPOINTS: dict[str, Endpoint] = {
    "meetings_list": Endpoint("get", "meetings/"),
    "meetings_detail": Endpoint("get", "meetings/{meeting}/"),
    "meetings_create": Endpoint(
        "post",
        "meetings/",
        body=lambda w: {
            "kind": "commission",
            "date": today(),
            "title": "Заседание комиссии",
            "commission": w.commission.pk,
        },
    ),
    "protocols_list": Endpoint("get", "protocols/"),
    "protocols_detail": Endpoint("get", "protocols/{protocol}/"),
    "protocols_create": Endpoint(
        "post",
        "protocols/",
        body=lambda w: {
            "meeting": w.meeting.pk,
            "number": "13",
            "date": today(),
            "items": ["О тарифах"],
        },
    ),
    "list": Endpoint("get", "instructions/"),
    "detail": Endpoint("get", "instructions/{pk}/"),
    "create": Endpoint(
        "post",
        "instructions/",
        body=lambda w: {
            "protocol": w.protocol.pk,
            "text": "Подготовить отчёт о тарифах",
            "lead_department": w.d.finance.pk,
            "co_departments": [w.d.mobility.pk],
            "controller_commission": w.commission.pk,
        },
    ),
    "discipline": Endpoint("get", "instructions/discipline/"),
    "reports_list": Endpoint("get", "instructions/{pk}/reports/"),
    "report_interim": Endpoint(
        "post", "instructions/{pk}/reports/", body=lambda w: {"text": "Идёт работа"}
    ),
    "report_final": Endpoint(
        "post", "instructions/{pk}/reports/", body=lambda w: {"text": "Готово", "final": True}
    ),
    "accept": Endpoint("post", "instructions/{pk}/accept/", S.REPORTED),
    "return": Endpoint(
        "post", "instructions/{pk}/return/", S.REPORTED, lambda w: {"comment": "Нет сроков"}
    ),
    "extensions_list": Endpoint("get", "instructions/{pk}/extensions/"),
    "extensions_create": Endpoint(
        "post",
        "instructions/{pk}/extensions/",
        body=lambda w: {"new_due_date": "due+7", "reason": "Экспертиза"},
    ),
    "extension_decide": Endpoint(
        "post",
        "instructions/{pk}/extensions/{eid}/decide/",
        "with_extension",
        lambda w: {"approve": True},
    ),
    "remove_from_control": Endpoint(
        "post", "instructions/{pk}/remove-from-control/", body=lambda w: {"reason": "Снято"}
    ),
    "report_publish": Endpoint(
        "post",
        "instructions/{pk}/reports/{rid}/publish/",
        "with_report",
        lambda w: {"public": True},
    ),
    "messages_list": Endpoint("get", "instructions/{pk}/messages/"),
    "messages_create": Endpoint(
        "post", "instructions/{pk}/messages/", body=lambda w: {"text": "Есть новости?"}
    ),
    "attachments_list": Endpoint("get", "instructions/{pk}/attachments/"),
    "attachments_create": Endpoint(
        "post",
        "instructions/{pk}/attachments/",
        body=lambda w: {"file": pdf_upload()},
        multipart=True,
    ),
    "history": Endpoint("get", "instructions/{pk}/history/"),
}

# fmt: off
#: The declared table: endpoint × persona -> expected status.
#                       alice carol bob f_hd f_ex m_hd m_ex e_hd e_ex staff chair admin anon
TABLE: list[tuple[str, int, int, int, int, int, int, int, int, int, int, int, int, int]] = [
    ("meetings_list",       200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("meetings_detail",     200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("meetings_create",     403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 403, 403, 401),
    ("protocols_list",      200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("protocols_detail",    200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("protocols_create",    403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 403, 403, 401),
    ("list",                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("detail",              200, 200, 404, 200, 200, 200, 200, 404, 404, 200, 200, 200, 401),
    ("create",              403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 403, 403, 401),
    ("discipline",          200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("reports_list",        200, 200, 404, 200, 200, 200, 200, 404, 404, 200, 200, 200, 401),
    ("report_interim",      403, 403, 404, 201, 201, 201, 201, 404, 404, 403, 403, 403, 401),
    ("report_final",        403, 403, 404, 201, 201, 403, 403, 404, 404, 403, 403, 403, 401),
    ("accept",              200, 200, 404, 403, 403, 403, 403, 404, 404, 200, 403, 403, 401),
    ("return",              200, 200, 404, 403, 403, 403, 403, 404, 404, 200, 403, 403, 401),
    ("extensions_list",     200, 200, 404, 200, 200, 200, 200, 404, 404, 200, 200, 200, 401),
    ("extensions_create",   403, 403, 404, 201, 201, 403, 403, 404, 404, 403, 403, 403, 401),
    ("extension_decide",    403, 403, 404, 403, 403, 403, 403, 404, 404, 200, 200, 403, 401),
    ("remove_from_control", 403, 403, 404, 403, 403, 403, 403, 404, 404, 200, 403, 403, 401),
    ("report_publish",      403, 403, 404, 403, 403, 403, 403, 404, 404, 200, 403, 403, 401),
    ("messages_list",       200, 200, 404, 200, 200, 200, 200, 404, 404, 200, 200, 200, 401),
    ("messages_create",     201, 201, 404, 201, 201, 201, 201, 404, 404, 201, 403, 403, 401),
    ("attachments_list",    200, 200, 404, 200, 200, 200, 200, 404, 404, 200, 200, 200, 401),
    ("attachments_create",  201, 201, 404, 201, 201, 201, 201, 404, 404, 201, 403, 403, 401),
    ("history",             200, 200, 404, 200, 200, 200, 200, 404, 404, 200, 200, 200, 401),
]
# fmt: on


def expand(table: list[tuple[Any, ...]]) -> list[Any]:
    cases = []
    for endpoint, *codes in table:
        assert len(codes) == len(PERSONAS), endpoint
        for persona, code in zip(PERSONAS, codes, strict=True):
            cases.append(pytest.param(persona, endpoint, code, id=f"{endpoint}-{persona}"))
    return cases


def test_the_table_covers_every_endpoint_and_every_persona() -> None:
    assert [row[0] for row in TABLE] == list(ENDPOINTS)
    assert all(len(row) == len(PERSONAS) + 1 for row in TABLE)


def test_the_table_covers_every_action_route_of_the_instruction_api() -> None:
    """Each extra route the instruction viewset mounts has a row (a new action needs one too)."""
    from instructions.api import InstructionViewSet

    mounted = {a.url_path for a in InstructionViewSet.get_extra_actions()}  # type: ignore[attr-defined]
    declared = {
        e.path.removeprefix("instructions/")
        .removeprefix("{pk}/")
        .rstrip("/")
        .replace("{eid}", r"(?P<eid>\d+)")
        .replace("{rid}", r"(?P<report_id>[0-9]+)")
        for e in ENDPOINTS.values()
    }
    assert mounted <= declared, mounted - declared


# --- Running one case -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


def client_for(world: World, persona: str) -> APIClient:
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(world.user(persona))
    return client


@dataclass
class Prepared:
    item: Instruction
    extension_id: int | None = None
    report_id: int | None = None


def prepare(world: World, state: str) -> Prepared:
    if state == "with_extension":
        item = make_instruction(world)
        extension = services.instruction_extension_ask(
            pk=item.pk,
            by=world.d.finance_head,
            new_due_date=item.due_date + datetime.timedelta(days=7),
            reason="Экспертиза",
        )
        return Prepared(refresh(item), extension.pk)
    if state == "with_report":
        item = make_instruction(world)
        report = services.instruction_report(
            pk=item.pk, by=world.d.finance_exec, text="Работы идут", final=False
        )
        return Prepared(refresh(item), report_id=report.pk)
    return Prepared(make_instruction(world, status=state))


def snapshot(item: Instruction) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    row = refresh(item)
    return {
        "meetings": Meeting.objects.count(),
        "protocols": Protocol.objects.count(),
        "instructions": Instruction.objects.count(),
        "status": row.status,
        "version": row.version,
        "due_date": row.due_date,
        "reported_at": row.reported_at,
        "executed_at": row.executed_at,
        "removal_reason": row.removal_reason,
        "reports": list(
            ExecutionReport.objects.filter(instruction=row).values_list("id", "status", "is_public")
        ),
        "extensions": list(Extension.objects.for_item(row).values_list("id", "status")),
        "messages": Message.objects.for_item(row).count(),
        "attachments": Attachment.objects.for_item(row).count(),
    }


def call(world: World, persona: str, name: str, prepared: Prepared) -> Any:
    endpoint = ENDPOINTS[name]
    body = endpoint.body(world)
    if body.get("new_due_date") == "due+7":
        body["new_due_date"] = (prepared.item.due_date + datetime.timedelta(days=7)).isoformat()
    path = "/api/v1/" + endpoint.path.format(
        pk=prepared.item.pk,
        eid=prepared.extension_id,
        rid=prepared.report_id,
        meeting=world.meeting.pk,
        protocol=world.protocol.pk,
    )
    client = client_for(world, persona)
    if endpoint.method == "get":
        return client.get(path)
    return client.post(path, body, format="multipart" if endpoint.multipart else "json")


@pytest.mark.parametrize(("persona", "endpoint", "expected"), expand(TABLE))
def test_each_persona_gets_the_declared_status(
    world: World, persona: str, endpoint: str, expected: int
) -> None:
    prepared = prepare(world, ENDPOINTS[endpoint].state)
    before = snapshot(prepared.item)
    result = call(world, persona, endpoint, prepared)
    assert result.status_code == expected, result.content
    if expected >= 400:
        assert snapshot(prepared.item) == before
        assert "detail" in result.json()


def test_an_uninvolved_department_gets_404_on_the_instruction_and_every_action(
    world: World,
) -> None:
    """The same rule as the table's energy columns, stated on its own: never a 403."""
    item_endpoints = [name for name, e in ENDPOINTS.items() if "{pk}" in e.path]
    assert len(item_endpoints) == 16
    for name in item_endpoints:
        prepared = prepare(world, ENDPOINTS[name].state)
        before = snapshot(prepared.item)
        for persona in ("energy_head", "energy_exec", "bob"):
            result = call(world, persona, name, prepared)
            assert result.status_code == 404, (name, persona, result.content)
        assert snapshot(prepared.item) == before, name


def test_the_controller_deputy_and_the_commission_chair_see_it_in_their_list(
    world: World,
) -> None:
    item = make_instruction(world)
    for persona in ("alice", "carol"):
        ids = [
            row["id"]
            for row in client_for(world, persona).get("/api/v1/instructions/").json()["results"]
        ]
        assert ids == [item.pk], persona
    assert client_for(world, "bob").get("/api/v1/instructions/").json()["count"] == 0


def test_a_former_commission_chair_no_longer_sees_the_instruction(world: World) -> None:
    item = make_instruction(world, controller_deputy=None)
    path = f"/api/v1/instructions/{item.pk}/"
    assert client_for(world, "carol").get(path).status_code == 200
    world.commission.chair = world.d.bob
    world.commission.save(update_fields=["chair"])
    assert client_for(world, "carol").get(path).status_code == 404
    assert client_for(world, "bob").get(path).status_code == 200


def test_the_detail_offers_each_persona_only_the_actions_it_may_take(world: World) -> None:
    reported = make_instruction(world, status=S.REPORTED)
    on_control = make_instruction(world)

    def actions(persona: str, item: Instruction) -> list[str]:
        body = client_for(world, persona).get(f"/api/v1/instructions/{item.pk}/").json()
        return body["available_actions"]

    assert actions("finance_exec", on_control) == [
        "ask_extension",
        "report_final",
        "report_interim",
    ]
    assert actions("mobility_exec", on_control) == ["report_interim"]
    assert actions("alice", on_control) == []
    assert actions("alice", reported) == ["accept", "return"]
    assert actions("carol", reported) == ["accept", "return"]
    assert actions("staff", reported) == ["accept", "remove_from_control", "return"]
    assert actions("chair", reported) == []
    assert actions("finance_exec", reported) == []


def test_an_unknown_or_malformed_id_is_404(world: World) -> None:
    client = client_for(world, "staff")
    assert client.get("/api/v1/instructions/999999/").status_code == 404
    assert client.get("/api/v1/instructions/abc/").status_code == 404
    assert client.get("/api/v1/meetings/999999/").status_code == 404
    assert client.get("/api/v1/protocols/abc/").status_code == 404
    result = client.post("/api/v1/instructions/999999/accept/", {}, format="json")
    assert result.status_code == 404


# --- Lists and discipline show only the visible rows ---------------------------------------


@pytest.fixture
def instructions_of_everyone(world: World) -> dict[str, Instruction]:
    d = world.d
    return {
        "finance_led": make_instruction(world),
        "finance_for_bob": make_instruction(
            world, co_departments=(), controller_commission=None, controller_deputy=d.bob
        ),
        "mobility_for_commission": make_instruction(
            world, lead=d.mobility, co_departments=(), controller_deputy=None
        ),
        "energy_with_finance_for_alice": make_instruction(
            world, lead=world.energy, co_departments=(d.finance,), controller_commission=None
        ),
    }


ALL_INSTRUCTIONS = {
    "finance_led",
    "finance_for_bob",
    "mobility_for_commission",
    "energy_with_finance_for_alice",
}
FINANCE_SEES = {"finance_led", "finance_for_bob", "energy_with_finance_for_alice"}
MOBILITY_SEES = {"finance_led", "mobility_for_commission"}
VISIBLE_IN_LIST: dict[str, set[str]] = {
    "alice": {"finance_led", "energy_with_finance_for_alice"},
    "carol": {"finance_led", "mobility_for_commission"},
    "bob": {"finance_for_bob"},
    "finance_head": FINANCE_SEES,
    "finance_exec": FINANCE_SEES,
    "mobility_head": MOBILITY_SEES,
    "mobility_exec": MOBILITY_SEES,
    "energy_head": {"energy_with_finance_for_alice"},
    "energy_exec": {"energy_with_finance_for_alice"},
    "staff": ALL_INSTRUCTIONS,
    "chair": ALL_INSTRUCTIONS,
    "admin": ALL_INSTRUCTIONS,
}


#: The department of each department persona (a name of ``World.department``).
OWN_DEPARTMENT = {
    f"{code}_{position}": code
    for code in ("finance", "mobility", "energy")
    for position in ("head", "exec")
}


@pytest.mark.parametrize("persona", list(VISIBLE_IN_LIST))
def test_the_list_and_the_discipline_show_each_persona_exactly_what_it_may_see(
    world: World, instructions_of_everyone: dict[str, Instruction], persona: str
) -> None:
    client = client_for(world, persona)
    body = client.get("/api/v1/instructions/?page_size=200").json()
    names = {item.pk: name for name, item in instructions_of_everyone.items()}
    visible = VISIBLE_IN_LIST[persona]
    assert {names[row["id"]] for row in body["results"]} == visible
    assert body["count"] == len(visible)
    for name, item in instructions_of_everyone.items():
        code = client.get(f"/api/v1/instructions/{item.pk}/").status_code
        assert code == (200 if name in visible else 404), name
    # The discipline: per lead department, over what the persona sees; a department sees
    # its own row only (what it co-executes counts for the lead department).
    discipline = client.get("/api/v1/instructions/discipline/").json()["results"]
    own = OWN_DEPARTMENT.get(persona)
    expected: dict[int, int] = {}
    for name in visible:
        lead = instructions_of_everyone[name].lead_department_id
        if own is None or lead == world.department(own).pk:
            expected[lead] = expected.get(lead, 0) + 1
    assert {row["lead_department"]: row["total"] for row in discipline} == expected


def test_the_lists_are_closed_to_anonymous_callers(world: World) -> None:
    for path in ("instructions/", "meetings/", "protocols/", "instructions/discipline/"):
        result = APIClient().get(f"/api/v1/{path}")
        assert result.status_code == 401, path
        assert "results" not in result.json()


def test_a_non_staff_create_with_a_bad_body_is_still_403(world: World) -> None:
    """The role is checked before the body: a department learns nothing from validation."""
    for path in ("instructions/", "meetings/", "protocols/"):
        result = client_for(world, "finance_head").post(f"/api/v1/{path}", {}, format="json")
        assert result.status_code == 403, path
