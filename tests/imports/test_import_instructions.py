"""Importing past protocol instructions: the round trip, protocols found or created,
controllers matched, the key of an instruction."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.http import QueryDict

from imports.matching import CONTROLLER
from imports.models import ImportedItem, ImportKind
from imports.services import import_path
from instructions.models import ExecutionReport, Instruction, InstructionStatus, Protocol
from maslikhat.core.extensions import Extension
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import actor_for
from reports.exports import instruction_export, rows_of, write_export
from tests.factories import DemoDirectory
from tests.imports.helpers import write_csv
from tests.instruction_helpers import World, make_instruction, make_world

pytestmark = pytest.mark.django_db

S = InstructionStatus
#: Export columns the portal computes from rows an import does not recreate (extensions
#: granted, extended to, reports, last report): ignored on import (docs/imports.md).
COMPUTED = (14, 15, 16, 17)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory, protocol_date=datetime.date(2024, 2, 20))


def exported(world: World) -> list[list[Any]]:
    spec = instruction_export(actor=actor_for(world.d.staff), params=QueryDict(""), language="ru")
    rows = [[v for i, v in enumerate(row) if i not in COMPUTED] for row in rows_of(spec)]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def test_an_export_imports_into_an_empty_database_as_the_same_instructions(
    world: World, tmp_path: Path
) -> None:
    make_instruction(world, status=S.ON_CONTROL)
    make_instruction(world, status=S.EXECUTED, controller_deputy=None)
    make_instruction(world, status=S.REPORTED, co_departments=())
    make_instruction(world, status=S.RETURNED, controller_commission=None)
    before = exported(world)
    spec = instruction_export(actor=actor_for(world.d.staff), params=QueryDict(""), language="ru")
    path = tmp_path / "instructions.xlsx"
    write_export(spec, path, "xlsx")
    ExecutionReport.objects.all().delete()
    Extension.objects.all().delete()
    AuditEvent.objects.all().delete()
    Instruction.objects.all().delete()

    outcome = import_path(path, kind=ImportKind.INSTRUCTIONS, by=world.d.staff)

    assert outcome.check.ok, (outcome.check.issues, outcome.check.unknown, outcome.check.missing)
    assert Protocol.objects.count() == 1  # the existing protocol, found by number and date
    assert exported(world) == before
    assert ImportedItem.objects.filter(item_type="instruction").count() == 4


def instruction_row(number: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "number": number,
        "protocol": "5",
        "protocol_date": "12.12.2023",
        "text": f"Поручение {number}: представить план ремонта дорог.",
        "lead_department": "Управление финансов",
        "co_departments": "Управление мобильности",
        "controller": "Комиссия по городской инфраструктуре",
        "due_date": "01.03.2024",
        "status": "Исполнено",
        "executed": "20.02.2024",
        "report_text": "План утверждён.",
    }
    row.update(overrides)
    return row


def test_a_new_protocol_is_created_and_rows_without_a_controller_wait_for_staff(
    world: World, tmp_path: Path
) -> None:
    rows = [instruction_row("1"), instruction_row("2", controller="")]
    path = write_csv(tmp_path / "past.csv", ImportKind.INSTRUCTIONS, rows)

    blocked = import_path(path, kind=ImportKind.INSTRUCTIONS, by=world.d.staff)

    assert blocked.batch is None
    unknown = blocked.check.unknown[(CONTROLLER, "")]
    assert unknown.rows == [3]
    assert {s["value"] for s in unknown.suggestions} >= {f"commission:{world.commission.pk}"}

    done = import_path(
        path,
        kind=ImportKind.INSTRUCTIONS,
        by=world.d.staff,
        names={CONTROLLER: {"": world.d.bob.user.full_name}},
    )

    assert done.batch is not None and done.batch.created_count == 2
    first, second = Instruction.objects.order_by("number")
    assert first.protocol.number == "5" and first.protocol.date == datetime.date(2023, 12, 12)
    assert first.controller_commission == world.commission
    assert second.controller_deputy == world.d.bob and second.controller_commission is None
    assert first.status == S.EXECUTED and list(first.co_departments.all()) == [world.d.mobility]
    report = ExecutionReport.objects.get(instruction=first)
    assert report.text == "План утверждён." and report.submitted_at.date() == datetime.date(
        2024, 2, 20
    )
    again = import_path(
        path,
        kind=ImportKind.INSTRUCTIONS,
        by=world.d.staff,
        names={CONTROLLER: {"": world.d.bob.user.full_name}},
    )
    assert again.check.skipped == 2 and Instruction.objects.count() == 2


def test_an_executed_instruction_without_its_date_names_the_row(
    world: World, tmp_path: Path
) -> None:
    rows = [instruction_row("1"), instruction_row("2", executed="")]
    path = write_csv(tmp_path / "bad.csv", ImportKind.INSTRUCTIONS, rows)

    outcome = import_path(path, kind=ImportKind.INSTRUCTIONS, by=world.d.staff)

    assert [issue.row for issue in outcome.check.issues] == [3]
    assert not Instruction.objects.filter(protocol__number="5").exists()
