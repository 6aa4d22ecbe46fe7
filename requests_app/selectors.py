"""Reads of deputy requests, and who may see which — decided here, once.

Every list, detail page, export, dashboard and API endpoint scopes through
``deputy_request_visible``; an item outside it is a 404 for that user.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from maslikhat.directory.actors import Actor, actor_for

from .models import DeputyRequest, RequestStatus, Response, ResponseStatus

CoAuthor = DeputyRequest.co_authors.through
CoDepartment = DeputyRequest.co_departments.through


def deputy_request_visible(actor: Actor) -> QuerySet[DeputyRequest]:
    """The requests ``actor`` may see (the same rule as ``permissions.can_see``).

    - a deputy: own (authored or co-authored, drafts included) and published ones;
    - a department officer: those addressed to the department (lead or co-executor);
    - staff, the chair, administrators: every registered request;
    - the public: published ones.
    Drafts are only ever visible to their authors.
    """
    qs = DeputyRequest.objects.all()
    not_draft = ~Q(status=RequestStatus.DRAFT)
    if actor.deputy_id is not None:
        own = Q(author_id=actor.deputy_id) | Exists(
            CoAuthor.objects.filter(deputyrequest_id=OuterRef("pk"), deputy_id=actor.deputy_id)
        )
        return qs.filter(own | (Q(is_public=True) & not_draft))
    if actor.sees_everything:
        return qs.filter(not_draft)
    if actor.department_id is not None:
        involved = Q(lead_department_id=actor.department_id) | Exists(
            CoDepartment.objects.filter(
                deputyrequest_id=OuterRef("pk"), department_id=actor.department_id
            )
        )
        return qs.filter(not_draft & involved)
    if actor.is_anonymous:
        return qs.filter(not_draft, is_public=True)
    # Any other signed-in account (e.g. an officer without a department) sees nothing.
    return qs.none()


def with_overdue(
    qs: QuerySet[DeputyRequest], today: datetime.date | None = None
) -> QuerySet[DeputyRequest]:
    """Annotate ``overdue``: past due and unanswered, or answered after the due date."""
    today = today or timezone.localdate()
    return qs.annotate(
        overdue=Case(
            When(status=RequestStatus.IN_PROGRESS, due_date__lt=today, then=Value(True)),
            When(
                answered_at__isnull=False,
                due_date__isnull=False,
                answered_at__date__gt=F("due_date"),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def for_list(qs: QuerySet[DeputyRequest]) -> QuerySet[DeputyRequest]:
    """What every list row shows, in a constant number of queries."""
    return with_overdue(
        qs.select_related(
            "author__user",
            "author__party",
            "category",
            "district",
            "lead_department",
            "executor",
            "convocation",
        )
    ).prefetch_related("co_authors", "co_departments")


def deputy_request_list(*, actor: Actor) -> QuerySet[DeputyRequest]:
    return for_list(deputy_request_visible(actor))


def deputy_request_get_visible(*, user: Any, pk: Any) -> DeputyRequest:
    """The request ``pk`` if ``user`` may see it; 404 for "missing" and "forbidden" alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    actor = actor_for(user)
    sent = Response.objects.filter(status=ResponseStatus.SENT).select_related(
        "drafted_by", "approved_by", "department"
    )
    qs = for_list(deputy_request_visible(actor)).prefetch_related(
        "suggested_departments",
        "co_authors__user",
        Prefetch("responses", queryset=sent, to_attr="sent_responses"),
    )
    item = qs.filter(pk=pk).first()
    if item is None:
        raise Http404
    item._co_author_ids = {d.pk for d in item.co_authors.all()}  # type: ignore[attr-defined]
    item._co_department_ids = {d.pk for d in item.co_departments.all()}  # type: ignore[attr-defined]
    return item


def responses_visible(*, actor: Actor, item: DeputyRequest) -> QuerySet[Response]:
    """Sent answers for everyone who sees the item; drafts only for its department and staff."""
    qs = item.responses.select_related("drafted_by", "approved_by", "department")
    if actor.in_department(item.lead_department_id) or actor.sees_everything:
        return qs
    return qs.filter(status=ResponseStatus.SENT)


# --- Search --------------------------------------------------------------------------

NUMBER_PATTERN = re.compile(r"^\s*DZ-\d{4}-\d{1,6}\s*$", re.IGNORECASE)
MAX_SEARCH_LENGTH = 200


def search_requests(qs: QuerySet[DeputyRequest], text: str) -> QuerySet[DeputyRequest]:
    """Full-text search over the request, its answers and its thread.

    PostgreSQL: the Russian text-search configuration (stemming: «дорога» finds
    «дороги»), web-search syntax. SQLite: every word must occur (case-insensitive).
    A registration number matches exactly.
    """
    text = (text or "").strip()[:MAX_SEARCH_LENGTH]
    if not text:
        return qs
    if NUMBER_PATTERN.match(text):
        return qs.filter(number__iexact=text.strip())
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("search_document", config="russian")
        query = SearchQuery(text, config="russian", search_type="websearch")
        return qs.annotate(search=vector).filter(search=query)
    condition = Q()
    for word in text.split()[:10]:
        condition &= Q(search_document__contains=word.lower())
    return qs.filter(condition)


def similar_requests(
    *,
    actor: Actor,
    title: str = "",
    address: str = "",
    district_id: int | None = None,
    exclude_pk: int | None = None,
    limit: int = 5,
) -> list[DeputyRequest]:
    """Earlier requests that may be about the same problem, with their answers.

    Same address first, then the same district with shared words in the title.
    Only requests the actor may see, and never drafts.
    """
    base = deputy_request_visible(actor).exclude(status=RequestStatus.DRAFT)
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    words = re.findall(r"\w{4,}", title.lower())[:6]
    condition = Q()
    if address.strip():
        condition |= Q(search_document__contains=address.strip()[:100].lower())
    if words:
        title_match = Q()
        for word in words:
            title_match |= Q(search_document__contains=word[:-1] if len(word) > 5 else word)
        condition |= (Q(district_id=district_id) & title_match) if district_id else title_match
    if not condition:
        return []
    sent = Response.objects.filter(status=ResponseStatus.SENT).order_by("-sent_at")
    return list(
        base.filter(condition)
        .select_related("category", "district", "lead_department")
        .prefetch_related(
            "co_authors",
            "co_departments",
            Prefetch("responses", queryset=sent, to_attr="sent_responses"),
        )
        .order_by("-submitted_at")[:limit]
    )
