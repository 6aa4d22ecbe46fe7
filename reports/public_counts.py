"""Stored counts of the public portal: published requests per deputy (``/public/deputies/``)
and the public promises' figures (``/public/promises/``), so neither page counts the whole
table on each visit.

The nightly run of the daily counts builds them (``daily_counts.build_daily_counts`` calls
``build_public_counts`` in its transaction: the same ``DailyCountRun`` marks them started
and done), as of its day: the requests submitted before it, the promises judged on it.
Each table holds rows per submission day of the request and, with ``all_days``, the same
summed over every day. A page reads the few ``all_days`` rows, takes away the stored rows of
the days it reads live and adds those live: the requests submitted on the run's day or
later, and every submission day in which a request changed since the build (``updated_at``)
or, for the promises, in which a promise changed (its ``commitment_*`` event in the request's
history: every change of a promise writes one). A day's rows are its requests' only, so a
day read live is exact. Without today's finished build the pages count live. A fixed
number of queries either way, whatever the number of requests and promises.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, F, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from commitments.models import Commitment
from commitments.selectors import FIGURES, commitment_figure_rows, figures_of
from maslikhat.core.models import pick_language
from maslikhat.core.threads import AuditEvent
from requests_app.models import DeputyRequest, RequestStatus

from .models import DailyCountRun, DeputyPublishedCount, PromiseDailyCount

S = RequestStatus


# --- The build ------------------------------------------------------------------------------


def _published() -> QuerySet[DeputyRequest]:
    """Published registered requests: the public's visibility rule, in a form the
    ``GROUP BY`` of the build and the live part share."""
    return DeputyRequest.objects.filter(is_public=True).exclude(status=S.DRAFT).order_by()


def _submitted_before(day: datetime.date, field: str = "submitted_at") -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__date__lt": day})


def _insert(
    cursor: Any,
    model: type[Model],
    targets: list[str],
    source: QuerySet[Any],
    columns: list[str],
) -> int:
    """``INSERT INTO model (targets) SELECT columns FROM (source)``; ``columns`` name the
    source's columns, or are SQL constants (``TRUE``, ``NULL``). The number of rows."""
    qn = connection.ops.quote_name
    select_sql, params = source.query.sql_with_params()
    outer = [c if c in ("TRUE", "FALSE", "NULL") else qn(c) for c in columns]
    cursor.execute(
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in targets)}) "
        f"SELECT {', '.join(outer)} FROM ({select_sql}) AS counts",
        params,
    )
    return max(cursor.rowcount, 0)


def _promises_before(day: datetime.date) -> QuerySet[Commitment]:
    from .public_promises import public_commitments

    return (
        public_commitments()
        .filter(_submitted_before(day, "request__submitted_at"))
        .annotate(d_day=TruncDate("request__submitted_at"), d_district=F("request__district_id"))
    )


def build_public_counts(day: datetime.date, cursor: Any) -> int:
    """Replace ``DeputyPublishedCount`` and ``PromiseDailyCount`` with the counts as of
    ``day``; the number of rows written.

    Runs inside the caller's transaction (``daily_counts.build_daily_counts``, which stamps
    the run): one ``DELETE`` per table and two ``INSERT … SELECT`` (per day, every day).
    """
    qn = connection.ops.quote_name
    tables = [qn(m._meta.db_table) for m in (DeputyPublishedCount, PromiseDailyCount)]
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
    for table in tables:
        cursor.execute(f"DELETE FROM {table}")
    rows = 0
    published = _published().filter(_submitted_before(day))
    deputy_targets = ["all_days", "day", "deputy_id", "published"]
    per_day = (
        published.annotate(d_day=TruncDate("submitted_at"))
        .values("d_day", "author_id")
        .annotate(n_published=Count("pk"))
    )
    rows += _insert(
        cursor,
        DeputyPublishedCount,
        deputy_targets,
        per_day,
        ["FALSE", "d_day", "author_id", "n_published"],
    )
    every_day = published.values("author_id").annotate(n_published=Count("pk"))
    rows += _insert(
        cursor,
        DeputyPublishedCount,
        deputy_targets,
        every_day,
        ["TRUE", "NULL", "author_id", "n_published"],
    )
    promise_targets = ["all_days", "day", "department_id", "district_id", *FIGURES]
    figures = [f"n_{name}" for name in FIGURES]
    promises = _promises_before(day)
    rows += _insert(
        cursor,
        PromiseDailyCount,
        promise_targets,
        commitment_figure_rows(promises, day, "d_day", "department_id", "d_district"),
        ["FALSE", "d_day", "department_id", "d_district", *figures],
    )
    rows += _insert(
        cursor,
        PromiseDailyCount,
        promise_targets,
        commitment_figure_rows(promises, day, "department_id", "d_district"),
        ["TRUE", "NULL", "department_id", "d_district", *figures],
    )
    return rows


# --- The readers ----------------------------------------------------------------------------


class LiveDays:
    """The submission days a reader counts live: the run's day on, and ``days`` before it
    (``undated``: the requests without a submission time too)."""

    def __init__(self, run: DailyCountRun, changed: Iterable[datetime.date | None]) -> None:
        changed = set(changed)
        self.run = run
        self.days = sorted(d for d in changed if d is not None and d < run.day)
        self.undated = None in changed

    def live_q(self, field: str) -> Q:
        """The live part's filter on the request's submission time ``field``."""
        from .daily_counts import days_q

        result = days_q(field, self.run.day, self.days)
        if self.undated:
            result |= Q(**{f"{field}__isnull": True})
        return result

    def stored_q(self) -> Q:
        """The stored rows to read: every ``all_days`` row and the per-day rows of the
        days read live (taken away from them)."""
        result = Q(all_days=True) | Q(all_days=False, day__in=self.days)
        if self.undated:
            result |= Q(all_days=False, day__isnull=True)
        return result


def _run(today: datetime.date) -> DailyCountRun | None:
    from .daily_counts import todays_run

    return todays_run(today)


def _changed_requests(run: DailyCountRun) -> QuerySet[DeputyRequest]:
    return DeputyRequest.objects.filter(updated_at__gte=run.started_at).exclude(status=S.DRAFT)


def _days_of(qs: QuerySet[DeputyRequest]) -> QuerySet[Any]:
    return qs.order_by().values_list(TruncDate("submitted_at"), flat=True).distinct()


def _signed_sums(names: Iterable[str]) -> dict[str, Any]:
    """Per measure, the ``all_days`` sum (``n_<name>``) and the taken-away days' (``m_<name>``)."""
    sums: dict[str, Any] = {}
    for name in names:
        sums[f"n_{name}"] = Sum(name, filter=Q(all_days=True))
        sums[f"m_{name}"] = Sum(name, filter=Q(all_days=False))
    return sums


def published_counts(today: datetime.date) -> dict[int, int] | None:
    """Published registered requests per author (deputy id → count) from the stored counts
    with the live days counted beside them (three queries and the run's), or ``None`` when
    today's build is not done: the caller counts live."""
    run = _run(today)
    if run is None:
        return None
    live = LiveDays(run, _days_of(_changed_requests(run)))
    counts: dict[int, int] = {}
    stored: QuerySet[Any] = (
        DeputyPublishedCount.objects.filter(live.stored_q())
        .order_by()
        .values("deputy_id")
        .annotate(**_signed_sums(["published"]))
    )
    for row in stored:
        counts[row["deputy_id"]] = (row["n_published"] or 0) - (row["m_published"] or 0)
    recent: QuerySet[Any] = (
        _published().filter(live.live_q("submitted_at")).values("author_id").annotate(n=Count("pk"))
    )
    for live_row in recent:
        author = live_row["author_id"]
        counts[author] = counts.get(author, 0) + live_row["n"]
    return counts


DEPARTMENT_COLUMNS = (
    "department_id",
    "department__code",
    "department__name_ru",
    "department__name_kk",
    "department__name_en",
)


def promise_counts(
    live_promises: QuerySet[Commitment],
    *,
    department_id: int | None,
    district_id: int | None,
    today: datetime.date,
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The public promises' figures, in all and per department (as
    ``commitment_figures`` and ``commitment_figures_by_department``), from the stored
    counts with the live days counted beside them — ``live_promises`` being the page's
    promises (filtered as the page is) — or ``None`` when today's build is not done.

    Four queries: the run, the changed days, the stored rows and the live part.
    """
    run = _run(today)
    if run is None:
        return None
    promise_changed = DeputyRequest.objects.filter(
        pk__in=AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            action__startswith="commitment_",
            created_at__gte=run.started_at,
        ).values("item_id")
    )
    live = LiveDays(run, _days_of(_changed_requests(run)).union(_days_of(promise_changed)))
    stored = PromiseDailyCount.objects.filter(live.stored_q())
    if department_id is not None:
        stored = stored.filter(department_id=department_id)
    if district_id is not None:
        stored = stored.filter(district_id=district_id)
    merged: dict[int, dict[str, Any]] = {}

    def entry(row: dict[str, Any]) -> dict[str, Any]:
        return merged.setdefault(
            row["department_id"],
            {
                "id": row["department_id"],
                "code": row["department__code"],
                "name": pick_language(
                    ru=row["department__name_ru"] or "",
                    kk=row["department__name_kk"] or "",
                    en=row["department__name_en"] or "",
                ),
                **{f"n_{name}": 0 for name in FIGURES},
            },
        )

    for row in stored.order_by().values(*DEPARTMENT_COLUMNS).annotate(**_signed_sums(FIGURES)):
        item = entry(row)
        for name in FIGURES:
            item[f"n_{name}"] += (row[f"n_{name}"] or 0) - (row[f"m_{name}"] or 0)
    recent = live_promises.filter(live.live_q("request__submitted_at"))
    for row in commitment_figure_rows(recent, today, *DEPARTMENT_COLUMNS):
        item = entry(row)
        for name in FIGURES:
            item[f"n_{name}"] += row[f"n_{name}"] or 0
    by_department = []
    totals = {f"n_{name}": 0 for name in FIGURES}
    for item in merged.values():
        if not item["n_total"]:
            continue
        for name in FIGURES:
            totals[f"n_{name}"] += item[f"n_{name}"]
        by_department.append(
            {
                "id": item["id"],
                "code": item["code"],
                "name": item["name"],
                **figures_of(item),
            }
        )
    by_department.sort(
        key=lambda r: (r["kept_share"] is None, r["kept_share"] or 0.0, r["name"], r["id"])
    )
    return figures_of(totals), by_department
