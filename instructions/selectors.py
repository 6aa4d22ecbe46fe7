"""Reads of meetings, protocols and instructions, and who may see which instruction."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from maslikhat.core.deadlines import add_months
from maslikhat.core.extensions import Extension
from maslikhat.core.selectors import item_pk
from maslikhat.directory.actors import Actor, actor_for
from maslikhat.directory.models import Commission, Department

from .models import (
    INSTRUCTION_OPEN_STATUSES,
    Instruction,
    InstructionStatus,
    Meeting,
    Protocol,
    ProtocolItem,
    ReportPeriod,
)

CoDepartment = Instruction.co_departments.through
CommissionMembers = Commission.members.through


def instruction_visible(actor: Actor) -> QuerySet[Instruction]:
    """The instructions ``actor`` may see.

    - staff, the chair, administrators: all;
    - a department: those it leads or co-executes;
    - a deputy: those they control, or whose controlling commission they chair;
    - anyone else: none.
    """
    qs = Instruction.objects.all()
    if actor.sees_everything:
        return qs
    if actor.department_id is not None:
        return qs.filter(
            Q(lead_department_id=actor.department_id)
            | Exists(
                CoDepartment.objects.filter(
                    instruction_id=OuterRef("pk"), department_id=actor.department_id
                )
            )
        )
    if actor.deputy_id is not None:
        return qs.filter(
            Q(controller_deputy_id=actor.deputy_id)
            | Q(controller_commission__chair_id=actor.deputy_id)
        )
    return qs.none()


def with_overdue(
    qs: QuerySet[Instruction], today: datetime.date | None = None
) -> QuerySet[Instruction]:
    """Annotate ``overdue``: past due and not reported, or reported after the due date."""
    today = today or timezone.localdate()
    return qs.annotate(
        overdue=Case(
            When(status__in=INSTRUCTION_OPEN_STATUSES, due_date__lt=today, then=Value(True)),
            When(
                ~Q(status=InstructionStatus.REMOVED_FROM_CONTROL),
                reported_at__isnull=False,
                reported_at__date__gt=F("due_date"),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def for_list(qs: QuerySet[Instruction]) -> QuerySet[Instruction]:
    """What every list row shows, in a constant number of queries; only the tables a row
    shows are joined (the convocation, which no row shows, is not: see the requests')."""
    return with_overdue(
        qs.select_related(
            "protocol__meeting",
            "lead_department",
            "controller_commission",
            "controller_deputy__user",
        )
    ).prefetch_related("co_departments")


def instruction_list(*, actor: Actor) -> QuerySet[Instruction]:
    return for_list(instruction_visible(actor))


#: The columns a row of the API list shows (``serializers.InstructionListSerializer``, the
#: list fields of ``docs/api.md``): foreign keys as ids.
LIST_COLUMNS = (
    "id",
    "number",
    "protocol_id",
    "item_id",
    "text",
    "lead_department_id",
    "controller_commission_id",
    "controller_deputy_id",
    "due_date",
    "original_due_date",
    "report_period",
    "status",
    "overdue",
    "version",
    "reported_at",
    "executed_at",
    "removed_at",
    "removal_reason",
    "convocation_id",
    "created_at",
    "updated_at",
)


def instruction_rows(*, actor: Actor) -> QuerySet[Instruction]:
    """The instructions of the API list: the visible ones with ``overdue`` (which the
    filters read), nothing joined; the page reads ``list_values`` of it."""
    return with_overdue(instruction_visible(actor))


def list_values(qs: QuerySet[Instruction]) -> QuerySet[Any]:
    """The list's columns of ``qs`` as plain rows: no model instance per row."""
    return qs.values(*LIST_COLUMNS)


def co_department_ids(instruction_ids: list[int]) -> dict[int, list[int]]:
    """The co-executing departments' ids of the instructions ``instruction_ids``, in the
    departments' own order: one query for a whole page."""
    found: dict[int, list[int]] = {pk: [] for pk in instruction_ids}
    if not instruction_ids:
        return found
    for instruction_id, department_id in (
        CoDepartment.objects.filter(instruction_id__in=instruction_ids)
        .order_by(
            *(f"department__{field}" for field in Department._meta.ordering or ()), "department_id"
        )
        .values_list("instruction_id", "department_id")
    ):
        found[instruction_id].append(department_id)
    return found


def instruction_get_visible(*, user: Any, pk: Any) -> Instruction:
    """The instruction ``pk`` if ``user`` may see it; 404 for "missing" and "forbidden" alike."""
    pk = item_pk(pk)
    actor = actor_for(user)
    item = (
        for_list(instruction_visible(actor))
        .select_related("item", "created_by")
        # Extensions are keyed by item (core.Extension's ``ItemRows``), not a foreign key:
        # prefetched in one query all the same; the typing plugin knows only relations.
        .prefetch_related(  # type: ignore[misc]
            "reports__submitted_by",
            "reports__decided_by",
            "reports__department",
            Prefetch("extensions", Extension.objects.select_related("requested_by", "decided_by")),
        )
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404
    item._co_department_ids = {d.pk for d in item.co_departments.all()}  # type: ignore[attr-defined]
    return item


def _count_of(model: Any, field: str) -> Coalesce:
    """The number of ``model`` rows whose ``field`` is the outer row: a correlated subquery
    per row shown (an index lookup), not a join and ``GROUP BY`` over the whole table."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def meeting_list() -> QuerySet[Meeting]:
    """Meetings are public business of the council: every signed-in user may read them.

    Newest first, by the ``(date, id)`` index: a page reads its rows and their protocol
    counts, whatever the number of meetings.
    """
    return (
        Meeting.objects.select_related("commission", "department", "convocation")
        .annotate(protocol_count=_count_of(Protocol, "meeting"))
        .order_by("-date", "-id")
    )


def protocol_list() -> QuerySet[Protocol]:
    """Protocols newest first (the ``(date, id)`` index) with their instruction counts."""
    return (
        Protocol.objects.select_related("meeting__commission")
        .annotate(instruction_count=_count_of(Instruction, "protocol"))
        .order_by("-date", "-id")
    )


def protocol_list_with_items() -> QuerySet[Protocol]:
    """``protocol_list`` with each protocol's items, read by protocol id (one query a page):
    the items' own ordering would join every protocol to sort by the protocols' date."""
    return protocol_list().prefetch_related(
        Prefetch("items", ProtocolItem.objects.order_by("protocol_id", "number"))
    )


def periodic_report_dates(
    *, start: datetime.date, due: datetime.date, period: str
) -> list[datetime.date]:
    """The dates periodic reports fall due: every month or quarter after ``start``, before ``due``.

    The final report is due on ``due`` itself and is not listed here.
    """
    step = {ReportPeriod.MONTHLY: 1, ReportPeriod.QUARTERLY: 3}.get(period)  # type: ignore[call-overload]
    if step is None:
        return []
    dates: list[datetime.date] = []
    n = 1
    while True:
        day = add_months(start, step * n)
        if day >= due:
            return dates
        dates.append(day)
        n += 1


def next_periodic_report_date(item: Instruction, today: datetime.date) -> datetime.date | None:
    """The first periodic report date on or after ``today`` while the instruction is open."""
    return next_report_date(
        status=item.status,
        created_at=item.created_at,
        due_date=item.due_date,
        report_period=item.report_period,
        today=today,
    )


def next_report_date(
    *,
    status: str,
    created_at: datetime.datetime | None,
    due_date: datetime.date,
    report_period: str,
    today: datetime.date,
) -> datetime.date | None:
    """``next_periodic_report_date`` from an instruction's columns (a plain list row)."""
    if status not in INSTRUCTION_OPEN_STATUSES or report_period == ReportPeriod.NONE:
        return None
    start = timezone.localdate(created_at) if created_at else today
    for day in periodic_report_dates(start=start, due=due_date, period=report_period):
        if day >= today:
            return day
    return None


def department_discipline(*, actor: Actor, today: datetime.date | None = None) -> QuerySet[Any]:
    """Per lead department: instructions executed on time, late, and open overdue (one query).

    A department sees its own row only: the instructions it co-executes belong to
    the discipline of their lead departments.
    """
    today = today or timezone.localdate()
    visible = instruction_visible(actor)
    if actor.department_id is not None:
        visible = visible.filter(lead_department_id=actor.department_id)
    on_time = Q(reported_at__isnull=False, reported_at__date__lte=F("due_date")) & ~Q(
        status=InstructionStatus.REMOVED_FROM_CONTROL
    )
    late = Q(reported_at__isnull=False, reported_at__date__gt=F("due_date")) & ~Q(
        status=InstructionStatus.REMOVED_FROM_CONTROL
    )
    open_overdue = Q(status__in=INSTRUCTION_OPEN_STATUSES, due_date__lt=today)
    return (
        visible.values("lead_department", "lead_department__code", "lead_department__name_ru")
        .annotate(
            total=Count("pk"),
            on_time=Count("pk", filter=on_time),
            late=Count("pk", filter=late),
            open_overdue=Count("pk", filter=open_overdue),
            on_control=Count("pk", filter=Q(status__in=INSTRUCTION_OPEN_STATUSES)),
        )
        .order_by("-open_overdue", "lead_department__code")
    )


#: Reads the discipline from stored daily counts: ``(actor, today) → rows`` as
#: ``department_discipline`` gives them. The app that keeps those counts registers it when
#: it loads (this app may not import it); without one the discipline is counted live.
DisciplineReader = Callable[[Actor, datetime.date], list[dict[str, Any]]]
_discipline_reader: DisciplineReader | None = None


def register_discipline_reader(reader: DisciplineReader | None) -> None:
    """Read the discipline with ``reader`` from now on (``None``: live again)."""
    global _discipline_reader
    _discipline_reader = reader


def discipline_rows(*, actor: Actor, today: datetime.date | None = None) -> list[dict[str, Any]]:
    """The discipline table's rows: from the stored daily counts where they answer (a bounded
    number of queries whatever the number of instructions), else ``department_discipline``."""
    today = today or timezone.localdate()
    if _discipline_reader is not None:
        return _discipline_reader(actor, today)
    return list(department_discipline(actor=actor, today=today))
