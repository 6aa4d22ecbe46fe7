"""Reads of the dashboards and the summary API: aggregates in SQL, scoped by visibility.

Every number here comes from a ``GROUP BY`` or a filtered ``COUNT`` over the requests the
actor may see (``deputy_request_visible``) after the list's own filters
(``DeputyRequestFilter``), so a dashboard's figure and the list it links to always agree,
and the number of queries is fixed: it does not grow with the number of requests.

Definitions (shared by the dashboard, ``/api/v1/reports/summary/`` and the PDF report):

- *open*: submitted, in progress or answered (not yet closed, declined or withdrawn);
- *overdue* (``overdue``): the list's ``is_overdue=true``: in progress past the due date, or
  answered after it; *open overdue*: in progress past the due date today;
- *answered late*: the final answer was sent after the due date in force;
- *on time*: the final answer was sent on or before the due date in force (an approved
  extension moves it; the KPI's timeliness counts against the original due date instead);
- *median days*: whole days elapsed from routing to the final answer, the exact median
  (``reports.aggregates.Median``: PostgreSQL ``percentile_cont``, an SQLite aggregate on the
  embedded set-up; from the nightly histogram ``RequestAnswerCount`` the same figure).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from instructions.models import INSTRUCTION_OPEN_STATUSES
from instructions.selectors import instruction_visible
from instructions.selectors import with_overdue as instruction_with_overdue
from maslikhat.accounts.models import User
from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.models import pick_language
from maslikhat.directory.actors import Actor
from maslikhat.directory.models import Department, DepartmentMember
from requests_app.filters import ORDERING_FIELDS, DeputyRequestFilter
from requests_app.models import DeputyRequest, Outcome, RequestStatus
from requests_app.selectors import deputy_request_visible, with_overdue

from . import promise_dashboards
from .aggregates import Median, WholeDaysBetween
from .models import ExportJob

S = RequestStatus

#: Statuses in which a request still waits for somebody (drafts are the author's only).
OPEN_STATUSES = (S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED)
#: The funnel: how far registered requests got.
REGISTERED_STATUSES = tuple(s for s in RequestStatus.values if s != S.DRAFT)
#: How many rows the overdue registry shows (the list behind its link has them all).
REGISTRY_SIZE = 20


class InvalidFilters(ValidationFailed):
    """Filter values that do not parse: a 400 with the form's errors in the API."""

    code = "invalid_filters"
    default_message = gettext_lazy("Some filter values are not valid.")

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__()
        self.errors = {key: [str(m) for m in messages] for key, messages in errors.items()}


#: Filters as a ``QueryDict``, a dict (values or lists) or ``[key, value]`` pairs (jobs).
Params = Mapping[str, Any] | Iterable[Any] | None


class ReportRequestFilter(DeputyRequestFilter):
    """The lists' filter plus what the HTML inbox's tabs add, so an export matches the page."""

    unassigned = django_filters.BooleanFilter(
        field_name="executor", lookup_expr="isnull", label=gettext_lazy("Without an executor")
    )


# --- Parameters -------------------------------------------------------------------------------


def as_query_dict(params: Params) -> QueryDict:
    """A ``QueryDict`` from a ``QueryDict``, a dict (values or lists) or ``(key, value)`` pairs.

    Export jobs store their parameters as JSON pairs; this rebuilds what the filters read
    (``status`` may be given several times).
    """
    if isinstance(params, QueryDict):
        return params
    result = QueryDict(mutable=True)
    if params is None:
        return result
    pairs: Iterable[Any] = params.items() if isinstance(params, Mapping) else params
    for key, value in pairs:
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            result.appendlist(str(key), "" if item is None else str(item))
    return result


def query_pairs(params: QueryDict, *, drop: Iterable[str] = ()) -> list[list[str]]:
    """``params`` as JSON-friendly ``[key, value]`` pairs, without ``drop`` and empty values."""
    skip = set(drop)
    return [
        [key, value]
        for key, values in params.lists()
        if key not in skip
        for value in values
        if value != ""
    ]


# --- The filtered requests ----------------------------------------------------------------------


def own_requests(qs: QuerySet[DeputyRequest], deputy_id: int) -> QuerySet[DeputyRequest]:
    """Requests the deputy authored or co-authored."""
    co_authored = DeputyRequest.co_authors.through.objects.filter(
        deputyrequest_id=OuterRef("pk"), deputy_id=deputy_id
    )
    return qs.filter(Q(author_id=deputy_id) | Exists(co_authored))


@dataclass
class FilteredRequests:
    queryset: QuerySet[DeputyRequest]
    filterset: ReportRequestFilter

    @property
    def errors(self) -> dict[str, list[str]]:
        if not self.filterset.is_bound or self.filterset.is_valid():
            return {}
        return {k: [str(m) for m in v] for k, v in self.filterset.errors.items()}


def filtered_requests(
    *,
    actor: Actor,
    params: Params,
    strict: bool = False,
    today: datetime.date | None = None,
    default_scope: str | None = "mine",
) -> FilteredRequests:
    """The requests ``actor`` may see, with ``overdue`` annotated, after the list's filters.

    ``scope`` is one of the list's filters (``mine``: a deputy's own requests, authored
    or co-authored; ``all``: others' published ones too). ``default_scope`` applies when
    the query names none: the dashboards and the summary count a deputy's own requests,
    as the deputy's list page does; the exports pass ``None`` and take the query as the
    API list does. ``strict``: invalid values raise ``InvalidFilters`` (the API);
    otherwise they are left out of the filtering, as the HTML lists do.
    """
    data = as_query_dict(params)
    base = with_overdue(deputy_request_visible(actor), today)
    if default_scope and not data.get("scope"):
        data = data.copy()
        data["scope"] = default_scope
    filterset = ReportRequestFilter(data=data, queryset=base, actor=actor)
    if strict and not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    return FilteredRequests(queryset=filterset.qs, filterset=filterset)


def ordered_for_export(qs: QuerySet[Any], ordering: str | None) -> QuerySet[Any]:
    """``?ordering=`` of the lists (unknown values ignored), newest first by default."""
    name = (ordering or "").strip()
    if name.lstrip("-") in ORDERING_FIELDS:
        return qs.order_by(name, "-id" if name.startswith("-") else "id")
    return qs.order_by("-submitted_at", "-id")


# --- The summary -------------------------------------------------------------------------------


def _week_end(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=6 - today.weekday())


def _conditions(today: datetime.date) -> dict[str, Q]:
    answered = Q(answered_at__isnull=False)
    return {
        "open": Q(status__in=OPEN_STATUSES),
        "overdue": Q(overdue=True),
        "overdue_open": Q(status=S.IN_PROGRESS, due_date__lt=today),
        "due_this_week": Q(
            status=S.IN_PROGRESS, due_date__gte=today, due_date__lte=_week_end(today)
        ),
        "answered": answered,
        # Answered (or closed) after the due date: the registry's is_overdue=true among them.
        "answered_late": Q(status__in=[S.ANSWERED, S.CLOSED], overdue=True),
        "on_time": answered & Q(due_date__isnull=False, overdue=False),
        "awaiting_evaluation": Q(status=S.ANSWERED),
        "routed": Q(routed_at__isnull=False) | answered,
        "closed": Q(status=S.CLOSED),
        "resolved": Q(status=S.CLOSED, outcome__in=[Outcome.RESOLVED, Outcome.PARTIALLY_RESOLVED]),
    }


def _median_days() -> Median:
    return Median(
        WholeDaysBetween("routed_at", "answered_at"),
        filter=Q(answered_at__isnull=False, routed_at__isnull=False),
    )


def _days(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _name(row: Mapping[str, Any], prefix: str) -> str:
    return pick_language(
        ru=row.get(f"{prefix}__name_ru") or "",
        kk=row.get(f"{prefix}__name_kk") or "",
        en=row.get(f"{prefix}__name_en") or "",
    )


def _grouped(
    qs: QuerySet[DeputyRequest],
    field: str,
    conditions: dict[str, Q],
    names: Iterable[str],
    *,
    median: bool = False,
    extra: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """One ``GROUP BY field`` with a filtered count per name in ``names``."""
    columns = [f"{field}_id", f"{field}__name_ru", f"{field}__name_kk", f"{field}__name_en", *extra]
    annotations: dict[str, Any] = {"received": Count("pk")}
    # Aliases get a prefix: "overdue" is also the name of the annotation they filter on.
    annotations.update({f"n_{name}": Count("pk", filter=conditions[name]) for name in names})
    if median:
        annotations["median_days"] = _median_days()
    rows = qs.order_by().values(*columns).annotate(**annotations)
    result = []
    for row in rows:
        entry: dict[str, Any] = {
            "id": row[f"{field}_id"],
            "name": _name(row, field) if row[f"{field}_id"] is not None else "",
            "received": row["received"],
        }
        for key in extra:
            entry[key.split("__")[-1]] = row[key]
        entry.update({name: row[f"n_{name}"] for name in names})
        if median:
            entry["median_days"] = _days(row["median_days"])
        result.append(entry)
    result.sort(key=lambda e: (e["id"] is None, -e["received"], e["name"]))
    return result


def _by_month(qs: QuerySet[DeputyRequest]) -> list[dict[str, Any]]:
    """Requests received (by submission) and answered (by the final answer) per month."""
    received = (
        qs.filter(submitted_at__isnull=False)
        .order_by()
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(n=Count("pk"))
    )
    answered = (
        qs.filter(answered_at__isnull=False)
        .order_by()
        .annotate(month=TruncMonth("answered_at"))
        .values("month")
        .annotate(n=Count("pk"))
    )
    months: dict[str, dict[str, Any]] = {}
    for key, rows in (("received", received), ("answered", answered)):
        for row in rows:
            label = _month_key(row["month"])
            months.setdefault(label, {"month": label, "received": 0, "answered": 0})[key] = row["n"]
    return [months[key] for key in sorted(months)]


def _month_key(value: datetime.datetime | datetime.date) -> str:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"


def _summary_of(qs: QuerySet[DeputyRequest], today: datetime.date) -> dict[str, Any]:
    conditions = _conditions(today)
    counter_names = [
        "open",
        "overdue",
        "overdue_open",
        "due_this_week",
        "answered",
        "answered_late",
        "on_time",
        "awaiting_evaluation",
        "routed",
        "closed",
        "resolved",
    ]
    totals = qs.order_by().aggregate(
        total=Count("pk"),
        median_answer_days=_median_days(),
        **{f"n_{name}": Count("pk", filter=conditions[name]) for name in counter_names},
        **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in RequestStatus.values},
    )
    by_status = {s: totals[f"status_{s}"] for s in RequestStatus.values}
    counters = {name: totals[f"n_{name}"] for name in counter_names}
    department_columns = ["answered", "on_time", "answered_late", "overdue_open", "open"]
    place_columns = ["answered", "overdue", "closed", "resolved", "open"]
    return {
        "total": totals["total"],
        "by_status": by_status,
        "by_department": _grouped(
            qs, "lead_department", conditions, department_columns, median=True
        ),
        "by_district": _grouped(qs, "district", conditions, place_columns),
        "by_category": _grouped(qs, "category", conditions, place_columns),
        "by_month": _by_month(qs),
        "overdue": counters["overdue"],
        "median_answer_days": _days(totals["median_answer_days"]),
        "counters": counters,
        "funnel": [
            {"key": "registered", "count": totals["total"] - by_status[S.DRAFT]},
            {"key": "routed", "count": counters["routed"]},
            {"key": "answered", "count": counters["answered"]},
            {"key": "closed", "count": counters["closed"]},
        ],
    }


def request_summary(
    *,
    actor: Actor,
    params: Params,
    today: datetime.date | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """The figures of ``/api/v1/reports/summary/`` and the staff dashboard.

    ``params`` are the request list's filters; the scope is the actor's visibility (a
    deputy: their own requests unless ``scope=all``). Raises ``InvalidFilters`` for values
    that do not parse (unless ``strict=False``). A fixed number of queries.
    """
    today = today or timezone.localdate()
    filtered = filtered_requests(actor=actor, params=params, strict=strict, today=today)
    return _summary_of(filtered.queryset, today)


# --- Dashboards ----------------------------------------------------------------------------------


def overdue_registry(
    qs: QuerySet[DeputyRequest], today: datetime.date, limit: int = REGISTRY_SIZE
) -> list[DeputyRequest]:
    """The most overdue requests in progress (earliest due date first), one query."""
    return list(
        qs.filter(status=S.IN_PROGRESS, due_date__lt=today)
        .select_related("lead_department", "author__user", "executor", "district")
        .order_by("due_date", "id")[:limit]
    )


def instruction_counters(actor: Actor, today: datetime.date) -> dict[str, int]:
    """Protocol instructions the actor may see: on control, overdue, due this week, reported.

    From the daily instruction counts where they answer (``instruction_counts``: staff and
    departments), else ``live_instruction_counters``; the same figures either way.
    """
    from .instruction_counts import instruction_counts

    return instruction_counts(actor, today)


def live_instruction_counters(actor: Actor, today: datetime.date) -> dict[str, int]:
    """``instruction_counters`` counted over the instructions themselves (one query)."""
    from instructions.models import InstructionStatus

    qs = instruction_with_overdue(instruction_visible(actor), today)
    open_q = Q(status__in=INSTRUCTION_OPEN_STATUSES)
    counts = qs.order_by().aggregate(
        total=Count("pk"),
        on_control=Count("pk", filter=open_q),
        overdue_open=Count("pk", filter=open_q & Q(due_date__lt=today)),
        due_this_week=Count(
            "pk", filter=open_q & Q(due_date__gte=today, due_date__lte=_week_end(today))
        ),
        reported=Count("pk", filter=Q(status=InstructionStatus.REPORTED)),
        executed=Count("pk", filter=Q(status=InstructionStatus.EXECUTED)),
        # Not "overdue": that is the annotation the filter reads.
        n_overdue=Count("pk", filter=Q(overdue=True)),
    )
    counts["overdue"] = counts.pop("n_overdue")
    return counts


def department_dashboard(*, actor: Actor, today: datetime.date | None = None) -> dict[str, Any]:
    """A department's inbox at a glance: the department, counts, what is overdue, each
    executor's load.

    Counts cover the requests addressed to the department (lead or co-executor); the
    executors' load counts the requests it leads (only the lead department assigns).
    """
    from .daily_counts import department_counters

    today = today or timezone.localdate()
    department_id = actor.department_id
    assert department_id is not None
    qs = with_overdue(deputy_request_visible(actor), today)
    conditions = _conditions(today)
    # From the daily tables where they answer; the load is the department's work in
    # progress (an index on lead department and status), bounded by it.
    counters = department_counters(actor, today)
    load_rows = (
        qs.filter(lead_department_id=department_id, status=S.IN_PROGRESS)
        .order_by()
        .values("executor_id")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(due_date__lt=today)),
            due_this_week=Count("pk", filter=conditions["due_this_week"]),
        )
    )
    load: dict[int | None, dict[str, Any]] = {row["executor_id"]: dict(row) for row in load_rows}
    members = (
        DepartmentMember.objects.filter(department_id=department_id, is_active=True)
        .select_related("user")
        .order_by("position", "user__last_name", "user__first_name")
    )
    executors = []
    for member in members:
        row: dict[str, Any] = load.pop(member.user_id, {})
        executors.append(
            {
                "user_id": member.user_id,
                "name": member.user.full_name,
                "position": member.get_position_display(),
                "open": row.get("open", 0),
                "overdue": row.get("overdue", 0),
                "due_this_week": row.get("due_this_week", 0),
            }
        )
    unassigned = load.pop(None, None)
    counters["unassigned"] = unassigned["open"] if unassigned else 0
    # Items still assigned to someone who left the department: they need a new executor.
    former = {
        "open": sum(r["open"] for r in load.values()),
        "overdue": sum(r["overdue"] for r in load.values()),
        "due_this_week": sum(r["due_this_week"] for r in load.values()),
    }
    return {
        "department": Department.objects.get(pk=department_id),
        "counters": counters,
        "executors": executors,
        "unassigned": unassigned or {"open": 0, "overdue": 0, "due_this_week": 0},
        "former_executors": former,
        "overdue": overdue_registry(qs, today),
        "instructions": instruction_counters(actor, today),
        "promises": promise_dashboards.department_promises(actor, today),
    }


def deputy_dashboard(*, actor: Actor, today: datetime.date | None = None) -> dict[str, Any]:
    """A deputy's own requests by state and the answers that wait for their evaluation.

    The counters and the requests by status from the stored counts (``deputy_counts``:
    the deputy's rows, their drafts and the days read live beside them) when today's build
    is done, else counted live: a fixed number of queries whatever the number of requests.
    """
    from .deputy_counts import deputy_counts, live_deputy_counts

    today = today or timezone.localdate()
    deputy_id = actor.deputy_id
    assert deputy_id is not None
    co_authorships = DeputyRequest.co_authors.through.objects.filter(deputy_id=deputy_id)
    visible = with_overdue(deputy_request_visible(actor), today)
    # The deputy's own requests, for the lists: narrowed by their own indexes (author and
    # status, due date); the co-authorships are a subquery. The counters read the author's
    # and the co-authorships' parts apart (``deputy_counts._own_parts``).
    qs = visible.filter(Q(author_id=deputy_id) | Q(pk__in=co_authorships.values("deputyrequest")))
    stored = deputy_counts(deputy_id, today)
    if stored is None:
        counters, statuses = live_deputy_counts(deputy_id, today)
        source, as_of = "live", None
    else:
        counters, statuses, run = stored
        source, as_of = "deputy_counts", run.day
    by_status = [
        {"status": s, "label": RequestStatus(s).label, "count": statuses[s]}
        for s in RequestStatus.values
    ]
    awaiting = list(
        qs.filter(status=S.ANSWERED, author_id=deputy_id)
        .select_related("lead_department", "category")
        .order_by("evaluation_due_date", "answered_at", "id")[:REGISTRY_SIZE]
    )
    return {
        "counters": counters,
        "by_status": by_status,
        "awaiting_evaluation": awaiting,
        "overdue": overdue_registry(qs, today, limit=10),
        "instructions": instruction_counters(actor, today),
        "promises": promise_dashboards.deputy_promises(actor),
        "source": source,
        "as_of": as_of,
    }


def status_label(value: str) -> str:
    try:
        return str(RequestStatus(value).label)
    except ValueError:
        return value


def funnel_label(key: str) -> str:
    labels = {
        "registered": gettext("Registered"),
        "routed": gettext("Routed to a department"),
        "answered": gettext("Answered"),
        "closed": gettext("Closed"),
    }
    return labels.get(key, key)


def staff_dashboard(
    *,
    actor: Actor,
    params: Params,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """The staff dashboard: the summary, the overdue registry and instruction discipline.

    Filter values that do not parse are left out (and shown as errors by the page).
    """
    from .daily_counts import summary_of_filtered
    from .instruction_counts import instruction_discipline

    today = today or timezone.localdate()
    filtered = filtered_requests(actor=actor, params=params, strict=False, today=today)
    # The counts from the daily tables where they answer; the medians and the months live.
    summary = summary_of_filtered(filtered, actor=actor, params=params, today=today)
    rows = instruction_discipline(actor, today)
    names = {
        d.pk: d.name
        for d in Department.objects.filter(pk__in=[row["lead_department"] for row in rows])
    }
    discipline = [{**row, "name": names.get(row["lead_department"], "")} for row in rows]
    return {
        "filterset": filtered.filterset,
        "errors": filtered.errors,
        "summary": summary,
        "registry": overdue_registry(filtered.queryset, today),
        "instructions": instruction_counters(actor, today),
        "discipline": discipline,
        "promises": promise_dashboards.staff_promises(actor, today),
        "today": today,
    }


def export_job_list(*, user: User, limit: int = 20) -> list[ExportJob]:
    """The user's most recent background exports, newest first (only their own)."""
    return list(ExportJob.objects.filter(user=user).order_by("-created_at", "-id")[:limit])
