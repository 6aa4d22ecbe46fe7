"""Stored counts of a deputy's own requests: the deputy dashboard's counters and its
requests by status, so the dashboard does not count every request of the deputy (author or
co-author) on each visit.

The nightly run of the daily counts builds them (``daily_counts.build_daily_counts`` calls
``build_deputy_counts`` in its transaction: the same ``DailyCountRun`` marks them started
and done), as of its day: the registered requests submitted before it, "overdue" judged on
it. ``DeputyRequestCount`` holds rows per deputy × role (author, co-author) × status ×
submission day and, with ``all_days``, the same summed over every day.

``deputy_counts`` reads the deputy's few ``all_days`` rows, takes away the stored rows of
the days it reads live and adds those live: the requests submitted on the run's day or
later, every submission day in which one of the deputy's own requests changed since the
build (``updated_at``), and the deputy's drafts, always (never stored: they change often,
may be deleted, and a deputy has few; the author and status index finds them). A day's rows
are its requests' only, so a day read live is exact. Co-authors change only in drafts
(``requests_app.services.deputy_request_update_draft``, which saves ``updated_at``): a
registered request's roles are those of the build. Registered requests are never deleted.
Without today's finished build the dashboard counts live.

The deputy's requests are read in two parts (``_own_parts``), each through its own index:
those they authored (the author's indexes by submission time and by status) and those they
only co-authored (their co-authorships). The changed days, the live part and the live count
are each one ``UNION ALL`` of the two: one ``OR`` of author and co-authorship would leave
PostgreSQL to walk every request of the deputy (tens of thousands at a million requests)
to find the few live ones. Four queries with today's build (the run, the changed days, the
stored rows, the live part), two without (the run, the live count), whatever the number of
requests.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from requests_app.models import DeputyRequest, RequestStatus
from requests_app.selectors import with_overdue

from .models import DailyCountRun, DeputyRequestCount
from .public_counts import LiveDays, _insert, _submitted_before
from .selectors import _conditions

S = RequestStatus

#: The counts each row stores (``DeputyRequestCount`` columns).
MEASURES = ("total", "overdue_open", "answered_late", "resolved", "rated")
#: The dashboard's counters (``selectors.deputy_dashboard``), in its order.
COUNTERS = ("total", "overdue_open", "answered_late", "resolved", "rated", "awaiting_evaluation")


def _measure_expressions(today: datetime.date) -> dict[str, Any]:
    """``n_<measure>`` → a filtered count over requests annotated with ``overdue``: the live
    dashboard's conditions (``selectors._conditions``)."""
    c = _conditions(today)
    return {
        "n_total": Count("pk"),
        "n_overdue_open": Count("pk", filter=c["overdue_open"]),
        "n_answered_late": Count("pk", filter=c["answered_late"]),
        "n_resolved": Count("pk", filter=c["resolved"]),
        "n_rated": Count("pk", filter=Q(rating__isnull=False)),
    }


# --- The build ------------------------------------------------------------------------------


def _registered_before(day: datetime.date) -> QuerySet[Any]:
    return with_overdue(
        DeputyRequest.objects.exclude(status=S.DRAFT).filter(_submitted_before(day)).order_by(),
        day,
    ).annotate(d_day=TruncDate("submitted_at"))


def build_deputy_counts(day: datetime.date, cursor: Any) -> int:
    """Replace ``DeputyRequestCount`` with the counts as of ``day``; the number of rows.

    Runs inside the caller's transaction (``daily_counts.build_daily_counts``, which stamps
    the run): one ``DELETE``, an ``INSERT … SELECT … GROUP BY`` for the authors and one for
    the co-authors (through the co-authorships; an author listed as co-author too counts
    once, as the author), and one summing the day rows over every day.
    """
    qn = connection.ops.quote_name
    table = qn(DeputyRequestCount._meta.db_table)
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    cursor.execute(f"DELETE FROM {table}")
    targets = ["all_days", "day", "deputy_id", "authored", "status", *MEASURES]
    measures = [f"n_{m}" for m in MEASURES]
    expressions = _measure_expressions(day)
    authored = (
        _registered_before(day).values("d_day", "author_id", "status").annotate(**expressions)
    )
    rows = _insert(
        cursor,
        DeputyRequestCount,
        targets,
        authored,
        ["FALSE", "d_day", "author_id", "TRUE", "status", *measures],
    )
    co_authored = (
        _registered_before(day)
        .annotate(d_deputy=F("co_authors"))
        .filter(d_deputy__isnull=False)
        .exclude(d_deputy=F("author_id"))
        .values("d_day", "d_deputy", "status")
        .annotate(**expressions)
    )
    rows += _insert(
        cursor,
        DeputyRequestCount,
        targets,
        co_authored,
        ["FALSE", "d_day", "d_deputy", "FALSE", "status", *measures],
    )
    every_day = (
        DeputyRequestCount.objects.order_by()
        .filter(all_days=False)
        .values("deputy_id", "authored", "status")
        .annotate(**{f"n_{m}": Sum(m) for m in MEASURES})
    )
    rows += _insert(
        cursor,
        DeputyRequestCount,
        targets,
        every_day,
        ["TRUE", "NULL", "deputy_id", "authored", "status", *measures],
    )
    return rows


# --- The reader -----------------------------------------------------------------------------


def _own_parts(deputy_id: int, today: datetime.date) -> list[QuerySet[DeputyRequest]]:
    """The deputy's own requests (author or co-author, drafts included) annotated with
    ``overdue`` as of ``today``, in two disjoint parts, each read through its own index:
    those they authored (the author's indexes: by status, by submission time) and those they
    co-authored only (the co-authorships of the deputy; an author listed as co-author of
    their own request is in the first part once).

    Every request of the deputy is visible to them (``requests_app.selectors.
    deputy_request_visible``: own or published), so the parts need not repeat that rule: an
    ``OR`` of author, co-authorship and publication would leave PostgreSQL no index to
    answer by but to walk every request of the deputy.
    """
    base = with_overdue(DeputyRequest.objects.order_by(), today)
    authored = base.filter(author_id=deputy_id)
    co_authored = base.filter(co_authors=deputy_id).exclude(author_id=deputy_id)
    return [authored, co_authored]


def _by_status(
    deputy_id: int, today: datetime.date, where: Q | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """The counters and the requests by status of the deputy's own requests (those of
    ``where``, else all) counted live: one ``UNION ALL`` of a ``GROUP BY status`` per part."""
    counters, by_status = _empty()
    expressions = {
        **_measure_expressions(today),
        # Only the author evaluates an answer; co-authors follow it.
        "n_awaiting": Count("pk", filter=Q(status=S.ANSWERED, author_id=deputy_id)),
    }
    first, *others = (
        (part if where is None else part.filter(where)).values("status").annotate(**expressions)
        for part in _own_parts(deputy_id, today)
    )
    rows: QuerySet[Any] = first.union(*others, all=True)
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n_total"]
        for name in MEASURES:
            counters[name] += row[f"n_{name}"]
        counters["awaiting_evaluation"] += row["n_awaiting"]
    return counters, by_status


def _empty() -> tuple[dict[str, int], dict[str, int]]:
    return dict.fromkeys(COUNTERS, 0), dict.fromkeys(RequestStatus.values, 0)


def live_deputy_counts(
    deputy_id: int, today: datetime.date
) -> tuple[dict[str, int], dict[str, int]]:
    """The counters and the requests by status of the deputy's own requests (author or
    co-author, drafts included; ``overdue`` as of ``today``) counted live: one query."""
    return _by_status(deputy_id, today)


def _changed_days(deputy_id: int, today: datetime.date, run: DailyCountRun) -> list[Any]:
    """The submission days of the deputy's own registered requests changed since the build:
    one query, each part read from the requests changed since then (``updated_at``)."""
    first, *others = (
        part.filter(updated_at__gte=run.started_at)
        .exclude(status=S.DRAFT)
        .annotate(d_day=TruncDate("submitted_at"))
        .values_list("d_day", flat=True)
        for part in _own_parts(deputy_id, today)
    )
    return list(first.union(*others))


def deputy_counts(
    deputy_id: int, today: datetime.date
) -> tuple[dict[str, int], dict[str, int], DailyCountRun] | None:
    """The dashboard's counters and requests by status for the deputy from the stored
    counts, with the live days and the drafts counted beside them, and the run they are
    of; ``None`` when today's build is not done (the caller counts live).

    The live part is read per part of the deputy's own requests (``_own_parts``), each by
    its index: the authored ones by author and submission time (the live days) or author
    and status (the drafts), the co-authored ones through the deputy's co-authorships.
    Four queries (the run's included).
    """
    from .daily_counts import todays_run

    run = todays_run(today)
    if run is None:
        return None
    live = LiveDays(run, _changed_days(deputy_id, today, run))
    counters, by_status = _empty()
    stored: QuerySet[Any] = (
        DeputyRequestCount.objects.filter(deputy_id=deputy_id)
        .filter(live.stored_q())
        .order_by()
        .values("authored", "status")
        .annotate(
            **{f"n_{m}": Sum(m, filter=Q(all_days=True)) for m in MEASURES},
            **{f"m_{m}": Sum(m, filter=Q(all_days=False)) for m in MEASURES},
        )
    )
    for row in stored:
        values = {m: (row[f"n_{m}"] or 0) - (row[f"m_{m}"] or 0) for m in MEASURES}
        by_status[row["status"]] = by_status.get(row["status"], 0) + values["total"]
        for name in MEASURES:
            counters[name] += values[name]
        if row["authored"] and row["status"] == S.ANSWERED:
            counters["awaiting_evaluation"] += values["total"]
    live_counters, live_by_status = _by_status(
        deputy_id, today, live.live_q("submitted_at") | Q(status=S.DRAFT)
    )
    for name in COUNTERS:
        counters[name] += live_counters[name]
    for status, n in live_by_status.items():
        by_status[status] = by_status.get(status, 0) + n
    return counters, by_status, run
