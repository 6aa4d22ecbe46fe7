"""The benchmark volume of ``seed_demo --scale N``: more requests written in bulk.

The first demo year goes through the services (``demo.requests``); the other
``(N − 1) × 500`` requests are copies of its texts written in batches of 5,000 rows with
their responses, history and search documents, fast enough for a million requests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

from maslikhat.core.deadlines import RULE_DEPUTY_REQUEST_EVALUATION, compute_due_date, get_rule
from requests_app.models import (
    DeputyRequest,
    Outcome,
    RegistrationCounter,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

from .request_corpus import (
    BULK_BATCH_SIZE,
    BULK_TEXT_POOL,
    DAYS_IN_YEAR,
    DECLINE_REASONS,
    DECLINE_SHARE,
    DRAFT_SHARE,
    LOW_RATING_COMMENTS,
    OUTCOME_WEIGHTS,
    PACE,
    RATING_WEIGHTS,
    REQUEST_RATED_SHARE,
    UNEVALUATED_SHARE,
    WITHDRAW_REASONS,
    WITHDRAW_SHARE,
    pace_of,
)
from .request_plans import Content

if TYPE_CHECKING:
    from .requests import DemoYear


@dataclass(frozen=True)
class PoolText:
    """One request text of the bulk pool, with the ids its rows need."""

    content: Content
    lead_id: int
    officer_id: int
    head_id: int
    pace: tuple[float, float]
    document: str  # lower-cased, as ``services.refresh_search_document`` keeps it
    published: str  # the published document's text (without the address), lower-cased
    answers: dict[str, str]
    answers_lower: dict[str, str]
    row: list[Any]  # the request row with the text's values filled in


class RowWriter:
    """Inserts rows of one model with a prepared ``INSERT`` and ``executemany``.

    Why not ``bulk_create``: it prepares each of the 37 values of every row in Python and
    SQLite's 999-parameter limit cuts each ``INSERT`` to 27 rows; measured on SQLite it
    writes about 5,000 rows/s, a million-request benchmark would take most of an hour.
    Here a row is a copy of a template of the model's defaults with the values of the row
    set by index, already adapted by the backend's own adapters (dates, datetimes, JSON),
    so the same code writes to SQLite and PostgreSQL. Primary keys are given explicitly
    (the caller resets the sequences afterwards).
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        ops = connection.ops
        self.template: list[Any] = []
        for model_field in self.fields:
            default = None if model_field.primary_key else model_field.get_default()
            if default is not None and model_field.get_internal_type() == "JSONField":
                default = model_field.get_db_prep_save(default, connection)
            self.template.append(default)
        self.datetime: Callable[[dt.datetime | None], Any] = ops.adapt_datetimefield_value
        if connection.vendor == "sqlite" and settings.USE_TZ:
            # What ``adapt_datetimefield_value`` does for the aware datetimes given here,
            # without its checks: a fifth of the run otherwise.
            database_tz = connection.timezone

            def sqlite_datetime(value: dt.datetime | None) -> str | None:
                return (
                    None
                    if value is None
                    else str(value.astimezone(database_tz).replace(tzinfo=None))
                )

            self.datetime = sqlite_datetime
        self.date = ops.adapt_datefield_value
        columns = ", ".join(ops.quote_name(str(f.column)) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        table = ops.quote_name(str(model._meta.db_table))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"

    def json(self, attname: str, value: Any) -> Any:
        return self.fields[self.index[attname]].get_db_prep_save(value, connection)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, rows)


class BulkYear:
    """``(scale − 1) × 500`` more requests for benchmarks, written in batches of 5,000.

    Going through the services costs a few milliseconds a step — hours for a million rows —
    so these rows are computed directly, with the services' rules: registration numbers
    continue each year's counter (``RegistrationCounter`` is updated at the end), due dates
    and evaluation dates come from the same deadline rules and working calendar, statuses
    follow the dates relative to today (answered and closed rows have their sent final
    ``Response``; in-progress rows past their due date are overdue). These rows have no
    audit events, notifications, thread messages, extensions, interim answers or
    co-authors: nothing a benchmark of lists, filters, search, exports and KPI needs, and
    writing them would multiply the volume several times. Numbers follow the submission
    dates within the bulk rows, after the numbers of the year that went through the
    services.
    """

    def __init__(self, year: DemoYear) -> None:
        self.year = year
        self.rng = year.rng
        self.convocation_id = year.context.directory.reference.convocation.pk
        self.request_rule = year.request_rule
        self.evaluation_rule = get_rule(RULE_DEPUTY_REQUEST_EVALUATION)
        self.due_dates: dict[dt.date, tuple[Any, Any, Any]] = {}
        self.evaluation_dates: dict[dt.date, Any] = {}
        self.outcomes = [str(outcome) for outcome in OUTCOME_WEIGHTS]
        self.outcome_weights = list(itertools.accumulate(OUTCOME_WEIGHTS.values()))
        self.rating_weights = {
            str(outcome): list(itertools.accumulate(weights))
            for outcome, weights in RATING_WEIGHTS.items()
        }
        self.requests = RowWriter(DeputyRequest)
        self.responses = RowWriter(Response)

    def due(self, day: dt.date) -> tuple[Any, Any, Any]:
        """(due date, adapted due date, adapted basis) of a request routed on ``day``."""
        cached = self.due_dates.get(day)
        if cached is None:
            due = compute_due_date(rule=self.request_rule, start=day, calendar=self.year.calendar)
            cached = self.due_dates[day] = (
                due.due,
                self.requests.date(due.due),
                self.requests.json("due_date_basis", due.as_dict()),
            )
        return cached

    def evaluation_due(self, day: dt.date) -> dt.date:
        cached = self.evaluation_dates.get(day)
        if cached is None:
            cached = self.evaluation_dates[day] = compute_due_date(
                rule=self.evaluation_rule, start=day, calendar=self.year.calendar
            ).due
        return cached

    def pool(self, size: int) -> list[PoolText]:
        year = self.year
        rng = self.rng
        texts = []
        for _position in range(size):
            day = year.start + dt.timedelta(days=rng.randrange(DAYS_IN_YEAR))
            content = year.content(rng, day)
            lead = content.lead
            officer = year.officer(lead)
            signature = year.signature(content.language, officer)
            answers = {
                str(outcome): f"{year.answer_core(rng, content, outcome, None)} {signature}"
                for outcome in OUTCOME_WEIGHTS
            }
            published = "\n".join(
                part for part in (content.title, content.body, content.solution) if part
            ).lower()
            document = "\n".join(
                part for part in (published, (content.address or "").lower()) if part
            )
            row = self.requests.template.copy()
            rq = self.requests.index
            row[rq["convocation_id"]] = self.convocation_id
            row[rq["author_id"]] = content.author.pk
            row[rq["title"]] = content.title
            row[rq["body"]] = content.body
            row[rq["proposed_solution"]] = content.solution
            row[rq["category_id"]] = content.category.pk
            row[rq["district_id"]] = content.district.pk if content.district else None
            row[rq["address"]] = content.address
            row[rq["is_public"]] = content.is_public
            texts.append(
                PoolText(
                    row=row,
                    content=content,
                    lead_id=lead.pk,
                    officer_id=officer.pk,
                    head_id=year.head(lead).pk,
                    pace=PACE[pace_of(lead)],
                    document=document,
                    published=published,
                    answers=answers,
                    answers_lower={key: text.lower() for key, text in answers.items()},
                )
            )
        return texts

    def run(self, count: int) -> tuple[int, int, float]:
        """Write ``count`` requests (and their answers); (requests, rows, seconds)."""
        started = time.perf_counter()
        if count <= 0:
            return 0, 0, 0.0
        texts = self.pool(min(count, BULK_TEXT_POOL))
        counters = dict(RegistrationCounter.objects.values_list("year", "last_number"))
        next_ids = [
            (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
            for model in (DeputyRequest, Response)
        ]
        rows = 0
        for first in range(0, count, BULK_BATCH_SIZE):
            batch = range(first, min(count, first + BULK_BATCH_SIZE))
            requests, answers = self.batch(batch, count, texts, counters, next_ids)
            self.requests.write(requests)
            self.responses.write(answers)
            rows += len(requests) + len(answers)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [DeputyRequest, Response]):
                cursor.execute(sql)
        for year_number, last in sorted(counters.items()):
            RegistrationCounter.objects.update_or_create(
                year=year_number, defaults={"last_number": last}
            )
        return count, rows, time.perf_counter() - started

    def batch(
        self,
        indexes: range,
        count: int,
        texts: Sequence[PoolText],
        counters: dict[int, int],
        next_ids: list[int],
    ) -> tuple[list[list[Any]], list[list[Any]]]:
        """The rows of requests ``indexes`` (of ``count``) and of their final answers."""
        year = self.year
        rng = self.rng
        random_ = rng.random
        gauss = rng.gauss
        adapt_datetime = self.requests.datetime
        adapt_date = self.requests.date
        tz = year.tz
        horizon = year.horizon
        first_moment = year.at(year.start, 0, 0).astimezone(dt.UTC)
        span = (horizon - first_moment).total_seconds()
        hour = dt.timedelta(hours=1)
        rq = self.requests.index
        rs = self.responses.index
        response_template = self.responses.template
        decline_reasons, withdraw_reasons = DECLINE_REASONS, WITHDRAW_REASONS
        low_comments = LOW_RATING_COMMENTS
        outcomes, outcome_weights = self.outcomes, self.outcome_weights
        outcome_total = outcome_weights[-1]
        draft_edge = DRAFT_SHARE
        decline_edge = draft_edge + DECLINE_SHARE
        withdraw_edge = decline_edge + WITHDRAW_SHARE
        request_rows: list[list[Any]] = []
        response_rows: list[list[Any]] = []
        for index in indexes:
            # Spread evenly over the year in order, so numbers follow submission dates.
            submitted = first_moment + dt.timedelta(seconds=span * (index + random_()) / count)
            text = texts[int(random_() * len(texts))]
            row = text.row.copy()
            request_id = next_ids[0]
            next_ids[0] += 1
            row[rq["id"]] = request_id
            row[rq["created_at"]] = adapt_datetime(submitted - hour)
            updated = submitted
            request_rows.append(row)
            draw = random_()
            if draw < draft_edge:  # a draft: no number
                row[rq["search_document"]] = text.document
                row[rq["published_document"]] = text.published
                row[rq["updated_at"]] = adapt_datetime(updated)
                continue
            local_year = submitted.astimezone(tz).year
            counters[local_year] = number = counters.get(local_year, 0) + 1
            label = f"DZ-{local_year}-{number:05d}"
            row[rq["number"]] = label
            row[rq["submitted_at"]] = adapt_datetime(submitted)
            document = f"{label.lower()}\n{text.document}"
            published = row[rq["published_document"]] = f"{label.lower()}\n{text.published}"
            routed = submitted + hour * (2 + 70 * random_())
            if routed >= horizon or draw < withdraw_edge:
                if routed >= horizon:
                    row[rq["status"]] = RequestStatus.SUBMITTED.value
                else:
                    declined = draw < decline_edge
                    row[rq["status"]] = (
                        RequestStatus.DECLINED.value if declined else RequestStatus.WITHDRAWN.value
                    )
                    reasons = decline_reasons if declined else withdraw_reasons
                    row[rq["status_reason"]] = reasons[int(random_() * len(reasons))]
                    row[rq["closed_at"]] = adapt_datetime(routed)
                    updated = routed
                row[rq["search_document"]] = document
                row[rq["updated_at"]] = adapt_datetime(updated)
                continue
            due, due_value, basis = self.due(routed.astimezone(tz).date())
            row[rq["lead_department_id"]] = text.lead_id
            row[rq["executor_id"]] = text.officer_id
            row[rq["routed_at"]] = adapt_datetime(routed)
            row[rq["due_date"]] = row[rq["original_due_date"]] = due_value
            row[rq["due_date_basis"]] = basis
            row[rq["status"]] = RequestStatus.IN_PROGRESS.value
            updated = routed
            if random_() < REQUEST_RATED_SHARE:
                row[rq["request_rating"]] = 2 + int(random_() * 4)
                row[rq["request_rated_at"]] = adapt_datetime(routed + hour * 30)
                row[rq["request_rated_by_id"]] = text.officer_id
            mean, spread = text.pace
            days = max(2.0, gauss(mean, spread)) * 1.4  # working days → calendar days
            answered = routed + dt.timedelta(days=days)
            if answered >= horizon:  # still in progress (overdue when past its due date)
                row[rq["search_document"]] = document
                row[rq["updated_at"]] = adapt_datetime(updated)
                continue
            outcome = outcomes[bisect(outcome_weights, random_() * outcome_total)]
            answer = text.answers[outcome]
            evaluate_by = self.evaluation_due(answered.astimezone(tz).date())
            row[rq["status"]] = RequestStatus.ANSWERED.value
            row[rq["answered_at"]] = answered_value = adapt_datetime(answered)
            row[rq["outcome"]] = outcome
            row[rq["evaluation_due_date"]] = adapt_date(evaluate_by)
            updated = answered
            rating: int | None = None
            if random_() < UNEVALUATED_SHARE:
                closed = year.at(evaluate_by + dt.timedelta(days=1), 6, 30)
            else:
                closed = answered + dt.timedelta(days=min(rng.expovariate(0.25), 13.0))
                cumulative = self.rating_weights[outcome]
                rating = bisect(cumulative, random_() * cumulative[-1]) + 1
            evaluated = None
            comment = ""
            if closed < horizon:
                row[rq["status"]] = RequestStatus.CLOSED.value
                row[rq["closed_at"]] = closed_value = adapt_datetime(closed)
                updated = closed
                if rating is not None:
                    evaluated = closed_value
                    row[rq["rating"]] = rating
                    row[rq["rated_at"]] = closed_value
                    if rating <= 2:
                        comment = low_comments[int(random_() * len(low_comments))]
                        row[rq["rating_comment"]] = comment
            row[rq["search_document"]] = f"{document}\n{text.answers_lower[outcome]}"
            if row[rq["status"]] == RequestStatus.CLOSED.value:  # the answer is public now
                row[rq["published_document"]] = f"{published}\n{text.answers_lower[outcome]}"
            row[rq["updated_at"]] = adapt_datetime(updated)

            response = response_template.copy()
            response[rs["id"]] = next_ids[1]
            next_ids[1] += 1
            response[rs["request_id"]] = request_id
            response[rs["department_id"]] = text.lead_id
            response[rs["kind"]] = ResponseKind.FINAL.value
            response[rs["text"]] = answer
            response[rs["outcome"]] = outcome
            if outcome == Outcome.PLANNED:
                response[rs["planned_date"]] = adapt_date(due + dt.timedelta(days=120))
            response[rs["status"]] = ResponseStatus.SENT.value
            response[rs["drafted_by_id"]] = text.officer_id
            response[rs["approved_by_id"]] = text.head_id
            response[rs["created_at"]] = adapt_datetime(answered - 3 * hour)
            response[rs["sent_at"]] = answered_value
            if evaluated is not None:
                response[rs["evaluation"]] = "accept"
                response[rs["evaluation_rating"]] = rating
                response[rs["evaluation_comment"]] = comment
                response[rs["evaluated_at"]] = evaluated
            response_rows.append(response)
        return request_rows, response_rows
