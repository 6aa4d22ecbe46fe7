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
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import CharField, Count, DateField, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from maslikhat.core.models import pick_language
from maslikhat.directory.actors import Actor
from requests_app.models import DeputyRequest, Outcome, RequestStatus
from requests_app.selectors import CoDepartment, with_overdue

from .aggregates import WholeDaysBetween, median_of_histogram
from .deputy_counts import build_deputy_counts
from .instruction_counts import build_instruction_counts
from .models import (
    DailyCountRun,
    RequestAnswerCount,
    RequestDailyCount,
    RequestMonthCount,
    RequestTotalCount,
    RequestTotalSeries,
    SeriesKind,
)
from .public_counts import build_public_counts
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
#: The counts the months' table stores (``RequestMonthCount``): the public statistics'.
MONTH_MEASURES = ("received", "published", "answered", "resolved")
#: The filters of the request list the table answers (any other one: live counts).
AGGREGATE_FILTERS = frozenset(
    {"status", "lead_department", "district", "category", "submitted_after", "submitted_before"}
)
#: Filters that change nothing for an actor who sees every request (no deputy).
NEUTRAL_FILTERS = frozenset({"scope", "format", "page", "page_size", "ordering", "lang"})
PLACES = ("lead_department", "district", "category")
#: The key of a ``RequestTotalCount`` row (and of the day tables, less the day).
KEYS = ("lead_department_id", "district_id", "category_id", "status")
#: The key of a ``RequestAnswerCount`` row, and the build's columns for it.
ANSWER_KEYS = ("day", "lead_department_id", "district_id", "category_id", "status", "month", "days")
ANSWER_SOURCE: tuple[str, ...] = ("d_day", "lead_department_id", "district_id", "category_id")
ANSWER_SOURCE += ("status", "d_month", "d_days")


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


def _insert(
    cursor: Any,
    table: str,
    targets: list[str],
    source: QuerySet[Any],
    columns: list[str],
    kind: str | None = None,
) -> int:
    """``INSERT INTO table (targets) SELECT columns FROM (source)``: a ``values().annotate()``
    queryset's ``columns`` into the table's ``targets`` (and ``kind`` into its column of that
    name); the number of rows written."""
    select_sql, params = source.query.sql_with_params()
    qn = connection.ops.quote_name
    names, values = [qn(c) for c in targets], [qn(c) for c in columns]
    if kind is not None:
        names.append(qn("kind"))
        values.append("%s")
        params = (kind, *params)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) "
        f"SELECT {', '.join(values)} FROM ({select_sql}) AS counts",
        params,
    )
    return max(cursor.rowcount, 0)


def _build_totals(cursor: Any) -> None:
    """``RequestTotalCount``, ``RequestTotalSeries`` and ``RequestMonthCount`` from the day
    rows just written: five ``INSERT … SELECT … GROUP BY`` over the two day tables (not over
    the requests)."""
    qn = connection.ops.quote_name
    totals = qn(RequestTotalCount._meta.db_table)
    series = qn(RequestTotalSeries._meta.db_table)
    months = qn(RequestMonthCount._meta.db_table)
    cursor.execute(f"DELETE FROM {totals}")
    cursor.execute(f"DELETE FROM {series}")
    cursor.execute(f"DELETE FROM {months}")
    month_rows = (
        RequestDailyCount.objects.order_by()
        .filter(day__isnull=False)
        .annotate(d_month=TruncMonth("day"))
        .values("d_month", "status")
        .annotate(**{f"n_{m}": Sum(m) for m in MONTH_MEASURES})
    )
    _insert(
        cursor,
        months,
        ["month", "status", *MONTH_MEASURES],
        month_rows,
        ["d_month", "status", *(f"n_{m}" for m in MONTH_MEASURES)],
    )
    keys = list(KEYS)
    day_rows = RequestDailyCount.objects.order_by().values(*keys)
    _insert(
        cursor,
        totals,
        [*keys, *MEASURES],
        day_rows.annotate(**{f"n_{m}": Sum(m) for m in MEASURES}),
        [*keys, *(f"n_{m}" for m in MEASURES)],
    )
    received = (
        RequestDailyCount.objects.order_by()
        .filter(day__isnull=False)
        .annotate(d_month=TruncMonth("day"))
        .values(*keys, "d_month")
        .annotate(n=Sum("received"))
    )
    _insert(cursor, series, [*keys, "month", "n"], received, [*keys, "d_month", "n"], "received")
    answer_rows = RequestAnswerCount.objects.order_by()
    answered = answer_rows.values(*keys, "month").annotate(n=Sum("answered"))
    _insert(cursor, series, [*keys, "month", "n"], answered, [*keys, "month", "n"], "answered")
    days = answer_rows.filter(days__isnull=False).values(*keys, "days").annotate(n=Sum("answered"))
    _insert(cursor, series, [*keys, "days", "n"], days, [*keys, "days", "n"], "days")


def _registered_before(day: datetime.date) -> QuerySet[DeputyRequest]:
    """The registered requests the build counts: submitted before ``day`` (or never)."""
    return (
        DeputyRequest.objects.exclude(status=S.DRAFT)
        .filter(Q(submitted_at__isnull=True) | Q(submitted_at__date__lt=day))
        .order_by()
    )


def _answer_source(day: datetime.date) -> QuerySet[Any]:
    """The answered requests as of ``day`` per ``RequestAnswerCount`` key (one ``GROUP BY``)."""
    return (
        _registered_before(day)
        .filter(answered_at__isnull=False)
        .annotate(
            d_day=TruncDate("submitted_at"),
            d_month=TruncMonth("answered_at", output_field=DateField()),
            d_days=WholeDaysBetween("routed_at", "answered_at"),
        )
        .values(*ANSWER_SOURCE)
        .annotate(n_answered=Count("pk"))
    )


def build_daily_counts(day: datetime.date | None = None) -> DailyCountRun:
    """Replace ``RequestDailyCount``, ``RequestAnswerCount``, their sums over every day
    (``RequestTotalCount``, ``RequestTotalSeries``), ``InstructionDailyCount`` and the
    public pages' and deputies' counts (``public_counts``, ``deputy_counts``) with the
    counts as of ``day`` (default: today), in one transaction.

    Idempotent: a rerun for the same day replaces the rows and restamps its run. Set-based:
    one ``DELETE`` and one ``INSERT … SELECT`` per table (two for the instructions: the
    lead and the co-executor rows; three for the series, one per kind) whatever the number
    of items.
    """
    day = day or timezone.localdate()
    run, _ = DailyCountRun.objects.update_or_create(
        day=day, defaults={"started_at": timezone.now(), "finished_at": None, "rows": 0}
    )
    source = (
        with_overdue(_registered_before(day), day)
        .annotate(d_day=TruncDate("submitted_at"))
        .values("d_day", "lead_department_id", "district_id", "category_id", "status")
        .annotate(**_measure_expressions(day))
    )
    qn = connection.ops.quote_name
    table = qn(RequestDailyCount._meta.db_table)
    answers = qn(RequestAnswerCount._meta.db_table)
    targets = ["day", "lead_department_id", "district_id", "category_id", "status", *MEASURES]
    columns = ["d_day", "lead_department_id", "district_id", "category_id", "status"]
    columns += [f"n_{name}" for name in MEASURES]
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Two builds at once (two beats by mistake) run one after the other.
                cursor.execute(f"LOCK TABLE {table}, {answers} IN EXCLUSIVE MODE")
                totals = [RequestTotalCount._meta.db_table, RequestTotalSeries._meta.db_table]
                cursor.execute(f"LOCK TABLE {', '.join(map(qn, totals))} IN EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {table}")
            rows = _insert(cursor, table, targets, source, columns)
            cursor.execute(f"DELETE FROM {answers}")
            _insert(
                cursor,
                answers,
                [*ANSWER_KEYS, "answered"],
                _answer_source(day),
                [*ANSWER_SOURCE, "n_answered"],
            )
            _build_totals(cursor)
            instruction_rows = build_instruction_counts(day, cursor)
            # The public pages' counts (deputies, promises): ``public_counts``.
            build_public_counts(day, cursor)
            # The deputy dashboard's counts: ``deputy_counts``.
            build_deputy_counts(day, cursor)
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


#: The groupings of the summary: per lead department, district and category (the places),
#: and per status (the totals, the statuses and the counters).
GROUPINGS = (*PLACES, "status")
#: The counts of a grouping row: the stored ones, and those its requests' status decides.
STATUS_COUNTS = {
    "open": Q(status__in=OPEN_STATUSES),
    "closed": Q(status=S.CLOSED),
    "awaiting_evaluation": Q(status=S.ANSWERED),
}
COUNTS = (*MEASURES, *STATUS_COUNTS)
LANGUAGES = ("ru", "kk", "en")
#: The columns of a grouping row before its counts (``_grouped``).
GROUP_KEYS = ("g_by", "g_id", "g_status", "g_name_ru", "g_name_kk", "g_name_en")


def _group_columns() -> list[str]:
    return [c for place in PLACES for c in _place_columns(place)] + ["status"]


def _live_sums(today: datetime.date) -> dict[str, Any]:
    """``n_<count>`` → the count over requests annotated with ``overdue``."""
    c = _conditions(today)
    status_counts = {f"n_{name}": Count("pk", filter=c[name]) for name in STATUS_COUNTS}
    return {**_measure_expressions(today), **status_counts}


def _stored_sums() -> dict[str, Any]:
    """``n_<count>`` → the sum over a table's rows (day rows or sums over every day)."""
    sums: dict[str, Any] = {f"n_{m}": Sum(m) for m in MEASURES}
    sums.update({f"n_{n}": Sum("received", filter=q) for n, q in STATUS_COUNTS.items()})
    return sums


def _grouped(qs: QuerySet[Any], sums: dict[str, Any]) -> QuerySet[Any]:
    """``qs`` summed per lead department, district, category and status: one query, a
    ``UNION ALL`` of four ``GROUP BY``s, whose rows (``GROUP_KEYS`` and ``n_<count>``) are
    as many as the places and statuses, however many rows or requests ``qs`` holds."""
    nothing = {"g_id": Value(None, output_field=IntegerField())}
    nothing.update({f"g_name_{lang}": Value(None, output_field=CharField()) for lang in LANGUAGES})
    branches = []
    for by in GROUPINGS:
        if by == "status":
            keys: dict[str, Any] = {"g_by": Value(by), **nothing, "g_status": F("status")}
        else:
            keys = {
                "g_by": Value(by),
                "g_id": F(f"{by}_id"),
                "g_name_ru": F(f"{by}__name_ru"),
                "g_name_kk": F(f"{by}__name_kk"),
                "g_name_en": F(f"{by}__name_en"),
                "g_status": Value(None, output_field=CharField()),
            }
        # The same names in the same order in every branch: the same columns.
        keys = {key: keys[key] for key in GROUP_KEYS}
        branches.append(qs.order_by().annotate(**keys).values(*GROUP_KEYS).annotate(**sums))
    return branches[0].union(*branches[1:], all=True)


Merged = dict[tuple[str, Any], dict[str, Any]]


def _add_to(into: Merged, by: str, key: Any, names: dict[str, Any], row: Any, sign: int) -> None:
    entry = into.get((by, key))
    if entry is None:
        entry = into[(by, key)] = {"id": key, "names": names, **dict.fromkeys(COUNTS, 0)}
    for name in COUNTS:
        entry[name] += sign * int(row[f"n_{name}"] or 0)


def _merge(into: Merged, rows: Iterable[Any], sign: int) -> None:
    """Add grouping rows (``_grouped``) times ``sign`` to ``into`` (``(grouping, key)`` →
    the names and the counts)."""
    for row in rows:
        by = row["g_by"]
        key = row["g_status"] if by == "status" else row["g_id"]
        names = {lang: row[f"g_name_{lang}"] for lang in LANGUAGES}
        _add_to(into, by, key, names, row, sign)


def _live_groups(qs: QuerySet[DeputyRequest], today: datetime.date) -> QuerySet[Any]:
    """A live part's requests counted per lead department, district, category and status
    together: one ``GROUP BY`` (one pass over the part's requests; ``_merge_live`` adds its
    rows to each grouping)."""
    return qs.order_by().values(*_group_columns()).annotate(**_live_sums(today))


def _merge_live(into: Merged, rows: Iterable[Any]) -> None:
    """Add the rows of a live part (``_live_groups``) to each of the groupings."""
    for row in rows:
        for by in PLACES:
            names = {lang: row[f"{by}__name_{lang}"] for lang in LANGUAGES}
            _add_to(into, by, row[f"{by}_id"], names, row, 1)
        _add_to(into, "status", row["status"], {}, row, 1)


def _places(merged: Merged, place: str) -> list[dict[str, Any]]:
    """One place's rows of the summary, most requests first (the unnamed place last)."""
    columns = DEPARTMENT_COLUMNS if place == "lead_department" else PLACE_COLUMNS
    result = []
    for (by, key), entry in merged.items():
        # A place whose requests were all taken out (read live elsewhere) has none.
        if by != place or not entry["received"]:
            continue
        names = {lang: entry["names"][lang] or "" for lang in LANGUAGES}
        name = pick_language(**names) if key is not None else ""
        result.append(
            {
                "id": key,
                "name": name,
                "received": entry["received"],
                **{column: entry[column] for column in columns},
            }
        )
    result.sort(key=lambda e: (e["id"] is None, -e["received"], e["name"]))
    return result


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
DEPARTMENT_COLUMNS = ("answered", "on_time", "answered_late", "overdue_open", "open")
PLACE_COLUMNS = ("answered", "overdue", "closed", "resolved", "open")


def counts_of(merged: Merged) -> dict[str, Any]:
    """The summary's counts (``selectors._summary_of`` less the median and the months) from
    the grouping rows merged (``_merge``): the totals from the statuses' rows."""
    statuses = [entry for (by, _key), entry in merged.items() if by == "status"]
    by_status = dict.fromkeys(RequestStatus.values, 0)
    for entry in statuses:
        by_status[entry["id"]] += entry["received"]
    total = sum(by_status.values())
    counters = {name: sum(entry[name] for entry in statuses) for name in COUNTER_NAMES}
    return {
        "total": total,
        "by_status": by_status,
        "by_department": _places(merged, "lead_department"),
        "by_district": _places(merged, "district"),
        "by_category": _places(merged, "category"),
        "overdue": counters["overdue"],
        "counters": counters,
        "ratings": {
            "sum": sum(entry["rating_sum"] for entry in statuses),
            "count": sum(entry["rating_count"] for entry in statuses),
        },
        "funnel": [
            {"key": "registered", "count": total - by_status[S.DRAFT]},
            {"key": "routed", "count": counters["routed"]},
            {"key": "answered", "count": counters["answered"]},
            {"key": "closed", "count": counters["closed"]},
        ],
    }


def answerable_from_table(actor: Actor, params: Params) -> bool:
    """Whether the table can answer these filters for this actor (before the run check):
    staff and the chair (every row), a department (the rows it leads, its co-executed
    requests live beside them); a deputy's own requests are counted live."""
    from .selectors import as_query_dict

    if actor.deputy_id is not None:
        return False
    if not actor.sees_everything and actor.department_id is None:
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


@dataclass
class Changed:
    """The submission days read live: changed since the build (``updated_at``), and whether a
    request without a submission time changed; ``live_q`` selects them and today's."""

    days: list[datetime.date]
    undated: bool
    live_q: Q

    def exclude(self, stored: QuerySet[Any]) -> QuerySet[Any]:
        """A table's rows (``day``: the submission day) less the days read live."""
        stored = stored.exclude(day__in=self.days)
        return stored.exclude(day__isnull=True) if self.undated else stored

    def only(self, stored: QuerySet[Any]) -> QuerySet[Any]:
        """A table's rows of the days read live (to take out of the sums over every day)."""
        days = Q(day__in=self.days)
        return stored.filter(days | Q(day__isnull=True) if self.undated else days)


def changed_since(run: DailyCountRun) -> Changed:
    """Today's requests and those of every day in which a request changed since the build."""
    changed = set(
        DeputyRequest.objects.filter(updated_at__gte=run.started_at)
        .exclude(status=S.DRAFT)
        .order_by()
        .values_list(TruncDate("submitted_at"), flat=True)
        .distinct()
    )
    days = sorted(d for d in changed if d is not None and d < run.day)
    live_q = days_q("submitted_at", run.day, days)
    if None in changed:
        live_q |= Q(submitted_at__isnull=True)
    return Changed(days=days, undated=None in changed, live_q=live_q)


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


@dataclass
class TableRead:
    """What a reader sums: the tables' rows for the filters and the actor (``counts``: day
    rows or their sums over every day, with a sign: -1 takes the days read live out of the
    sums), the months and the histogram (``series``: the sums' rows; ``answers`` and
    ``received``: day rows, signed), and the live parts (disjoint querysets of requests)."""

    run: DailyCountRun
    counts: list[tuple[QuerySet[Any], int]]
    series: list[QuerySet[RequestTotalSeries]]
    answers: list[tuple[QuerySet[RequestAnswerCount], int]]
    received: list[tuple[QuerySet[RequestDailyCount], int]]
    live: list[QuerySet[DeputyRequest]]


def _rows_for(stored: QuerySet[Any], cleaned: dict[str, Any], actor: Actor) -> QuerySet[Any]:
    """A table's rows for the list's filters (``cleaned``) and the actor's visibility."""
    if cleaned.get("status"):
        stored = stored.filter(status__in=cleaned["status"])
    for place in PLACES:
        if cleaned.get(place) is not None:
            stored = stored.filter(**{f"{place}_id": cleaned[place].pk})
    if cleaned.get("submitted_after"):
        stored = stored.filter(day__gte=cleaned["submitted_after"])
    if cleaned.get("submitted_before"):
        stored = stored.filter(day__lte=cleaned["submitted_before"])
    if not actor.sees_everything:
        # A department sees every registered request it leads: its rows.
        stored = stored.filter(lead_department_id=actor.department_id)
    return stored


def _table_read(
    filtered: FilteredRequests,
    *,
    actor: Actor,
    params: Params,
    today: datetime.date,
    live: bool = False,
) -> TableRead | None:
    """The tables' part and the live parts of a reading, or ``None``: count live."""
    if live or filtered.errors or not answerable_from_table(actor, params):
        return None
    run = todays_run(today)
    if run is None:
        return None
    cleaned = filtered.filterset.form.cleaned_data
    changed = changed_since(run)
    daily = _rows_for(RequestDailyCount.objects.order_by(), cleaned, actor)
    daily_answers = _rows_for(RequestAnswerCount.objects.order_by(), cleaned, actor)
    if cleaned.get("submitted_after") or cleaned.get("submitted_before"):
        # Submission dates: the day rows of those days, less the days read live.
        counts: list[tuple[QuerySet[Any], int]] = [(changed.exclude(daily), 1)]
        series: list[QuerySet[RequestTotalSeries]] = []
        answers = [(changed.exclude(daily_answers), 1)]
        received = [(changed.exclude(daily), 1)]
    else:
        # Every day: the sums over every day (a few hundred rows), less the days read live.
        counts = [(_rows_for(RequestTotalCount.objects.order_by(), cleaned, actor), 1)]
        series = [_rows_for(RequestTotalSeries.objects.order_by(), cleaned, actor)]
        answers, received = [], []
        if changed.days or changed.undated:
            counts.append((changed.only(daily), -1))
            answers.append((changed.only(daily_answers), -1))
            received.append((changed.only(daily), -1))
    parts = [filtered.queryset.filter(changed.live_q)]
    if not actor.sees_everything:
        # The requests a department co-executes (not in its rows): found through the
        # co-executor index, less the days already read live.
        department_id = actor.department_id
        assert department_id is not None
        co_executed = CoDepartment.objects.filter(department_id=department_id).values(
            "deputyrequest_id"
        )
        parts.append(
            filtered.queryset.filter(pk__in=co_executed)
            .exclude(lead_department_id=department_id)
            .exclude(changed.live_q)
        )
    return TableRead(
        run=run, counts=counts, series=series, answers=answers, received=received, live=parts
    )


def _counts(
    filtered: FilteredRequests,
    *,
    actor: Actor,
    params: Params,
    today: datetime.date,
    live: bool = False,
    read: TableRead | Literal[False] | None = False,
) -> dict[str, Any]:
    """The counts from ``read`` (``None``: live; not given: read here)."""
    if read is False:
        read = _table_read(filtered, actor=actor, params=params, today=today, live=live)
    merged: Merged = {}
    if read is None:
        _merge_live(merged, _live_groups(filtered.queryset, today))
        return {**counts_of(merged), "source": "live", "as_of": None}
    for qs, sign in read.counts:
        _merge(merged, _grouped(qs, _stored_sums()), sign)
    for part in read.live:
        _merge_live(merged, _live_groups(part, today))
    return {**counts_of(merged), "source": "daily_counts", "as_of": read.run.day}


@dataclass
class AnswerFigures:
    """The medians and the months of a reading: whole days from routing to the answer per
    lead department (``id → days → how many``), received and answered per month."""

    days: dict[Any, dict[int, int]]
    months: dict[str, dict[str, Any]]

    def add_days(self, department_id: Any, days: int | None, n: int) -> None:
        if days is not None and n:
            into = self.days.setdefault(department_id, {})
            into[days] = into.get(days, 0) + n

    def add_month(self, month: Any, key: str, n: int) -> None:
        if month is None or not n:
            return
        label = _month_key(month)
        entry = self.months.setdefault(label, {"month": label, "received": 0, "answered": 0})
        entry[key] += n

    def median(self, department_id: Any = ...) -> float | None:
        """The exact median of one lead department (or of all: no argument)."""
        if department_id is not ...:
            return median_of_histogram(self.days.get(department_id, {}))
        merged: dict[int, int] = {}
        for histogram in self.days.values():
            for days, n in histogram.items():
                merged[days] = merged.get(days, 0) + n
        return median_of_histogram(merged)

    def by_month(self) -> list[dict[str, Any]]:
        # A month whose requests were all taken out (read live elsewhere) has none.
        rows = [self.months[key] for key in sorted(self.months)]
        return [row for row in rows if row["received"] or row["answered"]]


def _series_sums(series: QuerySet[RequestTotalSeries], *, months: bool) -> QuerySet[Any]:
    """The sums over every day's series summed as the figures use them, in one query (a
    ``UNION ALL``): the histogram of days per lead department (its median; the overall one
    merges them), and the months received and answered over every place (not per lead
    department: the months are the whole summary's). ``(kind, lead department, month,
    days, n)`` rows."""
    days = (
        series.filter(kind=SeriesKind.DAYS)
        .annotate(s_month=Value(None, output_field=DateField()))
        .values_list("kind", "lead_department_id", "s_month", "days")
        .annotate(n=Sum("n"))
    )
    if not months:
        return days
    per_month = (
        series.exclude(kind=SeriesKind.DAYS)
        .annotate(
            s_department=Value(None, output_field=IntegerField()),
            s_days=Value(None, output_field=IntegerField()),
        )
        .values_list("kind", "s_department", "month", "s_days")
        .annotate(n=Sum("n"))
    )
    return days.union(per_month, all=True)


def answer_figures(read: TableRead, *, months: bool = True) -> AnswerFigures:
    """The medians' histograms and the months from the tables and the live parts: one query
    on the sums over every day or three on the day rows (and three per part of days taken
    out), two per live part, whatever the number of requests (without ``months``: the
    histograms only)."""
    figures = AnswerFigures(days={}, months={})
    for series in read.series:
        for kind, department_id, month, days, n in _series_sums(series, months=months):
            if kind == SeriesKind.DAYS:
                figures.add_days(department_id, days, n)
            else:
                figures.add_month(month, kind, n)
    for answers, sign in read.answers:
        stored_days = (
            answers.filter(days__isnull=False)
            .values("lead_department_id", "days")
            .annotate(n=Sum("answered"))
        )
        for day_row in stored_days:
            figures.add_days(day_row["lead_department_id"], day_row["days"], sign * day_row["n"])
        if months:
            for answered_row in answers.values("month").annotate(n=Sum("answered")):
                figures.add_month(answered_row["month"], "answered", sign * answered_row["n"])
    for counts, sign in read.received if months else []:
        stored_received = (
            counts.filter(day__isnull=False)
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(n=Sum("received"))
        )
        for received_row in stored_received:
            figures.add_month(received_row["month"], "received", sign * received_row["n"])
    for part in read.live:
        answered = (
            part.filter(answered_at__isnull=False)
            .order_by()
            .annotate(
                month=TruncMonth("answered_at", output_field=DateField()),
                n_days=WholeDaysBetween("routed_at", "answered_at"),
            )
            .values("lead_department_id", "month", "n_days")
            .annotate(n=Count("pk"))
        )
        for live_row in answered:
            figures.add_days(live_row["lead_department_id"], live_row["n_days"], live_row["n"])
            if months:
                figures.add_month(live_row["month"], "answered", live_row["n"])
        if not months:
            continue
        live_received = (
            part.filter(submitted_at__isnull=False)
            .order_by()
            .annotate(month=TruncMonth("submitted_at"))
            .values("month")
            .annotate(n=Count("pk"))
        )
        for month_row in live_received:
            figures.add_month(month_row["month"], "received", month_row["n"])
    return figures


def request_summary_from_daily_counts(
    *,
    actor: Actor,
    params: Params,
    today: datetime.date | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """``/api/v1/reports/summary/``: ``selectors.request_summary``'s figures, the counts, the
    medians and the months from the daily tables where they answer.

    A fixed number of queries: at most seven when the tables cannot answer (the run and the
    live summary); when they do, for staff without submission dates seven (the run, the
    changed days, the sums over every day, their series, and the live part's counts,
    answers and months received; three more take the changed days out of the sums), with
    dates nine (the day rows: the counts, the histogram twice and the months received), and
    three more for a department (its co-executed requests are a second live part).
    """
    today = today or timezone.localdate()
    filtered = filtered_requests(actor=actor, params=params, strict=strict, today=today)
    return summary_of_filtered(filtered, actor=actor, params=params, today=today)


def summary_of_filtered(
    filtered: FilteredRequests, *, actor: Actor, params: Params, today: datetime.date
) -> dict[str, Any]:
    """``selectors._summary_of``'s figures for requests already filtered (the staff
    dashboard's, the summary API's and the PDF's): from the daily tables where they answer
    (``_table_read``), else counted live."""
    read = _table_read(filtered, actor=actor, params=params, today=today)
    counts = _counts(filtered, actor=actor, params=params, today=today, read=read)
    if read is not None:
        figures = answer_figures(read)
        overall = figures.median()
        for row in counts["by_department"]:
            row["median_days"] = _days(figures.median(row["id"]))
        by_month = figures.by_month()
    else:
        qs = filtered.queryset.order_by()
        overall = qs.aggregate(median=_median_days())["median"]
        medians = {
            row["lead_department_id"]: row["median"]
            for row in qs.values("lead_department_id").annotate(median=_median_days())
        }
        for row in counts["by_department"]:
            row["median_days"] = _days(medians.get(row["id"]))
        by_month = _by_month(filtered.queryset)
    return {
        **{key: counts[key] for key in ("total", "by_status", "overdue", "counters", "funnel")},
        "by_department": counts["by_department"],
        "by_district": counts["by_district"],
        "by_category": counts["by_category"],
        "by_month": by_month,
        "median_answer_days": _days(overall),
        "source": counts["source"],
    }


def department_counters(actor: Actor, today: datetime.date) -> dict[str, Any]:
    """The department dashboard's counters over the requests addressed to the department
    (lead or co-executor): from the daily tables (its rows, its co-executed requests and the
    days read live beside them) when today's build is done, else counted live. ``unassigned``
    is the dashboard's (from the executors' load). A fixed number of queries: seven from the
    tables, one live."""
    filtered = filtered_requests(actor=actor, params={}, today=today)
    read = _table_read(filtered, actor=actor, params={}, today=today)
    if read is None:
        conditions = _conditions(today)
        names: tuple[str, ...] = ("due_this_week", "overdue_open", "awaiting_evaluation")
        names += ("answered", "on_time", "answered_late", "closed")
        counters = filtered.queryset.order_by().aggregate(
            total=Count("pk"),
            in_progress=Count("pk", filter=Q(status=S.IN_PROGRESS)),
            **{name: Count("pk", filter=conditions[name]) for name in names},
            median_days=_median_days(),
        )
        counters["median_days"] = _days(counters["median_days"])
        return counters
    counts = _counts(filtered, actor=actor, params={}, today=today, read=read)
    c = counts["counters"]
    return {
        "total": counts["total"],
        "in_progress": counts["by_status"][S.IN_PROGRESS],
        "due_this_week": c["due_this_week"],
        "overdue_open": c["overdue_open"],
        "awaiting_evaluation": c["awaiting_evaluation"],
        "answered": c["answered"],
        "on_time": c["on_time"],
        "answered_late": c["answered_late"],
        "closed": c["closed"],
        "median_days": _days(answer_figures(read, months=False).median()),
    }


# --- The public statistics ------------------------------------------------------------------

#: The public statistics' counts (``reports.public._counts``).
PUBLIC_COUNTS = ("received", "published", "answered", "closed", "resolved")


def _public_stored(sign: int = 1) -> dict[str, Any]:
    """The public counts summed over stored rows (``sign`` -1: to take them out)."""
    # Aliases get a prefix: the table's columns have the counts' names.
    sums = {
        "n_received": Sum("received"),
        "n_published": Sum("published"),
        "n_answered": Sum("answered"),
        "n_closed": Sum("received", filter=Q(status=S.CLOSED)),
        "n_resolved": Sum("resolved"),
    }
    return sums if sign == 1 else {name: sum_ * sign for name, sum_ in sums.items()}


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
    into: dict[Any, dict[str, Any]],
    key: Any,
    row: dict[str, Any],
    extra: dict[str, Any],
    sign: int = 1,
) -> None:
    entry = into.setdefault(key, {**extra, **dict.fromkeys(PUBLIC_COUNTS, 0)})
    for name in PUBLIC_COUNTS:
        entry[name] += sign * int(row[f"n_{name}"] or 0)


def _public_parts(run: DailyCountRun) -> tuple[list[tuple[QuerySet[Any], int]], Changed]:
    """The stored parts of every registered request: the sums over every day, less the
    day rows of the days read live (a negative part, only when some changed)."""
    changed = changed_since(run)
    parts: list[tuple[QuerySet[Any], int]] = [(RequestTotalCount.objects.order_by(), 1)]
    if changed.days or changed.undated:
        parts.append((changed.only(RequestDailyCount.objects.order_by()), -1))
    return parts, changed


def public_counts(
    *, since: datetime.date, today: datetime.date | None = None, live: bool = False
) -> dict[str, Any] | None:
    """The public statistics' counts of every registered request (``reports.public``) from
    the daily table, with today's and the changed days' requests live: totals, by district,
    by category, by month of submission from ``since``. ``None`` when today's build is not
    done (or ``live``): the caller counts live.

    Eight queries whatever the number of requests: the run, the changed days, and the
    stored rows and the live part of each of the three groupings (the totals are their
    sum); the districts and categories from the sums over every day (``RequestTotalCount``),
    the months from the sums per month (``RequestMonthCount``); two more take changed days
    out of the sums over every day (the months' take them out in the same query).
    """
    today = today or timezone.localdate()
    run = None if live else todays_run(today)
    if run is None:
        return None
    parts, changed = _public_parts(run)
    recent = DeputyRequest.objects.exclude(status=S.DRAFT).filter(changed.live_q).order_by()
    result: dict[str, Any] = {}
    for place in ("district", "category"):
        merged: dict[Any, dict[str, Any]] = {}
        columns = _place_columns(place)
        readings = [(qs, _public_stored(), sign) for qs, sign in parts]
        readings.append((recent, _public_live(), 1))
        for qs, counts, sign in readings:
            for row in qs.values(*columns).annotate(**counts):
                key = row[f"{place}_id"]
                name = _name(row, place) if key is not None else ""
                _add(merged, key, row, {"id": key, "name": name}, sign)
        # A place whose requests were all taken out (read live elsewhere) has none.
        rows = [row for row in merged.values() if row["received"]]
        rows.sort(key=lambda r: (r["id"] is None, -r["received"], r["name"]))
        result[f"by_{place}"] = rows
    totals = dict.fromkeys(PUBLIC_COUNTS, 0)
    for row in result["by_district"]:
        for name in PUBLIC_COUNTS:
            totals[name] += row[name]
    result["totals"] = totals
    months: dict[str, dict[str, Any]] = {}
    # The months' sums, less the day rows of the days read live (one query, a UNION ALL
    # whose second part counts negatively, only when days changed).
    stored_months = (
        RequestMonthCount.objects.order_by()
        .filter(month__gte=since)
        .values("month")
        .annotate(**_public_stored())
    )
    if changed.days:
        taken_out = (
            changed.only(RequestDailyCount.objects.order_by())
            .filter(day__gte=since)
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(**_public_stored(sign=-1))
        )
        stored_months = stored_months.union(taken_out, all=True)
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
    # A month whose requests were all taken out (read live) and none found live has none.
    result["by_month"] = [months[key] for key in sorted(months) if months[key]["received"]]
    return result


def public_totals(today: datetime.date | None = None) -> dict[str, int] | None:
    """The public front page's headline figures from the sums over every day (four queries,
    five when days changed since the build), or ``None`` when today's build is not done:
    the caller counts live."""
    today = today or timezone.localdate()
    run = todays_run(today)
    if run is None:
        return None
    parts, changed = _public_parts(run)
    recent = DeputyRequest.objects.exclude(status=S.DRAFT).filter(changed.live_q).order_by()
    totals = dict.fromkeys(PUBLIC_COUNTS, 0)
    readings = [(qs.aggregate(**_public_stored()), sign) for qs, sign in parts]
    readings.append((recent.aggregate(**_public_live()), 1))
    for row, sign in readings:
        for name in PUBLIC_COUNTS:
            totals[name] += sign * int(row[f"n_{name}"] or 0)
    return totals
