"""The protocol-instruction lifecycle: every action of ``instruction_services.TRANSITIONS``.

The table is the single source: the cases below are generated from it (action ×
status), so a change of the table changes the tests. The entitled user either moves
the instruction as the table says, or gets ``TransitionNotAllowed`` (409 through
the API) and the row stays as it was. The rules of single transitions follow:
reports, acceptance, return, extensions, removal from control, stale versions.
"""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from instructions import services
from instructions.models import ExecutionReport, Instruction, InstructionStatus, ReportStatus
from maslikhat.accounts.models import User
from maslikhat.core.deadlines import add_months, get_rule
from maslikhat.core.exceptions import (
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.threads import AuditEvent
from tests.factories import DemoDirectory
from tests.instruction_helpers import (
    ALL_STATUSES,
    World,
    create_instruction,
    make_instruction,
    make_protocol,
    make_world,
    refresh,
    report_final,
)

pytestmark = pytest.mark.django_db

S = InstructionStatus
OPEN = {S.ON_CONTROL, S.RETURNED}
ALMATY = ZoneInfo("Asia/Almaty")
#: A Monday in January 2026, after the New Year holidays.
MONDAY = datetime.datetime(2026, 1, 12, 10, 0, tzinfo=ALMATY)


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


# --- The generated table ----------------------------------------------------------------

#: Who is entitled to each action (the role question), so only the state decides.
ENTITLED: dict[str, str] = {
    "report_interim": "finance_exec",
    "report_final": "finance_exec",
    "accept": "staff",
    "return": "staff",
    "ask_extension": "finance_head",
    "decide_extension": "staff",
    "remove_from_control": "staff",
}
#: Actions of the table no service or endpoint offers yet (staff create instructions
#: and remove them from control; editing an instruction is not in ``docs/api.md``).
WITHOUT_SERVICE = {"edit"}
#: Actions that change no state: staff publish an execution report on the public portal (or
#: withdraw it) in any state; tests/reports/test_public_instructions.py covers who may.
STATELESS = {"publish_report", "unpublish_report"}
#: Actions that add a row beside the instruction and do not bump its version.
NO_VERSION_BUMP = {"ask_extension"}


def test_it_declares_an_entitled_persona_for_every_action_of_the_table() -> None:
    assert set(ENTITLED) | WITHOUT_SERVICE | STATELESS == set(services.TRANSITIONS)
    assert not set(ENTITLED) & (WITHOUT_SERVICE | STATELESS)
    for action, (states, target) in services.TRANSITIONS.items():
        assert states <= set(ALL_STATUSES), action
        assert target is None or target in ALL_STATUSES, action


def test_publishing_a_report_is_allowed_in_every_state_and_keeps_the_state() -> None:
    for action in STATELESS:
        states, target = services.TRANSITIONS[action]
        assert states == set(ALL_STATUSES), action
        assert target is None, action


def test_an_action_without_a_service_has_no_service_function_either() -> None:
    assert not hasattr(services, "instruction_edit")
    assert not hasattr(services, "instruction_update")


def test_removal_from_control_is_allowed_from_every_state_but_removed() -> None:
    states, target = services.TRANSITIONS["remove_from_control"]
    assert states == set(ALL_STATUSES) - {S.REMOVED_FROM_CONTROL}
    assert target == S.REMOVED_FROM_CONTROL


@dataclass
class Setup:
    extension_id: int | None = None


def prepare(world: World, action: str, status: str) -> tuple[Instruction, Setup]:
    """An instruction in ``status`` with what ``action`` needs (a pending extension)."""
    item = make_instruction(world, status=status)
    setup = Setup()
    if action == "decide_extension":
        if status in OPEN:
            extension = services.instruction_extension_ask(
                pk=item.pk,
                by=world.d.finance_head,
                new_due_date=item.due_date + datetime.timedelta(days=7),
                reason="Ждём заключение экспертизы",
            )
        else:  # asked earlier, left pending: the state alone must decide
            extension = Extension.objects.create(
                item_type="instruction",
                item_id=item.pk,
                requested_by=world.d.finance_head,
                previous_due_date=item.due_date,
                new_due_date=item.due_date + datetime.timedelta(days=7),
                reason="Ждём заключение экспертизы",
            )
        setup.extension_id = extension.pk
    return refresh(item), setup


def perform(world: World, action: str, item: Instruction, setup: Setup) -> Any:
    """Call the action's service as the entitled persona, with a valid body."""
    by = world.user(ENTITLED[action])
    pk = item.pk
    calls: dict[str, Callable[[], Any]] = {
        "report_interim": lambda: services.instruction_report(
            pk=pk, by=by, text="Работы идут по графику.", final=False
        ),
        "report_final": lambda: services.instruction_report(
            pk=pk, by=by, text="План утверждён.", final=True
        ),
        "accept": lambda: services.instruction_accept(pk=pk, by=by, comment="Принято"),
        "return": lambda: services.instruction_return(pk=pk, by=by, comment="Нет сроков"),
        "ask_extension": lambda: services.instruction_extension_ask(
            pk=pk,
            by=by,
            new_due_date=item.due_date + datetime.timedelta(days=5),
            reason="Ждём заключение экспертизы",
        ),
        "decide_extension": lambda: services.instruction_extension_decide(
            pk=pk, extension_id=setup.extension_id or 0, by=by, approve=True
        ),
        "remove_from_control": lambda: services.instruction_remove_from_control(
            pk=pk, by=by, reason="Утратило актуальность"
        ),
    }
    return calls[action]()


def rows_beside(item: Instruction) -> dict[str, Any]:
    return {
        "reports": list(
            ExecutionReport.objects.filter(instruction=item).values_list("id", "status")
        ),
        "extensions": list(
            Extension.objects.for_item(item).values_list("id", "status", "new_due_date")
        ),
    }


SERVICE_CASES = [
    pytest.param(action, status, id=f"{action}-{status}")
    for action in ENTITLED
    for status in ALL_STATUSES
]


@pytest.mark.parametrize(("action", "status"), SERVICE_CASES)
def test_the_entitled_user_moves_the_instruction_as_the_table_says_or_gets_not_allowed(
    world: World, action: str, status: str
) -> None:
    item, setup = prepare(world, action, status)
    before = rows_beside(item)
    states, target = services.TRANSITIONS[action]
    if status in states:
        perform(world, action, item, setup)
        after = refresh(item)
        assert after.status == (target or status)
        expected_version = item.version if action in NO_VERSION_BUMP else item.version + 1
        assert after.version == expected_version
    else:
        with pytest.raises(TransitionNotAllowed):
            perform(world, action, item, setup)
        after = refresh(item)
        assert (after.status, after.version) == (status, item.version)
        assert (after.due_date, after.reported_at) == (item.due_date, item.reported_at)
        assert rows_beside(item) == before


#: The API path and body of each action; ``{eid}`` is the pending extension.
API_CALLS: dict[str, tuple[str, dict[str, Any], int]] = {
    "report_interim": ("reports/", {"text": "Работы идут", "final": False}, 201),
    "report_final": ("reports/", {"text": "План утверждён", "final": True}, 201),
    "accept": ("accept/", {"comment": "Принято"}, 200),
    "return": ("return/", {"comment": "Нет сроков"}, 200),
    "ask_extension": ("extensions/", {"reason": "Экспертиза"}, 201),
    "decide_extension": ("extensions/{eid}/decide/", {"approve": True}, 200),
    "remove_from_control": ("remove-from-control/", {"reason": "Утратило актуальность"}, 200),
}


def test_it_has_an_api_call_for_every_action_with_a_service() -> None:
    assert set(API_CALLS) == set(ENTITLED)


@pytest.mark.parametrize(("action", "status"), SERVICE_CASES)
def test_the_api_answers_the_table_with_2xx_or_409_and_a_detail(
    world: World, api_as: Any, action: str, status: str
) -> None:
    item, setup = prepare(world, action, status)
    before = rows_beside(item)
    suffix, body, success = API_CALLS[action]
    body = dict(body)
    if action == "ask_extension":
        body["new_due_date"] = (item.due_date + datetime.timedelta(days=5)).isoformat()
    url = f"/api/v1/instructions/{item.pk}/" + suffix.format(eid=setup.extension_id)
    result = api_as(world.user(ENTITLED[action])).post(url, body, format="json")
    states, target = services.TRANSITIONS[action]
    after = refresh(item)
    if status in states:
        assert result.status_code == success, result.content
        assert after.status == (target or status)
        if success == 200:  # the updated item, as the detail shows it
            assert result.json()["status"] == after.status
            assert result.json()["version"] == after.version
    else:
        assert result.status_code == 409, result.content
        assert isinstance(result.json()["detail"], str) and result.json()["detail"]
        assert (after.status, after.version) == (item.status, item.version)
        assert rows_beside(item) == before


# --- Reports ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(OPEN))
def test_interim_reports_keep_the_state_and_set_no_report_date(world: World, status: str) -> None:
    item = make_instruction(world, status=status)
    for by in (world.d.finance_exec, world.d.mobility_exec):  # lead and co-executor
        report = services.instruction_report(
            pk=item.pk, by=by, text="Промежуточный отчёт", final=False
        )
        assert not report.is_final
        assert report.status == ReportStatus.SUBMITTED
    after = refresh(item)
    assert after.status == status
    assert after.reported_at is None
    assert after.version == item.version + 2
    departments = set(
        ExecutionReport.objects.filter(instruction=item).values_list("department", flat=True)
    )
    assert departments >= {world.d.finance.pk, world.d.mobility.pk}


def test_the_final_report_puts_it_to_the_controller_with_the_report_date(world: World) -> None:
    item = make_instruction(world)
    report = report_final(world, item)
    after = refresh(item)
    assert after.status == S.REPORTED
    assert report.is_final and report.department_id == world.d.finance.pk
    assert after.reported_at == report.submitted_at
    assert after.executed_at is None


def test_a_report_needs_a_text(world: World) -> None:
    item = make_instruction(world)
    with pytest.raises(ValidationFailed) as error:
        services.instruction_report(pk=item.pk, by=world.d.finance_exec, text="   ", final=True)
    assert error.value.field == "text"
    assert refresh(item).status == S.ON_CONTROL
    assert not ExecutionReport.objects.filter(instruction=item).exists()


def test_accept_executes_the_instruction_and_records_the_decision(world: World) -> None:
    item = make_instruction(world, status=S.REPORTED)
    reported_at = item.reported_at
    services.instruction_accept(pk=item.pk, by=world.d.alice.user, comment="Исполнено")
    after = refresh(item)
    assert after.status == S.EXECUTED
    assert after.executed_at is not None
    assert after.reported_at == reported_at
    report = ExecutionReport.objects.get(instruction=item, is_final=True)
    assert (report.status, report.decided_by, report.comment) == (
        ReportStatus.ACCEPTED,
        world.d.alice.user,
        "Исполнено",
    )


def test_return_clears_the_report_date_and_the_department_reports_again(world: World) -> None:
    item = make_instruction(world, status=S.REPORTED)
    services.instruction_return(pk=item.pk, by=world.d.staff, comment="Нет сроков работ")
    returned = refresh(item)
    assert returned.status == S.RETURNED
    assert returned.reported_at is None
    first = ExecutionReport.objects.get(instruction=item, is_final=True)
    assert (first.status, first.comment) == (ReportStatus.RETURNED, "Нет сроков работ")

    second = services.instruction_report(
        pk=item.pk, by=world.d.finance_head, text="Сроки: до 1 июня.", final=True
    )
    again = refresh(item)
    assert again.status == S.REPORTED
    assert again.reported_at == second.submitted_at

    services.instruction_accept(pk=item.pk, by=world.d.staff)
    assert refresh(item).status == S.EXECUTED
    statuses = dict(ExecutionReport.objects.filter(instruction=item).values_list("id", "status"))
    assert statuses == {first.pk: ReportStatus.RETURNED, second.pk: ReportStatus.ACCEPTED}


def test_return_needs_a_comment(world: World, api_as: Any) -> None:
    item = make_instruction(world, status=S.REPORTED)
    with pytest.raises(ValidationFailed) as error:
        services.instruction_return(pk=item.pk, by=world.d.staff, comment="  ")
    assert error.value.field == "comment"
    result = api_as(world.d.staff).post(
        f"/api/v1/instructions/{item.pk}/return/", {}, format="json"
    )
    assert result.status_code == 400
    assert list(result.json()) == ["comment"]
    after = refresh(item)
    assert (after.status, after.version) == (S.REPORTED, item.version)


# --- Removal from control ------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s != S.REMOVED_FROM_CONTROL])
def test_removal_from_control_needs_a_reason_and_records_it(
    world: World, api_as: Any, status: str
) -> None:
    item = make_instruction(world, status=status)
    url = f"/api/v1/instructions/{item.pk}/remove-from-control/"
    refused = api_as(world.d.staff).post(url, {"reason": " "}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["reason"]
    assert refresh(item).status == status
    result = api_as(world.d.staff).post(url, {"reason": "Вопрос снят"}, format="json")
    assert result.status_code == 200, result.content
    after = refresh(item)
    assert after.status == S.REMOVED_FROM_CONTROL
    assert after.removal_reason == "Вопрос снят"
    assert after.removed_at is not None
    assert result.json()["removal_reason"] == "Вопрос снят"


# --- Extensions ----------------------------------------------------------------------------


def ask(world: World, item: Instruction, new_due_date: datetime.date) -> Extension:
    return services.instruction_extension_ask(
        pk=item.pk, by=world.d.finance_head, new_due_date=new_due_date, reason="Экспертиза"
    )


def test_the_instruction_rule_allows_extensions_of_two_months() -> None:
    assert get_rule(services.INSTRUCTION_RULE).max_extension_months == 2


@pytest.mark.parametrize("days", [0, -1])
def test_an_extension_must_be_later_than_the_current_due_date(world: World, days: int) -> None:
    item = make_instruction(world)
    with pytest.raises(ValidationFailed) as error:
        ask(world, item, item.due_date + datetime.timedelta(days=days))
    assert error.value.field == "new_due_date"
    assert not Extension.objects.for_item(item).exists()


def test_an_extension_may_reach_two_months_after_the_original_due_date_and_no_further(
    world: World, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(datetime.datetime(2025, 12, 1, 10, 0, tzinfo=ALMATY))
    protocol = make_protocol(world, datetime.date(2025, 12, 1))
    item = create_instruction(world, protocol=protocol, due_date=datetime.date(2025, 12, 31))
    limit = add_months(item.original_due_date, 2)
    assert limit == datetime.date(2026, 2, 28)  # 31 December + 2 months, clamped
    url = f"/api/v1/instructions/{item.pk}/extensions/"
    client = api_as(world.d.finance_head)
    too_late = client.post(
        url,
        {"new_due_date": (limit + datetime.timedelta(days=1)).isoformat(), "reason": "Экспертиза"},
        format="json",
    )
    assert too_late.status_code == 400
    assert list(too_late.json()) == ["new_due_date"]
    assert not Extension.objects.for_item(item).exists()
    result = client.post(url, {"new_due_date": limit.isoformat(), "reason": "Экспертиза"})
    assert result.status_code == 201, result.content
    assert result.json()["new_due_date"] == "2026-02-28"
    assert result.json()["status"] == ExtensionStatus.PENDING


def test_an_approved_extension_moves_the_due_date_and_keeps_the_original(
    world: World, api_as: Any
) -> None:
    item = make_instruction(world)
    original = item.due_date
    extension = ask(world, item, original + datetime.timedelta(days=10))
    result = api_as(world.d.chair).post(
        f"/api/v1/instructions/{item.pk}/extensions/{extension.pk}/decide/",
        {"approve": True, "comment": "Согласовано"},
        format="json",
    )
    assert result.status_code == 200, result.content
    after = refresh(item)
    assert after.due_date == original + datetime.timedelta(days=10)
    assert after.original_due_date == original
    assert (result.json()["due_date"], result.json()["original_due_date"]) == (
        after.due_date.isoformat(),
        original.isoformat(),
    )
    decided = Extension.objects.get(pk=extension.pk)
    assert (decided.status, decided.decided_by) == (ExtensionStatus.APPROVED, world.d.chair)
    # A second extension is still measured against the original due date.
    limit = add_months(original, 2)
    with pytest.raises(ValidationFailed):
        ask(world, item, limit + datetime.timedelta(days=1))
    ask(world, item, limit)
    assert refresh(item).original_due_date == original


def test_a_rejected_extension_keeps_the_due_date_and_needs_a_comment(world: World) -> None:
    item = make_instruction(world)
    extension = ask(world, item, item.due_date + datetime.timedelta(days=10))
    with pytest.raises(ValidationFailed) as error:
        services.instruction_extension_decide(
            pk=item.pk, extension_id=extension.pk, by=world.d.staff, approve=False
        )
    assert error.value.field == "comment"
    services.instruction_extension_decide(
        pk=item.pk,
        extension_id=extension.pk,
        by=world.d.staff,
        approve=False,
        comment="Оснований нет",
    )
    after = refresh(item)
    assert (after.due_date, after.original_due_date) == (item.due_date, item.original_due_date)
    assert Extension.objects.get(pk=extension.pk).status == ExtensionStatus.REJECTED


def test_only_one_extension_is_pending_at_a_time(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    first = ask(world, item, item.due_date + datetime.timedelta(days=5))
    with pytest.raises(TransitionNotAllowed):
        ask(world, item, item.due_date + datetime.timedelta(days=6))
    result = api_as(world.d.finance_exec).post(
        f"/api/v1/instructions/{item.pk}/extensions/",
        {"new_due_date": (item.due_date + datetime.timedelta(days=6)).isoformat(), "reason": "Ещё"},
        format="json",
    )
    assert result.status_code == 409
    assert list(Extension.objects.for_item(item).values_list("id", flat=True)) == [first.pk]
    services.instruction_extension_decide(
        pk=item.pk, extension_id=first.pk, by=world.d.staff, approve=True
    )
    second = ask(world, item, refresh(item).due_date + datetime.timedelta(days=1))
    assert second.status == ExtensionStatus.PENDING


def test_an_extension_is_decided_once(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    extension = ask(world, item, item.due_date + datetime.timedelta(days=5))
    url = f"/api/v1/instructions/{item.pk}/extensions/{extension.pk}/decide/"
    assert api_as(world.d.staff).post(url, {"approve": True}, format="json").status_code == 200
    version = refresh(item).version
    again = api_as(world.d.staff).post(url, {"approve": False, "comment": "Нет"}, format="json")
    assert again.status_code == 409
    assert refresh(item).version == version
    assert Extension.objects.get(pk=extension.pk).status == ExtensionStatus.APPROVED


def test_an_extension_of_another_instruction_is_409(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    other = make_instruction(world)
    extension = ask(world, other, other.due_date + datetime.timedelta(days=5))
    result = api_as(world.d.staff).post(
        f"/api/v1/instructions/{item.pk}/extensions/{extension.pk}/decide/",
        {"approve": True},
        format="json",
    )
    assert result.status_code == 409
    assert Extension.objects.get(pk=extension.pk).status == ExtensionStatus.PENDING
    assert refresh(other).due_date == other.due_date


# --- Stale versions ------------------------------------------------------------------------

#: Action -> (state, path, body) for the stale-version check through the API.
STALE_CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "report_interim": (S.ON_CONTROL, "reports/", {"text": "Идёт работа", "final": False}),
    "report_final": (S.ON_CONTROL, "reports/", {"text": "Готово", "final": True}),
    "accept": (S.REPORTED, "accept/", {}),
    "return": (S.REPORTED, "return/", {"comment": "Нет сроков"}),
    "remove_from_control": (S.ON_CONTROL, "remove-from-control/", {"reason": "Снято"}),
}


def test_a_stale_version_raises_stale_version(world: World) -> None:
    item = make_instruction(world)
    services.instruction_report(
        pk=item.pk, by=world.d.mobility_exec, text="Наша часть", version=item.version
    )
    with pytest.raises(StaleVersion):
        services.instruction_report(
            pk=item.pk, by=world.d.finance_exec, text="Готово", final=True, version=item.version
        )
    after = refresh(item)
    assert (after.status, after.version) == (S.ON_CONTROL, item.version + 1)


@pytest.mark.parametrize("action", list(STALE_CASES))
def test_the_api_answers_a_stale_version_with_409_and_changes_nothing(
    world: World, api_as: Any, action: str
) -> None:
    status, suffix, body = STALE_CASES[action]
    item = create_instruction(world)
    if status == S.REPORTED:
        report_final(world, item)
        loaded = refresh(item).version
        # Meanwhile staff return the report and the department reports again.
        services.instruction_return(pk=item.pk, by=world.d.staff, comment="Дополните")
        report_final(world, item, text="Дополнено")
    else:
        extension = ask(world, item, item.due_date + datetime.timedelta(days=5))
        loaded = refresh(item).version
        # Meanwhile staff approve the extension.
        services.instruction_extension_decide(
            pk=item.pk, extension_id=extension.pk, by=world.d.staff, approve=True
        )
    changed = refresh(item)
    assert changed.status == status
    assert changed.version > loaded
    before = rows_beside(item)
    user = world.user(ENTITLED[action])
    url = f"/api/v1/instructions/{item.pk}/{suffix}"
    stale = api_as(user).post(url, {**body, "version": loaded}, format="json")
    assert stale.status_code == 409, stale.content
    assert stale.json()["code"] == "stale_version"
    after = refresh(item)
    assert (after.status, after.version) == (changed.status, changed.version)
    assert rows_beside(item) == before
    fresh = api_as(user).post(url, {**body, "version": changed.version}, format="json")
    assert fresh.status_code in (200, 201), fresh.content


def test_a_stale_version_on_an_extension_decision_is_409(world: World, api_as: Any) -> None:
    item = make_instruction(world)
    extension = ask(world, item, item.due_date + datetime.timedelta(days=5))
    loaded = refresh(item).version
    services.instruction_report(pk=item.pk, by=world.d.mobility_exec, text="Наша часть")
    result = api_as(world.d.staff).post(
        f"/api/v1/instructions/{item.pk}/extensions/{extension.pk}/decide/",
        {"approve": True, "version": loaded},
        format="json",
    )
    assert result.status_code == 409
    assert Extension.objects.get(pk=extension.pk).status == ExtensionStatus.PENDING
    assert refresh(item).due_date == item.due_date


# --- History -------------------------------------------------------------------------------


def test_every_change_leaves_an_audit_event_with_who_and_the_states(world: World) -> None:
    item = make_instruction(world)
    extension = ask(world, item, item.due_date + datetime.timedelta(days=3))
    services.instruction_extension_decide(
        pk=item.pk, extension_id=extension.pk, by=world.d.staff, approve=True
    )
    services.instruction_report(pk=item.pk, by=world.d.mobility_exec, text="Часть", final=False)
    report_final(world, item)
    services.instruction_return(pk=item.pk, by=world.d.staff, comment="Дополните")
    report_final(world, item)
    services.instruction_accept(pk=item.pk, by=world.d.alice.user)
    services.instruction_remove_from_control(pk=item.pk, by=world.d.staff, reason="Архив")
    events = list(
        AuditEvent.objects.for_item(item)
        .order_by("id")
        .values_list("action", "from_status", "to_status", "actor__username")
    )
    assert events == [
        ("create", "", "on_control", "staff"),
        ("extension_asked", "on_control", "on_control", "finance-head"),
        ("decide_extension", "on_control", "on_control", "staff"),
        ("report_interim", "on_control", "on_control", "mobility-exec"),
        ("report_final", "on_control", "reported", "finance-exec"),
        ("return", "reported", "returned", "staff"),
        ("report_final", "returned", "reported", "finance-exec"),
        ("accept", "reported", "executed", "deputy1"),
        ("remove_from_control", "executed", "removed_from_control", "staff"),
    ]


# --- Two members of staff at once -----------------------------------------------------------

#: How long the first creator holds its transaction after choosing the next number.
HOLD_SECONDS = 0.3


@contextlib.contextmanager
def sqlite_file_database(folder: Path) -> Iterator[None]:
    """Race on a file copy of an in-memory SQLite test database (see test_requests_concurrency).

    A no-op on PostgreSQL. The copy is configured like production (IMMEDIATE, busy timeout),
    so the racing writers queue instead of failing with "database table is locked".
    """
    if connection.vendor != "sqlite" or not cast(Any, connection).is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    memory = connection.connection
    path = folder / "race.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as copy:
        memory.backup(copy)
    settings_dict = connection.settings_dict
    saved_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = saved_name
        with contextlib.closing(sqlite3.connect(path)) as copy:
            copy.backup(memory)


def race(attempts: list[Callable[[], Any]]) -> list[str]:
    """Run ``attempts`` in threads started together: "ok" or the error's class name each."""
    barrier = threading.Barrier(len(attempts))
    results: list[str] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            attempt()
            outcome = "ok"
        except Exception as error:  # reported in the assertion, not swallowed
            outcome = type(error).__name__
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return sorted(results)


@pytest.mark.django_db(transaction=True)
def test_two_instructions_created_at_once_in_one_protocol_get_consecutive_numbers(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    world = make_world(directory)
    staff_pk = world.d.staff.pk
    users = [User.objects.get(pk=staff_pk), User.objects.get(pk=staff_pk)]
    original = services._next_instruction_number

    def slow(protocol: Any) -> str:
        number = original(protocol)
        time.sleep(HOLD_SECONDS)
        return number

    def create(user: User, text: str) -> Callable[[], Any]:
        return lambda: services.instruction_create(
            by=user,
            protocol=world.protocol,
            text=text,
            lead_department=world.d.finance,
            controller_commission=world.commission,
            due_date=world.protocol.date + datetime.timedelta(days=30),
        )

    with (
        sqlite_file_database(tmp_path),
        mock.patch.object(services, "_next_instruction_number", side_effect=slow),
    ):
        results = race([create(users[0], "Первое"), create(users[1], "Второе")])

    assert results == ["ok", "ok"]
    numbers = sorted(Instruction.objects.values_list("number", flat=True))
    assert numbers == ["1", "2"]
