"""Protocol instructions in every state, reached through the services (never by setting fields).

``make_world(directory)`` adds to the personas of ``tests.factories.make_directory``:

- ``energy`` with ``energy_head``/``energy_exec``: a department no instruction here concerns;
- ``carol``: a deputy who chairs ``commission`` (the controlling commission);
- a council session (``meeting``) with its ``protocol`` (two items), dated today.

``make_instruction(world, status=...)`` puts an instruction to finance on control, with
mobility as co-executor, ``commission`` and alice as controllers, and drives it:

- ``on_control``: staff create it;
- ``reported``: finance-exec submits the final report;
- ``executed``: staff accept the report;
- ``returned``: staff return the report with a comment;
- ``removed_from_control``: staff remove it from control with a reason.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from instructions import services
from instructions.models import (
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ReportPeriod,
)
from maslikhat.accounts.models import Role, User
from maslikhat.directory.models import Commission, Department, Deputy, Position
from tests.factories import (
    CommissionFactory,
    DemoDirectory,
    DepartmentFactory,
    DeputyFactory,
    UserFactory,
    department_officer,
)

S = InstructionStatus

#: Every state, in lifecycle order.
ALL_STATUSES: tuple[str, ...] = tuple(InstructionStatus.values)

#: A real (tiny) PDF document: accepted by the upload content check.
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


class _Default(enum.Enum):
    TOKEN = 0


#: "The world's default" for an argument where ``None`` means "none".
DEFAULT = _Default.TOKEN


def pdf_upload(name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


@dataclass
class World:
    """The directory's personas plus what instructions need (see the module docstring)."""

    d: DemoDirectory
    energy: Department
    energy_head: User
    energy_exec: User
    carol: Deputy
    commission: Commission
    meeting: Meeting
    protocol: Protocol

    def user(self, persona: str) -> User:
        """The user of a persona name (``finance_exec``, ``alice``, ``carol``, ``staff`` …)."""
        value = getattr(self, persona, None) or getattr(self.d, persona)
        return value if isinstance(value, User) else value.user

    def department(self, code: str) -> Department:
        """``finance``, ``mobility`` or ``energy``."""
        return self.energy if code == "energy" else getattr(self.d, code)


def make_world(directory: DemoDirectory, *, protocol_date: datetime.date | None = None) -> World:
    energy = DepartmentFactory.create(
        code="energy", name_ru="Управление энергетики", name_en="Energy"
    )
    carol = DeputyFactory.create(
        user=UserFactory.create(username="deputy3", role=Role.DEPUTY),
        convocation=directory.convocation,
    )
    commission = CommissionFactory.create(
        convocation=directory.convocation,
        code="infrastructure",
        name_ru="Комиссия по городской инфраструктуре",
        chair=carol,
    )
    day = protocol_date or timezone.localdate()
    meeting = services.meeting_create(
        by=directory.staff,
        kind=MeetingKind.SESSION,
        date=day,
        title="Очередная сессия маслихата",
    )
    protocol = services.protocol_create(
        by=directory.staff,
        meeting=meeting,
        number="12",
        date=day,
        items=["О ремонте дорог", "О бюджете"],
    )
    return World(
        d=directory,
        energy=energy,
        energy_head=department_officer("energy-head", energy, Position.HEAD),
        energy_exec=department_officer("energy-exec", energy, Position.EXECUTOR),
        carol=carol,
        commission=commission,
        meeting=meeting,
        protocol=protocol,
    )


def make_protocol(world: World, day: datetime.date, number: str = "7") -> Protocol:
    """Another protocol of the world's session, dated ``day``."""
    return services.protocol_create(
        by=world.d.staff, meeting=world.meeting, number=number, date=day, items=["Разное"]
    )


def create_instruction(
    world: World,
    *,
    lead: Department | None = None,
    co_departments: Sequence[Department] | None = None,
    controller_commission: Commission | _Default | None = DEFAULT,
    controller_deputy: Deputy | _Default | None = DEFAULT,
    due_date: datetime.date | None = None,
    report_period: str = ReportPeriod.NONE,
    protocol: Protocol | None = None,
    text: str = "Представить план ремонта дорог Алатауского района.",
) -> Instruction:
    """Staff put an instruction on control (defaults: see the module docstring)."""
    return services.instruction_create(
        by=world.d.staff,
        protocol=protocol or world.protocol,
        text=text,
        lead_department=lead or world.d.finance,
        co_departments=(world.d.mobility,) if co_departments is None else co_departments,
        controller_commission=(
            world.commission if controller_commission is DEFAULT else controller_commission
        ),
        controller_deputy=world.d.alice if controller_deputy is DEFAULT else controller_deputy,
        due_date=due_date,
        report_period=report_period,
    )


def lead_executor(world: World, item: Instruction) -> User:
    if item.lead_department_id == world.d.mobility.pk:
        return world.d.mobility_exec
    if item.lead_department_id == world.energy.pk:
        return world.energy_exec
    return world.d.finance_exec


def report_final(world: World, item: Instruction, text: str = "Выполнено.") -> Any:
    return services.instruction_report(
        pk=item.pk, by=lead_executor(world, item), text=text, final=True
    )


def make_instruction(world: World, *, status: str = S.ON_CONTROL, **kwargs: Any) -> Instruction:
    """An instruction in ``status``, reached by the services (see the module docstring)."""
    if status not in ALL_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    item = create_instruction(world, **kwargs)
    staff = world.d.staff
    if status == S.REMOVED_FROM_CONTROL:
        services.instruction_remove_from_control(pk=item.pk, by=staff, reason="Утратило силу.")
        return refresh(item)
    if status == S.ON_CONTROL:
        return refresh(item)
    report_final(world, item)
    if status == S.EXECUTED:
        services.instruction_accept(pk=item.pk, by=staff)
    elif status == S.RETURNED:
        services.instruction_return(pk=item.pk, by=staff, comment="Нет сроков работ.")
    return refresh(item)


def refresh(item: Instruction) -> Instruction:
    return Instruction.objects.get(pk=item.pk)
