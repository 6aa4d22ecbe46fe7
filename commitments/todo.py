"""What among promises waits for one person's action now: the promises' to-do groups.

Every builder takes the acting person and today and returns a queryset of promises built on
``commitment_visible`` (a person never sees another's promises there), narrowed to what
needs *this* person, most urgent first. Each row carries ``todo_due`` — the promised date.
Who sees which group, its label and its list link are declared once in ``reports/todo.py``;
a builder asked for a person it does not concern answers an empty queryset.

- the department (its head: every promise of the department; an executor: those of the
  requests assigned to them or to nobody): promises not yet reported that are due within
  ``DUE_SOON_DAYS`` working days or already past their date;
- the request's author: promises the department reported done, waiting for their verdict;
- council staff: disputed promises to resolve, and promises past their date unreported.
"""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet

from maslikhat.core.deadlines import calendar_for
from maslikhat.directory.actors import Actor

from .models import ACTIVE_STATES, Commitment, Verdict
from .selectors import commitment_visible

#: A promise not yet reported enters the department's to-do this many working days before
#: its date (the first reminder comes 3 working days before).
DUE_SOON_DAYS = 5

_DEFERRED = (
    "text",
    "reported_text",
    "verdict_comment",
    "resolution_comment",
    "request__body",
    "request__proposed_solution",
    "request__search_document",
    "request__published_document",
    "request__due_date_basis",
)


def _rows(qs: QuerySet[Commitment]) -> QuerySet[Commitment]:
    """What a to-do row shows (the request's number and title, the department), earliest first."""
    return (
        qs.filter(state__in=ACTIVE_STATES)
        .select_related("request", "department")
        .defer(*_DEFERRED)
        .annotate(todo_due=F("due_date"))
        .order_by("due_date", "id")
    )


def _unreported(qs: QuerySet[Commitment]) -> QuerySet[Commitment]:
    return qs.filter(state__in=ACTIVE_STATES, reported_at__isnull=True)


def department_due(actor: Actor, today: datetime.date) -> QuerySet[Commitment]:
    """The department's promises to report on: due within ``DUE_SOON_DAYS`` or overdue."""
    if actor.department_id is None or actor.user is None:
        return Commitment.objects.none()
    qs = _unreported(commitment_visible(actor).filter(department_id=actor.department_id))
    if not actor.is_department_head:
        qs = qs.filter(Q(request__executor_id=actor.user.pk) | Q(request__executor__isnull=True))
    calendar = calendar_for(today, today + datetime.timedelta(days=31))
    horizon = calendar.add_working_days(today, DUE_SOON_DAYS).due
    return _rows(qs.filter(due_date__lte=horizon))


def verdicts_to_give(actor: Actor, today: datetime.date) -> QuerySet[Commitment]:
    """Promises of the deputy's own requests reported done and waiting for their verdict."""
    if actor.deputy_id is None:
        return Commitment.objects.none()
    # The author sees every promise of their requests (``commitment_visible``): the
    # author's condition is the visibility itself, answered by the indexes alone — the
    # promises awaiting a verdict joined to the deputy's request ids.
    qs = Commitment.objects.filter(
        request__author_id=actor.deputy_id, reported_at__isnull=False, verdict=Verdict.NONE
    )
    return _rows(qs)


def disputes_to_resolve(actor: Actor, today: datetime.date) -> QuerySet[Commitment]:
    """Promises whose report the author disputed: staff decide kept or broken."""
    if not actor.is_staff:
        return Commitment.objects.none()
    return _rows(commitment_visible(actor).filter(verdict=Verdict.DISPUTED))


def overdue(actor: Actor, today: datetime.date) -> QuerySet[Commitment]:
    """Promises past their date and not reported (every department's)."""
    if not actor.is_staff:
        return Commitment.objects.none()
    return _rows(_unreported(commitment_visible(actor)).filter(due_date__lt=today))
