"""Daily aggregates of protocol instructions: counts per day of creation × executing
department (lead or co-executor) × status, built with the request counts by the same
nightly run (``daily_counts.build_daily_counts``), read by the instruction counters of the
dashboards and by the discipline tables.

As the request counts: the table holds the instructions created before the run's day,
"overdue" and "due this week" judged on it; the readers use it only when the run is done
and its day is today, and count live beside it the instructions created today and every
creation day in which an instruction changed since the build (``updated_at``; a day's rows
are its instructions' only). A fixed number of queries either way.

Who the table answers: staff, the chair and administrators (the lead rows: every
instruction once) and a department (its rows, lead or co-executor: the instructions it
sees). A deputy's instructions (those they or their commission control) are counted live:
the table has no controller, and a deputy's share is small — read by its indexes, one
``UNION ALL`` of the instructions they control and those of the commissions they chair
(``_deputy_groups``), not the whole table.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate

from instructions.models import INSTRUCTION_OPEN_STATUSES, Instruction, InstructionStatus
from instructions.selectors import instruction_visible
from instructions.selectors import with_overdue as instruction_with_overdue
from maslikhat.directory.actors import Actor
from maslikhat.directory.models import Commission

from .models import DailyCountRun, InstructionDailyCount

I = InstructionStatus  # noqa: E741

#: The counts each row stores (``InstructionDailyCount`` columns, in this order).
MEASURES = ("received", "overdue", "overdue_open", "due_this_week", "on_time", "late")


def _week_end(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=6 - today.weekday())


def _conditions(today: datetime.date) -> dict[str, Q]:
    """The instruction counters' and the discipline's conditions (over ``with_overdue``)."""
    open_q = Q(status__in=INSTRUCTION_OPEN_STATUSES)
    not_removed = ~Q(status=I.REMOVED_FROM_CONTROL)
    return {
        "overdue": Q(overdue=True),
        "overdue_open": open_q & Q(due_date__lt=today),
        "due_this_week": open_q & Q(due_date__gte=today, due_date__lte=_week_end(today)),
        "on_time": Q(reported_at__isnull=False, reported_at__date__lte=F("due_date")) & not_removed,
        "late": Q(reported_at__isnull=False, reported_at__date__gt=F("due_date")) & not_removed,
    }


def _measure_expressions(today: datetime.date) -> dict[str, Any]:
    c = _conditions(today)
    expressions: dict[str, Any] = {"n_received": Count("pk")}
    expressions.update({f"n_{name}": Count("pk", filter=c[name]) for name in MEASURES[1:]})
    return expressions


# --- The build ------------------------------------------------------------------------------


def _sources(day: datetime.date) -> list[QuerySet[Any]]:
    """The lead rows and the co-executor rows as of ``day`` (two ``GROUP BY`` selects)."""
    base = (
        instruction_with_overdue(Instruction.objects.all(), day)
        .filter(created_at__date__lt=day)
        .order_by()
        .annotate(d_day=TruncDate("created_at"))
    )
    yes, no = Value(True, output_field=BooleanField()), Value(False, output_field=BooleanField())
    lead = base.annotate(d_department=F("lead_department_id"), d_lead=yes)
    co = (
        base.annotate(d_department=F("co_departments"), d_lead=no)
        .filter(d_department__isnull=False)
        .exclude(d_department=F("lead_department_id"))
    )
    expressions = _measure_expressions(day)
    return [
        qs.values("d_day", "d_department", "d_lead", "status").annotate(**expressions)
        for qs in (lead, co)
    ]


def build_instruction_counts(day: datetime.date, cursor: Any) -> int:
    """Replace ``InstructionDailyCount`` with the counts as of ``day``; the number of rows.

    Runs inside the caller's transaction (``daily_counts.build_daily_counts``, which holds
    the lock and stamps the run): one ``DELETE`` and two ``INSERT … SELECT``.
    """
    qn = connection.ops.quote_name
    table = qn(InstructionDailyCount._meta.db_table)
    targets = ["day", "department_id", "lead", "status", *MEASURES]
    sources = ["d_day", "d_department", "d_lead", "status", *(f"n_{m}" for m in MEASURES)]
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    cursor.execute(f"DELETE FROM {table}")
    rows = 0
    for source in _sources(day):
        select_sql, params = source.query.sql_with_params()
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(qn(c) for c in targets)}) "
            f"SELECT {', '.join(qn(c) for c in sources)} FROM ({select_sql}) AS counts",
            params,
        )
        rows += max(cursor.rowcount, 0)
    return rows


# --- The readers ----------------------------------------------------------------------------


def _run_for(actor: Actor, today: datetime.date, live: bool) -> DailyCountRun | None:
    """Today's finished build when the table answers for ``actor``, else ``None`` (live)."""
    from .daily_counts import current_run

    # The order of ``instruction_visible``: everything, a department, a deputy (live).
    if live or not (actor.sees_everything or actor.department_id is not None):
        return None
    run = current_run()
    return run if run is not None and run.day == today else None


def _split(run: DailyCountRun) -> tuple[list[datetime.date], Q]:
    """The creation days read live (changed since the build) and the live part's filter."""
    changed = set(
        Instruction.objects.filter(updated_at__gte=run.started_at)
        .order_by()
        .values_list(TruncDate("created_at"), flat=True)
        .distinct()
    )
    from .daily_counts import days_q

    days = sorted(d for d in changed if d is not None and d < run.day)
    return days, days_q("created_at", run.day, days)


def _stored(actor: Actor, days: list[datetime.date]) -> QuerySet[InstructionDailyCount]:
    stored = InstructionDailyCount.objects.exclude(day__in=days)
    if actor.sees_everything:
        return stored.filter(lead=True)
    assert actor.department_id is not None
    return stored.filter(department_id=actor.department_id)


def _totals(groups: list[dict[str, Any]]) -> dict[str, int]:
    """``instruction_counters``' figures from ``(status, measures…)`` groups."""
    by_status: dict[str, int] = {}
    for group in groups:
        by_status[group["status"]] = by_status.get(group["status"], 0) + group["received"]
    return {
        "total": sum(by_status.values()),
        "on_control": sum(by_status.get(s, 0) for s in INSTRUCTION_OPEN_STATUSES),
        "overdue_open": sum(g["overdue_open"] for g in groups),
        "due_this_week": sum(g["due_this_week"] for g in groups),
        "reported": by_status.get(I.REPORTED, 0),
        "executed": by_status.get(I.EXECUTED, 0),
        "overdue": sum(g["overdue"] for g in groups),
    }


def _live_by(qs: QuerySet[Instruction], today: datetime.date, *columns: str) -> list[dict]:
    rows = qs.order_by().values(*columns, "status").annotate(**_measure_expressions(today))
    return [
        {**{c: row[c] for c in (*columns, "status")}, **{m: row[f"n_{m}"] for m in MEASURES}}
        for row in rows
    ]


def _stored_by(qs: QuerySet[InstructionDailyCount], *columns: str) -> list[dict]:
    rows = qs.order_by().values(*columns, "status").annotate(**{f"n_{m}": Sum(m) for m in MEASURES})
    return [
        {**{c: row[c] for c in (*columns, "status")}, **{m: row[f"n_{m}"] or 0 for m in MEASURES}}
        for row in rows
    ]


def instruction_counts(actor: Actor, today: datetime.date, *, live: bool = False) -> dict[str, int]:
    """Protocol instructions the actor may see: total, on control, overdue (open), due this
    week, reported, executed — from the table where it answers, else live.

    Four queries from the table (the run, the changed days, the table, the live part),
    one live. A deputy's (the table has no controller) are counted live by the two parts
    of their control, each by its index (``_deputy_groups``); ``live`` counts as
    ``selectors.live_instruction_counters`` does.
    """
    from .selectors import live_instruction_counters

    run = _run_for(actor, today, live)
    if run is None:
        if not live and _for_deputy(actor):
            return _totals(_deputy_groups(actor, today))
        return live_instruction_counters(actor, today)
    days, live_q = _split(run)
    recent = instruction_with_overdue(instruction_visible(actor), today).filter(live_q)
    return _totals(_stored_by(_stored(actor, days)) + _live_by(recent, today))


def _for_deputy(actor: Actor) -> bool:
    """Whether ``instruction_visible`` shows ``actor`` a deputy's instructions (the order of
    its rules: everything, a department, a deputy)."""
    return not actor.sees_everything and actor.department_id is None and actor.deputy_id is not None


def _deputy_groups(actor: Actor, today: datetime.date) -> list[dict[str, Any]]:
    """A deputy's instructions per status (the measures of the table's rows), counted live
    in one query: a ``UNION ALL`` of the two ways a deputy controls an instruction, each
    read by its own index — those they control themselves (by controller), and those whose
    controlling commission they chair, controlled by no deputy or another (the deputy's
    commissions, then their instructions by commission).

    Both parts stay within ``instruction_visible``: the ``OR`` of the two rules, joined to
    the commissions, has no index to answer by (PostgreSQL reads every instruction), while
    each part names its index. Between them they are the deputy's instructions, each once.
    """
    deputy_id = actor.deputy_id
    visible = instruction_with_overdue(instruction_visible(actor), today).order_by()
    controlled = visible.filter(controller_deputy_id=deputy_id)
    chaired = (
        visible.filter(controller_commission__chair_id=deputy_id)
        .exclude(controller_deputy_id=deputy_id)
        # Read only if they chair a commission: without this test, evaluated once before
        # the part, PostgreSQL plans for a commission's share of every instruction and
        # starts parallel workers (15 ms at a million requests) to count none.
        .filter(Exists(Commission.objects.filter(chair_id=deputy_id)))
    )
    expressions = _measure_expressions(today)
    first, second = (qs.values("status").annotate(**expressions) for qs in (controlled, chaired))
    rows: QuerySet[Any] = first.union(second, all=True)
    return [{"status": row["status"], **{m: row[f"n_{m}"] for m in MEASURES}} for row in rows]


def _discipline_rows(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[int, dict[str, Any]] = {}
    for group in groups:
        row = merged.setdefault(
            group["department"],
            {
                "lead_department": group["department"],
                "lead_department__code": group["code"],
                "lead_department__name_ru": group["name_ru"],
                "total": 0,
                "on_time": 0,
                "late": 0,
                "open_overdue": 0,
                "on_control": 0,
            },
        )
        row["total"] += group["received"]
        row["on_time"] += group["on_time"]
        row["late"] += group["late"]
        row["open_overdue"] += group["overdue_open"]
        if group["status"] in INSTRUCTION_OPEN_STATUSES:
            row["on_control"] += group["received"]
    rows = [row for row in merged.values() if row["total"]]
    rows.sort(key=lambda r: (-r["open_overdue"], r["lead_department__code"]))
    return rows


def instruction_discipline(
    actor: Actor, today: datetime.date, *, live: bool = False
) -> list[dict[str, Any]]:
    """``instructions.selectors.department_discipline``'s rows (per lead department: total,
    on time, late, open overdue, on control), from the table where it answers.

    A department's own row only (its lead rows), as the live selector. Four queries from
    the table, one live.
    """
    from instructions.selectors import department_discipline

    run = _run_for(actor, today, live)
    if run is None:
        return list(department_discipline(actor=actor, today=today))
    days, live_q = _split(run)
    stored = InstructionDailyCount.objects.exclude(day__in=days).filter(lead=True)
    recent = instruction_with_overdue(instruction_visible(actor), today).filter(live_q)
    if actor.department_id is not None and not actor.sees_everything:
        stored = stored.filter(department_id=actor.department_id)
        recent = recent.filter(lead_department_id=actor.department_id)
    names = ("department__code", "department__name_ru")
    groups = [
        {**g, "code": g["department__code"], "name_ru": g["department__name_ru"]}
        for g in _stored_by(stored, "department", *names)
    ]
    groups += [
        {
            **g,
            "department": g["lead_department"],
            "code": g["lead_department__code"],
            "name_ru": g["lead_department__name_ru"],
        }
        for g in _live_by(recent, today, "lead_department", *("lead_" + n for n in names))
    ]
    return _discipline_rows(groups)
