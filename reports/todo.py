"""The to-do home ("What awaits me"): what needs this person's action now, by role.

``GROUPS`` declares every group once — its kind code, label, empty-state text, the roles it
is for, the queryset builder (``requests_app/todo.py``, ``instructions/todo.py``: built on
each kind's visibility selector) and the link to the matching list. ``todo_for`` runs the
groups of one person: per group one COUNT and one page of at most ``PAGE_SIZE`` rows, and
one read of the working calendar's decreed days for the days left of every row (the working
days of a year are counted once per process for each state of its decreed days:
``WorkingCalendar.working_days_between``) — the number of queries does not depend on how many
items there are. A
group's count is exact up to ``COUNT_LIMIT`` items; beyond it the count stops there and says
so (``count_is_capped``, shown as "1000+"): counting reads at most ``COUNT_LIMIT + 1`` index
entries, so the to-do costs the same at any size of the tables. The home page
(``views.home``) and ``GET /api/v1/me/todo/`` show the same groups.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.db.models import QuerySet, Sum
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from commitments import todo as commitment_todo
from commitments.filters import OVERDUE as PROMISE_OVERDUE
from commitments.models import Commitment, CommitmentState
from instructions import todo as instruction_todo
from instructions.models import InstructionStatus
from maslikhat.core.deadlines import WorkingCalendar
from maslikhat.core.items import ItemType
from maslikhat.core.models import pick_language
from maslikhat.directory.actors import Actor
from requests_app import todo as request_todo
from requests_app.models import RequestStatus

#: Rows shown per group; the rest are one "show all" click away.
PAGE_SIZE = 10
#: A group's count is exact up to this many items; above it the count says "1000+".
COUNT_LIMIT = 1_000

DEPUTY = "deputy"
EXECUTOR = "executor"
HEAD = "head"
STAFF = "staff"
CHAIR = "chair"

#: Which to-do audiences a person belongs to (a department head is not an executor here:
#: the head's groups cover the department).
AUDIENCES: dict[str, Callable[[Actor], bool]] = {
    DEPUTY: lambda actor: actor.deputy_id is not None,
    EXECUTOR: lambda actor: actor.department_id is not None and not actor.is_department_head,
    HEAD: lambda actor: actor.is_department_head and actor.department_id is not None,
    STAFF: lambda actor: actor.is_staff,
    CHAIR: lambda actor: actor.is_chair,
}

DEPARTMENT = "department"
#: A promise's row (``commitments/todo.py``): its page is its request's, at the promise card.
COMMITMENT = "commitment"
Builder = Callable[[Actor, datetime.date], QuerySet[Any]]
PageBuilder = Callable[[Actor, datetime.date, int], QuerySet[Any]]


def _query(url_name: str, **params: Any) -> Callable[[Actor], str]:
    """A list address with a query; a callable param is given the actor."""

    def build(actor: Actor) -> str:
        values = {k: v(actor) if callable(v) else v for k, v in params.items()}
        return f"{reverse(url_name)}?{urlencode(values, doseq=True)}"

    return build


def _promises(**params: Any) -> Callable[[Actor], str]:
    """The promise list with a query (the requests' list where the promise list is absent)."""
    promises, requests = _query("commitments:list", **params), _query("requests:list")

    def build(actor: Actor) -> str:
        try:
            return promises(actor)
        except NoReverseMatch:
            return requests(actor)

    return build


def _deputy(actor: Actor) -> int | None:
    return actor.deputy_id


def _user(actor: Actor) -> int | None:
    return actor.user.pk if actor.user is not None else None


def _department(actor: Actor) -> int | None:
    return actor.department_id


R = RequestStatus
IS = InstructionStatus
OPEN_INSTRUCTIONS = [IS.ON_CONTROL, IS.RETURNED]


@dataclass(frozen=True)
class TodoGroup:
    """One group of the to-do: who sees it, how its rows are found, where "show all" leads."""

    kind: str
    label: str | Promise
    empty: str | Promise
    roles: frozenset[str]
    item_type: str  # "request", "instruction", "commitment", or "department" (a count)
    build: Builder
    list_url: Callable[[Actor], str]
    #: The page of ``page_size`` rows when it is read otherwise than as the first rows of
    #: ``build`` (the count stays ``build``'s).
    page: PageBuilder | None = None


GROUPS: tuple[TodoGroup, ...] = (
    # --- A deputy ---------------------------------------------------------------------------
    TodoGroup(
        "request_evaluations",
        _("Answers awaiting your evaluation"),
        _("Nothing awaits your evaluation."),
        frozenset({DEPUTY}),
        ItemType.REQUEST,
        request_todo.answers_to_evaluate,
        _query("requests:list", author=_deputy, status=R.ANSWERED),
    ),
    TodoGroup(
        "request_clarifications",
        _("Clarification questions to answer"),
        _("No department waits for your clarification."),
        frozenset({DEPUTY}),
        ItemType.REQUEST,
        request_todo.clarifications_to_answer,
        _query("requests:list", author=_deputy, status=R.IN_PROGRESS),
    ),
    TodoGroup(
        "request_own_overdue",
        _("Your overdue requests"),
        _("None of your requests is overdue."),
        frozenset({DEPUTY}),
        ItemType.REQUEST,
        request_todo.own_overdue,
        _query("requests:list", scope="mine", status=R.IN_PROGRESS, is_overdue="true"),
    ),
    TodoGroup(
        "instruction_reports_to_decide",
        _("Execution reports awaiting your decision"),
        _("No execution report awaits your decision."),
        frozenset({DEPUTY}),
        ItemType.INSTRUCTION,
        instruction_todo.reports_to_decide_as_controller,
        _query("instructions:list", status=IS.REPORTED),
    ),
    TodoGroup(
        "commitment_verdicts",
        _("Promised work reported done: was it done?"),
        _("No department waits for your verdict on a promise."),
        frozenset({DEPUTY}),
        COMMITMENT,
        commitment_todo.verdicts_to_give,
        _promises(),
    ),
    TodoGroup(
        "request_drafts",
        _("Your drafts"),
        _("You have no unfinished drafts."),
        frozenset({DEPUTY}),
        ItemType.REQUEST,
        request_todo.own_drafts,
        _query("requests:list", author=_deputy, status=R.DRAFT),
    ),
    # --- A department's executor ------------------------------------------------------------
    TodoGroup(
        "request_drafts_returned",
        _("Draft answers returned to you"),
        _("The head has returned none of your draft answers."),
        frozenset({EXECUTOR}),
        ItemType.REQUEST,
        request_todo.drafts_returned_to_me,
        _query("requests:list", executor=_user, status=R.IN_PROGRESS),
    ),
    TodoGroup(
        "request_assigned",
        _("Requests assigned to you"),
        _("No request is assigned to you."),
        frozenset({EXECUTOR}),
        ItemType.REQUEST,
        request_todo.assigned_to_me,
        _query("requests:list", executor=_user, status=R.IN_PROGRESS, ordering="due_date"),
    ),
    TodoGroup(
        "instruction_returned",
        _("Instruction reports returned"),
        _("No report of your department was returned."),
        frozenset({EXECUTOR, HEAD}),
        ItemType.INSTRUCTION,
        instruction_todo.reports_returned,
        _query("instructions:list", lead_department=_department, status=IS.RETURNED),
    ),
    TodoGroup(
        "instruction_to_execute",
        _("Instructions of your department"),
        _("Your department has no instruction on control."),
        frozenset({EXECUTOR}),
        ItemType.INSTRUCTION,
        instruction_todo.to_execute,
        _query("instructions:list", department=_department, status=IS.ON_CONTROL),
    ),
    TodoGroup(
        "commitment_department_due",
        _("Promises to report on"),
        _("No promise of the department is due soon."),
        frozenset({EXECUTOR, HEAD}),
        COMMITMENT,
        commitment_todo.department_due,
        _promises(department=_department),
    ),
    # --- A department head ------------------------------------------------------------------
    TodoGroup(
        "request_drafts_to_approve",
        _("Draft answers awaiting your approval"),
        _("No draft answer awaits your approval."),
        frozenset({HEAD}),
        ItemType.REQUEST,
        request_todo.drafts_to_approve,
        _query("requests:list", lead_department=_department, status=R.IN_PROGRESS),
    ),
    TodoGroup(
        "request_department_overdue",
        _("Overdue requests of the department"),
        _("No request of the department is overdue."),
        frozenset({HEAD}),
        ItemType.REQUEST,
        request_todo.department_overdue,
        _query(
            "requests:list",
            lead_department=_department,
            status=R.IN_PROGRESS,
            is_overdue="true",
        ),
    ),
    TodoGroup(
        "instruction_department_overdue",
        _("Overdue instructions of the department"),
        _("No instruction of the department is overdue."),
        frozenset({HEAD}),
        ItemType.INSTRUCTION,
        instruction_todo.department_overdue,
        _query(
            "instructions:list",
            lead_department=_department,
            status=OPEN_INSTRUCTIONS,
            is_overdue="true",
        ),
    ),
    TodoGroup(
        "request_unassigned",
        _("Requests without an executor"),
        _("Every request of the department has an executor."),
        frozenset({HEAD}),
        ItemType.REQUEST,
        request_todo.unassigned,
        _query(
            "requests:list",
            lead_department=_department,
            status=R.IN_PROGRESS,
            unassigned="true",
            ordering="due_date",
        ),
    ),
    TodoGroup(
        "request_extensions_decided",
        _("Extensions decided (requests)"),
        _("No extension was decided in the last two weeks."),
        frozenset({HEAD}),
        ItemType.REQUEST,
        request_todo.extensions_decided,
        _query("requests:list", lead_department=_department),
    ),
    TodoGroup(
        "instruction_extensions_decided",
        _("Extensions decided (instructions)"),
        _("No extension was decided in the last two weeks."),
        frozenset({HEAD}),
        ItemType.INSTRUCTION,
        instruction_todo.extensions_decided,
        _query("instructions:list", lead_department=_department),
    ),
    # --- Council staff ----------------------------------------------------------------------
    TodoGroup(
        "request_to_route",
        _("Requests to route"),
        _("No submitted request waits for routing."),
        frozenset({STAFF}),
        ItemType.REQUEST,
        request_todo.to_route,
        _query("requests:list", status=R.SUBMITTED, ordering="submitted_at"),
    ),
    TodoGroup(
        "request_extensions_to_decide",
        _("Extensions to decide (requests)"),
        _("No extension of a request awaits a decision."),
        frozenset({STAFF}),
        ItemType.REQUEST,
        request_todo.extensions_to_decide,
        _query("requests:list", status=R.IN_PROGRESS),
        page=request_todo.extensions_to_decide_page,
    ),
    TodoGroup(
        "instruction_extensions_to_decide",
        _("Extensions to decide (instructions)"),
        _("No extension of an instruction awaits a decision."),
        frozenset({STAFF, CHAIR}),
        ItemType.INSTRUCTION,
        instruction_todo.extensions_to_decide,
        _query("instructions:list", status=OPEN_INSTRUCTIONS),
        page=instruction_todo.extensions_to_decide_page,
    ),
    TodoGroup(
        "instruction_reports_to_accept",
        _("Execution reports to accept"),
        _("No execution report awaits acceptance."),
        frozenset({STAFF}),
        ItemType.INSTRUCTION,
        instruction_todo.reports_to_accept,
        _query("instructions:list", status=IS.REPORTED),
    ),
    TodoGroup(
        "request_overdue",
        _("Overdue requests"),
        _("No request is overdue."),
        frozenset({STAFF}),
        ItemType.REQUEST,
        request_todo.overdue,
        _query("requests:list", status=R.IN_PROGRESS, is_overdue="true"),
    ),
    TodoGroup(
        "instruction_overdue",
        _("Overdue instructions"),
        _("No instruction is overdue."),
        frozenset({STAFF}),
        ItemType.INSTRUCTION,
        instruction_todo.overdue,
        _query("instructions:list", status=OPEN_INSTRUCTIONS, is_overdue="true"),
    ),
    TodoGroup(
        "commitment_disputes",
        _("Disputed promises to resolve"),
        _("No promise is disputed."),
        frozenset({STAFF}),
        COMMITMENT,
        commitment_todo.disputes_to_resolve,
        _promises(),
    ),
    TodoGroup(
        "commitment_overdue",
        _("Overdue promises without a report"),
        _("No promise is overdue."),
        frozenset({STAFF}),
        COMMITMENT,
        commitment_todo.overdue,
        _promises(state=PROMISE_OVERDUE),
    ),
    # --- The chair: the overdue picture by department ----------------------------------------
    TodoGroup(
        "request_overdue_by_department",
        _("Overdue requests by department"),
        _("No request is overdue."),
        frozenset({CHAIR}),
        DEPARTMENT,
        request_todo.overdue_by_department,
        _query("requests:list", status=R.IN_PROGRESS, is_overdue="true"),
    ),
    TodoGroup(
        "instruction_overdue_by_department",
        _("Overdue instructions by department"),
        _("No instruction is overdue."),
        frozenset({CHAIR}),
        DEPARTMENT,
        instruction_todo.overdue_by_department,
        _query("instructions:list", status=OPEN_INSTRUCTIONS, is_overdue="true"),
    ),
)

#: Which list the rows of a chair's department group link to, by the group's kind.
_DEPARTMENT_LISTS = {
    "request_overdue_by_department": ("requests:list", "request-list", [R.IN_PROGRESS]),
    "instruction_overdue_by_department": (
        "instructions:list",
        "instruction-list",
        OPEN_INSTRUCTIONS,
    ),
}


@dataclass
class TodoItem:
    """One row of a group: an item (request or instruction) or, for the chair, a department."""

    type: str
    id: int
    number: str
    title: str
    status: str
    status_label: str
    due_date: datetime.date | None
    url: str
    api_url: str
    department: str = ""
    count: int | None = None
    days_left: int | None = None
    overdue_days: int | None = None
    #: The day a clarification question stopped the request's clock: no days count meanwhile.
    paused_since: datetime.date | None = None

    @property
    def overdue(self) -> bool:
        return self.overdue_days is not None


@dataclass
class TodoGroupResult:
    kind: str
    label: str
    empty: str
    item_type: str
    count: int
    items: list[TodoItem] = field(default_factory=list)
    list_url: str = ""
    #: The group holds more than ``count`` (``COUNT_LIMIT``) items: counting stopped there.
    count_is_capped: bool = False

    @property
    def count_label(self) -> str:
        """The count as shown: "1000+" when counting stopped at the limit."""
        return f"{self.count}+" if self.count_is_capped else str(self.count)

    @property
    def overdue_items(self) -> int:
        return sum(1 for item in self.items if item.overdue)

    def urgency(self) -> tuple[int, int, datetime.date]:
        """Sort key: groups with work first, those holding overdue rows first among them,
        then by the earliest due date they show."""
        dues = [item.due_date for item in self.items if item.due_date is not None]
        has_overdue = self.overdue_items > 0 or (self.item_type == DEPARTMENT and self.count > 0)
        return (
            0 if self.count else 1,
            0 if has_overdue else 1,
            min(dues) if dues else datetime.date.max,
        )


def groups_for(actor: Actor) -> list[TodoGroup]:
    """The groups that concern ``actor``, in their declared order."""
    audiences = {name for name, test in AUDIENCES.items() if test(actor)}
    return [group for group in GROUPS if group.roles & audiences]


def has_todo(actor: Actor) -> bool:
    return bool(groups_for(actor))


def _department_name(row: Mapping[str, Any]) -> str:
    return pick_language(
        ru=row["lead_department__name_ru"] or "",
        kk=row["lead_department__name_kk"] or "",
        en=row["lead_department__name_en"] or "",
    )


#: A stand-in id: an item's address is its kind's address with the id put in its place.
_ANY_ID = 987654321


def _detail_url(name: str, pk: int) -> str:
    """The address of item ``pk`` of the URL pattern ``name``: the pattern is resolved once
    per URL map and prefix, not once per row."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _address(name, urlconf, get_script_prefix()).replace(str(_ANY_ID), str(pk))


@functools.lru_cache(maxsize=64)
def _address(name: str, urlconf: str, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=[_ANY_ID])


def _label(choices: type[models.TextChoices], value: str) -> str:
    """A status's label in the reader's language (the choice's own lazy label: cheaper per
    row than ``get_FOO_display``, which rebuilds the choices' dictionary each call)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _item(group: TodoGroup, row: Any) -> TodoItem:
    if group.item_type == DEPARTMENT:
        page, api, statuses = _DEPARTMENT_LISTS[group.kind]
        query = urlencode(
            {
                "lead_department": row["lead_department_id"],
                "status": statuses,
                "is_overdue": "true",
            },
            doseq=True,
        )
        return TodoItem(
            type=DEPARTMENT,
            id=row["lead_department_id"],
            number=row["lead_department__code"] or "",
            title=_department_name(row),
            status="",
            status_label="",
            due_date=None,
            url=f"{reverse(page)}?{query}",
            api_url=f"{reverse(api)}?{query}",
            count=row["overdue_count"],
        )
    if group.item_type == COMMITMENT:
        return _commitment_item(row)
    department = row.lead_department.name if row.lead_department_id else ""
    if group.item_type == ItemType.INSTRUCTION:
        text = row.text if len(row.text) <= 120 else row.text[:119] + "…"
        return TodoItem(
            type=ItemType.INSTRUCTION,
            id=row.pk,
            number=row.number,
            title=text,
            status=row.status,
            status_label=_label(InstructionStatus, row.status),
            due_date=row.todo_due,
            url=_detail_url("instructions:detail", row.pk),
            api_url=_detail_url("instruction-detail", row.pk),
            department=department,
        )
    return TodoItem(
        type=ItemType.REQUEST,
        id=row.pk,
        number=row.number or "",
        title=row.title,
        status=row.status,
        status_label=_label(RequestStatus, row.status),
        due_date=row.todo_due,
        url=_detail_url("requests:detail", row.pk),
        api_url=_detail_url("request-detail", row.pk),
        department=department,
        paused_since=row.paused_since if row.status == RequestStatus.IN_PROGRESS else None,
    )


def _commitment_item(row: Commitment) -> TodoItem:
    """A promise: its request's number and title, its state; it opens at the promise card."""
    return TodoItem(
        type=COMMITMENT,
        id=row.pk,
        number=row.request.number or "",
        title=row.request.title,
        status=row.state,
        status_label=_label(CommitmentState, row.state),
        due_date=row.todo_due,  # type: ignore[attr-defined]  # annotated by the builder
        url=_detail_url("requests:detail", row.request_id) + "#promise",
        api_url=_detail_url("commitment-detail", row.pk),
        department=row.department.name,
    )


def _count_working_days(
    groups: list[TodoGroupResult], today: datetime.date, calendar: WorkingCalendar | None
) -> None:
    """Fill in "N working days left" / "overdue by N working days" of every row shown: one
    read of the decreed days (unless a ``calendar`` is given), the years' working days
    counted once per process (``WorkingCalendar.working_days_between``)."""
    dues = [i.due_date for g in groups for i in g.items if i.due_date is not None]
    if not dues:
        return
    if calendar is None:
        calendar = WorkingCalendar.load(min([*dues, today]), max([*dues, today]))
    for group in groups:
        for item in group.items:
            if item.due_date is None or item.paused_since is not None:
                continue
            if item.due_date < today:
                item.overdue_days = calendar.working_days_between(item.due_date, today)
            else:
                item.days_left = calendar.working_days_between(today, item.due_date)


def bounded_count(qs: QuerySet[Any], limit: int | None = None) -> tuple[int, bool]:
    """``(count, capped)``: the items of ``qs`` counted up to ``limit`` (``COUNT_LIMIT``) —
    a ``COUNT`` over a ``LIMIT``-ed subquery of ids, so the database stops after
    ``limit + 1`` matching rows whatever the size of the table; ``capped`` when there are
    more than ``limit``."""
    limit = COUNT_LIMIT if limit is None else limit
    counted = qs.order_by().values("pk")[: limit + 1].count()
    if counted > limit:
        return limit, True
    return counted, False


def todo_for(
    actor: Actor,
    today: datetime.date,
    *,
    page_size: int = PAGE_SIZE,
    calendar: WorkingCalendar | None = None,
) -> list[TodoGroupResult]:
    """The to-do of ``actor``: every group that concerns them, most urgent first.

    Per group one COUNT (bounded: ``bounded_count``) and one page of ``page_size`` rows;
    one read of the decreed days (unless ``calendar`` is given) for the whole page, the
    working days themselves counted once per process and year (``WorkingCalendar``).
    """
    results = []
    for group in groups_for(actor):
        qs = group.build(actor, today)
        capped = False
        if group.item_type == DEPARTMENT:
            count = qs.aggregate(total=Sum("overdue_count"))["total"] or 0
        else:
            count, capped = bounded_count(qs)
        page = group.page(actor, today, page_size) if group.page else qs[:page_size]
        rows = list(page)
        results.append(
            TodoGroupResult(
                kind=group.kind,
                label=str(group.label),
                empty=str(group.empty),
                item_type=group.item_type,
                count=count,
                items=[_item(group, row) for row in rows],
                list_url=group.list_url(actor),
                count_is_capped=capped,
            )
        )
    _count_working_days(results, today, calendar)
    results.sort(key=TodoGroupResult.urgency)
    return results
