"""The demo year of meetings and protocol instructions (``seed_instructions``), on a small year."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from demo import instruction_plans
from demo.context import DemoContext
from demo.directory import seed_directory
from demo.instructions import seed_instructions
from demo.management.commands import seed_demo
from demo.requests import seed_requests
from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ProtocolItem,
    ReportStatus,
    SessionKind,
)
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.items import ItemType
from maslikhat.core.notifications import Notification
from maslikhat.core.threads import AuditEvent, Message, ThreadReadMark
from maslikhat.directory.services import read_reference_data

SEED = 2023


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The steps' summary lines are read in English (the catalogs translate them)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def small_year(monkeypatch: pytest.MonkeyPatch) -> None:
    """A year with all 13 sessions but fewer commission meetings, hearings and instructions."""
    monkeypatch.setattr(instruction_plans, "COMMISSION_MEETINGS", 8)
    monkeypatch.setattr(instruction_plans, "HEARINGS", 2)
    monkeypatch.setattr(instruction_plans, "INSTRUCTIONS", 36)


def context_for(seed: int = SEED, scale: int = 1) -> DemoContext:
    """The context the way ``seed_demo`` builds it (without the slower requests step)."""
    return DemoContext(directory=seed_directory(seed=seed, scale=scale), seed=seed, scale=scale)


@pytest.fixture
def context(db: None) -> DemoContext:
    return context_for()


def instruction_events(item: Instruction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(item_type=ItemType.INSTRUCTION, item_id=item.pk))


def test_seed_demo_runs_the_instructions_step_after_the_requests_step() -> None:
    steps = seed_demo.STEPS
    assert seed_instructions in steps
    assert steps.index(seed_instructions) > steps.index(seed_requests)


def test_the_year_shows_every_state_of_an_instruction(context: DemoContext) -> None:
    with translation.override("en"):
        line = seed_instructions(context)

    today = timezone.localdate()
    items = list(Instruction.objects.all())
    assert len(items) == 36
    assert {i.status for i in items} == set(InstructionStatus.values)
    on_control = [i for i in items if i.status == InstructionStatus.ON_CONTROL]
    assert any(i.due_date < today for i in on_control), "some instruction is overdue"
    assert any(i.due_date >= today for i in on_control), "some instruction is still running"
    executed = [i for i in items if i.status == InstructionStatus.EXECUTED]
    assert any(i.is_overdue_on(today) for i in executed), "some were executed late"
    assert any(not i.is_overdue_on(today) for i in executed), "some were executed on time"
    removed = [i for i in items if i.status == InstructionStatus.REMOVED_FROM_CONTROL]
    assert all(i.removal_reason and i.removed_at for i in removed)
    assert line.startswith("Meetings: ")
    assert "instructions: 36 (" in line


def test_reports_returns_and_extensions_go_through_the_services(context: DemoContext) -> None:
    seed_instructions(context)

    reports = ExecutionReport.objects.all()
    assert reports.filter(is_final=False).exists(), "interim (periodic, co-executor) reports"
    assert reports.filter(is_final=True, status=ReportStatus.RETURNED).exists()
    assert reports.filter(is_final=True, status=ReportStatus.ACCEPTED).exists()
    # Some were returned and then reported again and accepted.
    assert (
        Instruction.objects.filter(
            status=InstructionStatus.EXECUTED, reports__status=ReportStatus.RETURNED
        )
        .distinct()
        .exists()
    )
    submitters = {r.submitted_by.username for r in reports.select_related("submitted_by")}
    assert all(name.endswith(("-head", "-exec")) for name in submitters)
    deciders = {r.decided_by.username for r in reports.select_related("decided_by") if r.decided_by}
    assert "staff" in deciders and any(name.startswith("deputy") for name in deciders)

    extensions = Extension.objects.filter(item_type="instruction")
    assert set(extensions.values_list("status", flat=True)) == set(ExtensionStatus.values)
    for extension in extensions.exclude(status=ExtensionStatus.PENDING).select_related(
        "decided_by"
    ):
        assert extension.decided_by is not None
        assert extension.decided_by.username in ("staff", "chair")
    approved = extensions.filter(status=ExtensionStatus.APPROVED).values("item_id")
    extended = Instruction.objects.filter(pk__in=approved)
    assert extended and all(i.due_date > i.original_due_date for i in extended)
    assert Message.objects.filter(item_type=ItemType.INSTRUCTION).exists()


def test_sessions_follow_the_figures_of_2023(context: DemoContext) -> None:
    seed_instructions(context)

    figures = read_reference_data()["figures_2023"]
    today = timezone.localdate()
    held = Meeting.objects.filter(date__lt=today)
    sessions = held.filter(kind=MeetingKind.SESSION)
    assert sessions.count() == figures["open_sessions"] == 13
    assert sessions.filter(session_kind=SessionKind.REGULAR).count() == 4
    assert sessions.filter(session_kind=SessionKind.EXTRAORDINARY).count() == 9
    assert all(today - dt.timedelta(days=366) < m.date for m in held)
    numbers = [int(p.number) for p in Protocol.objects.filter(meeting__in=sessions)]
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 13))

    assert held.filter(kind=MeetingKind.COMMISSION).count() == 8
    hearings = held.filter(kind=MeetingKind.HEARING)
    assert hearings.count() == 2 and all(h.department_id for h in hearings)
    for meeting in held:
        protocol = meeting.protocols.get()
        assert protocol.date == meeting.date
        assert 2 <= protocol.items.count() <= 5
        if meeting.kind != MeetingKind.SESSION:
            assert re.fullmatch(r"К-\d/\d+", protocol.number), protocol.number
    for visit in held.filter(is_field_visit=True):
        assert "район" in visit.location


def test_scale_multiplies_the_year(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instruction_plans, "COMMISSION_MEETINGS", 1)
    monkeypatch.setattr(instruction_plans, "HEARINGS", 0)
    monkeypatch.setattr(instruction_plans, "INSTRUCTIONS", 10)
    seed_instructions(context_for(scale=2))

    held = Meeting.objects.filter(date__lt=timezone.localdate())
    assert held.filter(kind=MeetingKind.SESSION).count() == 26
    assert held.filter(kind=MeetingKind.COMMISSION).count() == 2
    assert Instruction.objects.count() == 20


def test_upcoming_meetings_of_the_next_month_have_no_protocol(context: DemoContext) -> None:
    seed_instructions(context)

    today = timezone.localdate()
    upcoming = Meeting.objects.filter(date__gte=today)
    assert upcoming.exists()
    assert all(m.date <= today + dt.timedelta(days=30) for m in upcoming)
    assert 2 <= upcoming.filter(kind=MeetingKind.SESSION).count() <= 3
    assert upcoming.filter(kind=MeetingKind.COMMISSION).count() >= 3
    assert not Protocol.objects.filter(meeting__in=upcoming).exists()
    assert all(m.agenda for m in upcoming)


def test_every_instruction_has_its_history_in_the_past(context: DemoContext) -> None:
    seed_instructions(context)

    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0)))
    for item in Instruction.objects.select_related("protocol", "created_by"):
        events = instruction_events(item)
        assert events, item
        assert events[0].action == "create"
        assert events[0].actor == item.created_by
        assert item.created_by.username == "staff"
        assert events[-1].to_status == item.status
        assert all(e.created_at < midnight for e in events)
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        assert timezone.localdate(events[0].created_at) > item.protocol.date


def test_due_dates_are_one_to_three_months_after_the_protocol(context: DemoContext) -> None:
    seed_instructions(context)

    items = list(Instruction.objects.select_related("protocol"))
    for item in items:
        assert item.due_date >= item.protocol.date
        assert item.original_due_date >= item.protocol.date
        # 30–92 days, moved to the next working day.
        assert 30 <= (item.original_due_date - item.protocol.date).days <= 100
        assert item.controller_commission_id is not None
    assert any(i.report_period != "none" for i in items)
    assert any(i.controller_deputy_id for i in items)
    assert any(i.co_departments.exists() for i in items)


def test_the_year_sends_no_email(
    context: DemoContext, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        seed_instructions(context)

    assert callbacks == [], "no e-mail task is enqueued after the commit"
    notifications = Notification.objects.filter(item_type=ItemType.INSTRUCTION)
    assert notifications.exists()
    assert not notifications.filter(send_email=True).exists()


def dump() -> list[tuple[Any, ...]]:
    """Everything the step writes, without primary keys (and without the real-time
    ``created_at`` of the upcoming meetings)."""

    def key(item: Instruction) -> tuple[Any, ...]:
        return (item.protocol.meeting.title, item.protocol.number, item.number)

    instructions = {
        i.pk: i
        for i in Instruction.objects.select_related(
            "protocol__meeting",
            "lead_department",
            "controller_commission",
            "controller_deputy__user",
        ).prefetch_related("co_departments")
    }
    rows: list[tuple[Any, ...]] = []
    rows += sorted(
        (
            "meeting",
            m.date,
            m.kind,
            m.session_kind,
            m.title,
            m.agenda,
            m.location,
            m.is_field_visit,
            m.commission.code if m.commission else "",
            m.department.code if m.department else "",
        )
        for m in Meeting.objects.select_related("commission", "department")
    )
    rows += sorted(
        ("protocol", p.meeting.title, p.number, p.date, p.created_at)
        for p in Protocol.objects.select_related("meeting")
    )
    rows += sorted(
        ("item", p.protocol.number, p.number, p.title)
        for p in ProtocolItem.objects.select_related("protocol")
    )
    rows += sorted(
        (
            "instruction",
            *key(i),
            i.text,
            i.lead_department.code,
            tuple(sorted(d.code for d in i.co_departments.all())),
            i.controller_commission.code if i.controller_commission else "",
            i.controller_deputy.user.username if i.controller_deputy else "",
            i.due_date,
            i.original_due_date,
            i.report_period,
            i.status,
            i.reported_at,
            i.executed_at,
            i.removed_at,
            i.removal_reason,
            i.created_at,
        )
        for i in instructions.values()
    )
    rows += sorted(
        (
            "report",
            *key(instructions[r.instruction_id]),
            r.department.code,
            r.text,
            r.is_final,
            r.status,
            r.submitted_by.username,
            r.submitted_at,
            r.decided_by.username if r.decided_by else "",
            r.decided_at,
            r.comment,
        )
        for r in ExecutionReport.objects.select_related("department", "submitted_by", "decided_by")
    )
    rows += sorted(
        (
            "extension",
            *key(instructions[e.item_id]),
            e.previous_due_date,
            e.new_due_date,
            e.status,
            e.reason,
            e.comment,
            e.created_at,
            e.decided_at,
        )
        for e in Extension.objects.filter(item_type="instruction")
    )
    rows += sorted(
        (
            "event",
            *key(instructions[e.item_id]),
            e.action,
            e.from_status,
            e.to_status,
            e.actor.username if e.actor else "",
            e.created_at,
            e.comment,
        )
        for e in AuditEvent.objects.filter(item_type=ItemType.INSTRUCTION).select_related("actor")
    )
    rows += sorted(
        ("message", *key(instructions[m.item_id]), m.author.username, m.text, m.created_at)
        for m in Message.objects.filter(item_type=ItemType.INSTRUCTION).select_related("author")
    )
    return rows


def wipe_year() -> None:
    """Remove what the step wrote, as a database without the demo year would be."""
    Notification.objects.all().delete()
    ThreadReadMark.objects.all().delete()
    Message.objects.all().delete()
    AuditEvent.objects.all().delete()
    Extension.objects.all().delete()
    ExecutionReport.objects.all().delete()
    Instruction.co_departments.through.objects.all().delete()
    Instruction.objects.all().delete()
    ProtocolItem.objects.all().delete()
    Protocol.objects.all().delete()
    Meeting.objects.all().delete()


def test_the_same_seed_gives_the_same_year(context: DemoContext) -> None:
    seed_instructions(context)
    first = dump()
    wipe_year()

    seed_instructions(context_for())

    assert dump() == first


def test_another_seed_gives_another_year(context: DemoContext) -> None:
    seed_instructions(context)
    first = dump()
    wipe_year()

    seed_instructions(context_for(seed=SEED + 1))

    assert dump() != first


def test_a_second_run_adds_nothing(context: DemoContext) -> None:
    seed_instructions(context)
    counts = (
        Meeting.objects.count(),
        Instruction.objects.count(),
        ExecutionReport.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )

    line = seed_instructions(context_for())

    assert "not added" in line
    assert counts == (
        Meeting.objects.count(),
        Instruction.objects.count(),
        ExecutionReport.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )
