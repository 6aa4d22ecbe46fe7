"""Protocol instructions' part of the daily reminder sweep (``maslikhat/core/reminders.py``).

The rows of docs/kpi.md's table that concern an instruction: due in 3, 1, 0 working
days (the lead department's officers), overdue by 1, 6, 11, … (its heads and staff;
from the second escalation the controlling deputy and the controlling
commission's chair too), a periodic report due (the officers), an extension
undecided for ``EXTENSION_AFTER`` days (staff).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from datetime import date

from django.db.models import Min, Q
from django.utils import timezone

from maslikhat.core.items import ItemType
from maslikhat.core.reminders import (
    DUE,
    ESCALATE,
    OVERDUE,
    PERIODIC_REPORT,
    REMIND,
    Drafts,
    ItemReminders,
    Reason,
    SweepResult,
    Windows,
    extensions_awaiting,
)
from maslikhat.directory.recipients import Recipients

from .models import INSTRUCTION_OPEN_STATUSES, Instruction, ReportPeriod
from .selectors import periodic_report_dates

#: Periodic reports, months between two reports.
REPORT_STEP_MONTHS = {ReportPeriod.MONTHLY: 1, ReportPeriod.QUARTERLY: 3}


def _months_back(report_day: date, months: int) -> list[date]:
    """Every start ``c`` with ``add_months(c, months) == report_day`` (months are clamped)."""
    index = report_day.year * 12 + report_day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = monthrange(year, month)[1]
    if report_day.day == monthrange(report_day.year, report_day.month)[1]:
        # The last day of a month is reached from every later-or-equal day of the start month.
        return [date(year, month, d) for d in range(report_day.day, last + 1)]
    return [date(year, month, report_day.day)] if report_day.day <= last else []


def report_start_dates(report_days: Iterable[date], *, step: int, since: date) -> list[date]:
    """Instruction start dates (local ``created_at``) with a periodic report on ``report_days``.

    The inverse of ``periodic_report_dates``: the report dates are the start plus
    ``step``·n months, so the starts are the report date minus ``step``·n months.
    """
    starts: set[date] = set()
    for report_day in report_days:
        months = step
        # Stop at the month of the oldest open periodic instruction.
        while report_day.year * 12 + report_day.month - months >= since.year * 12 + since.month:
            starts.update(_months_back(report_day, months))
            months += step
    return sorted(starts)


class InstructionReminders(ItemReminders):
    """Open instructions near or past their due date or with a periodic report due, and
    extensions of instructions awaiting a decision: one query each."""

    def __init__(self, day: date) -> None:
        super().__init__(day)
        # How far back: the oldest overdue due date and the oldest open instruction
        # with periodic reports, in one aggregate query.
        bounds = Instruction.objects.filter(status__in=INSTRUCTION_OPEN_STATUSES).aggregate(
            oldest=Min("due_date", filter=Q(due_date__lt=day)),
            first_periodic=Min("created_at", filter=~Q(report_period=ReportPeriod.NONE)),
        )
        self.oldest_overdue = bounds["oldest"]
        first_periodic = bounds["first_periodic"]
        self.first_periodic = timezone.localdate(first_periodic) if first_periodic else None
        self.instructions: list[Instruction] = []  # due in 3/1/0, overdue, or a periodic report
        self.extended: list[Instruction] = []  # an extension pending EXTENSION_AFTER days

    def find(self, windows: Windows) -> None:
        # Periodic reports: the instructions started a whole number of periods before
        # today (a superset: ``remind`` checks each one exactly).
        periodic = Q(pk__in=[])
        if self.first_periodic is not None:
            for period, step in REPORT_STEP_MONTHS.items():
                starts = report_start_dates(
                    windows.report_days, step=step, since=self.first_periodic
                )
                if starts:
                    periodic |= Q(report_period=period, created_at__date__in=starts)
        self.instructions = list(
            Instruction.objects.filter(status__in=INSTRUCTION_OPEN_STATUSES)
            .filter(Q(due_date__in=[*windows.due_in, *windows.overdue]) | periodic)
            .select_related("controller_deputy__user", "controller_commission__chair__user")
            .order_by("id")
        )
        asked = extensions_awaiting(ItemType.INSTRUCTION, windows)
        self.extended = list(Instruction.objects.filter(pk__in=asked).order_by("id"))

    def remind(self, windows: Windows, drafts: Drafts, result: SweepResult) -> None:
        day = windows.day
        people = Recipients(
            [item.lead_department_id for item in self.instructions],
            need_staff=bool(self.extended)
            or any(item.due_date in windows.overdue for item in self.instructions),
        )
        self.remind_of_extensions(self.extended, people.staff, drafts, result)
        for instruction in self.instructions:
            officers = people.officers.get(instruction.lead_department_id, [])
            heads = people.heads.get(instruction.lead_department_id, [])
            left = windows.due_in.get(instruction.due_date)
            if left is not None:
                result.items[DUE] += 1
                when = instruction.due_date if left == 0 and instruction.due_date != day else None
                drafts.add(officers, REMIND, instruction, Reason(DUE, left, when))
            behind = windows.overdue.get(instruction.due_date)
            if behind is not None:
                result.items[OVERDUE] += 1
                escalated = [*heads, *people.staff]
                if behind > 1:
                    if instruction.controller_deputy is not None:
                        escalated.append(instruction.controller_deputy.user)
                    commission = instruction.controller_commission
                    if commission is not None and commission.chair is not None:
                        escalated.append(commission.chair.user)
                drafts.add(escalated, ESCALATE, instruction, Reason(OVERDUE, behind))
            if instruction.report_period != ReportPeriod.NONE:
                report_dates = periodic_report_dates(
                    start=timezone.localdate(instruction.created_at),
                    due=instruction.due_date,
                    period=instruction.report_period,
                )
                for report_day in windows.report_days:
                    if report_day in report_dates:
                        result.items[PERIODIC_REPORT] += 1
                        drafts.add(
                            officers, REMIND, instruction, Reason(PERIODIC_REPORT, 0, report_day)
                        )
