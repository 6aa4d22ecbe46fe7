"""What among deputy requests waits for one person's action now: the requests' to-do groups.

Every builder takes the acting person and today and returns a queryset of requests built
on ``deputy_request_visible`` (a person never sees another's items there), narrowed to what
needs *this* person, in the order of urgency. Each row carries ``todo_due`` — the date the
action is due (the department's due date, or for an answer the deputy's evaluation date).
Who sees which group, its label and its list link are declared once in ``reports/todo.py``;
a builder asked for a person it does not concern answers an empty queryset.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import DateField, Exists, F, OuterRef, Q, QuerySet, Value
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

from .models import Clarification, DeputyRequest, RequestStatus, Response, ResponseStatus
from .selectors import CoAuthor, deputy_request_visible

S = RequestStatus

#: How long a decided extension stays on the head's list (calendar days after the decision).
RECENT_EXTENSION_DAYS = 14


def _rows(qs: QuerySet[DeputyRequest], due: str | None = "due_date") -> QuerySet[DeputyRequest]:
    """What a to-do row shows, most urgent (earliest due) first; undated rows last.

    ``due`` names the date the action is due by (``None``: the action has no due date;
    such rows come oldest first).
    """
    qs = qs.defer("search_document", "published_document", "body", "due_date_basis")
    qs = qs.select_related("lead_department")
    if due is None:
        return qs.annotate(todo_due=Value(None, output_field=DateField())).order_by(
            "submitted_at", "id"
        )
    return qs.annotate(todo_due=F(due)).order_by(F("todo_due").asc(nulls_last=True), "id")


def _authored(actor: Actor) -> QuerySet[DeputyRequest]:
    """The requests the deputy filed themselves (only the author evaluates and drafts)."""
    if actor.deputy_id is None:
        return DeputyRequest.objects.none()
    return deputy_request_visible(actor).filter(author_id=actor.deputy_id)


def _led(actor: Actor) -> QuerySet[DeputyRequest]:
    """The requests the actor's department leads (only the lead department answers)."""
    if actor.department_id is None:
        return DeputyRequest.objects.none()
    return deputy_request_visible(actor).filter(lead_department_id=actor.department_id)


def _overdue(qs: QuerySet[DeputyRequest], today: datetime.date) -> QuerySet[DeputyRequest]:
    """Past due and unanswered; a stopped clock (a clarification pause) is not overdue."""
    return qs.filter(status=S.IN_PROGRESS, due_date__lt=today, paused_since__isnull=True)


def _sorted_apart(qs: QuerySet[DeputyRequest]) -> QuerySet[DeputyRequest]:
    """Earliest due first, by an expression no index holds: PostgreSQL reads the few rows
    the filter names (by primary key) and sorts them, instead of walking the due-date index
    in the hope of meeting them early."""
    return qs.order_by(Coalesce("todo_due", "todo_due").asc(nulls_last=True), "id")


# --- A deputy -------------------------------------------------------------------------------


def answers_to_evaluate(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Answered requests the deputy authored: their evaluation is due by ``evaluation_due_date``."""
    return _rows(_authored(actor).filter(status=S.ANSWERED), due="evaluation_due_date")


def own_drafts(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """The deputy's drafts, the latest edited first: read through the author's (author,
    status) index and sorted apart — by an expression no index holds — instead of walking
    every request by its last change in the hope of meeting the deputy's drafts early."""
    latest = Coalesce("updated_at", "updated_at").desc()
    return _rows(_authored(actor).filter(status=S.DRAFT)).order_by(latest, "-id")


def clarifications_to_answer(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """The deputy's requests with a department's clarification question still unanswered."""
    open_question = Clarification.objects.filter(request_id=OuterRef("pk"), answered_at=None)
    return _rows(_authored(actor).filter(Exists(open_question)))


def own_overdue(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """The deputy's own requests (authored or co-authored) past their due date, unanswered."""
    if actor.deputy_id is None:
        return DeputyRequest.objects.none()
    co_authored = CoAuthor.objects.filter(
        deputyrequest_id=OuterRef("pk"), deputy_id=actor.deputy_id
    )
    own = deputy_request_visible(actor).filter(Q(author_id=actor.deputy_id) | Exists(co_authored))
    return _rows(_overdue(own, today))


# --- A department's executor ----------------------------------------------------------------


def assigned_to_me(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests in progress whose executor the actor is, in their department."""
    if actor.user is None:
        return DeputyRequest.objects.none()
    return _rows(_led(actor).filter(status=S.IN_PROGRESS, executor_id=actor.user.pk))


def drafts_returned_to_me(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests whose latest answer the actor drafted and the head returned to them."""
    if actor.user is None:
        return DeputyRequest.objects.none()
    later = Response.objects.filter(request_id=OuterRef("request_id"), pk__gt=OuterRef("pk"))
    returned = Response.objects.filter(
        request_id=OuterRef("pk"), status=ResponseStatus.RETURNED, drafted_by_id=actor.user.pk
    ).exclude(Exists(later))
    return _rows(_led(actor).filter(Exists(returned), status=S.IN_PROGRESS))


# --- A department head ----------------------------------------------------------------------


def drafts_to_approve(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests of the department with a draft answer waiting for the head's approval."""
    if not actor.is_department_head:
        return DeputyRequest.objects.none()
    draft = Response.objects.filter(request_id=OuterRef("pk"), status=ResponseStatus.DRAFT)
    return _rows(_led(actor).filter(Exists(draft), status=S.IN_PROGRESS))


def unassigned(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests the department leads that no executor has yet."""
    if not actor.is_department_head:
        return DeputyRequest.objects.none()
    return _rows(_led(actor).filter(status=S.IN_PROGRESS, executor__isnull=True))


def department_overdue(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests the department leads past their due date, unanswered."""
    return _rows(_overdue(_led(actor), today))


def extensions_decided(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests of the department whose extension was decided in the last two weeks."""
    since = timezone.now() - datetime.timedelta(days=RECENT_EXTENSION_DAYS)
    return _sorted_apart(
        _rows(_led(actor).filter(with_extension_decided_since(ItemType.REQUEST, since)))
    )


# --- Council staff and the chair ------------------------------------------------------------


def _registry(actor: Actor) -> QuerySet[DeputyRequest]:
    if not actor.sees_everything:
        return DeputyRequest.objects.none()
    return deputy_request_visible(actor)


def to_route(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Submitted requests waiting for staff to route them (the oldest first)."""
    if not actor.is_staff:
        return DeputyRequest.objects.none()
    return _rows(_registry(actor).filter(status=S.SUBMITTED), due=None)


def extensions_to_decide(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Requests with an extension of the deadline waiting for staff's decision."""
    if not actor.is_staff:
        return DeputyRequest.objects.none()
    return _sorted_apart(_rows(_registry(actor).filter(with_pending_extension(ItemType.REQUEST))))


def extensions_to_decide_page(
    actor: Actor, today: datetime.date, size: int
) -> QuerySet[DeputyRequest]:
    """The first ``size`` of ``extensions_to_decide``: the pending extensions' items taken
    earliest due first from the pending queue itself (each item's due date read by primary
    key), so the page reads ``size`` requests — not a join of the whole queue, which
    PostgreSQL plans as a scan of every request once the queue is long."""
    if not actor.is_staff:
        return DeputyRequest.objects.none()
    first = first_pending_by_due(ItemType.REQUEST, DeputyRequest, size)
    return _sorted_apart(_rows(_registry(actor).filter(pk__in=first)))[:size]


def overdue(actor: Actor, today: datetime.date) -> QuerySet[DeputyRequest]:
    """Every request past its due date and unanswered: the escalations, most overdue first."""
    return _rows(_overdue(_registry(actor), today))


def overdue_by_department(actor: Actor, today: datetime.date) -> QuerySet[Any]:
    """Per lead department: its requests past due and unanswered (one grouped query)."""
    return count_by_lead_department(_overdue(_registry(actor), today))
