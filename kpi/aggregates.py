"""The KPI's counts, read in SQL: one grouped query per source, whatever the data size.

Each function returns ``{entity_id: {...counts...}}`` built from grouped rows (one row per
department or deputy), never from the requests themselves: the database does the counting
(``values().annotate()`` with conditional ``Count``/``Sum``), so the cost of a KPI run grows
with the number of departments and deputies, not with the number of requests.

Working days. "Median working days from routing to the final answer" and "evaluated within
10 working days" need working-day arithmetic in SQL. ``WorkingDayIndex`` holds, for every
date since ``WORKING_DAY_EPOCH``, the number of working days up to it (from the
``WorkingCalendar``: weekends, Kazakhstan's holidays, decreed days), so the working days
after ``a`` up to ``b`` are ``ordinal(b) − ordinal(a)``: the rows, filtered by the ORM, are
joined to the index (a hash join on a few thousand days, in raw SQL around the ORM's own
query), never looked up one row at a time.

Medians. Neither SQLite nor Django has a portable MEDIAN aggregate (PostgreSQL has
``percentile_cont``). The median is read with window functions, which both engines have:
``ROW_NUMBER()`` and ``COUNT(*)`` over each department's durations keep only the middle
one or two rows per department (``2·rn ∈ [cnt, cnt + 2]``), so at most two rows per
department leave the database and ``calculators`` averages them. Same SQL on both engines,
no Python loop over requests.

All date filters are bounds computed in Python from the period (aware datetimes at
midnight, Asia/Almaty) and never ``now()``: a snapshot depends on its ``as_of`` only.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone, translation

from commitments.models import Commitment, CommitmentState, Verdict
from imports.models import ImportedItem
from imports.selectors import imported_instruction_ids, imported_request_ids
from instructions.models import Instruction, InstructionStatus
from maslikhat.core.deadlines import WorkingCalendar
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.items import ItemType
from maslikhat.directory.models import Department, Deputy
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    EvaluationDecision,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

from .calculators import FOLLOW_THROUGH_WORKING_DAYS
from .models import DeputyActivity, WorkingDayIndex

#: The working-day index starts here; a request routed earlier has no working-day duration.
WORKING_DAY_EPOCH = datetime.date(2015, 1, 1)
#: Requests in these states were (or are) the department's work; declined and withdrawn ones
#: are nobody's delay.
ROUTED_STATUSES = (RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED, RequestStatus.CLOSED)
CoAuthor = DeputyRequest.co_authors.through


def counts_imported() -> bool:
    """Whether items imported from past records count (``KPI_COUNT_IMPORTED``, default no)."""
    return bool(getattr(settings, "KPI_COUNT_IMPORTED", False))


def _not_imported(field: str = "pk") -> Q:
    """Leave out the requests that came from past records (``docs/imports.md``) unless
    ``KPI_COUNT_IMPORTED``; ``field`` holds the request's id."""
    if counts_imported():
        return Q()
    return ~Q(**{f"{field}__in": imported_request_ids()})


def _instructions_not_imported() -> Q:
    if counts_imported():
        return Q()
    return ~Q(pk__in=imported_instruction_ids())


@dataclass(frozen=True)
class Span:
    """The days a snapshot counts, and the same bounds as aware datetimes (Asia/Almaty)."""

    start: datetime.date
    end: datetime.date  # inclusive, never after as_of
    as_of: datetime.date

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)

    def _midnight(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=self.tz)

    @property
    def start_at(self) -> datetime.datetime:
        return self._midnight(self.start)

    @property
    def end_before(self) -> datetime.datetime:
        """The first moment after the period (exclusive upper bound)."""
        return self._midnight(self.end + datetime.timedelta(days=1))

    @property
    def as_of_before(self) -> datetime.datetime:
        """The first moment after ``as_of``: nothing later is seen by the snapshot."""
        return self._midnight(self.as_of + datetime.timedelta(days=1))

    def during(self, field: str) -> Q:
        """``field`` (a datetime) falls in the period."""
        return Q(**{f"{field}__gte": self.start_at, f"{field}__lt": self.end_before})


# --- The working-day index ----------------------------------------------------------------


def working_day_ordinals(
    calendar: WorkingCalendar, upto: datetime.date
) -> dict[datetime.date, int]:
    """Working days after ``WORKING_DAY_EPOCH`` up to each date until ``upto`` (a loop over
    dates, a few thousand at most, never over rows)."""
    ordinals: dict[datetime.date, int] = {}
    ordinal = 0
    day = WORKING_DAY_EPOCH
    while day <= upto:
        if day != WORKING_DAY_EPOCH and calendar.is_working_day(day):
            ordinal += 1
        ordinals[day] = ordinal
        day += datetime.timedelta(days=1)
    return ordinals


def working_day_index_refresh(upto: datetime.date) -> int:
    """Make ``WorkingDayIndex`` exact up to ``upto``; return the ordinal of ``upto``.

    Reads the index once and writes only the dates that are missing or changed (a decreed
    day added later shifts the ordinals after it). The write is an upsert, so two runs at
    once cannot collide on the primary key.
    """
    calendar = WorkingCalendar.load(WORKING_DAY_EPOCH, upto)
    # The calendar translates the reason of every day it looks at; the index needs none.
    with translation.override(None):
        wanted = working_day_ordinals(calendar, upto)
    stored = dict(
        WorkingDayIndex.objects.filter(day__lte=upto).values_list("day", "ordinal").iterator()
    )
    changed = [
        WorkingDayIndex(day=day, ordinal=ordinal)
        for day, ordinal in wanted.items()
        if stored.get(day) != ordinal
    ]
    if changed:
        WorkingDayIndex.objects.bulk_create(
            changed,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["ordinal"],
        )
    return wanted[upto]


def _local_date(field: str, span: Span) -> TruncDate:
    return TruncDate(field, tzinfo=span.tz)


# --- Departments --------------------------------------------------------------------------


def department_request_counts(span: Span) -> dict[int, dict[str, Any]]:
    """Timeliness, quality, resolution and open-overdue counts per lead department.

    - due: routed requests whose ORIGINAL due date fell in the period; an extension does
      not move them (docs/kpi.md); answered on time: the final answer (``answered_at``; interim
      answers never set it) came by that date, and by ``as_of``;
    - extended / answered by the extended due date: shown beside timeliness;
    - closed / resolved / partially: requests closed (accepted or closed without
      evaluation) in the period, by their outcome;
    - open overdue: in progress with the due date passed by the end of ``as_of``
      (the snapshot moment).
    """
    due = Q(
        status__in=ROUTED_STATUSES,
        original_due_date__gte=span.start,
        original_due_date__lte=span.end,
    )
    answered = Q(answered_at__isnull=False, answered_at__lt=span.as_of_before)
    extended = Exists(
        Extension.objects.filter(
            item_type=ItemType.REQUEST, item_id=OuterRef("pk"), status=ExtensionStatus.APPROVED
        )
    )
    closed = Q(status=RequestStatus.CLOSED) & span.during("closed_at")
    # A stopped clock (a clarification pause) is not overdue: the due date moves with it.
    open_overdue = Q(
        status=RequestStatus.IN_PROGRESS, due_date__lte=span.as_of, paused_since__isnull=True
    )
    rows = (
        DeputyRequest.objects.filter(lead_department__isnull=False)
        .filter(_not_imported())
        .filter(due | closed | open_overdue)
        .annotate(_answered_day=_local_date("answered_at", span), _extended=extended)
        .values("lead_department_id")
        .annotate(
            answers_due=Count("pk", filter=due),
            answered_on_time=Count(
                "pk", filter=due & answered & Q(_answered_day__lte=F("original_due_date"))
            ),
            extended=Count("pk", filter=due & Q(_extended=True)),
            answered_by_extended_due=Count(
                "pk",
                filter=due & Q(_extended=True) & answered & Q(_answered_day__lte=F("due_date")),
            ),
            closed=Count("pk", filter=closed),
            resolved=Count("pk", filter=closed & Q(outcome=Outcome.RESOLVED)),
            partially_resolved=Count("pk", filter=closed & Q(outcome=Outcome.PARTIALLY_RESOLVED)),
            open_overdue=Count("pk", filter=open_overdue),
        )
        .order_by()
    )
    return _keyed(rows, "lead_department_id")


def department_rating_counts(span: Span) -> dict[int, dict[str, Any]]:
    """The deputies' 1–5 ratings given in the period, per department whose answer was rated.

    Every evaluation with a rating counts (``requests_app.Evaluation``): an answer returned
    for rework with a 2 keeps its 2 in the department's mean after the next answer is
    accepted with a 4 — two ratings, mean 3 (``docs/kpi.md``, "Departments").
    """
    rows = (
        Evaluation.objects.filter(rating__isnull=False)
        .filter(span.during("at"))
        .filter(_not_imported("request_id"))
        .values("response__department_id")
        .annotate(ratings_n=Count("pk"), ratings_sum=Sum("rating"))
        .order_by()
    )
    return _keyed(rows, "response__department_id")


def department_rework_counts(span: Span) -> dict[int, dict[str, Any]]:
    """Final answers sent in the period, and how many the deputy returned for rework."""
    returned = Exists(
        Evaluation.objects.filter(
            response_id=OuterRef("pk"),
            decision=EvaluationDecision.REWORK,
            at__lt=span.as_of_before,
        )
    )
    rows = (
        Response.objects.filter(kind=ResponseKind.FINAL, status=ResponseStatus.SENT)
        .filter(span.during("sent_at"))
        .filter(_not_imported("request_id"))
        .annotate(_returned=returned)
        .values("department_id")
        .annotate(
            final_answers=Count("pk"),
            reworked=Count("pk", filter=Q(_returned=True)),
        )
        .order_by()
    )
    return _keyed(rows, "department_id")


def department_speed(span: Span) -> dict[int, dict[str, Any]]:
    """Working days from routing to the final answer, for answers given in the period:
    the count and the middle values (the median's inputs) per lead department.

    One query: the answered requests (filtered by the ORM) joined twice to the working-day
    index — a hash join on a table of a few thousand days, not two look-ups per request —
    and ranked per department, so only the middle one or two rows per department leave the
    database, each with its department's count.
    """
    answered = (
        DeputyRequest.objects.filter(lead_department__isnull=False, routed_at__isnull=False)
        .filter(span.during("answered_at"))
        .filter(_not_imported())
        .annotate(
            _id=F("pk"),
            _group=F("lead_department_id"),
            _answered_day=_local_date("answered_at", span),
            _routed_day=_local_date("routed_at", span),
        )
        .values_list("_id", "_group", "_answered_day", "_routed_day")
        .order_by()
    )
    base, params = answered.query.sql_with_params()
    index = WorkingDayIndex._meta.db_table
    # Identifiers come from the model's meta and the ORM's own SQL; values are parameters.
    sql = f"""
        SELECT _group, _days, _cnt FROM (
            SELECT d._group AS _group, a.ordinal - r.ordinal AS _days,
                   ROW_NUMBER() OVER (
                       PARTITION BY d._group ORDER BY a.ordinal - r.ordinal, d._id
                   ) AS _rn,
                   COUNT(*) OVER (PARTITION BY d._group) AS _cnt
            FROM ({base}) AS d
            JOIN {index} AS a ON a.day = d._answered_day
            JOIN {index} AS r ON r.day = d._routed_day
        ) AS ranked
        WHERE 2 * _rn >= _cnt AND 2 * _rn <= _cnt + 2
    """
    speed: dict[int, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for department_id, days, count in cursor.fetchall():
            entry = speed.setdefault(department_id, {"speed_n": count, "speed_middle": ()})
            entry["speed_middle"] = (*entry["speed_middle"], float(days))
    return speed


def department_instruction_counts(span: Span) -> dict[int, dict[str, Any]]:
    """Instructions whose original due date fell in the period (removed from control ones
    excluded) and those executed with the final report in by that date."""
    rows = (
        Instruction.objects.filter(
            original_due_date__gte=span.start, original_due_date__lte=span.end
        )
        .filter(_instructions_not_imported())
        .exclude(status=InstructionStatus.REMOVED_FROM_CONTROL)
        .annotate(_reported_day=_local_date("reported_at", span))
        .values("lead_department_id")
        .annotate(
            instructions_due=Count("pk"),
            instructions_on_time=Count(
                "pk",
                filter=Q(
                    status=InstructionStatus.EXECUTED,
                    executed_at__lt=span.as_of_before,
                    _reported_day__lte=F("original_due_date"),
                ),
            ),
        )
        .order_by()
    )
    return _keyed(rows, "lead_department_id")


#: A promise withdrawn (its answer returned for rework) is nobody's promise any more.
PROMISE_WITHDRAWN = getattr(CommitmentState, "WITHDRAWN", "withdrawn")


def department_promise_counts(span: Span) -> dict[int, dict[str, Any]]:
    """Promises of planned answers due in the period, and how many were kept on time.

    - held to: the earlier of the originally promised date and the date in force, so a
      reschedule beyond the original date does not buy time (a promise moved earlier is
      held to the earlier date); due: that date falls in the period (and so has passed by
      the end of ``as_of``);
    - kept by ``as_of``: the author confirmed the report, or staff resolved a dispute as
      kept, before the end of ``as_of``; its moment is the day of the report (the department
      did the work then, whatever the wait for the verdict); on time: reported by the date
      the promise is held to, late: after it;
    - disputed: disputed and not resolved at the end of ``as_of`` (counts as not kept);
      an open promise past its date is not kept either;
    - left out: withdrawn promises and those whose answer was returned for rework by
      ``as_of`` (superseded by the next answer), and requests imported from past records
      unless ``KPI_COUNT_IMPORTED``.
    """
    upto = span.as_of_before
    superseded = Exists(
        Evaluation.objects.filter(
            response_id=OuterRef("response_id"),
            decision=EvaluationDecision.REWORK,
            at__lt=upto,
        )
    )
    kept = Q(state=CommitmentState.KEPT) & (
        Q(verdict=Verdict.CONFIRMED, verdict_at__lt=upto)
        | Q(verdict=Verdict.DISPUTED, resolved_at__lt=upto)
    )
    by_date = Q(_reported_day__lte=F("original_due_date")) & Q(_reported_day__lte=F("due_date"))
    after_date = (
        Q(_reported_day__isnull=True)
        | Q(_reported_day__gt=F("original_due_date"))
        | Q(_reported_day__gt=F("due_date"))
    )
    disputed = Q(verdict=Verdict.DISPUTED, verdict_at__lt=upto) & (
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=upto)
    )
    rows = (
        # min(original, current) in [start, end], written so the date indexes serve it.
        Commitment.objects.filter(original_due_date__gte=span.start, due_date__gte=span.start)
        .filter(Q(original_due_date__lte=span.end) | Q(due_date__lte=span.end))
        .exclude(state=PROMISE_WITHDRAWN)
        .filter(_not_imported("request_id"))
        .annotate(_superseded=superseded, _reported_day=_local_date("reported_at", span))
        .filter(_superseded=False)
        .values("department_id")
        .annotate(
            promises_due=Count("pk"),
            promises_kept_on_time=Count("pk", filter=kept & by_date),
            promises_kept_late=Count("pk", filter=kept & after_date),
            promises_disputed=Count("pk", filter=disputed),
        )
        .order_by()
    )
    return _keyed(rows, "department_id")


def department_ids(extra: Iterable[int]) -> list[int]:
    """Active departments, and any other that has data in the period."""
    ids = set(Department.objects.filter(is_active=True).values_list("pk", flat=True))
    return sorted(ids | set(extra))


# --- Deputies -----------------------------------------------------------------------------


def deputy_request_counts(span: Span) -> dict[int, dict[str, Any]]:
    """Per author: requests filed (submitted) in the period, the departments' ratings of
    them given in the period, and the requests closed in the period by outcome."""
    filed = span.during("submitted_at") & ~Q(status=RequestStatus.DRAFT)
    rated = span.during("request_rated_at") & Q(request_rating__isnull=False)
    closed = Q(status=RequestStatus.CLOSED) & span.during("closed_at")
    rows = (
        DeputyRequest.objects.filter(filed | rated | closed)
        .filter(_not_imported())
        .values("author_id")
        .annotate(
            requests_filed=Count("pk", filter=filed),
            request_ratings_n=Count("pk", filter=rated),
            request_ratings_sum=Sum("request_rating", filter=rated),
            closed=Count("pk", filter=closed),
            resolved_or_partial=Count(
                "pk",
                filter=closed & Q(outcome__in=[Outcome.RESOLVED, Outcome.PARTIALLY_RESOLVED]),
            ),
        )
        .order_by()
    )
    return _keyed(rows, "author_id")


def deputy_coauthored_counts(span: Span) -> dict[int, int]:
    """Per co-author: requests submitted in the period that the deputy co-authored."""
    rows = (
        CoAuthor.objects.filter(
            deputyrequest__submitted_at__gte=span.start_at,
            deputyrequest__submitted_at__lt=span.end_before,
        )
        .exclude(deputyrequest__status=RequestStatus.DRAFT)
        .filter(_not_imported("deputyrequest_id"))
        .values("deputy_id")
        .annotate(n=Count("deputyrequest_id", distinct=True))
        .order_by()
    )
    return {deputy_id: row["n"] for deputy_id, row in _keyed(rows, "deputy_id").items()}


def deputy_follow_through_counts(span: Span, as_of_ordinal: int) -> dict[int, dict[str, Any]]:
    """Per author: final answers sent in the period whose evaluation is due (10 working days
    passed by ``as_of``, or already evaluated), and those evaluated within 10 working days.

    One query: the answers (filtered by the ORM, each with its first evaluation) joined to
    the working-day index for the days they were sent and evaluated, grouped by author.
    """
    limit = FOLLOW_THROUGH_WORKING_DAYS
    # The local day of the answer's first evaluation when it was given by the end of
    # ``as_of`` (the first before that moment is the first at all), else NULL: one
    # correlated look-up per answer, on the evaluations' index by answer.
    evaluated_day = Subquery(
        Evaluation.objects.filter(response_id=OuterRef("pk"), at__lt=span.as_of_before)
        .order_by("at", "id")
        .annotate(_day=_local_date("at", span))
        .values("_day")[:1]
    )
    answers = (
        Response.objects.filter(kind=ResponseKind.FINAL, status=ResponseStatus.SENT)
        .filter(span.during("sent_at"))
        .filter(_not_imported("request_id"))
        .annotate(
            _author=F("request__author_id"),
            _sent_day=_local_date("sent_at", span),
            _evaluated_day=evaluated_day,
        )
        .values_list("_author", "_sent_day", "_evaluated_day")
        .order_by()
    )
    base, params = answers.query.sql_with_params()
    index = WorkingDayIndex._meta.db_table
    in_time = "d._evaluated_day IS NOT NULL AND e.ordinal <= s.ordinal + %s"
    window_over = "s.ordinal <= %s"
    # Identifiers come from the model's meta and the ORM's own SQL; values are parameters.
    # Materialised on PostgreSQL: inlined, the evaluation look-up would run once per mention.
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    sql = f"""
        WITH d AS {materialized} ({base})
        SELECT d._author,
               COUNT(CASE WHEN ({in_time}) OR ({window_over}) THEN 1 END),
               COUNT(CASE WHEN {in_time} THEN 1 END)
        FROM d
        LEFT JOIN {index} AS s ON s.day = d._sent_day
        LEFT JOIN {index} AS e ON e.day = d._evaluated_day
        GROUP BY d._author
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, as_of_ordinal - limit, limit])
        return {
            author_id: {"answers_to_evaluate": due, "evaluated_in_time": in_time_n}
            for author_id, due, in_time_n in cursor.fetchall()
        }


def deputy_activity_counts(span: Span) -> dict[int, dict[str, int]]:
    """Per deputy and kind: activities dated in the period."""
    rows = (
        DeputyActivity.objects.filter(date__gte=span.start, date__lte=span.end)
        .values("deputy_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("deputy_id", "kind", "n")
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for deputy_id, kind, n in rows:
        counts[deputy_id][kind] = n
    return dict(counts)


def deputy_ids(span: Span, extra: Iterable[int]) -> list[int]:
    """Deputies of the convocations sitting during the period, and any other with data."""
    sitting = Deputy.objects.filter(convocation__elected_on__lte=span.end).filter(
        Q(convocation__ends_on__isnull=True) | Q(convocation__ends_on__gte=span.start)
    )
    return sorted(set(sitting.values_list("pk", flat=True)) | set(extra))


# --- Raters who give one score to everything ------------------------------------------------


def same_score_runs(min_length: int, upto: datetime.datetime) -> list[dict[str, Any]]:
    """Runs of at least ``min_length`` equal scores in a row, per rater, ratings before ``upto``.

    Gaps and islands: the difference of two ROW_NUMBER()s (over the rater's ratings, and over
    the rater's ratings of one score) is constant along a run of equal scores, so grouping
    by it finds the runs in one query. Raw SQL because Django cannot group by a window
    function's result; table and column names come from the models, values are parameters.
    Raters: a deputy rating answers (``rating`` of the author's requests) and a department
    rating requests (``request_rating`` given by the lead department).
    """
    table = DeputyRequest._meta.db_table
    sources = (
        ("deputy", "author_id", "rating", "rated_at"),
        ("department", "lead_department_id", "request_rating", "request_rated_at"),
    )
    runs: list[dict[str, Any]] = []
    imported = ImportedItem._meta.db_table
    # Past records imported from files are left out unless KPI_COUNT_IMPORTED.
    not_imported = (
        ""
        if counts_imported()
        else f"AND id NOT IN (SELECT item_id FROM {imported} WHERE item_type = 'request')"
    )
    with connection.cursor() as cursor:
        for rater_kind, rater, score, rated_at in sources:
            sql = f"""
                SELECT rater_id, score, COUNT(*), MIN(rated_at), MAX(rated_at)
                FROM (
                    SELECT {rater} AS rater_id, {score} AS score, {rated_at} AS rated_at,
                           ROW_NUMBER() OVER (PARTITION BY {rater} ORDER BY {rated_at}, id)
                         - ROW_NUMBER() OVER (PARTITION BY {rater}, {score}
                                              ORDER BY {rated_at}, id) AS island
                    FROM {table}
                    WHERE {score} IS NOT NULL AND {rated_at} IS NOT NULL
                      AND {rater} IS NOT NULL AND {rated_at} < %s {not_imported}
                ) AS rated
                GROUP BY rater_id, score, island
                HAVING COUNT(*) >= %s
            """  # identifiers come from the model's meta; values are parameters
            cursor.execute(sql, [upto, min_length])
            for rater_id, run_score, length, first, last in cursor.fetchall():
                runs.append(
                    {
                        "rater_kind": rater_kind,
                        "rater_id": rater_id,
                        "score": run_score,
                        "run_length": length,
                        "first_rated_at": _aware(first),
                        "last_rated_at": _aware(last),
                    }
                )
    return runs


def _aware(value: Any) -> datetime.datetime:
    """SQLite returns raw timestamps as text (UTC); PostgreSQL returns aware datetimes."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return value


def _keyed(rows: Iterable[Mapping[str, Any]], key: str) -> dict[int, dict[str, Any]]:
    """``{row[key]: the row's other values}`` over grouped rows (one per department or
    deputy); a NULL count (SUM over no rows) reads as 0."""
    keyed: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = dict(row)
        entity_id = values.pop(key)
        keyed[entity_id] = {name: value or 0 for name, value in values.items()}
    return keyed
