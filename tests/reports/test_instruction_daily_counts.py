"""Daily instruction counts (``reports.instruction_counts``) and the pages that read the daily
tables: the figures from the tables equal the live ones for every actor and filter the
dashboards, the discipline table and the public statistics offer."""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from instructions import services
from instructions.models import Instruction, InstructionStatus
from instructions.selectors import department_discipline
from maslikhat.accounts.models import User
from maslikhat.directory.actors import actor_for
from reports import public
from reports.daily_counts import build_daily_counts, public_counts
from reports.instruction_counts import instruction_counts, instruction_discipline
from reports.models import (
    DailyCountRun,
    InstructionDailyCount,
    RequestDailyCount,
    RequestMonthCount,
    RequestTotalCount,
)
from reports.selectors import (
    _summary_of,
    department_dashboard,
    filtered_requests,
    live_instruction_counters,
    staff_dashboard,
)
from requests_app.models import DeputyRequest
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, make_world
from tests.reports.test_daily_counts import COMBINATIONS, filter_options, make_requests
from tests.reports_helpers import Places, places

pytestmark = pytest.mark.django_db

S = InstructionStatus
TABLE = InstructionDailyCount._meta.db_table


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


def bulk_instructions(world: World, count: int, start: int = 1000) -> list[Instruction]:
    """``count`` instructions in every state, created on many days, due on the week's edges,
    reported on time or late, some co-executed (one by its own lead department too)."""
    d = world.d
    today = timezone.localdate()
    now = timezone.now()
    leads = itertools.cycle([d.finance, d.mobility, world.energy])
    statuses = itertools.cycle(S.values)
    week_end = 6 - today.weekday()
    offsets = [-30, -2, -1, 0, 1, week_end, week_end + 1, 20]
    rows = []
    for n in range(count):
        status = next(statuses)
        due = today + datetime.timedelta(days=offsets[n % len(offsets)] + (n // 40))
        reported = status in (S.REPORTED, S.EXECUTED, S.RETURNED) or (
            status == S.REMOVED_FROM_CONTROL and n % 2 == 0
        )
        reported_at = now - datetime.timedelta(days=(n % 5) * 10) if reported else None
        rows.append(
            Instruction(
                protocol=world.protocol,
                number=str(start + n),
                convocation=d.convocation,
                text=f"Поручение {n}",
                lead_department=next(leads),
                controller_commission=world.commission if n % 2 else None,
                controller_deputy=d.alice if n % 2 == 0 else None,
                due_date=due,
                original_due_date=due,
                status=status,
                reported_at=reported_at,
                executed_at=now if status == S.EXECUTED else None,
                created_by=d.staff,
            )
        )
    created = Instruction.objects.bulk_create(rows)
    Through = Instruction.co_departments.through
    Through.objects.bulk_create(
        Through(instruction_id=row.pk, department_id=dept.pk)
        for i, row in enumerate(created)
        for dept in (d.mobility, world.energy)
        if row.lead_department_id != dept.pk and i % 3 == (0 if dept == d.mobility else 1)
    )
    # A co-executor row naming the lead department itself (the services never write one).
    Through.objects.create(
        instruction_id=created[0].pk, department_id=created[0].lead_department_id
    )
    # Created on many days (the newest ones today: counted live beside the table).
    for i, row in enumerate(created[:-3]):
        Instruction.objects.filter(pk=row.pk).update(
            created_at=now - datetime.timedelta(days=1 + (i * 3) % 90, hours=i % 24)
        )
    return created


@pytest.fixture
def mixed(world: World) -> list[Instruction]:
    return bulk_instructions(world, 80)


def people(world: World) -> list[User]:
    d = world.d
    return [
        d.staff,
        d.chair,
        d.admin,
        d.finance_head,
        d.finance_exec,
        d.mobility_head,
        world.energy_exec,
        d.alice.user,
        world.carol.user,
    ]


def reads_table(read: Callable[[], Any]) -> tuple[Any, bool]:
    with CaptureQueriesContext(connection) as captured:
        result = read()
    return result, any(TABLE in q["sql"] for q in captured.captured_queries)


def test_the_build_fills_lead_and_co_executor_rows(world: World, mixed: list[Instruction]) -> None:
    run = build_daily_counts()
    assert run.instruction_rows == InstructionDailyCount.objects.count() > 0
    today = timezone.localdate()
    lead = InstructionDailyCount.objects.filter(lead=True)
    older = Instruction.objects.filter(created_at__date__lt=today)
    assert sum(lead.values_list("received", flat=True)) == older.count() == len(mixed) - 3
    co_pairs = Instruction.co_departments.through.objects.filter(
        instruction__created_at__date__lt=today
    ).exclude(department_id=F("instruction__lead_department_id"))
    co = InstructionDailyCount.objects.filter(lead=False)
    assert sum(co.values_list("received", flat=True)) == co_pairs.count() > 0
    assert not InstructionDailyCount.objects.filter(day__gte=today).exists()
    assert set(lead.values_list("status", flat=True)) == set(S.values)


def test_counters_from_the_table_equal_the_live_ones_for_everyone(
    world: World, mixed: list[Instruction]
) -> None:
    today = timezone.localdate()
    before = {u.pk: live_instruction_counters(actor_for(u), today) for u in people(world)}
    build_daily_counts()
    for user in people(world):
        actor = actor_for(user)
        counted, from_table = reads_table(functools.partial(instruction_counts, actor, today))
        assert counted == live_instruction_counters(actor, today) == before[user.pk], user
        assert counted == instruction_counts(actor, today, live=True)
        # Staff and departments read the table; a deputy's are counted live.
        assert from_table == (actor.deputy_id is None), user
    assert before[world.d.staff.pk]["total"] == len(mixed)


def test_discipline_from_the_table_equals_the_live_rows(
    world: World, mixed: list[Instruction]
) -> None:
    today = timezone.localdate()
    build_daily_counts()
    for user in people(world):
        actor = actor_for(user)
        rows, from_table = reads_table(functools.partial(instruction_discipline, actor, today))
        assert rows == list(department_discipline(actor=actor, today=today)), user
        assert from_table == (actor.deputy_id is None), user
    staff_rows = instruction_discipline(actor_for(world.d.staff), today)
    assert len(staff_rows) == 3 and sum(r["total"] for r in staff_rows) == len(mixed)


def test_changes_and_new_instructions_after_the_build_are_counted(
    world: World, mixed: list[Instruction]
) -> None:
    today = timezone.localdate()
    build_daily_counts()
    d = world.d
    old = Instruction.objects.filter(created_at__date__lt=today - datetime.timedelta(days=2))
    # A report, an acceptance, a removal through the services; and a new instruction.
    on_control = old.filter(status=S.ON_CONTROL, lead_department=d.finance).first()
    assert on_control is not None
    services.instruction_report(pk=on_control.pk, by=d.finance_exec, text="Сделано.", final=True)
    second = old.filter(status=S.ON_CONTROL, lead_department=d.mobility).first()
    assert second is not None
    services.instruction_report(pk=second.pk, by=d.mobility_exec, text="Готово.", final=True)
    services.instruction_accept(pk=second.pk, by=d.staff)
    # An approved extension moves the due date with the transition (``updated_at`` too).
    Instruction.objects.filter(pk=second.pk - 1).update(
        due_date=today + datetime.timedelta(days=40), updated_at=timezone.now()
    )
    removable = old.filter(status=S.ON_CONTROL).exclude(pk__in=[on_control.pk, second.pk]).first()
    assert removable is not None
    services.instruction_remove_from_control(pk=removable.pk, by=d.staff, reason="Утратило силу.")
    services.instruction_create(
        by=d.staff,
        protocol=world.protocol,
        text="Новое поручение",
        lead_department=world.energy,
        co_departments=(d.finance,),
        controller_commission=world.commission,
        controller_deputy=None,
        due_date=today + datetime.timedelta(days=2),
    )
    for user in people(world):
        actor = actor_for(user)
        assert instruction_counts(actor, today) == live_instruction_counters(actor, today), user
        assert instruction_discipline(actor, today) == list(
            department_discipline(actor=actor, today=today)
        ), user


def test_a_build_of_another_day_is_not_read(world: World, mixed: list[Instruction]) -> None:
    today = timezone.localdate()
    build_daily_counts(today - datetime.timedelta(days=1))
    actor = actor_for(world.d.staff)
    counted, from_table = reads_table(lambda: instruction_counts(actor, today))
    assert not from_table and counted == live_instruction_counters(actor, today)


def test_instruction_queries_do_not_grow_with_rows(world: World) -> None:
    today = timezone.localdate()
    staff, head = actor_for(world.d.staff), actor_for(world.d.finance_head)
    bulk_instructions(world, 10)
    build_daily_counts()

    def count(read: Callable[[], Any]) -> int:
        with CaptureQueriesContext(connection) as captured:
            read()
        return len(captured.captured_queries)

    reads = [
        lambda: instruction_counts(staff, today),
        lambda: instruction_counts(head, today),
        lambda: instruction_discipline(staff, today),
        lambda: instruction_discipline(head, today),
    ]
    few = [count(read) for read in reads]
    more = bulk_instructions(world, 300, start=5000)
    Instruction.objects.filter(pk=more[5].pk).update(updated_at=timezone.now())
    build_daily_counts()
    assert [count(read) for read in reads] == few
    assert few == [4, 4, 4, 4]


# --- The staff and department dashboards --------------------------------------------------------


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.mark.parametrize("combo", COMBINATIONS, ids=lambda c: "+".join(c) or "none")
def test_the_staff_dashboard_from_the_tables_equals_the_live_one(
    world: World, where: Places, mixed: list[Instruction], combo: tuple[str, ...]
) -> None:
    directory = world.d
    make_requests(directory, where, 60)
    today = timezone.localdate()
    actor = actor_for(directory.staff)
    options = filter_options(directory, where)
    cases = []
    for choice in itertools.product(*(options[name] for name in combo)):
        params: dict[str, Any] = {}
        for part in choice:
            params.update(part)
        cases.append(params)
    # Filters the table has not: counted live, the same figures.
    if not combo:
        cases += [{"is_overdue": "true"}, {"search": "Запрос"}, {"status": "nonsense"}]

    def live(params: dict[str, Any]) -> dict[str, Any]:
        filtered = filtered_requests(actor=actor, params=params, strict=False, today=today)
        return {
            "summary": _summary_of(filtered.queryset, today),
            "instructions": live_instruction_counters(actor, today),
            "discipline": [
                {**row, "name": row["lead_department__name_ru"]}
                for row in department_discipline(actor=actor, today=today)
            ],
        }

    before = [live(params) for params in cases]
    build_daily_counts()
    for params, expected in zip(cases, before, strict=True):
        data = staff_dashboard(actor=actor, params=params, today=today)
        source = data["summary"].pop("source")
        assert source == (
            "live"
            if data["errors"] or "search" in params or "is_overdue" in params
            else "daily_counts"
        ), params
        assert data["summary"] == expected["summary"], params
        assert data["instructions"] == expected["instructions"]
        assert data["discipline"] == expected["discipline"]


def test_the_department_dashboard_counts_instructions_from_the_table(
    world: World, mixed: list[Instruction]
) -> None:
    today = timezone.localdate()
    users = (world.d.finance_head, world.d.mobility_exec, world.energy_head)
    before = [department_dashboard(actor=actor_for(user), today=today) for user in users]
    build_daily_counts()
    for user, expected in zip(users, before, strict=True):
        read = functools.partial(department_dashboard, actor=actor_for(user), today=today)
        after, from_table = reads_table(read)
        assert from_table, user
        assert after["instructions"] == expected["instructions"], user
        assert after["counters"] == expected["counters"], user
    assert sum(b["instructions"]["total"] for b in before) > len(mixed)  # co-executed too


# --- The public statistics -------------------------------------------------------------------


def test_the_public_statistics_from_the_table_equal_the_live_ones(
    world: World, where: Places
) -> None:
    directory = world.d
    make_requests(directory, where, 120)
    # Published or not across every state; a change after the build, and a new one today.
    before = public.public_statistics()
    home_before = public.public_home()["totals"]
    assert before["totals"]["published"] > 0
    build_daily_counts()
    assert public_counts(since=datetime.date(2000, 1, 1)) is not None
    with CaptureQueriesContext(connection) as captured:
        after = public.public_statistics()
        home_after = public.public_home()["totals"]
    assert after == before and home_after == home_before
    sqls = [q["sql"] for q in captured.captured_queries]
    # The districts, the categories and the home page's totals from the sums over every
    # day; the months from the sums per month; no day row read.
    assert sum(RequestTotalCount._meta.db_table in sql for sql in sqls) == 3
    assert sum(RequestMonthCount._meta.db_table in sql for sql in sqls) == 1
    assert sum(RequestDailyCount._meta.db_table in sql for sql in sqls) == 0
    old = DeputyRequest.objects.filter(
        submitted_at__date__lt=timezone.localdate() - datetime.timedelta(days=5), is_public=False
    ).first()
    assert old is not None
    old.is_public = True
    old.save()
    with CaptureQueriesContext(connection) as captured:
        changed = public.public_statistics()
    # The changed day's rows taken out of the months' sums in the months' own query.
    months_sql = [
        q["sql"] for q in captured.captured_queries if RequestMonthCount._meta.db_table in q["sql"]
    ]
    assert len(months_sql) == 1 and RequestDailyCount._meta.db_table in months_sql[0]
    assert changed["totals"]["published"] == before["totals"]["published"] + 1
    assert changed == public_live_statistics()
    assert public.public_home()["totals"] == changed["totals"]


def public_live_statistics() -> dict[str, Any]:
    DailyCountRun.objects.all().delete()
    return public.public_statistics()


def test_the_public_pages_read_the_table(world: World, where: Places) -> None:
    make_requests(world.d, where, 30)
    client = Client()
    pages = {
        "/public/statistics/": ("totals", "by_district", "by_category", "by_month"),
        "/public/": ("totals",),
    }

    def shown() -> list[Any]:
        return [[client.get(url).context[key] for key in keys] for url, keys in pages.items()]

    before = shown()
    build_daily_counts()
    with CaptureQueriesContext(connection) as captured:
        after = shown()
    assert after == before
    assert any(RequestMonthCount._meta.db_table in q["sql"] for q in captured.captured_queries)
