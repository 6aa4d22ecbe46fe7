"""Reads for following: what may be followed, who follows what, what changed in public.

Everything a follower is told comes from the public portal's reads (``reports.public``):
the same published requests and the same public fields a visitor sees on ``/public/`` —
never a private request, a draft, the thread, an attachment or the address.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from commitments import outcomes as promise_outcomes
from maslikhat.directory.models import Department, Deputy, District
from reports import public
from reports.selectors import own_requests
from requests_app.models import DeputyRequest, RequestStatus

from .models import Follow, TargetKind

#: How many entries a feed holds (the newest first).
FEED_SIZE = 50


def target_exists(kind: str, target_id: int) -> bool:
    """True when the thing may be followed: a published request, an existing directory entry.

    A private request answers exactly as a missing one does, so the answer tells nobody
    whether it exists.
    """
    if kind == TargetKind.REQUEST:
        return public.published_requests().filter(pk=target_id).exists()
    if kind == TargetKind.DEPARTMENT:
        return Department.objects.filter(pk=target_id).exists()
    if kind == TargetKind.DISTRICT:
        return District.objects.filter(pk=target_id).exists()
    if kind == TargetKind.DEPUTY:
        return Deputy.objects.filter(pk=target_id).exists()
    return False


def target_label(kind: str, target_id: int) -> str:
    """What a follower sees as the name of the followed thing (public names only)."""
    if kind == TargetKind.REQUEST:
        item = public.published_requests().filter(pk=target_id).first()
        return f"{item.number} {item.title}" if item is not None else f"#{target_id}"
    model: Any = {
        TargetKind.DEPARTMENT: Department,
        TargetKind.DISTRICT: District,
        TargetKind.DEPUTY: Deputy,
    }[TargetKind(kind)]
    query = model.objects.filter(pk=target_id)
    if model is Deputy:
        query = query.select_related("user")
    obj = query.first()
    return obj.name if obj is not None else f"#{target_id}"


def follow_by_token(token: str) -> Follow:
    follow = Follow.objects.filter(token=token).first()
    if follow is None:
        raise Http404
    return follow


def follows_of_email(email: str) -> list[Follow]:
    """The live follows of an address (confirmed or waiting for confirmation)."""
    if not email:
        return []
    return list(
        Follow.objects.filter(email__iexact=email, unsubscribed_at__isnull=True).order_by(
            "target_kind", "target_id", "id"
        )
    )


def active_follows(*, before: datetime.datetime) -> QuerySet[Follow]:
    """Confirmed, not unsubscribed follows confirmed before ``before``."""
    return Follow.objects.filter(
        confirmed_at__isnull=False, confirmed_at__lt=before, unsubscribed_at__isnull=True
    ).order_by("email", "id")


# --- What changed in public on a day -----------------------------------------------------------


@dataclass
class PublicChange:
    """One line of a digest: a published request and what happened to it, in public words."""

    request: DeputyRequest
    event: str  # "published", "answered", "closed", or a promise's outcome (``promise_*``)
    answer: public.PublicAnswer | None = None
    #: The new promised date of a rescheduled promise.
    promise_due: datetime.date | None = None


@dataclass
class DayChanges:
    """What a day changed for one follow."""

    follow: Follow
    label: str
    changes: list[PublicChange] = field(default_factory=list)


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def requests_of_target(kind: str, target_id: int) -> QuerySet[DeputyRequest]:
    """Published requests of a followed thing (the public list's filters)."""
    qs = public.published_requests()
    if kind == TargetKind.REQUEST:
        return qs.filter(pk=target_id)
    if kind == TargetKind.DEPARTMENT:
        return public.answered_by_department(qs, target_id)
    if kind == TargetKind.DISTRICT:
        return qs.filter(district_id=target_id)
    return own_requests(qs, target_id)


#: The followed things told of promise outcomes.
PROMISE_TARGETS = (TargetKind.REQUEST, TargetKind.DEPARTMENT, TargetKind.DISTRICT)


def day_changes(follow: Follow, day: datetime.date) -> DayChanges:
    """What changed on ``day`` in the public fields of what ``follow`` follows.

    A followed request: published, answered or closed that day (with the public final
    answer once closed). A department, district or deputy: their requests published or
    closed that day. A followed request, department or district: the promise of a closed
    request's public final answer kept, broken or moved to a new date that day
    (``commitments/outcomes.py``).
    """
    start, end = _day_bounds(day)
    qs = requests_of_target(follow.target_kind, follow.target_id)
    result = DayChanges(follow=follow, label=target_label(follow.target_kind, follow.target_id))
    events = [("published", "submitted_at"), ("closed", "closed_at")]
    if follow.target_kind == TargetKind.REQUEST:
        events.insert(1, ("answered", "answered_at"))
    for event, stamp in events:
        rows = qs.filter(**{f"{stamp}__gte": start, f"{stamp}__lt": end}).order_by("number", "pk")
        for item in rows:
            answer = None
            if event == "closed":
                _item, answer = public.public_request(item.pk)
            result.changes.append(PublicChange(request=item, event=event, answer=answer))
    if follow.target_kind in PROMISE_TARGETS:
        # Only closed requests: their final answer, the promise, is public.
        closed = qs.filter(status=RequestStatus.CLOSED)
        found = promise_outcomes.outcomes_on(day, closed)
        if found:
            for item in closed.filter(pk__in=found).order_by("number", "pk"):
                for outcome in found[item.pk]:
                    result.changes.append(
                        PublicChange(
                            request=item, event=outcome.event, promise_due=outcome.due_date
                        )
                    )
    return result


# --- Feeds ---------------------------------------------------------------------------------------


class FeedFilterError(ValueError):
    """A feed's query string names a filter value that does not exist."""


def feed_requests(params: Any) -> QuerySet[DeputyRequest]:
    """Published requests for the feed: the public list's filters plus ``department``."""
    filterset = public.public_request_list(params)
    if not filterset.is_valid():
        raise FeedFilterError(filterset.errors)
    qs = filterset.qs
    department = (params.get("department") or "").strip()
    if department:
        if not department.isdigit() or not Department.objects.filter(pk=department).exists():
            raise FeedFilterError({"department": department})
        qs = qs.filter(lead_department_id=int(department))
    return qs.order_by("-submitted_at", "-id")[:FEED_SIZE]
