"""The demo year of deputy requests: ``seed_requests``, a step of ``manage.py seed_demo``.

About 500 requests (``figures_2023``: ">500 deputy requests" a year) filed by the demo
deputies over the year before today, each taken through its life by the same service
functions the pages and the API call: create → submit → route (or decline) → assign →
interim answer, extension, thread → final answer drafted and approved → evaluation
(accepted, returned for rework, or closed unevaluated by the daily sweep), with department
ratings of the requests, withdrawals and items left open at every state. Histories,
numbers, due dates and notifications are therefore the real ones.

How the year is replayed: every request gets a *plan* (``demo.request_plans``: content and
fate, drawn from ``context.rng("requests")`` only) and a generator that performs one
service call per step and yields the simulated moment of its next step. A heap runs the
steps of all requests in chronological order while ``django.utils.timezone.now`` is
patched to return the step's moment — ``timezone.localdate()`` and ``localtime()`` call
the module's ``now()``, and the ``auto_now``/``auto_now_add`` fields call
``timezone.now()`` too, so every timestamp, registration number, due date and
notification day is that of the simulated date. Steps falling on or after today's
midnight never run: that is what leaves drafts, submitted, in-progress (some overdue) and
answered items open "today". Midnight, not the current moment, so two runs on the same day
give the same year whatever the hour.

With ``--scale N`` (benchmarks) the first year goes through the services as above and the
other ``(N − 1) × 500`` requests are written in batches of 5,000 (see
``demo.request_bulk.BulkYear``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import heapq
import random
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from unittest import mock

from django.db.models import F
from django.utils.translation import gettext as _

from maslikhat.accounts.models import User
from maslikhat.core import workflow
from maslikhat.core.deadlines import max_extension_date
from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.items import ItemType
from maslikhat.core.notifications import Notification
from maslikhat.directory.models import Department
from requests_app import responses, services
from requests_app.models import DeputyRequest, Outcome, RequestStatus, Response, ResponseKind

from .clock import NOTIFICATIONS_UNREAD_DAYS, in_app_only
from .context import DemoContext
from .request_bulk import BulkYear
from .request_corpus import (
    ANSWER_INTRO,
    ANSWER_INTRO_AGAIN,
    CATEGORY_ANSWERS,
    DECLINE_REASONS,
    DEPUTY_MESSAGES,
    EVALUATION_DAYS_MEAN,
    EXTENSION_APPROVALS,
    EXTENSION_APPROVED_SHARE,
    EXTENSION_REASONS,
    EXTENSION_REJECTIONS,
    EXTENSION_SHARE,
    EXTENSION_SHARE_IF_LATE,
    FAST_DEPARTMENTS,
    FAST_TILT,
    FORMAL_DEPARTMENTS,
    FORMAL_TILT,
    HEAD_RETURNS,
    HEAD_RETURNS_SHARE,
    HIGH_RATING_COMMENTS,
    INTERIM,
    INTERIM_PROGRESS,
    INTERIM_SHARE,
    INTERIM_SHARE_IF_SLOW,
    LOW_RATING_COMMENTS,
    MIDDLE_RATING_COMMENTS,
    OFFICER_MESSAGES,
    OUTCOME_WEIGHTS,
    PACE,
    PARTIAL_INTRO,
    PLANNED_DEADLINE,
    PLANNED_INTRO,
    RATING_WEIGHTS,
    REDIRECT_REASONS,
    REQUEST_RATED_SHARE,
    REQUEST_RATING_GOOD,
    REQUEST_RATING_LOW,
    RESOLVED_INTRO,
    REWORK_COMMENTS,
    REWORK_ROUND_TILT,
    REWORK_SHARE,
    SIGNATURE,
    SLOW_DEPARTMENTS,
    STALLED_DELAY,
    THREAD_SHARE,
    UNEVALUATED_SHARE,
    WITHDRAW_REASONS,
    pace_of,
    requests_per_year,
    weighted,
)
from .request_plans import Content, Fate, Plan, RequestYearPlanner, Steps

#: What a demo head writes when the draft is close to an answer the department sent before.
BOILERPLATE_COMMENT = "Ответ типовой, но факты и сроки проверены именно по этому запросу."


def _approve(pk: int, response_id: int, head: User) -> DeputyRequest:
    """The head approves a draft; one close to an earlier answer gets the head's comment."""
    try:
        return services.deputy_request_response_approve(pk=pk, response_id=response_id, by=head)
    except ValidationFailed as exc:
        if exc.field != "boilerplate_comment":
            raise
        return services.deputy_request_response_approve(
            pk=pk, response_id=response_id, by=head, boilerplate_comment=BOILERPLATE_COMMENT
        )


class DemoYear(RequestYearPlanner):
    """Replays the planned demo year of requests through the services."""

    # --- Replay -------------------------------------------------------------------------

    def replay(self, plans: Sequence[Plan]) -> None:
        """Run every plan's steps in chronological order on the simulated clock."""
        heap: list[tuple[dt.datetime, int, Steps]] = [
            (plan.created, plan.index, self.lifecycle(plan)) for plan in plans
        ]
        heapq.heapify(heap)
        with (
            mock.patch("django.utils.timezone.now", self.clock),
            mock.patch.object(services, "notify", in_app_only(services.notify)),
            mock.patch.object(responses, "notify", in_app_only(responses.notify)),
            mock.patch.object(workflow, "notify", in_app_only(workflow.notify)),
        ):
            while heap:
                moment, index, steps = heapq.heappop(heap)
                if moment >= self.horizon:
                    steps.close()  # today or later: the request stays as it is
                    continue
                self.clock.set(moment)
                try:
                    following = next(steps)
                except StopIteration:
                    continue
                following = max(following, moment + dt.timedelta(minutes=1))
                heapq.heappush(heap, (following, index, steps))

    def head(self, department: Department) -> User:
        return self.heads[department.code]

    def officer(self, department: Department) -> User:
        return self.executors[department.code]

    def lifecycle(self, plan: Plan) -> Steps:
        """One request's life: each ``yield`` is the moment of its next step."""
        rng = plan.rng
        content = plan.content
        author = content.author.user
        item = services.deputy_request_create(
            by=author,
            title=content.title,
            body=content.body,
            category=content.category,
            proposed_solution=content.solution,
            district=content.district,
            address=content.address,
            is_public=content.is_public,
            co_authors=content.co_authors,
            suggested_departments=content.suggested,
        )
        pk = item.pk
        if plan.fate == Fate.DRAFT:
            return

        submit_days = 0 if plan.simple else rng.choice((0, 0, 0, 1, 1, 2))
        yield self.deputy_after(rng, self.now, submit_days)
        item = services.deputy_request_submit(pk=pk, by=author)
        if plan.stop_after == "submitted":
            return
        if plan.fate == Fate.WITHDRAWN and plan.withdraw_stage == "submitted":
            yield self.deputy_after(rng, self.now, rng.choice((0, 1)))
            services.deputy_request_withdraw(pk=pk, by=author, reason=rng.choice(WITHDRAW_REASONS))
            return

        lead = content.lead
        if item.status == RequestStatus.SUBMITTED:
            yield self.office_after(rng, self.now, rng.choice((0, 1, 1, 1, 2, 2, 3)))
            if plan.fate == Fate.DECLINED:
                services.deputy_request_decline(
                    pk=pk, by=self.staff, reason=rng.choice(DECLINE_REASONS)
                )
                return
            if plan.misroute is not None:
                services.deputy_request_route(pk=pk, by=self.staff, lead_department=plan.misroute)
                yield self.office_after(rng, self.now, rng.choice((1, 1, 2, 3)))
                services.deputy_request_redirect(
                    pk=pk, by=self.officer(plan.misroute), reason=rng.choice(REDIRECT_REASONS)
                )
                yield self.office_after(rng, self.now, rng.choice((0, 1, 1)))
            item = services.deputy_request_route(
                pk=pk,
                by=self.staff,
                lead_department=lead,
                co_departments=content.co_departments,
            )
        else:  # staff switched on automatic routing for the category
            lead = self.departments_by_id.get(item.lead_department_id or 0, lead)
        yield from self.work(plan, item, lead)

    def work(self, plan: Plan, item: DeputyRequest, lead: Department) -> Steps:
        """From routing to the end: assignment, the answers and their evaluation."""
        rng = plan.rng
        pk = item.pk
        author = plan.content.author.user
        head, officer = self.head(lead), self.officer(lead)
        number = item.number or ""
        submitted = self.local(item.submitted_at or self.now).date()

        yield self.office_after(rng, self.now, rng.choice((0, 0, 1, 1, 2)))
        services.deputy_request_assign(pk=pk, by=head, executor=officer)
        if plan.stop_after == "assigned":
            return

        for round_number in range(3):
            assert item.due_date is not None and item.original_due_date is not None
            start = self.now
            due = item.due_date
            answer_day = self.working_days_after(
                start.date(), self.answer_delay(plan, lead, round_number)
            )

            # Extension: asked a few working days before the due date.
            ask: dt.datetime | None = None
            late = answer_day > due
            if not plan.simple and round_number == 0 and plan.fate != Fate.STALLED:
                share = EXTENSION_SHARE_IF_LATE if late else EXTENSION_SHARE
                if rng.random() < share:
                    ask_day = max(
                        self.working_days_before(due, rng.randint(1, 4)),
                        self.working_days_after(start.date(), 1),
                    )
                    if ask_day < answer_day and ask_day < due:
                        ask = self.office_time(rng, ask_day)

            answer_at = self.office_time(rng, answer_day)
            window_end = ask or answer_at
            events = self.sprinkle(
                plan, item, start, window_end, first=round_number == 0, slow=late or ask is not None
            )
            last = start
            for moment, _order, action, name in sorted(events, key=lambda e: (e[0], e[1])):
                moment = max(moment, last + dt.timedelta(minutes=5))
                yield moment
                last = moment
                action()
                if name == "withdraw":
                    return

            if ask is not None:
                ask = max(ask, last + dt.timedelta(minutes=5))
                yield ask
                limit = max_extension_date(
                    rule=self.request_rule, original_due=item.original_due_date
                )
                new_due = min(self.working_days_after(due, rng.choice((5, 10, 10, 15, 20))), limit)
                extension = services.deputy_request_extension_ask(
                    pk=pk, by=officer, new_due_date=new_due, reason=rng.choice(EXTENSION_REASONS)
                )
                yield self.office_after(rng, self.now, rng.choice((0, 1, 1, 2)))
                approve = rng.random() < EXTENSION_APPROVED_SHARE
                item = services.deputy_request_extension_decide(
                    pk=pk,
                    extension_id=extension.pk,
                    by=self.staff,
                    approve=approve,
                    comment=rng.choice(EXTENSION_APPROVALS if approve else EXTENSION_REJECTIONS),
                )
                last = self.now
                if approve and answer_day > new_due and rng.random() < 0.8:
                    answer_day = self.working_days_before(new_due, rng.randint(0, 2))
                elif not approve and rng.random() < 0.5:
                    answer_day = min(
                        answer_day, self.working_days_after(last.date(), rng.randint(1, 4))
                    )
                answer_day = max(answer_day, self.working_days_after(last.date(), 1))
                answer_at = self.office_time(rng, answer_day)

            # The final answer: drafted by the officer, signed (approved) by the head.
            outcome = self.outcome(rng, lead, round_number)
            planned_date = (
                self.planned_date(rng, plan, answer_day) if outcome == Outcome.PLANNED else None
            )
            text = self.answer_text(
                plan, number, submitted, outcome, planned_date, officer, again=round_number > 0
            )
            yield max(answer_at, last + dt.timedelta(minutes=5))
            response = services.deputy_request_respond(
                pk=pk,
                by=officer,
                kind=ResponseKind.FINAL,
                text=text,
                outcome=outcome,
                planned_date=planned_date,
            )
            if not plan.simple and rng.random() < HEAD_RETURNS_SHARE:
                yield self.office_after(rng, self.now, 0)
                services.deputy_request_response_return(
                    pk=pk, response_id=response.pk, by=head, comment=rng.choice(HEAD_RETURNS)
                )
                yield self.office_after(rng, self.now, 1)
                response = services.deputy_request_respond(
                    pk=pk,
                    by=officer,
                    kind=ResponseKind.FINAL,
                    text=text,
                    outcome=outcome,
                    planned_date=planned_date,
                )
            yield self.office_after(rng, self.now, rng.choice((0, 0, 0, 1)))
            item = _approve(pk, response.pk, head)
            if plan.stop_after == "answered":
                return

            # The deputy evaluates within the evaluation period, or the daily sweep closes it.
            assert item.evaluation_due_date is not None
            evaluate_by = item.evaluation_due_date
            answered = self.now
            if rng.random() < UNEVALUATED_SHARE:
                sweep = self.at(evaluate_by + dt.timedelta(days=1), 6, 30)
                yield sweep
                services.deputy_request_auto_close(pk=pk, today=sweep.date())
                return
            span = max((evaluate_by - answered.date()).days, 0)
            day_offset = min(int(rng.expovariate(1 / EVALUATION_DAYS_MEAN)), span)
            moment = self.deputy_after(rng, answered, day_offset)
            if moment.date() > evaluate_by:
                moment = answered + dt.timedelta(minutes=rng.randint(30, 300))
            yield moment
            rework_share = REWORK_SHARE[Outcome(outcome)] * (1.0 if round_number == 0 else 0.3)
            if round_number < 2 and rng.random() < rework_share:
                item = services.deputy_request_evaluate(
                    pk=pk, by=author, decision="rework", comment=rng.choice(REWORK_COMMENTS)
                )
                continue
            rating = self.rating(rng, outcome, lead)
            comment = ""
            if rating <= 2:
                comment = rng.choice(LOW_RATING_COMMENTS)
            elif rating == 3 and rng.random() < 0.3:
                comment = rng.choice(MIDDLE_RATING_COMMENTS)
            elif rating >= 4 and rng.random() < 0.25:
                comment = rng.choice(HIGH_RATING_COMMENTS)
            final_outcome = (
                Outcome.NOT_RESOLVED if outcome == Outcome.REFUSED and rng.random() < 0.7 else None
            )
            services.deputy_request_evaluate(
                pk=pk,
                by=author,
                decision="accept",
                rating=rating,
                comment=comment,
                outcome=final_outcome,
            )
            return

    def sprinkle(
        self,
        plan: Plan,
        item: DeputyRequest,
        start: dt.datetime,
        end: dt.datetime,
        *,
        first: bool,
        slow: bool,
    ) -> list[tuple[dt.datetime, int, Callable[[], object], str]]:
        """The optional steps while the department works, as (moment, order, action, name):
        the department's rating of the request, thread messages, an interim answer, and the
        author's withdrawal."""
        rng = plan.rng
        content = plan.content
        pk = item.pk
        author = content.author.user
        lead = self.departments_by_id.get(item.lead_department_id or 0, content.lead)
        head, officer = self.head(lead), self.officer(lead)
        events: list[tuple[dt.datetime, int, Callable[[], object], str]] = []

        def add(moment: dt.datetime | None, action: Callable[[], object], name: str) -> None:
            if moment is not None:
                events.append((moment, len(events), action, name))

        if plan.fate == Fate.WITHDRAWN and plan.withdraw_stage == "in_progress":
            reason = rng.choice(WITHDRAW_REASONS)
            add(
                self.between(rng, start, end, office=False),
                lambda: services.deputy_request_withdraw(pk=pk, by=author, reason=reason),
                "withdraw",
            )
        if plan.simple:
            return events

        if first and rng.random() < REQUEST_RATED_SHARE:
            rating = self.request_rating(rng, content)
            comment = ""
            if rating <= 2:
                comment = rng.choice(REQUEST_RATING_LOW)
            elif rating == 5 and rng.random() < 0.4:
                comment = rng.choice(REQUEST_RATING_GOOD)
            rater = officer if rng.random() < 0.7 else head
            add(
                self.between(rng, start, end, office=True),
                lambda: services.deputy_request_rate_request(
                    pk=pk, by=rater, rating=rating, comment=comment
                ),
                "rate",
            )

        if first and rng.random() < THREAD_SHARE:
            deputy_first = rng.random() < 0.7
            writers = [
                (author, DEPUTY_MESSAGES)
                if (i % 2 == 0) == deputy_first
                else (officer, OFFICER_MESSAGES)
                for i in range(rng.choice((1, 2, 2, 3, 4)))
            ]
            moments = sorted(
                m
                for m in (self.between(rng, start, end, office=True) for _writer in writers)
                if m is not None
            )
            for moment, (writer, phrases) in zip(moments, writers, strict=False):
                text = rng.choice(phrases)
                post = functools.partial(
                    services.deputy_request_message_post, pk=pk, by=writer, text=text
                )
                add(moment, post, "message")

        if rng.random() < (INTERIM_SHARE_IF_SLOW if slow else INTERIM_SHARE):
            interim_at = self.between(rng, start, end, office=True)
            if interim_at is not None and item.due_date is not None:
                language = content.language
                text = INTERIM[language].format(
                    number=item.number,
                    progress=rng.choice(INTERIM_PROGRESS[language]),
                    due=item.due_date.strftime("%d.%m.%Y"),
                )
                drafted: list[Response] = []
                add(
                    interim_at,
                    lambda: drafted.append(
                        services.deputy_request_respond(
                            pk=pk, by=officer, kind=ResponseKind.INTERIM, text=text
                        )
                    ),
                    "interim",
                )
                add(
                    interim_at + dt.timedelta(minutes=rng.randint(30, 150)),
                    lambda: _approve(pk, drafted[0].pk, head),
                    "interim",
                )
        return events

    # --- Department behaviour -----------------------------------------------------------

    def answer_delay(self, plan: Plan, lead: Department, round_number: int) -> int:
        """Working days from routing (or rework) to the approved final answer."""
        rng = plan.rng
        if plan.forced_delay is not None:
            return plan.forced_delay
        if plan.fate == Fate.STALLED and round_number == 0:
            return rng.randint(*STALLED_DELAY)
        mean, spread = PACE[pace_of(lead)]
        if round_number > 0:  # a returned answer is redone faster
            mean, spread = mean * 0.6, spread * 0.6
        return max(2, round(rng.gauss(mean, spread)))

    def outcome(self, rng: random.Random, lead: Department, round_number: int) -> str:
        weights = {outcome: float(weight) for outcome, weight in OUTCOME_WEIGHTS.items()}
        tilts: list[dict[Outcome, float]] = []
        if lead.code in FORMAL_DEPARTMENTS:
            tilts.append(FORMAL_TILT)
        if lead.code in FAST_DEPARTMENTS:
            tilts.append(FAST_TILT)
        if round_number > 0:
            tilts.append(REWORK_ROUND_TILT)
        for tilt in tilts:
            for outcome, factor in tilt.items():
                weights[outcome] *= factor
        return str(weighted(rng, weights))

    def rating(self, rng: random.Random, outcome: str, lead: Department) -> int:
        weights = RATING_WEIGHTS[Outcome(outcome)]
        rating = int(rng.choices((1, 2, 3, 4, 5), weights=weights)[0])
        if lead.code in SLOW_DEPARTMENTS and rating > 1 and rng.random() < 0.25:
            rating -= 1  # deputies remember the wait
        return rating

    def request_rating(self, rng: random.Random, content: Content) -> int:
        """The department's 1–5 rating of the request's quality."""
        score = 3.0 + (0.9 if content.solution else -0.6) + (0.4 if content.address else -0.3)
        return max(1, min(5, round(rng.gauss(score, 0.9))))

    def answer_core(
        self,
        rng: random.Random,
        content: Content,
        outcome: str,
        planned_date: dt.date | None,
    ) -> str:
        """What the final answer says about the problem, for the claimed ``outcome``."""
        language = content.language
        fields = content.fields
        problem = content.problem
        answers = CATEGORY_ANSWERS["kk" if language == "kk" else content.category.code]
        if outcome == Outcome.RESOLVED:
            return f"{RESOLVED_INTRO[language]} {problem.done.format_map(fields)}."
        if outcome == Outcome.PARTIALLY_RESOLVED:
            return (
                f"{PARTIAL_INTRO[language]} {problem.done.format_map(fields)}. "
                f"{answers.partial.format_map(fields)}"
            )
        if outcome == Outcome.PLANNED:
            core = f"{PLANNED_INTRO[language]} {problem.planned.format_map(fields)}."
            if planned_date is None:
                return core
            deadline = PLANNED_DEADLINE[language].format(date=planned_date.strftime("%d.%m.%Y"))
            return f"{core} {deadline}"
        if outcome == Outcome.EXPLAINED:
            return str(rng.choice(answers.explained).format_map(fields))
        return str(rng.choice(answers.refused).format_map(fields))

    def signature(self, language: str, officer: User) -> str:
        digits = f"{zlib.crc32(officer.username.encode()) % 1_000_000:06d}"  # one per officer
        phone = f"8 (727) 2{digits[:2]}-{digits[2:4]}-{digits[4:]}"
        return SIGNATURE[language].format(name=officer.full_name, phone=phone)

    def answer_text(
        self,
        plan: Plan,
        number: str,
        submitted: dt.date,
        outcome: str,
        planned_date: dt.date | None,
        officer: User,
        *,
        again: bool = False,
    ) -> str:
        """The final answer; ``again``: the answer after the deputy returned the first one."""
        rng = plan.rng
        language = plan.content.language
        intro = (ANSWER_INTRO_AGAIN if again else ANSWER_INTRO)[language]
        return " ".join(
            (
                intro.format(number=number, date=submitted.strftime("%d.%m.%Y")),
                self.answer_core(rng, plan.content, outcome, planned_date),
                self.signature(language, officer),
            )
        )

    def planned_date(self, rng: random.Random, plan: Plan, answer_day: dt.date) -> dt.date:
        """When planned work is to be done: in the year the answer speaks of, after the answer."""
        year = int(plan.content.fields["year"])
        month = rng.randint(5, 11)
        planned = dt.date(year, month, calendar.monthrange(year, month)[1])
        if planned < answer_day + dt.timedelta(days=30):
            planned = answer_day + dt.timedelta(days=rng.randint(45, 150))
        return planned

    # --- After the replay ---------------------------------------------------------------

    def settle_notifications(self) -> None:
        """The notifications of a year of history: never e-mailed, read unless recent.

        ``in_app_only`` already created them with ``send_email=False``; the update is the
        guarantee that the daily sweep finds nothing of the demo year to e-mail.
        """
        notifications = Notification.objects.filter(item_type=ItemType.REQUEST)
        notifications.filter(send_email=True, emailed_at__isnull=True).update(send_email=False)
        recent = self.horizon - dt.timedelta(days=NOTIFICATIONS_UNREAD_DAYS)
        notifications.filter(read_at__isnull=True, created_at__lt=recent).update(
            read_at=F("created_at")
        )

    def summary(self, *, seconds: float) -> str:
        rows = list(
            DeputyRequest.objects.values_list("status", "due_date", "answered_at", "is_public")
        )
        by_status = Counter(status for status, *_rest in rows)
        overdue = sum(
            1
            for status, due, _answered, _public in rows
            if status == RequestStatus.IN_PROGRESS and due is not None and due < self.today
        )
        late = sum(
            1
            for _status, due, answered, _public in rows
            if answered is not None and due is not None and self.local(answered).date() > due
        )
        public = sum(1 for *_rest, is_public in rows if is_public)
        states = ", ".join(
            f"{status} {by_status[status]}"
            + (f" (overdue {overdue})" if status == RequestStatus.IN_PROGRESS else "")
            for status in (
                RequestStatus.CLOSED,
                RequestStatus.IN_PROGRESS,
                RequestStatus.ANSWERED,
                RequestStatus.SUBMITTED,
                RequestStatus.DRAFT,
                RequestStatus.DECLINED,
                RequestStatus.WITHDRAWN,
            )
        )
        return _(
            "Requests: %(total)d (%(states)s); answered late %(late)d, public %(public)d; "
            "%(seconds).1f s through the services."
        ) % {
            "total": len(rows),
            "states": states,
            "late": late,
            "public": public,
            "seconds": seconds,
        }


# --- The benchmark volume ---------------------------------------------------------------------


# --- The step -------------------------------------------------------------------------------


def seed_requests(context: DemoContext) -> str:
    """The demo year of deputy requests (a ``seed_demo`` step); skipped when requests exist."""
    existing = DeputyRequest.objects.count()
    if existing:
        return _("Requests: %(count)d already in the database, the demo year was not added.") % {
            "count": existing
        }
    started = time.perf_counter()
    year = DemoYear(context, count=requests_per_year())
    year.replay(year.plans())
    year.settle_notifications()
    line = year.summary(seconds=time.perf_counter() - started)
    if context.scale > 1:
        count, rows, seconds = BulkYear(year).run((context.scale - 1) * year.count)
        line += " " + _(
            "Benchmark volume: %(count)d more requests in bulk, %(rows)d rows in %(seconds).1f s "
            "(%(rate)d rows/s)."
        ) % {
            "count": count,
            "rows": rows,
            "seconds": seconds,
            "rate": int(rows / seconds) if seconds else 0,
        }
    return line
