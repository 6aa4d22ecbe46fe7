"""The benchmark volume of ``seed_demo --scale N``: more requests written in bulk.

The first demo year goes through the services (``demo.requests``); the other
``(N − 1) × 500`` requests are copies of its texts written in batches of 5,000 with what
a year of requests leaves behind in the same proportions: final and interim answers,
the deputies' evaluations (returns for rework included), the history of every step and
thread messages, fast enough for a million requests (``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from bisect import bisect
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max

from maslikhat.core.deadlines import RULE_DEPUTY_REQUEST_EVALUATION, compute_due_date, get_rule
from maslikhat.core.items import ItemType
from maslikhat.core.threads import AuditEvent, Message
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    Outcome,
    RegistrationCounter,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

from .bulk import Progress, RowWriter, indexes_deferred
from .request_corpus import (
    BULK_BATCH_SIZE,
    BULK_TEXT_POOL,
    DAYS_IN_YEAR,
    DECLINE_REASONS,
    DECLINE_SHARE,
    DEPUTY_MESSAGES,
    DRAFT_SHARE,
    INTERIM,
    INTERIM_PROGRESS,
    INTERIM_SHARE,
    LOW_RATING_COMMENTS,
    OFFICER_MESSAGES,
    OUTCOME_WEIGHTS,
    PACE,
    RATING_WEIGHTS,
    REQUEST_RATED_SHARE,
    REWORK_COMMENTS,
    REWORK_SHARE,
    THREAD_SHARE,
    UNEVALUATED_SHARE,
    WITHDRAW_REASONS,
    WITHDRAW_SHARE,
    pace_of,
)
from .request_plans import Content

if TYPE_CHECKING:
    from .requests import DemoYear

#: From this many bulk requests on, the tables' indexes are built once after the load.
DEFER_INDEXES_FROM = 50_000


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
    author_user_id: int = 0
    lead_code: str = ""
    officer_username: str = ""


@dataclass
class Rows:
    """The rows of one batch, model by model."""

    requests: list[list[Any]] = field(default_factory=list)
    responses: list[list[Any]] = field(default_factory=list)
    events: list[list[Any]] = field(default_factory=list)
    messages: list[list[Any]] = field(default_factory=list)
    evaluations: list[list[Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.requests)
            + len(self.responses)
            + len(self.events)
            + len(self.messages)
            + len(self.evaluations)
        )


class BulkYear:
    """``(scale − 1) × 500`` more requests for benchmarks, written in batches of 5,000.

    Going through the services costs a few milliseconds a step — hours for a million rows —
    so these rows are computed directly, with the services' rules: registration numbers
    continue each year's counter (``RegistrationCounter`` is updated at the end), due dates
    and evaluation dates come from the same deadline rules and working calendar, statuses
    follow the dates relative to today (in-progress rows past their due date are overdue).
    Each request gets what its life leaves in the database, in the demo year's proportions:
    the history of every step (create, submit, route or decline, assign, answers, the
    evaluation or the automatic close), a thread for a third of them, an interim answer
    for some, and answers returned for rework with the deputy's evaluation kept on the
    returned answer. Not written: notifications, extensions, co-authors and co-executor
    departments. Numbers follow the submission dates within the bulk rows, after the
    numbers of the year that went through the services.
    """

    def __init__(self, year: DemoYear) -> None:
        self.year = year
        self.rng = year.rng
        self.convocation_id = year.context.directory.reference.convocation.pk
        self.staff_id = year.context.directory.staff.pk
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
        self.rework_shares = {str(outcome): share for outcome, share in REWORK_SHARE.items()}
        self.requests = RowWriter(DeputyRequest)
        self.responses = RowWriter(Response)
        self.events = RowWriter(AuditEvent)
        self.messages = RowWriter(Message)
        self.evaluations = RowWriter(Evaluation)
        self.next_id = {"request": 1, "response": 1, "event": 1, "message": 1, "evaluation": 1}

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
                    author_user_id=content.author.user_id,
                    lead_code=lead.code,
                    officer_username=officer.username,
                )
            )
        return texts

    def run(self, count: int) -> tuple[int, int, float]:
        """Write ``count`` requests and what their lives left; (requests, rows, seconds)."""
        started = time.perf_counter()
        if count <= 0:
            return 0, 0, 0.0
        texts = self.pool(min(count, BULK_TEXT_POOL))
        counters = dict(RegistrationCounter.objects.values_list("year", "last_number"))
        models = {
            "request": DeputyRequest,
            "response": Response,
            "event": AuditEvent,
            "message": Message,
            "evaluation": Evaluation,
        }
        for key, model in models.items():
            self.next_id[key] = (model._default_manager.aggregate(last=Max("pk"))["last"] or 0) + 1
        progress = Progress("requests in bulk", count)
        written = 0
        # Only a large load pays for building the indexes again.
        deferred = count >= DEFER_INDEXES_FROM
        with indexes_deferred(*models.values()) if deferred else nullcontext():
            for first in range(0, count, BULK_BATCH_SIZE):
                batch = range(first, min(count, first + BULK_BATCH_SIZE))
                rows = self.batch(batch, count, texts, counters)
                self.requests.write(rows.requests)
                self.responses.write(rows.responses)
                self.events.write(rows.events)
                self.messages.write(rows.messages)
                self.evaluations.write(rows.evaluations)
                written += len(rows)
                progress.update(batch.stop)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(models.values())):
                cursor.execute(sql)
        for year_number, last in sorted(counters.items()):
            RegistrationCounter.objects.update_or_create(
                year=year_number, defaults={"last_number": last}
            )
        return count, written, time.perf_counter() - started

    def take(self, key: str) -> int:
        value = self.next_id[key]
        self.next_id[key] = value + 1
        return value

    def event(
        self,
        rows: Rows,
        request_id: int,
        at: dt.datetime,
        actor_id: int | None,
        action: str,
        states: tuple[str, str],
        changes: dict[str, Any] | None = None,
        comment: str = "",
    ) -> None:
        """One history row, as ``core.services.audit_record`` writes it."""
        writer = self.events
        ev = writer.index
        row = writer.template.copy()
        row[ev["id"]] = self.take("event")
        row[ev["item_type"]] = ItemType.REQUEST.value
        row[ev["item_id"]] = request_id
        row[ev["actor_id"]] = actor_id
        row[ev["action"]] = action
        row[ev["from_status"]], row[ev["to_status"]] = states
        if changes:
            row[ev["changes"]] = writer.json("changes", changes)
        row[ev["comment"]] = comment
        row[ev["created_at"]] = writer.datetime(at)
        rows.events.append(row)

    def evaluation(
        self,
        rows: Rows,
        request_id: int,
        response: list[Any],
        author_user_id: int,
        at: dt.datetime,
        decision: str,
        rating: int | None,
        comment: str,
    ) -> None:
        """The author's evaluation of a sent answer: its ``Evaluation`` row, as the service
        writes it, and the answer's own columns that mirror it."""
        rs = self.responses.index
        response[rs["evaluation"]] = decision
        response[rs["evaluation_rating"]] = rating
        response[rs["evaluation_comment"]] = comment
        response[rs["evaluated_at"]] = self.responses.datetime(at)
        writer = self.evaluations
        ev = writer.index
        row = writer.template.copy()
        row[ev["id"]] = self.take("evaluation")
        row[ev["request_id"]] = request_id
        row[ev["response_id"]] = response[rs["id"]]
        row[ev["decision"]] = decision
        row[ev["rating"]] = rating
        row[ev["comment"]] = comment
        row[ev["by_id"]] = author_user_id
        row[ev["at"]] = writer.datetime(at)
        rows.evaluations.append(row)

    def response(
        self,
        rows: Rows,
        request_id: int,
        text: PoolText,
        kind: str,
        body: str,
        drafted: dt.datetime,
        sent: dt.datetime,
        outcome: str | None = None,
    ) -> list[Any]:
        """A sent answer (drafted by the officer, approved by the head) and its history."""
        writer = self.responses
        rs = writer.index
        response_id = self.take("response")
        row = writer.template.copy()
        row[rs["id"]] = response_id
        row[rs["request_id"]] = request_id
        row[rs["department_id"]] = text.lead_id
        row[rs["kind"]] = kind
        row[rs["text"]] = body
        row[rs["outcome"]] = outcome
        row[rs["status"]] = ResponseStatus.SENT.value
        row[rs["drafted_by_id"]] = text.officer_id
        row[rs["approved_by_id"]] = text.head_id
        row[rs["created_at"]] = writer.datetime(drafted)
        row[rs["sent_at"]] = writer.datetime(sent)
        rows.responses.append(row)
        working = (RequestStatus.IN_PROGRESS.value, RequestStatus.IN_PROGRESS.value)
        drafted_changes: dict[str, Any] = {"kind": kind, "response": response_id}
        if kind == ResponseKind.FINAL.value:
            drafted_changes["outcome"] = outcome
        self.event(
            rows, request_id, drafted, text.officer_id, "response_drafted", working, drafted_changes
        )
        if kind == ResponseKind.FINAL.value:
            self.event(
                rows,
                request_id,
                sent,
                text.head_id,
                "approve_final",
                (RequestStatus.IN_PROGRESS.value, RequestStatus.ANSWERED.value),
                {"outcome": outcome, "response": response_id},
            )
        else:
            self.event(
                rows,
                request_id,
                sent,
                text.head_id,
                "approve_interim",
                working,
                {"response": response_id},
            )
        return row

    def thread(
        self, rows: Rows, request_id: int, text: PoolText, start: dt.datetime, end: dt.datetime
    ) -> None:
        """A few messages between the author and the officer while the department works."""
        rng = self.rng
        span = (end - start).total_seconds()
        if span <= 0:
            return
        writer = self.messages
        ms = writer.index
        deputy_first = rng.random() < 0.7
        count = rng.choice((1, 2, 2, 3, 4))
        moments = sorted(start + dt.timedelta(seconds=span * rng.random()) for _ in range(count))
        for position, moment in enumerate(moments):
            by_deputy = (position % 2 == 0) == deputy_first
            phrases = DEPUTY_MESSAGES if by_deputy else OFFICER_MESSAGES
            row = writer.template.copy()
            row[ms["id"]] = self.take("message")
            row[ms["item_type"]] = ItemType.REQUEST.value
            row[ms["item_id"]] = request_id
            row[ms["author_id"]] = text.author_user_id if by_deputy else text.officer_id
            row[ms["text"]] = phrases[int(rng.random() * len(phrases))]
            row[ms["created_at"]] = writer.datetime(moment)
            rows.messages.append(row)

    def batch(
        self,
        indexes: range,
        count: int,
        texts: Sequence[PoolText],
        counters: dict[int, int],
    ) -> Rows:
        """The rows of requests ``indexes`` (of ``count``) and of what their lives left."""
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
        decline_reasons, withdraw_reasons = DECLINE_REASONS, WITHDRAW_REASONS
        low_comments = LOW_RATING_COMMENTS
        outcomes, outcome_weights = self.outcomes, self.outcome_weights
        outcome_total = outcome_weights[-1]
        draft_edge = DRAFT_SHARE
        decline_edge = draft_edge + DECLINE_SHARE
        withdraw_edge = decline_edge + WITHDRAW_SHARE
        draft, submitted_status = RequestStatus.DRAFT.value, RequestStatus.SUBMITTED.value
        working = RequestStatus.IN_PROGRESS.value
        answered_status, closed_status = RequestStatus.ANSWERED.value, RequestStatus.CLOSED.value
        staff_id = self.staff_id
        event = self.event
        rows = Rows()
        for index in indexes:
            # Spread evenly over the year in order, so numbers follow submission dates.
            submitted = first_moment + dt.timedelta(seconds=span * (index + random_()) / count)
            text = texts[int(random_() * len(texts))]
            author_id = text.author_user_id
            row = text.row.copy()
            request_id = self.take("request")
            row[rq["id"]] = request_id
            row[rq["created_at"]] = adapt_datetime(submitted - hour)
            updated = submitted
            rows.requests.append(row)
            event(rows, request_id, submitted - hour, author_id, "create", ("", draft))
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
            event(
                rows,
                request_id,
                submitted,
                author_id,
                "submit",
                (draft, submitted_status),
                {"number": label},
            )
            document = f"{label.lower()}\n{text.document}"
            published = row[rq["published_document"]] = f"{label.lower()}\n{text.published}"
            routed = submitted + hour * (2 + 70 * random_())
            if routed >= horizon or draw < withdraw_edge:
                if routed >= horizon:
                    row[rq["status"]] = submitted_status
                else:
                    declined = draw < decline_edge
                    row[rq["status"]] = status = (
                        RequestStatus.DECLINED.value if declined else RequestStatus.WITHDRAWN.value
                    )
                    reasons = decline_reasons if declined else withdraw_reasons
                    row[rq["status_reason"]] = reason = reasons[int(random_() * len(reasons))]
                    row[rq["closed_at"]] = adapt_datetime(routed)
                    updated = routed
                    event(
                        rows,
                        request_id,
                        routed,
                        staff_id if declined else author_id,
                        "decline" if declined else "withdraw",
                        (submitted_status, status),
                        comment=reason,
                    )
                row[rq["search_document"]] = document
                row[rq["updated_at"]] = adapt_datetime(updated)
                continue
            due, due_value, basis = self.due(routed.astimezone(tz).date())
            row[rq["lead_department_id"]] = text.lead_id
            row[rq["executor_id"]] = text.officer_id
            row[rq["routed_at"]] = adapt_datetime(routed)
            row[rq["due_date"]] = row[rq["original_due_date"]] = due_value
            row[rq["due_date_basis"]] = basis
            row[rq["status"]] = working
            event(
                rows,
                request_id,
                routed,
                staff_id,
                "route",
                (submitted_status, working),
                {
                    "due_date": due.isoformat(),
                    "co_departments": [],
                    "lead_department": text.lead_code,
                },
            )
            assigned = routed + hour / 2
            event(
                rows,
                request_id,
                assigned,
                text.head_id,
                "assign",
                (working, working),
                {"executor": [None, text.officer_username]},
            )
            updated = assigned
            mean, spread = text.pace
            days = max(2.0, gauss(mean, spread)) * 1.4  # working days → calendar days
            answered = routed + dt.timedelta(days=days)
            worked_until = min(answered, horizon)
            if random_() < REQUEST_RATED_SHARE and routed + hour * 30 < worked_until:
                rating_of_request = 2 + int(random_() * 4)
                row[rq["request_rating"]] = rating_of_request
                row[rq["request_rated_at"]] = adapt_datetime(routed + hour * 30)
                row[rq["request_rated_by_id"]] = text.officer_id
                event(
                    rows,
                    request_id,
                    routed + hour * 30,
                    text.officer_id,
                    "rate_request",
                    (working, working),
                    {"request_rating": rating_of_request},
                )
            if random_() < THREAD_SHARE:
                self.thread(rows, request_id, text, assigned + hour, worked_until - hour)
            if random_() < INTERIM_SHARE and worked_until - assigned > 4 * hour:
                interim_at = assigned + (worked_until - assigned) * 0.4
                language = text.content.language
                phrases = INTERIM_PROGRESS[language]
                body = INTERIM[language].format(
                    number=label,
                    progress=phrases[int(random_() * len(phrases))],
                    due=due.strftime("%d.%m.%Y"),
                )
                self.response(
                    rows,
                    request_id,
                    text,
                    ResponseKind.INTERIM.value,
                    body,
                    interim_at,
                    interim_at + hour,
                )
            if answered >= horizon:  # still in progress (overdue when past its due date)
                row[rq["search_document"]] = document
                row[rq["updated_at"]] = adapt_datetime(updated)
                continue
            outcome = outcomes[bisect(outcome_weights, random_() * outcome_total)]
            answer = text.answers[outcome]
            if random_() < self.rework_shares[outcome]:
                # A first answer the deputy returned for rework: its evaluation stays on it,
                # and the department's new deadline runs from the return.
                first_answer = routed + (answered - routed) * 0.45
                returned = routed + (answered - routed) * 0.6
                first = self.response(
                    rows,
                    request_id,
                    text,
                    ResponseKind.FINAL.value,
                    answer,
                    first_answer - 3 * hour,
                    first_answer,
                    outcome,
                )
                comment = REWORK_COMMENTS[int(random_() * len(REWORK_COMMENTS))]
                self.evaluation(
                    rows,
                    request_id,
                    first,
                    text.author_user_id,
                    returned,
                    "rework",
                    None,
                    comment,
                )
                new_due, new_due_value, _basis = self.due(returned.astimezone(tz).date())
                row[rq["due_date"]] = new_due_value
                event(
                    rows,
                    request_id,
                    returned,
                    author_id,
                    "rework",
                    (answered_status, working),
                    {"rating": None, "due_date": new_due.isoformat()},
                    comment,
                )
            evaluate_by = self.evaluation_due(answered.astimezone(tz).date())
            row[rq["status"]] = answered_status
            row[rq["answered_at"]] = adapt_datetime(answered)
            row[rq["outcome"]] = outcome
            row[rq["evaluation_due_date"]] = adapt_date(evaluate_by)
            updated = answered
            response = self.response(
                rows,
                request_id,
                text,
                ResponseKind.FINAL.value,
                answer,
                answered - 3 * hour,
                answered,
                outcome,
            )
            if outcome == Outcome.PLANNED:
                response[rs["planned_date"]] = adapt_date(due + dt.timedelta(days=120))
            rating: int | None = None
            if random_() < UNEVALUATED_SHARE:
                closed = year.at(evaluate_by + dt.timedelta(days=1), 6, 30)
            else:
                closed = answered + dt.timedelta(days=min(rng.expovariate(0.25), 13.0))
                cumulative = self.rating_weights[outcome]
                rating = bisect(cumulative, random_() * cumulative[-1]) + 1
            if closed < horizon:
                row[rq["status"]] = closed_status
                row[rq["closed_at"]] = closed_value = adapt_datetime(closed)
                updated = closed
                if rating is None:
                    event(
                        rows,
                        request_id,
                        closed,
                        None,
                        "auto_close",
                        (answered_status, closed_status),
                    )
                else:
                    comment = ""
                    row[rq["rating"]] = rating
                    row[rq["rated_at"]] = closed_value
                    if rating <= 2:
                        comment = low_comments[int(random_() * len(low_comments))]
                        row[rq["rating_comment"]] = comment
                    self.evaluation(
                        rows,
                        request_id,
                        response,
                        text.author_user_id,
                        closed,
                        "accept",
                        rating,
                        comment,
                    )
                    event(
                        rows,
                        request_id,
                        closed,
                        author_id,
                        "accept",
                        (answered_status, closed_status),
                        {"rating": rating, "outcome": outcome},
                        comment,
                    )
            row[rq["search_document"]] = f"{document}\n{text.answers_lower[outcome]}"
            if row[rq["status"]] == closed_status:  # the answer is public now
                row[rq["published_document"]] = f"{published}\n{text.answers_lower[outcome]}"
            row[rq["updated_at"]] = adapt_datetime(updated)
        return rows
