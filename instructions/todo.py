"""What among protocol instructions waits for one person's action now: their to-do groups.

Every builder takes the acting person and today and returns a queryset of instructions
built on ``instruction_visible`` (a person never sees another's items there), narrowed to
what needs *this* person, earliest due date first; each row carries ``todo_due``. Who sees
which group, its label and its list link are declared once in ``reports/todo.py``; a
builder asked for a person it does not concern answers an empty queryset.

Instructions are given to a department, not to one officer: the department's officers
share its instructions.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from maslikhat.core.extensions import (
    first_pending_by_due,
    with_extension_decided_since,
    with_pending_extension,
)
from maslikhat.core.items import ItemType
from maslikhat.core.selectors import count_by_lead_department
from maslikhat.directory.actors import Actor
from maslikhat.directory.models import Commission

from .models import INSTRUCTION_OPEN_STATUSES, Instruction, InstructionStatus
from .selectors import instruction_visible

S = InstructionStatus

#: How long a decided extension stays on the head's list (calendar days after the decision).
RECENT_EXTENSION_DAYS = 14


def _rows(qs: QuerySet[Instruction]) -> QuerySet[Instruction]:
    """What a to-do row shows, most urgent (earliest due) first."""
    return (
        qs.defer("due_date_basis")
        .select_related("lead_department")
        .annotate(todo_due=F("due_date"))
        .order_by("due_date", "id")
    )


def _department(actor: Actor) -> QuerySet[Instruction]:
    """The instructions of the actor's department (lead or co-executor)."""
    if actor.department_id is None:
        return Instruction.objects.none()
    return instruction_visible(actor)


def _led(actor: Actor) -> QuerySet[Instruction]:
    if actor.department_id is None:
        return Instruction.objects.none()
    return instruction_visible(actor).filter(lead_department_id=actor.department_id)


def _overdue(qs: QuerySet[Instruction], today: datetime.date) -> QuerySet[Instruction]:
    return qs.filter(status__in=INSTRUCTION_OPEN_STATUSES, due_date__lt=today)


def _sorted_apart(qs: QuerySet[Instruction]) -> QuerySet[Instruction]:
    """Earliest due first, by an expression no index holds: PostgreSQL reads the few rows
    the filter names (by primary key) and sorts them, instead of walking the due-date index
    in the hope of meeting them early."""
    return qs.order_by(Coalesce("due_date", "due_date").asc(), "id")


# --- A department ---------------------------------------------------------------------------


def to_execute(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Instructions on control that the department leads or co-executes."""
    return _rows(_department(actor).filter(status=S.ON_CONTROL))


def reports_returned(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Instructions whose final report the controller returned to the lead department."""
    return _rows(_led(actor).filter(status=S.RETURNED))


def department_overdue(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Instructions the department leads past their due date and not reported."""
    return _rows(_overdue(_led(actor), today))


def extensions_decided(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Instructions of the department whose extension was decided in the last two weeks."""
    since = timezone.now() - datetime.timedelta(days=RECENT_EXTENSION_DAYS)
    return _sorted_apart(
        _rows(_led(actor).filter(with_extension_decided_since(ItemType.INSTRUCTION, since)))
    )


# --- A deputy who controls instructions -----------------------------------------------------


def reports_to_decide_as_controller(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Final reports waiting for the deputy's decision (controller or the commission's chair)."""
    if actor.deputy_id is None:
        return Instruction.objects.none()
    # The deputy's own part of visibility, said over the instruction's columns so that the
    # reported ones are read from their partial indexes (``instruction_reported_deputy``,
    # ``instr_reported_commission``): the commissions they chair are read first (a few).
    chaired = list(Commission.objects.filter(chair_id=actor.deputy_id).values_list("pk", flat=True))
    controlled = Q(controller_deputy_id=actor.deputy_id) | Q(controller_commission_id__in=chaired)
    return _rows(instruction_visible(actor).filter(controlled, status=S.REPORTED))


# --- Council staff and the chair ------------------------------------------------------------


def _registry(actor: Actor) -> QuerySet[Instruction]:
    if not actor.sees_everything:
        return Instruction.objects.none()
    return instruction_visible(actor)


def reports_to_accept(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Final reports waiting for staff to accept or return them."""
    if not actor.is_staff:
        return Instruction.objects.none()
    return _rows(_registry(actor).filter(status=S.REPORTED))


def extensions_to_decide(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Instructions with an extension waiting for a decision (staff or the chair decide)."""
    if not (actor.is_staff or actor.is_chair):
        return Instruction.objects.none()
    return _sorted_apart(
        _rows(_registry(actor).filter(with_pending_extension(ItemType.INSTRUCTION)))
    )


def extensions_to_decide_page(
    actor: Actor, today: datetime.date, size: int
) -> QuerySet[Instruction]:
    """The first ``size`` of ``extensions_to_decide``: the pending extensions' items taken
    earliest due first from the pending queue itself (each item's due date read by primary
    key), so the page reads ``size`` instructions — not a join of the whole queue, which
    PostgreSQL plans as a scan of every instruction once the queue is long."""
    if not (actor.is_staff or actor.is_chair):
        return Instruction.objects.none()
    first = first_pending_by_due(ItemType.INSTRUCTION, Instruction, size)
    return _sorted_apart(_rows(_registry(actor).filter(pk__in=first)))[:size]


def overdue(actor: Actor, today: datetime.date) -> QuerySet[Instruction]:
    """Every instruction past its due date and not reported: the escalations."""
    return _rows(_overdue(_registry(actor), today))


def overdue_by_department(actor: Actor, today: datetime.date) -> QuerySet[Any]:
    """Per lead department: its instructions past due and not reported (one grouped query)."""
    return count_by_lead_department(_overdue(_registry(actor), today))
