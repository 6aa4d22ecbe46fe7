"""Daily aggregates: request counts per submission day × lead department × district ×
category × status, rebuilt nightly, read by ``request_counts``.

The build (``build_daily_counts``; Celery ``reports.daily_counts_build``; ``manage.py
build_daily_counts``) replaces the whole table with one ``INSERT … SELECT … GROUP BY`` in
one transaction, as of its day: the requests submitted before that day, "overdue" and "due
this week" judged on it. A ``DailyCountRun`` row marks the build started and done.

``request_counts`` answers the summary's counts from the table when the actor sees every
request, the filters are ones the table has (status, lead department, district, category,
submission dates) and today's build is done. Counted live beside it: the requests submitted
today, and every submission day in which a request changed since the build (``updated_at``;
a day's rows are its requests' only, so a changed day read live is exact). Otherwise it
counts the same figures live. Either way a fixed number of queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from maslikhat.directory.actors import Actor
from requests_app.models import DeputyRequest, Outcome, RequestStatus
from requests_app.selectors import with_overdue

from .instruction_counts import build_instruction_counts
from .models import DailyCountRun, RequestDailyCount
from .selectors import (
    OPEN_STATUSES,
    FilteredRequests,
    Params,
    _by_month,
    _conditions,
    _days,
    _median_days,
    _month_key,
    _name,
    filtered_requests,
)

S = RequestStatus

#: The counts each row stores (``RequestDailyCount`` columns, in this order).
MEASURES = (
    "received",
    "overdue",
    "overdue_open",
    "due_this_week",
    "answered",
    "answered_late",
    "on_time",
    "routed",
    "resolved",
    "rating_sum",
    "rating_count",
    "published",
)
#: The filters of the request list the table answers (any other one: live counts).
AGGREGATE_FILTERS = frozenset(
    {"status", "lead_department", "district", "category", "submitted_after", "submitted_before"}
)
#: Filters that change nothing for an actor who sees every request (no deputy).
NEUTRAL_FILTERS = frozenset({"scope", "format", "page", "page_size", "ordering", "lang"})
PLACES = ("lead_department", "district", "category")


def _measure_expressions(today: datetime.date) -> dict[str, Any]:
    """``n_<measure>`` → a filtered count over requests annotated with ``overdue``."""
    c = _conditions(today)
    expressions: dict[str, Any] = {"n_received": Count("pk")}
    for name in MEASURES[1:-3]:
        expressions[f"n_{name}"] = Count("pk", filter=c[name])
    expressions["n_rating_sum"] = Coalesce(Sum("rating"), Value(0))
    expressions["n_rating_count"] = Count("rating")
    # The public statistics: how many of them are published.
    expressions["n_published"] = Count("pk", filter=Q(is_public=True))
    return expressions


# --- The build ------------------------------------------------------------------------------


def build_daily_counts(day: datetime.date | None = None) -> DailyCountRun:
    """Replace ``RequestDailyCount`` and ``InstructionDailyCount`` with the counts as of
    ``day`` (default: today), in one transaction.

    Idempotent: a rerun for the same day replaces the rows and restamps its run. Set-based:
    one ``DELETE`` and one ``INSERT … SELECT`` per table (two for the instructions: the
    lead and the co-executor rows) whatever the number of items.
    """
    day = day or timezone.localdate()
    run, _ = DailyCountRun.objects.update_or_create(
        day=day, defaults={"started_at": timezone.now(), "finished_at": None, "rows": 0}
    )
    source = (
        with_overdue(DeputyRequest.objects.exclude(status=S.DRAFT), day)
        .filter(Q(submitted_at__isnull=True) | Q(submitted_at__date__lt=day))
        .order_by()
        .annotate(d_day=TruncDate("submitted_at"))
        .values("d_day", "lead_department_id", "district_id", "category_id", "status")
        .annotate(**_measure_expressions(day))
    )
    select_sql, params = source.query.sql_with_params()
    qn = connection.ops.quote_name
    table = qn(RequestDailyCount._meta.db_table)
    targets = ["day", "lead_department_id", "district_id", "category_id", "status", *MEASURES]
    sources = ["d_day", "lead_department_id", "district_id", "category_id", "status"]
    sources += [f"n_{name}" for name in MEASURES]
    insert = (
        f"INSERT INTO {table} ({', '.join(qn(c) for c in targets)}) "
        f"SELECT {', '.join(qn(c) for c in sources)} FROM ({select_sql}) AS counts"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Two builds at once (two beats by mistake) run one after the other.
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(insert, params)
            rows = max(cursor.rowcount, 0)
            instruction_rows = build_instruction_counts(day, cursor)
        DailyCountRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), rows=rows, instruction_rows=instruction_rows
        )
    run.refresh_from_db()
    return run


def current_run() -> DailyCountRun | None:
    """The build the table holds: the one finished last (each build replaces the table)."""
    return DailyCountRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()


# --- The reader -----------------------------------------------------------------------------


def _place_columns(prefix: str) -> list[str]:
    return [f"{prefix}_id", f"{prefix}__name_ru", f"{prefix}__name_kk", f"{prefix}__name_en"]


def _group_columns() -> list[str]:
    return [c for place in PLACES for c in _place_columns(place)] + ["status"]


def _live_groups(qs: QuerySet[DeputyRequest], today: datetime.date) -> list[dict[str, Any]]:
    rows = qs.order_by().values(*_group_columns()).annotate(**_measure_expressions(today))
    return [
        {**{c: row[c] for c in _group_columns()}, **{m: row[f"n_{m}"] for m in MEASURES}}
        for row in rows
    ]


def _stored_groups(qs: QuerySet[RequestDailyCount]) -> list[dict[str, Any]]:
    rows = qs.order_by().values(*_group_columns()).annotate(**{f"n_{m}": Sum(m) for m in MEASURES})
    return [
        {**{c: row[c] for c in _group_columns()}, **{m: row[f"n_{m}"] or 0 for m in MEASURES}}
        for row in rows
    ]


def _by_place(
    groups: Iterable[dict[str, Any]], place: str, columns: Iterable[str]
) -> list[dict[str, Any]]:
    merged: dict[Any, dict[str, Any]] = {}
    for group in groups:
        key = group[f"{place}_id"]
        entry = merged.setdefault(
            key,
            {
                "id": key,
                "name": _name(group, place) if key is not None else "",
                "received": 0,
                **dict.fromkeys(columns, 0),
            },
        )
        entry["received"] += group["received"]
        for name in columns:
            entry[name] += _group_value(group, name)
    result = list(merged.values())
    result.sort(key=lambda e: (e["id"] is None, -e["received"], e["name"]))
    return result


def _group_value(group: dict[str, Any], name: str) -> int:
    """A counter of one group: a stored count, or one the group's status decides."""
    status = group["status"]
    if name == "open":
        return group["received"] if status in OPEN_STATUSES else 0
    if name == "closed":
        return group["received"] if status == S.CLOSED else 0
    if name == "awaiting_evaluation":
        return group["received"] if status == S.ANSWERED else 0
    return int(group[name])


COUNTER_NAMES = (
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
)


def counts_of(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary's counts (``selectors._summary_of`` less the median and the months)."""
    total = sum(g["received"] for g in groups)
    by_status = dict.fromkeys(RequestStatus.values, 0)
    for group in groups:
        by_status[group["status"]] += group["received"]
    counters = {name: sum(_group_value(g, name) for g in groups) for name in COUNTER_NAMES}
    department_columns = ["answered", "on_time", "answered_late", "overdue_open", "open"]
    place_columns = ["answered", "overdue", "closed", "resolved", "open"]
    return {
        "total": total,
        "by_status": by_status,
        "by_department": _by_place(groups, "lead_department", department_columns),
        "by_district": _by_place(groups, "district", place_columns),
        "by_category": _by_place(groups, "category", place_columns),
        "overdue": counters["overdue"],
        "counters": counters,
        "ratings": {
            "sum": sum(int(g["rating_sum"]) for g in groups),
            "count": sum(int(g["rating_count"]) for g in groups),
        },
        "funnel": [
            {"key": "registered", "count": total - by_status[S.DRAFT]},
            {"key": "routed", "count": counters["routed"]},
            {"key": "answered", "count": counters["answered"]},
            {"key": "closed", "count": counters["closed"]},
        ],
    }


def answerable_from_table(actor: Actor, params: Params) -> bool:
    """Whether the table can answer these filters for this actor (before the run check)."""
    from .selectors import as_query_dict

    if not actor.sees_everything or actor.deputy_id is not None:
        return False
    data = as_query_dict(params)
    used = {key for key, values in data.lists() if any(v != "" for v in values)}
    return used <= AGGREGATE_FILTERS | NEUTRAL_FILTERS


def request_counts(
    *,
    actor: Actor,
    params: Params,
    today: datetime.date | None = None,
    strict: bool = True,
    live: bool = False,
) -> dict[str, Any]:
    """The summary's counts for ``actor`` and the list's filters ``params``.

    From the daily table when it can answer (see the module), else live (``live=True``
    forces live counts). ``source`` says which: ``daily_counts`` or ``live``.
    """
    today = today or timezone.localdate()
    filtered = filtered_requests(actor=actor, params=params, strict=strict, today=today)
    return _counts(filtered, actor=actor, params=params, today=today, live=live)


def _split(
    run: DailyCountRun, stored: QuerySet[RequestDailyCount]
) -> tuple[QuerySet[RequestDailyCount], Q]:
    """The table's rows less the submission days read live, and the live part's filter:
    today's requests and those of every day in which a request changed since the build."""
    changed = set(
        DeputyRequest.objects.filter(updated_at__gte=run.started_at)
        .exclude(status=S.DRAFT)
        .order_by()
        .values_list(TruncDate("submitted_at"), flat=True)
        .distinct()
    )
    changed_days = [d for d in changed if d is not None and d < run.day]
    live_q = days_q("submitted_at", run.day, changed_days)
    stored = stored.exclude(day__in=changed_days)
    if None in changed:
        live_q |= Q(submitted_at__isnull=True)
        stored = stored.exclude(day__isnull=True)
    return stored, live_q


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def days_q(field: str, since: datetime.date, days: Iterable[datetime.date]) -> Q:
    """``field`` (a datetime) on ``since`` or later, or on one of ``days`` (local dates), as
    ranges of the datetime itself: an index on it answers (``__date`` would not)."""
    result = Q(**{f"{field}__gte": _day_start(since)})
    ranges: list[list[datetime.date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + datetime.timedelta(days=1)
        else:
            ranges.append([day, day + datetime.timedelta(days=1)])
    for start, end in ranges:
        result |= Q(**{f"{field}__gte": _day_start(start), f"{field}__lt": _day_start(end)})
    return result


def todays_run(today: datetime.date) -> DailyCountRun | None:
    """The finished build as of ``today``, or ``None`` (then readers count live)."""
    run = current_run()
    return run if run is not None and run.day == today else None


def _counts(
    filtered: FilteredRequests,
    *,
    actor: Actor,
    params: Params,
    today: datetime.date,
    live: bool = False,
) -> dict[str, Any]:
    run = None
    if not live and not filtered.errors and answerable_from_table(actor, params):
        run = current_run()
        if run is not None and run.day != today:
            run = None
    if run is None:
        result = counts_of(_live_groups(filtered.queryset, today))
        return {**result, "source": "live", "as_of": None}
    cleaned = filtered.filterset.form.cleaned_data
    stored = RequestDailyCount.objects.all()
    if cleaned.get("status"):
        stored = stored.filter(status__in=cleaned["status"])
    for place in PLACES:
        if cleaned.get(place) is not None:
            stored = stored.filter(**{f"{place}_id": cleaned[place].pk})
    if cleaned.get("submitted_after"):
        stored = stored.filter(day__gte=cleaned["submitted_after"])
    if cleaned.get("submitted_before"):
        stored = stored.filter(day__lte=cleaned["submitted_before"])
    stored, live_q = _split(run, stored)
    recent = filtered.queryset.filter(live_q)
    groups = _stored_groups(stored) + _live_groups(recent, today)
    return {**counts_of(groups), "source": "daily_counts", "as_of": run.day}


def request_summary_from_daily_counts(
    *,
    actor: Actor,
    params: Params,
    today: datetime.date | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """``/api/v1/reports/summary/``: ``selectors.request_summary``'s figures, the counts from
    the daily table where it answers (``request_counts``), the medians and the months live.

    A fixed number of queries: at most six when the table cannot answer (as the live
    summary), eight when it does (the run, the changed days, the table and the live part).
    """
    today = today or timezone.localdate()
    filtered = filtered_requests(actor=actor, params=params, strict=strict, today=today)
    return summary_of_filtered(filtered, actor=actor, params=params, today=today)


def summary_of_filtered(
    filtered: FilteredRequests, *, actor: Actor, params: Params, today: datetime.date
) -> dict[str, Any]:
    """``selectors._summary_of``'s figures for requests already filtered (the staff
    dashboard's and the summary API's): the counts through ``_counts``, the medians and
    the months live."""
    counts = _counts(filtered, actor=actor, params=params, today=today)
    qs = filtered.queryset.order_by()
    overall = qs.aggregate(median=_median_days())["median"]
    medians = {
        row["lead_department_id"]: row["median"]
        for row in qs.values("lead_department_id").annotate(median=_median_days())
    }
    for row in counts["by_department"]:
        row["median_days"] = _days(medians.get(row["id"]))
    return {
        **{key: counts[key] for key in ("total", "by_status", "overdue", "counters", "funnel")},
        "by_department": counts["by_department"],
        "by_district": counts["by_district"],
        "by_category": counts["by_category"],
        "by_month": _by_month(filtered.queryset),
        "median_answer_days": _days(overall),
        "source": counts["source"],
    }


# --- The public statistics ------------------------------------------------------------------

#: The public statistics' counts (``reports.public._counts``).
PUBLIC_COUNTS = ("received", "published", "answered", "closed", "resolved")


def _public_stored() -> dict[str, Any]:
    # Aliases get a prefix: the table's columns have the counts' names.
    return {
        "n_received": Sum("received"),
        "n_published": Sum("published"),
        "n_answered": Sum("answered"),
        "n_closed": Sum("received", filter=Q(status=S.CLOSED)),
        "n_resolved": Sum("resolved"),
    }


def _public_live() -> dict[str, Any]:
    resolved = [Outcome.RESOLVED, Outcome.PARTIALLY_RESOLVED]
    return {
        "n_received": Count("pk"),
        "n_published": Count("pk", filter=Q(is_public=True)),
        "n_answered": Count("pk", filter=Q(answered_at__isnull=False)),
        "n_closed": Count("pk", filter=Q(status=S.CLOSED)),
        "n_resolved": Count("pk", filter=Q(status=S.CLOSED, outcome__in=resolved)),
    }


def _add(
    into: dict[Any, dict[str, Any]], key: Any, row: dict[str, Any], extra: dict[str, Any]
) -> None:
    entry = into.setdefault(key, {**extra, **dict.fromkeys(PUBLIC_COUNTS, 0)})
    for name in PUBLIC_COUNTS:
        entry[name] += int(row[f"n_{name}"] or 0)


def public_counts(
    *, since: datetime.date, today: datetime.date | None = None, live: bool = False
) -> dict[str, Any] | None:
    """The public statistics' counts of every registered request (``reports.public``) from
    the daily table, with today's and the changed days' requests live: totals, by district,
    by category, by month of submission from ``since``. ``None`` when today's build is not
    done (or ``live``): the caller counts live.

    Eight queries whatever the number of requests: the run, the changed days, and the
    table and the live part of each of the three groupings (the totals are their sum).
    """
    today = today or timezone.localdate()
    run = None if live else todays_run(today)
    if run is None:
        return None
    stored, live_q = _split(run, RequestDailyCount.objects.order_by())
    recent = DeputyRequest.objects.exclude(status=S.DRAFT).filter(live_q).order_by()
    result: dict[str, Any] = {}
    for place in ("district", "category"):
        merged: dict[Any, dict[str, Any]] = {}
        columns = _place_columns(place)
        for qs, counts in ((stored, _public_stored()), (recent, _public_live())):
            for row in qs.values(*columns).annotate(**counts):
                key = row[f"{place}_id"]
                name = _name(row, place) if key is not None else ""
                _add(merged, key, row, {"id": key, "name": name})
        rows = list(merged.values())
        rows.sort(key=lambda r: (r["id"] is None, -r["received"], r["name"]))
        result[f"by_{place}"] = rows
    totals = dict.fromkeys(PUBLIC_COUNTS, 0)
    for row in result["by_district"]:
        for name in PUBLIC_COUNTS:
            totals[name] += row[name]
    result["totals"] = totals
    months: dict[str, dict[str, Any]] = {}
    stored_months = (
        stored.filter(day__gte=since)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(**_public_stored())
    )
    live_months = (
        recent.filter(submitted_at__date__gte=since)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(**_public_live())
    )
    month_rows: list[Any] = [*stored_months, *live_months]
    for row in month_rows:
        label = _month_key(row["month"])
        _add(months, label, row, {"month": label})
    result["by_month"] = [months[key] for key in sorted(months)]
    return result


def public_totals(today: datetime.date | None = None) -> dict[str, int] | None:
    """The public front page's headline figures from the daily table (four queries), or
    ``None`` when today's build is not done: the caller counts live."""
    today = today or timezone.localdate()
    run = todays_run(today)
    if run is None:
        return None
    stored, live_q = _split(run, RequestDailyCount.objects.order_by())
    recent = DeputyRequest.objects.exclude(status=S.DRAFT).filter(live_q).order_by()
    totals = dict.fromkeys(PUBLIC_COUNTS, 0)
    for row in (stored.aggregate(**_public_stored()), recent.aggregate(**_public_live())):
        for name in PUBLIC_COUNTS:
            totals[name] += int(row[f"n_{name}"] or 0)
    return totals
