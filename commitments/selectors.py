"""Reads of promises, and who may see which — decided here, once.

A deputy sees the promises of the requests they authored or co-authored (the
request's correspondence rule), a department its own promises, staff, the chair and
administrators all of them. A promise outside this is a 404.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from maslikhat.core.models import pick_language
from maslikhat.core.selectors import item_pk
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import Actor, actor_for
from requests_app.models import DeputyRequest
from requests_app.selectors import deputy_request_correspondence_readable

from .models import ACTIVE_STATES, Commitment, CommitmentState, Verdict


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


# --- Figures: counts per state and the kept share, in SQL ------------------------------------
#
# *due*: a promise whose date has come (on or before today) or that is already settled
# (kept or broken before its date); *kept on time*: kept, and the department's report of the
# work was written on or before the date in force (a rescheduled promise is judged on its
# new date); the *kept share* is kept on time / due. The counts per state put ``overdue``
# (open or rescheduled, past the date) apart from ``open`` and ``rescheduled``.

#: The figures of a set of promises, in the order the tables show them.
FIGURES = (
    "total",
    "open",
    "rescheduled",
    "overdue",
    "kept",
    "broken",
    "due",
    "kept_on_time",
    "due_this_month",
    "disputed",
)
#: The states the figures count (a promise withdrawn by a rework promises nothing).
COUNTED_STATES = (*ACTIVE_STATES, CommitmentState.KEPT, CommitmentState.BROKEN)


def month_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of ``today``'s month."""
    first = today.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def _figure_conditions(today: datetime.date) -> dict[str, Q]:
    active = Q(state__in=ACTIVE_STATES)
    settled = Q(state__in=(CommitmentState.KEPT, CommitmentState.BROKEN))
    first, last = month_bounds(today)
    return {
        "open": Q(state=CommitmentState.OPEN, due_date__gte=today),
        "rescheduled": Q(state=CommitmentState.RESCHEDULED, due_date__gte=today),
        "overdue": active & Q(due_date__lt=today),
        "kept": Q(state=CommitmentState.KEPT),
        "broken": Q(state=CommitmentState.BROKEN),
        "due": (active & Q(due_date__lte=today)) | settled,
        "kept_on_time": Q(
            state=CommitmentState.KEPT,
            reported_at__isnull=False,
            reported_on__lte=F("due_date"),
        ),
        # Still to be kept, with the date in force in this month (overdue ones included).
        "due_this_month": active & Q(due_date__gte=first, due_date__lte=last),
        # Disputed by the author, still open: staff resolve them.
        "disputed": active & Q(verdict=Verdict.DISPUTED),
    }


def _figure_aggregates(today: datetime.date) -> dict[str, Any]:
    conditions = _figure_conditions(today)
    return {
        "n_total": Count("pk"),
        **{f"n_{name}": Count("pk", filter=conditions[name]) for name in FIGURES[1:]},
    }


def _with_report_day(qs: QuerySet[Commitment]) -> QuerySet[Commitment]:
    # Only the counted states; the local day of the report (``TruncDate``, current time zone).
    return qs.filter(state__in=COUNTED_STATES).alias(reported_on=TruncDate("reported_at"))


def kept_share(kept_on_time: int, due: int) -> float | None:
    """Kept on time / due, as a fraction (``None`` when nothing is due yet)."""
    return None if not due else kept_on_time / due


def _figures_of(row: Mapping[str, Any]) -> dict[str, Any]:
    figures = {name: row[f"n_{name}"] or 0 for name in FIGURES}
    figures["kept_share"] = kept_share(figures["kept_on_time"], figures["due"])
    return figures


def commitment_figures(
    qs: QuerySet[Commitment], today: datetime.date | None = None
) -> dict[str, Any]:
    """The figures of the promises ``qs`` (``FIGURES`` and ``kept_share``): one query."""
    today = today or timezone.localdate()
    row = _with_report_day(qs).order_by().aggregate(**_figure_aggregates(today))
    return _figures_of(row)


def commitment_figure_rows(
    qs: QuerySet[Commitment], today: datetime.date, *fields: str
) -> QuerySet[Any]:
    """The figures of ``qs`` per ``fields`` (one ``GROUP BY``): rows of ``fields`` and
    ``n_<figure>`` for each of ``FIGURES`` — what the public promises' daily counts store
    and add up (``figures_of`` turns a row's sums into figures with the kept share)."""
    return _with_report_day(qs).order_by().values(*fields).annotate(**_figure_aggregates(today))


def figures_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """``FIGURES`` and ``kept_share`` from a row of ``n_<figure>`` counts."""
    return _figures_of(row)


def commitment_figures_by_department(
    qs: QuerySet[Commitment], today: datetime.date | None = None
) -> list[dict[str, Any]]:
    """The figures per department (one ``GROUP BY``), with the department's code and name;
    the lowest kept share first (nothing due last), then by name."""
    today = today or timezone.localdate()
    rows = (
        _with_report_day(qs)
        .order_by()
        .values(
            "department_id",
            "department__code",
            "department__name_ru",
            "department__name_kk",
            "department__name_en",
        )
        .annotate(**_figure_aggregates(today))
    )
    result = []
    for row in rows:
        result.append(
            {
                "id": row["department_id"],
                "code": row["department__code"],
                "name": pick_language(
                    ru=row["department__name_ru"] or "",
                    kk=row["department__name_kk"] or "",
                    en=row["department__name_en"] or "",
                ),
                **_figures_of(row),
            }
        )
    result.sort(key=lambda r: (r["kept_share"] is None, r["kept_share"] or 0.0, r["name"], r["id"]))
    return result


def commitments_awaiting_verdict(actor: Actor) -> QuerySet[Commitment]:
    """Reported promises of the deputy's own requests awaiting their verdict (only the
    request's author confirms or disputes), the longest waiting first.

    The author's requests are a subquery (their ids, from the author index alone), not a
    filter through the join to the request: PostgreSQL then meets the promises awaiting a
    verdict (their partial index, by request) and the author's request ids, both read from
    their indexes in request order, instead of reading every request of the author."""
    if actor.deputy_id is None:
        return Commitment.objects.none()
    authored = DeputyRequest.objects.filter(author_id=actor.deputy_id).order_by().values("pk")
    return (
        with_overdue(Commitment.objects.all())
        .filter(
            request_id__in=authored,
            state__in=ACTIVE_STATES,
            reported_at__isnull=False,
            verdict=Verdict.NONE,
        )
        .select_related("request", "department")
        .order_by("reported_at", "id")
    )


def commitment_page_list(*, actor: Actor) -> QuerySet[Commitment]:
    """The promises of the list page: with the request's author's name (no N+1)."""
    return commitment_list(actor=actor).select_related("request__author__user")


def commitments_of_request(*, actor: Actor, request_id: int) -> list[Commitment]:
    """The promises of one request that ``actor`` may see, newest first, with the people
    named on the card (who reported, who gave the verdict, who resolved): one query."""
    return list(
        commitment_list(actor=actor)
        .filter(request_id=request_id)
        .select_related("reported_by", "verdict_by", "resolved_by")
        .order_by("-created_at", "-id")
    )
