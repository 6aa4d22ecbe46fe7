"""The to-do's queries (``reports.todo``): per group one count and one page, and one read of
the working calendar's decreed days — the extension groups find their items by a semi-join
on the extensions in the same query, not by a list of ids read first."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from instructions.models import InstructionStatus
from maslikhat.core.extensions import ExtensionStatus
from maslikhat.directory.actors import actor_for
from reports.todo import groups_for, todo_for
from tests.instruction_helpers import World, make_instruction, make_world
from tests.requests_helpers import make_request
from tests.todo_helpers import extension, todo_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(directory: Any) -> World:
    return make_world(directory)


@pytest.mark.parametrize("persona", ["staff", "finance_head", "alice", "chair"])
def test_two_queries_per_group_and_the_calendar(world: World, persona: str) -> None:
    todo_scene(world)
    actor = actor_for(world.user(persona))
    groups = groups_for(actor)
    with CaptureQueriesContext(connection) as captured:
        result = todo_for(actor, timezone.localdate())
    assert any(group.items for group in result)
    sqls = [q["sql"] for q in captured.captured_queries]
    calendar = [sql for sql in sqls if 'FROM "core_calendarday"' in sql]
    # The rows' working days (and a promise group's own due-date arithmetic).
    assert 1 <= len(calendar) <= 2
    # A deputy's reports to decide read the commissions they chair first (a few ids).
    chaired = [sql for sql in sqls if sql.startswith('SELECT "directory_commission"."id"')]
    assert len(chaired) == (1 if persona == "alice" else 0)
    assert len(sqls) - len(calendar) - len(chaired) == 2 * len(groups)
    # No list of extension ids is read before the groups' queries.
    assert not [sql for sql in sqls if sql.startswith('SELECT "requests_app_extension"')]


def test_extensions_pending_and_decided_are_found_in_the_page_query(world: World) -> None:
    d = world.d
    pending_request = make_request(d, status="in_progress", title="Продлить")
    extension(pending_request, ExtensionStatus.PENDING, d.finance_head)
    pending_instruction = make_instruction(world)
    extension(pending_instruction, ExtensionStatus.PENDING, d.finance_head)
    decided = make_instruction(world)
    extension(decided, ExtensionStatus.APPROVED, d.finance_head, decided_by=d.staff)
    old = make_instruction(world, status=InstructionStatus.ON_CONTROL)
    ext = extension(old, ExtensionStatus.REJECTED, d.finance_head, decided_by=d.staff)
    type(ext).objects.filter(pk=ext.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=30)
    )
    staff = {g.kind: g for g in todo_for(actor_for(d.staff), timezone.localdate())}
    assert [i.id for i in staff["request_extensions_to_decide"].items] == [pending_request.pk]
    assert [i.id for i in staff["instruction_extensions_to_decide"].items] == [
        pending_instruction.pk
    ]
    head = {g.kind: g for g in todo_for(actor_for(d.finance_head), timezone.localdate())}
    # Decided in the last two weeks only, each item once.
    assert [i.id for i in head["instruction_extensions_decided"].items] == [decided.pk]
    assert head["instruction_extensions_decided"].count == 1


def test_the_extensions_page_is_the_earliest_due_of_the_whole_queue(world: World) -> None:
    d = world.d
    today = timezone.localdate()
    items = []
    for days in (9, 3, 14, 1, 7, 2, 12, 5):
        item = make_instruction(world)
        type(item).objects.filter(pk=item.pk).update(due_date=today + datetime.timedelta(days))
        extension(item, ExtensionStatus.PENDING, d.finance_head)
        items.append((days, item.pk))
    staff = {g.kind: g for g in todo_for(actor_for(d.staff), today, page_size=3)}
    group = staff["instruction_extensions_to_decide"]
    assert group.count == len(items)
    assert [i.id for i in group.items] == [pk for _days, pk in sorted(items)[:3]]
