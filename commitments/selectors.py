"""Reads of promises, and who may see which — decided here, once.

A deputy sees the promises of the requests they authored or co-authored (the
request's correspondence rule), a department its own promises, staff, the chair and
administrators all of them. A promise outside this is a 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from maslikhat.core.selectors import item_pk
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import Actor, actor_for
from requests_app.models import DeputyRequest
from requests_app.selectors import deputy_request_correspondence_readable

from .models import ACTIVE_STATES, Commitment


def with_overdue(
    qs: QuerySet[Commitment], today: datetime.date | None = None
) -> QuerySet[Commitment]:
    """Annotate ``overdue``: still to be kept (open or rescheduled) and past its due date."""
    today = today or timezone.localdate()
    return qs.annotate(
        overdue=Case(
            When(state__in=ACTIVE_STATES, due_date__lt=today, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def commitment_visible(actor: Actor) -> QuerySet[Commitment]:
    """The promises ``actor`` may see (see the module docstring)."""
    qs = Commitment.objects.all()
    if actor.sees_everything:
        return qs
    visible = Q(pk__in=[])
    if actor.deputy_id is not None:
        own = DeputyRequest.objects.filter(deputy_request_correspondence_readable(actor))
        visible |= Q(request_id__in=own.values("pk"))
    if actor.department_id is not None:
        visible |= Q(department_id=actor.department_id)
    return qs.filter(visible)


def commitment_list(*, actor: Actor) -> QuerySet[Commitment]:
    """The promises of a list: the request and department read with them (no N+1)."""
    return with_overdue(commitment_visible(actor)).select_related(
        "request", "department", "request__author"
    )


def commitment_get_visible(*, user: Any, pk: Any) -> Commitment:
    """The promise ``pk`` if ``user`` may see it; 404 for "missing" and "forbidden" alike."""
    item = commitment_list(actor=actor_for(user)).filter(pk=item_pk(pk)).first()
    if item is None:
        raise Http404
    return item


def commitment_history(commitment: Commitment) -> QuerySet[AuditEvent]:
    """The promise's events in its request's history (created, reported, rescheduled…)."""
    return (
        AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            item_id=commitment.request_id,
            action__startswith="commitment_",
            changes__commitment=commitment.pk,
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
