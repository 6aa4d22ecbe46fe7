"""The public promises page (``/public/promises/``): what the akimat's departments promised
in their public answers, by when, and whether they kept it.

A promise is public when its answer is: the request is published (``is_public``, the
public's visibility rule ``deputy_request_visible(ANONYMOUS)``) and closed (a final answer
becomes public on closing, ``reports.public``), and the promise belongs to the answer the
request's public page shows — its last sent final answer (the promise of an answer
returned for rework is not public: that answer never was). Nothing of any other request
appears: not in the list, not in the counts, not behind a filter.

The figures (counts per state, kept on time, due, the kept share) are
``commitments.selectors.commitment_figures``: SQL, a fixed number of queries whatever the
number of promises.
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from commitments.models import ACTIVE_STATES, Commitment, CommitmentState
from commitments.selectors import (
    COUNTED_STATES,
    commitment_figures,
    commitment_figures_by_department,
    with_overdue,
)
from maslikhat.directory.actors import ANONYMOUS
from maslikhat.directory.models import Department, District
from requests_app.models import RequestStatus, Response, ResponseKind, ResponseStatus
from requests_app.selectors import deputy_request_visible

from .selectors import Params, as_query_dict

#: The state a visitor reads: the stored state, or ``overdue`` when still to be kept and late.
OVERDUE = "overdue"
PUBLIC_STATE_LABELS: dict[str, Any] = {
    CommitmentState.OPEN: pgettext_lazy("promise state", "Open"),
    CommitmentState.RESCHEDULED: pgettext_lazy("promise state", "Rescheduled"),
    OVERDUE: _("Overdue"),
    CommitmentState.KEPT: pgettext_lazy("promise state", "Kept"),
    CommitmentState.BROKEN: pgettext_lazy("promise state", "Broken"),
}


def public_commitments() -> QuerySet[Commitment]:
    """Every promise the public may see (see the module docstring).

    "The answer the request's page shows" is written as: the promise's answer is a sent
    final answer and no sent final answer of the request is later (``sent_at``, then
    ``id``: the page's order) — an anti-join the planner estimates well, so the list walks
    the due-date index with a LIMIT instead of reading every promise.
    """
    published_closed = deputy_request_visible(ANONYMOUS).filter(status=RequestStatus.CLOSED)
    later_answer = Response.objects.filter(
        request_id=OuterRef("request_id"),
        kind=ResponseKind.FINAL,
        status=ResponseStatus.SENT,
    ).filter(
        Q(sent_at__gt=OuterRef("response__sent_at"))
        | Q(sent_at=OuterRef("response__sent_at"), pk__gt=OuterRef("response_id"))
    )
    return Commitment.objects.filter(
        ~Exists(later_answer),
        request_id__in=published_closed.values("pk"),
        response__kind=ResponseKind.FINAL,
        response__status=ResponseStatus.SENT,
        state__in=COUNTED_STATES,
    )


class PublicCommitmentFilter(django_filters.FilterSet):
    """The page's filters: the department that promised and the request's district (codes)."""

    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name_ru", "pk"),
        to_field_name="code",
        field_name="department",
        label=_("Department"),
    )
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.order_by("name_ru", "pk"),
        to_field_name="code",
        field_name="request__district",
        label=_("District"),
    )

    class Meta:
        model = Commitment
        fields = ["department", "district"]


def public_state(item: Commitment, today: datetime.date) -> str:
    """``overdue`` for a promise still to be kept past its date, else its stored state."""
    if item.state in ACTIVE_STATES and item.due_date < today:
        return OVERDUE
    return str(item.state)


def public_commitment_page(params: Params, today: datetime.date | None = None) -> dict[str, Any]:
    """The filter, the promises (a queryset to paginate), the figures of the filtered
    promises and the same per department: from the stored counts when today's build is
    done (``public_counts.promise_counts``), else each a single query over the promises."""
    from .public_counts import promise_counts

    today = today or timezone.localdate()
    filterset = PublicCommitmentFilter(
        data=as_query_dict(params), queryset=with_overdue(public_commitments(), today)
    )
    if not filterset.is_valid():
        # A code that names nothing shows nothing (an empty list: nothing to count or plan).
        empty = filterset.queryset.none()
        return {
            "filter": filterset,
            "rows": [],
            "totals": commitment_figures(empty, today),
            "by_department": [],
            "today": today,
        }
    qs = filterset.qs
    rows = (
        qs.select_related("request", "request__district", "department")
        .only(
            "request_id",
            "department_id",
            "text",
            "original_due_date",
            "due_date",
            "state",
            "reported_at",
            "reschedule_count",
            "request__number",
            "request__title",
            "request__district_id",
            "request__district__name_ru",
            "request__district__name_kk",
            "request__district__name_en",
            "department__code",
            "department__name_ru",
            "department__name_kk",
            "department__name_en",
        )
        .order_by("-due_date", "-id")
    )
    cleaned = filterset.form.cleaned_data
    counted = promise_counts(
        qs,
        department_id=cleaned["department"].pk if cleaned.get("department") else None,
        district_id=cleaned["district"].pk if cleaned.get("district") else None,
        today=today,
    )
    if counted is None:
        totals = commitment_figures(qs, today)
        by_department = commitment_figures_by_department(qs, today)
    else:
        totals, by_department = counted
    return {
        "filter": filterset,
        "rows": rows,
        "totals": totals,
        "by_department": by_department,
        "today": today,
    }
