"""Query budgets: each endpoint costs the same number of queries at 10 and at 1,000 rows.

The rows are bulk-inserted (instructions in every state, co-executors, and for the
instruction under test many decided reports, decided extensions and history
events), so an N+1 anywhere — a report's decider, an extension's requester, a
co-department — shows as a difference between the two sizes. Each measured call
uses a freshly loaded user, so resolving the caller's role and department counts.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ProtocolItem,
    ReportPeriod,
    ReportStatus,
)
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.threads import AuditEvent
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, make_instruction, make_world

pytestmark = pytest.mark.django_db

S = InstructionStatus

#: The most queries each endpoint may make (the same at 10 and at 1,000 rows). A paginated
#: list counts its rows with one query on SQLite and two on PostgreSQL (the planner's
#: estimate, then the count bounded at 1,001 rows): "count" below is PostgreSQL's two.
QUERY_BUDGETS: dict[str, int] = {
    # caller's department or deputy (not for staff), count, page, co-departments
    "instructions_list": 5,
    "instructions_list_filtered": 6,  # + the ?department= lookup
    # caller, the instruction, co-departments, reports (+ submitters, departments),
    # extensions, reports' deciders, extensions' requesters and deciders
    "instruction_detail": 10,
    # the instruction comes with all its prefetches (reports, extensions and their people)
    "instruction_reports": 10,
    "instruction_extensions": 10,
    # caller, the instruction with its prefetches, count, page of events with actors
    "instruction_history": 13,
    "instructions_discipline": 4,  # caller, count, the grouped rows
    "meetings_list": 3,  # count, page (protocol_count annotated)
    "protocols_list": 4,  # count, page, items
}
#: The path of each endpoint; ``{pk}`` is the instruction under test.
PATHS: dict[str, str] = {
    "instructions_list": "/api/v1/instructions/",
    "instructions_list_filtered": (
        "/api/v1/instructions/?status=on_control&status=reported&is_overdue=false"
        "&department={finance}&search=дорог&ordering=-due_date"
    ),
    "instruction_detail": "/api/v1/instructions/{pk}/",
    "instruction_reports": "/api/v1/instructions/{pk}/reports/",
    "instruction_extensions": "/api/v1/instructions/{pk}/extensions/",
    "instruction_history": "/api/v1/instructions/{pk}/history/",
    "instructions_discipline": "/api/v1/instructions/discipline/",
    "meetings_list": "/api/v1/meetings/",
    "protocols_list": "/api/v1/protocols/",
}
#: Who calls: staff see every row; a department and a deputy see through a filter.
PERSONAS = ("staff", "finance_exec", "alice")
#: Meetings and protocols are the same for everybody: measured as staff only.
SHARED = {"meetings_list", "protocols_list"}
CASES = [
    pytest.param(endpoint, persona, id=f"{endpoint}-{persona}")
    for endpoint in PATHS
    for persona in (("staff",) if endpoint in SHARED else PERSONAS)
]


def test_every_endpoint_has_a_budget() -> None:
    assert set(PATHS) == set(QUERY_BUDGETS)


def grow_meetings(world: World, count: int, *, start: int) -> None:
    """Bulk-insert ``count`` more meetings, each with a protocol of two items."""
    d = world.d
    today = timezone.localdate()
    meetings = Meeting.objects.bulk_create(
        Meeting(
            convocation=d.convocation,
            kind=MeetingKind.SESSION,
            session_kind="regular",
            date=today - datetime.timedelta(days=n),
            title=f"Сессия {start + n}",
            created_by=d.staff,
        )
        for n in range(count)
    )
    protocols = Protocol.objects.bulk_create(
        Protocol(meeting=m, number=str(start + n), date=m.date, created_by=d.staff)
        for n, m in enumerate(meetings)
    )
    ProtocolItem.objects.bulk_create(
        ProtocolItem(protocol=p, number=k, title=f"Вопрос {k}") for p in protocols for k in (1, 2)
    )


def grow(world: World, item: Instruction, count: int, *, start: int) -> None:
    """Bulk-insert ``count`` more instructions, and reports, extensions, history of ``item``."""
    d = world.d
    today = timezone.localdate()
    leads = itertools.cycle([d.finance, d.mobility, world.energy])
    statuses = itertools.cycle(S.values)
    now = timezone.now()
    rows = []
    for n in range(count):
        status = next(statuses)
        due = today + datetime.timedelta(days=(n % 60) - 30)
        reported = status in (S.REPORTED, S.EXECUTED)
        rows.append(
            Instruction(
                protocol=world.protocol,
                number=str(start + n),
                convocation=d.convocation,
                text=f"Поручение {start + n}: ремонт дорог и освещение",
                lead_department=next(leads),
                controller_commission=world.commission if n % 2 else None,
                controller_deputy=d.alice if n % 2 == 0 or n % 3 == 0 else None,
                due_date=due,
                original_due_date=due,
                report_period=ReportPeriod.MONTHLY if n % 4 == 0 else ReportPeriod.NONE,
                status=status,
                reported_at=now if reported else None,
                executed_at=now if status == S.EXECUTED else None,
                created_by=d.staff,
            )
        )
    created = Instruction.objects.bulk_create(rows)
    Through = Instruction.co_departments.through
    Through.objects.bulk_create(
        Through(instruction_id=row.pk, department_id=d.mobility.pk)
        for row in created
        if row.lead_department_id != d.mobility.pk and row.pk % 3 == 0
    )
    # The instruction under test grows too: decided reports and extensions, history.
    deciders = itertools.cycle([d.staff, d.alice.user, world.carol.user])
    submitters = itertools.cycle([d.finance_exec, d.finance_head, d.mobility_exec])
    ExecutionReport.objects.bulk_create(
        ExecutionReport(
            instruction=item,
            department=d.finance,
            text=f"Промежуточный отчёт {n}",
            is_final=False,
            status=ReportStatus.ACCEPTED,
            submitted_by=next(submitters),
            decided_by=next(deciders),
            decided_at=now,
        )
        for n in range(min(count, 40))
    )
    Extension.objects.bulk_create(
        Extension(
            item_type="instruction",
            item_id=item.pk,
            requested_by=next(submitters),
            previous_due_date=item.due_date,
            new_due_date=item.due_date + datetime.timedelta(days=1),
            reason=f"Причина {n}",
            status=ExtensionStatus.REJECTED,
            decided_by=next(deciders),
            decided_at=now,
            comment="Нет",
        )
        for n in range(min(count, 40))
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            actor=next(deciders),
            action="report_interim",
            from_status=S.ON_CONTROL,
            to_status=S.ON_CONTROL,
        )
        for _ in range(count)
    )


def measure(
    world: World, persona: str, endpoint: str, item: Instruction, assert_max: Any
) -> tuple[int, dict[str, Any]]:
    user = get_user_model().objects.get(pk=world.user(persona).pk)  # nothing cached on it
    client = APIClient()
    client.force_authenticate(user)
    path = PATHS[endpoint].format(pk=item.pk, finance=world.d.finance.pk)
    with assert_max(QUERY_BUDGETS[endpoint]) as captured:
        result = client.get(path)
    assert result.status_code == 200, result.content
    return len(captured), result.json()


def size_of(body: Any) -> int:
    if isinstance(body, list):
        return len(body)
    if "results" in body:
        return int(body["count"])
    return len(body["reports"]) + len(body["extensions"])


@pytest.mark.parametrize(("endpoint", "persona"), CASES)
def test_the_endpoint_makes_the_same_queries_at_10_and_at_1000_instructions(
    directory: DemoDirectory,
    django_assert_max_num_queries: Any,
    persona: str,
    endpoint: str,
) -> None:
    world = make_world(directory)
    item = make_instruction(world, status=S.REPORTED)
    grow(world, item, 9, start=100)
    if endpoint in SHARED:
        grow_meetings(world, 9, start=100)
    assert Instruction.objects.count() == 10
    small, small_body = measure(world, persona, endpoint, item, django_assert_max_num_queries)
    grow(world, item, 990, start=1000)
    if endpoint in SHARED:
        grow_meetings(world, 990, start=1000)
        assert Meeting.objects.count() == Protocol.objects.count() == 1000
    assert Instruction.objects.count() == 1000
    large, large_body = measure(world, persona, endpoint, item, django_assert_max_num_queries)
    assert small == large
    if endpoint != "instructions_discipline":
        # The rows were really there: the answer grew (or, for a visible page, stayed full).
        assert size_of(large_body) >= size_of(small_body) > 0


def test_the_visible_instruction_comes_with_everything_its_detail_shows(
    directory: DemoDirectory, django_assert_num_queries: Any
) -> None:
    from instructions.selectors import instruction_get_visible

    world = make_world(directory)
    item = make_instruction(world, status=S.REPORTED)
    grow(world, item, 5, start=100)
    loaded = instruction_get_visible(user=world.d.staff, pk=item.pk)
    with django_assert_num_queries(0):
        deciders = {r.decided_by.username for r in loaded.reports.all() if r.decided_by}
        people = {
            (e.requested_by.username, e.decided_by.username if e.decided_by else None)
            for e in loaded.extensions.all()
        }
    assert deciders and people
