"""Stored counts of the public portal — published requests per deputy (``/public/deputies/``)
and the public promises' figures (``/public/promises/``) — and of the dashboards' promises:
the figures of every promise (``PromiseDailyCount`` rows with ``public`` false: the staff and
department dashboards) and a department's sent final answers with the similarity its head
approved them at with a comment (``SentAnswerCount``: the answers sent despite the
boilerplate warning), so no page counts the whole table on each visit.

The nightly run of the daily counts builds them (``daily_counts.build_daily_counts`` calls
``build_public_counts`` in its transaction: the same ``DailyCountRun`` marks them started
and done), as of its day: the requests submitted before it, the promises judged on it.
Each table holds rows per submission day of the request and, with ``all_days``, the same
summed over every day. A page reads the few ``all_days`` rows, takes away the stored rows of
the days it reads live and adds those live: the requests submitted on the run's day or
later, and every submission day in which a request changed since the build (``updated_at``)
or, for the promises, in which a promise changed (its ``commitment_*`` event in the request's
history: every change of a promise writes one). A day's rows are its requests' only, so a
day read live is exact. Every promise's rows (the dashboards') are per block of promise ids
instead, and read live for the blocks of the promises named by a ``commitment_*`` event since
the build (``changed_blocks``); the sent answers are per day sent, read live from the run's
day on and on the days sent of the department's answers whose request changed since the
build (``department_counts``). Without today's finished build the pages count
live. A fixed number of queries either way, whatever the number of requests and promises.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DateField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Model,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from commitments.models import Commitment
from commitments.selectors import FIGURES, commitment_figure_rows, figures_of
from maslikhat.core.models import pick_language
from maslikhat.core.threads import AuditEvent
from requests_app.models import (
    DeputyRequest,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

from .models import DailyCountRun, DeputyPublishedCount, PromiseDailyCount, SentAnswerCount

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


#: How many promise ids a block of every promise's stored rows holds: a changed promise has
#: its block read live (the bench's day of changes: 43 promises, 17 blocks, ~2,000 promises).
PROMISE_BLOCK = 128


def warned_approvals() -> QuerySet[Any]:
    """The approvals of final answers that carry the head's boilerplate comment (a partial
    index holds them), with ``answer`` (the answer's id) and ``similarity`` (the draft's
    similarity recorded with the approval)."""
    return AuditEvent.objects.filter(
        item_type=DeputyRequest.ITEM_TYPE,
        action="approve_final",
        changes__has_key="boilerplate_comment",
    ).annotate(
        answer=Cast(KeyTextTransform("response", "changes"), IntegerField()),
        similarity=Cast(KeyTextTransform("similarity", "changes"), FloatField()),
    )


def sent_final_answers() -> QuerySet[Response]:
    """Every sent final answer (a sent answer stays sent: nothing changes its status, its
    department or its time, ``requests_app.responses``)."""
    return Response.objects.filter(kind=ResponseKind.FINAL, status=ResponseStatus.SENT)


def build_answer_counts(day: datetime.date, cursor: Any) -> int:
    """``SentAnswerCount`` as of ``day`` (the answers sent before it; the table emptied by
    the caller): per day sent × department × the highest similarity approved with a comment
    (an answer's commented approvals joined in one pass, not looked up per answer), then the
    same summed over every day. Two ``INSERT … SELECT``; the number of rows."""
    qn = connection.ops.quote_name
    table = qn(SentAnswerCount._meta.db_table)
    answers = (
        sent_final_answers()
        .filter(_submitted_before(day, "sent_at"))
        .order_by()
        .annotate(d_day=TruncDate("sent_at"))
        .values("id", "department_id", "d_day")
    )
    warned = warned_approvals().order_by().values("answer").annotate(top=Max("similarity"))
    answers_sql, answers_params = answers.query.sql_with_params()
    warned_sql, warned_params = warned.query.sql_with_params()
    targets = ", ".join(qn(c) for c in ("all_days", "day", "department_id", "similarity", "sent"))
    cursor.execute(
        f"INSERT INTO {table} ({targets}) "
        f"SELECT FALSE, a.{qn('d_day')}, a.{qn('department_id')}, w.{qn('top')}, COUNT(*) "
        f"FROM ({answers_sql}) AS a LEFT JOIN ({warned_sql}) AS w "
        f"ON w.{qn('answer')} = a.{qn('id')} "
        f"GROUP BY a.{qn('d_day')}, a.{qn('department_id')}, w.{qn('top')}",
        (*answers_params, *warned_params),
    )
    rows = max(cursor.rowcount, 0)
    cursor.execute(
        f"INSERT INTO {table} ({targets}) "
        f"SELECT TRUE, NULL, {qn('department_id')}, {qn('similarity')}, SUM({qn('sent')}) "
        f"FROM {table} WHERE {qn('all_days')} = FALSE "
        f"GROUP BY {qn('department_id')}, {qn('similarity')}"
    )
    return rows + max(cursor.rowcount, 0)


def build_public_counts(day: datetime.date, cursor: Any) -> int:
    """Replace ``DeputyPublishedCount``, ``PromiseDailyCount`` (the public promises' rows
    and every promise's) and ``SentAnswerCount`` with the counts as of ``day``; the number
    of rows written.

    Runs inside the caller's transaction (``daily_counts.build_daily_counts``, which stamps
    the run): one ``DELETE`` per table and two ``INSERT … SELECT`` per set (per day, every
    day).
    """
    qn = connection.ops.quote_name
    tables = [
        qn(m._meta.db_table) for m in (DeputyPublishedCount, PromiseDailyCount, SentAnswerCount)
    ]
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
    promise_targets = [
        "public",
        "all_days",
        "day",
        "block",
        "department_id",
        "district_id",
        *FIGURES,
    ]
    figures = [f"n_{name}" for name in FIGURES]
    promises = _promises_before(day)
    rows += _insert(
        cursor,
        PromiseDailyCount,
        promise_targets,
        commitment_figure_rows(promises, day, "d_day", "department_id", "d_district"),
        ["TRUE", "FALSE", "d_day", "NULL", "department_id", "d_district", *figures],
    )
    rows += _insert(
        cursor,
        PromiseDailyCount,
        promise_targets,
        commitment_figure_rows(promises, day, "department_id", "d_district"),
        ["TRUE", "TRUE", "NULL", "NULL", "department_id", "d_district", *figures],
    )
    # Every promise there is, per block of ids and over every block.
    every = Commitment.objects.annotate(
        d_block=ExpressionWrapper(F("pk") / PROMISE_BLOCK, output_field=IntegerField())
    )
    rows += _insert(
        cursor,
        PromiseDailyCount,
        promise_targets,
        commitment_figure_rows(every, day, "d_block", "department_id"),
        ["FALSE", "FALSE", "NULL", "d_block", "department_id", "NULL", *figures],
    )
    rows += _insert(
        cursor,
        PromiseDailyCount,
        promise_targets,
        commitment_figure_rows(every, day, "department_id"),
        ["FALSE", "TRUE", "NULL", "NULL", "department_id", "NULL", *figures],
    )
    return rows + build_answer_counts(day, cursor)


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


def _signed_sums(names: Iterable[str], every_day: str = "n") -> dict[str, Any]:
    """Per measure, the ``all_days`` sum (``n_<name>``, or ``<every_day>_<name>``) and the
    taken-away days' (``m_<name>``)."""
    sums: dict[str, Any] = {}
    for name in names:
        sums[f"{every_day}_{name}"] = Sum(name, filter=Q(all_days=True))
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


def _promise_changed(run: DailyCountRun) -> QuerySet[DeputyRequest]:
    """The requests one of whose promises changed since the build (every change of a
    promise writes a ``commitment_*`` event in the request's history)."""
    return DeputyRequest.objects.filter(
        pk__in=AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            action__startswith="commitment_",
            created_at__gte=run.started_at,
        ).values("item_id")
    )


def changed_days(run: DailyCountRun) -> LiveDays:
    """The submission days the public promises' reader counts live: a request or one of its
    promises changed since the build. One query."""
    return LiveDays(run, _days_of(_changed_requests(run)).union(_days_of(_promise_changed(run))))


class LiveBlocks:
    """The blocks of promise ids the readers of every promise count live: those of the
    promises changed since the build (a new promise's ``commitment_created`` among them)."""

    def __init__(self, blocks: Iterable[int | None]) -> None:
        self.blocks = sorted({b for b in blocks if b is not None})

    def stored_q(self) -> Q:
        return Q(all_days=True) | Q(all_days=False, block__in=self.blocks)

    def live_q(self) -> Q:
        """The live part's filter: ranges of the promise's id (its primary key answers)."""
        result = Q(pk__gte=0, pk__lt=0)  # no block: nothing
        ranges: list[list[int]] = []
        for block in self.blocks:
            if ranges and ranges[-1][1] == block:
                ranges[-1][1] = block + 1
            else:
                ranges.append([block, block + 1])
        for start, end in ranges:
            result |= Q(pk__gte=start * PROMISE_BLOCK, pk__lt=end * PROMISE_BLOCK)
        return result


def _changed_blocks(run: DailyCountRun) -> QuerySet[Any]:
    """The blocks of the promises named by a ``commitment_*`` event since the build (every
    change of a promise writes one, with the promise's id), with an empty day beside them
    (the shape of ``_answer_days``)."""
    return (
        AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            action__startswith="commitment_",
            created_at__gte=run.started_at,
            changes__has_key="commitment",
        )
        .annotate(
            d_block=ExpressionWrapper(
                Cast(KeyTextTransform("commitment", "changes"), IntegerField()) / PROMISE_BLOCK,
                output_field=IntegerField(),
            )
        )
        .order_by()
        .values_list(Cast(Value(None), DateField()), "d_block")
        .distinct()
    )


def _answer_days(run: DailyCountRun, department_id: int) -> QuerySet[Any]:
    """The days sent of the department's final answers whose request changed since the
    build (``updated_at``: a new answer, one imported with an earlier date), with an empty
    block beside them."""
    return (
        Response.objects.filter(
            department_id=department_id,
            kind=ResponseKind.FINAL,
            request__updated_at__gte=run.started_at,
        )
        .order_by()
        .values_list(TruncDate("sent_at"), Cast(Value(None), IntegerField()))
        .distinct()
    )


def changed_blocks(
    run: DailyCountRun, *, answers_of: int | None = None
) -> tuple[LiveBlocks, LiveDays | None]:
    """The blocks of promises the readers of every promise count live and, for the
    department ``answers_of``, the days its sent final answers are counted live. One
    query."""
    if answers_of is None:
        return LiveBlocks(block for _day, block in _changed_blocks(run)), None
    rows = list(_changed_blocks(run).union(_answer_days(run, answers_of), all=True))
    blocks = LiveBlocks(block for _day, block in rows)
    return blocks, LiveDays(run, (day for day, block in rows if block is None))


def promise_counts(
    live_promises: QuerySet[Commitment],
    *,
    department_id: int | None,
    district_id: int | None,
    today: datetime.date,
    public: bool = True,
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The promises' figures, in all and per department (as ``commitment_figures`` and
    ``commitment_figures_by_department``), from the stored counts with the live days (or
    blocks) counted beside them — ``live_promises`` being the promises the stored rows
    count, filtered as the stored rows are: the public page's (``public``), or every
    promise (``public`` false: the staff dashboard; no district) — or ``None`` when today's
    build is not done.

    Four queries: the run, the changed days (blocks), the stored rows and the live part.
    """
    run = _run(today)
    if run is None:
        return None
    live: LiveDays | LiveBlocks
    if public:
        live = changed_days(run)
        live_filter = live.live_q("request__submitted_at")
    else:
        assert district_id is None, "every promise's rows have no district"
        live, _answers = changed_blocks(run)
        live_filter = live.live_q()
    stored = PromiseDailyCount.objects.filter(live.stored_q(), public=public)
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
    recent = live_promises.filter(live_filter)
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


# --- The department dashboard: its promises and its answers sent despite the warning ---------


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def sent_in(
    answers: QuerySet[Response], since: datetime.date | None, until: datetime.date | None
) -> QuerySet[Response]:
    """The answers sent from ``since`` to ``until`` (local days, both inclusive, when
    given), as a range of ``sent_at`` itself (the department's index answers)."""
    if since is not None:
        answers = answers.filter(sent_at__gte=_day_start(since))
    if until is not None:
        answers = answers.filter(sent_at__lt=_day_start(until + datetime.timedelta(days=1)))
    return answers


def answer_aggregates(threshold: float) -> dict[str, Any]:
    """``sent`` and ``despite_warning`` of a set of sent final answers: those approved with
    the head's comment at a similarity at or above ``threshold`` (one uncorrelated set of
    the few commented approvals, not a look-up into the history per answer)."""
    warned = warned_approvals().filter(similarity__gte=threshold).values("answer")
    return {
        "sent": Count("pk"),
        "despite_warning": Count("pk", filter=Q(pk__in=warned)),
    }


def _joined_row(parts: list[QuerySet[Any]]) -> dict[str, Any]:
    """The columns of ``parts`` — each a query of at most one row, their column names
    distinct — read as one row in one query (a part without a row reads as ``None``)."""
    sql = ["SELECT * FROM (SELECT 1 AS one) AS base"]
    params: list[Any] = []
    for i, part in enumerate(parts):
        part_sql, part_params = part.query.sql_with_params()
        sql.append(f"LEFT JOIN ({part_sql}) AS part{i} ON 1 = 1")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(" ".join(sql), params)
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def department_counts(
    promises: QuerySet[Commitment] | None,
    department_id: int,
    *,
    today: datetime.date,
    threshold: float,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The department dashboard's counts: the figures of its promises (``promises``: every
    promise it made; ``None``: not wanted) and its sent final answers with those approved
    despite the boilerplate warning (``sent``, ``despite_warning``; sent from ``since`` to
    ``until`` when given).

    With today's build: the stored rows (``PromiseDailyCount`` of every promise,
    ``SentAnswerCount``) less the blocks and days read live, and the live part — the blocks
    of the promises changed since the build, the answers sent on the run's day on and on the
    days sent of the department's answers whose request changed (``changed_blocks``) —
    three queries: the run, the changed blocks and days, and one for the four parts.
    Without it, counted live: two queries.
    """
    run = _run(today)
    answers = sent_in(sent_final_answers().filter(department_id=department_id), since, until)
    aggregates = answer_aggregates(threshold)
    parts: list[QuerySet[Any]] = []
    if run is None:
        if promises is not None:
            parts.append(commitment_figure_rows(promises, today, "department_id"))
        parts.append(answers.order_by().values("department_id").annotate(**aggregates))
        row = _joined_row(parts)
        figures = figures_of(row) if promises is not None else None
        return figures, {name: row[name] or 0 for name in aggregates}
    live_promises, live_answers = changed_blocks(run, answers_of=department_id)
    assert live_answers is not None
    if promises is not None:
        stored = PromiseDailyCount.objects.filter(
            live_promises.stored_q(), public=False, department_id=department_id
        )
        parts.append(
            stored.order_by().values("department_id").annotate(**_signed_sums(FIGURES, "s"))
        )
        recent = promises.filter(live_promises.live_q())
        parts.append(
            commitment_figure_rows(recent, today, "department_id").values(
                *[f"n_{name}" for name in FIGURES]
            )
        )
    stored_answers = SentAnswerCount.objects.filter(department_id=department_id)
    warned = Q(similarity__gte=threshold)
    if since is None and until is None:
        stored_answers = stored_answers.filter(live_answers.stored_q())
        sums = {
            "s_sent": Sum("sent", filter=Q(all_days=True)),
            "m_sent": Sum("sent", filter=Q(all_days=False)),
            "s_despite_warning": Sum("sent", filter=Q(all_days=True) & warned),
            "m_despite_warning": Sum("sent", filter=Q(all_days=False) & warned),
        }
    else:
        stored_answers = stored_answers.filter(all_days=False).exclude(day__in=live_answers.days)
        if since is not None:
            stored_answers = stored_answers.filter(day__gte=since)
        if until is not None:
            stored_answers = stored_answers.filter(day__lte=until)
        sums = {
            "s_sent": Sum("sent"),
            "s_despite_warning": Sum("sent", filter=warned),
        }
    parts.append(stored_answers.order_by().values("department_id").annotate(**sums))
    parts.append(
        answers.filter(live_answers.live_q("sent_at"))
        .order_by()
        .values("department_id")
        .annotate(**aggregates)
    )
    row = _joined_row(parts)

    def value(name: str) -> int:
        return int(row.get(name) or 0)

    figures = None
    if promises is not None:
        figures = figures_of(
            {
                f"n_{name}": value(f"s_{name}") - value(f"m_{name}") + value(f"n_{name}")
                for name in FIGURES
            }
        )
    counts = {name: value(f"s_{name}") - value(f"m_{name}") + value(name) for name in aggregates}
    return figures, counts
