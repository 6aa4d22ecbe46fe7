"""The promises of the demo year in every state: ``seed_promises``, a step of ``seed_demo``.

A final answer with the outcome "planned" becomes a promise when the head approves it (the
``final_answer_sent`` signal), so the demo year of requests leaves every promise open. This
step gives them the lives a year leaves: departments report the work done and the deputies
confirm the report (kept) or dispute it (awaiting council staff, or decided by them: kept
or broken); departments move dates with a reason (rescheduled); recent reports await the
deputy's verdict; the rest stay open — overdue when past their date. Every change goes
through the ``commitments`` services on the simulated clock of the demo year, so reports,
verdicts and the request's history carry plausible past dates, never today's.

Who gets which state is drawn from ``context.rng("promises")``, with one promise of each
state first (on a published request too, so the public pages show them), spread over the
departments (and so the districts' akimats) by taking them in turn.

The promises of answers written in bulk (``seed_demo --scale N``) are made afterwards by
the set-based ``commitments_create_missing`` and given their states set-based too
(``demo.promise_bulk``).

Safe to run twice: once any promise has a report or a moved date, the step adds nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from unittest import mock

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments import services
from commitments.models import ACTIVE_STATES, Commitment, CommitmentState, Verdict
from maslikhat.accounts.models import User
from maslikhat.core.items import ItemType
from maslikhat.core.notifications import Notification, notify
from requests_app.models import RequestStatus, Response, ResponseKind, ResponseStatus

from .clock import NOTIFICATIONS_UNREAD_DAYS, in_app_only
from .context import DemoContext
from .data import load, strings
from .promise_bulk import bulk_promises
from .request_corpus import weighted
from .request_plans import RequestYearPlanner

_TEXTS = load("promises")
REPORTS = {language: strings(texts) for language, texts in _TEXTS["reports"].items()}
RESCHEDULE_REASONS = {
    language: strings(texts) for language, texts in _TEXTS["reschedule_reasons"].items()
}
CONFIRM_COMMENTS = strings(_TEXTS["confirm_comments"])
DISPUTE_COMMENTS = strings(_TEXTS["dispute_comments"])
RESOLVE_KEPT = strings(_TEXTS["resolve_kept"])
RESOLVE_BROKEN = strings(_TEXTS["resolve_broken"])
STATE_WEIGHTS: dict[str, dict[str, float]] = {
    pool: {fate: float(weight) for fate, weight in weights.items()}
    for pool, weights in _TEXTS["state_weights"].items()
}

KAZAKH_LETTERS = re.compile("[әғқңөұүһі]", re.IGNORECASE)


class Fate:
    """What the demo year leaves a promise in (``overdue``/``open``: nothing happens)."""

    OPEN = "open"  # not yet due
    OVERDUE = "overdue"  # past its date, no report
    REPORTED = "reported"  # reported recently, awaiting the deputy's verdict
    KEPT = "kept"  # reported, confirmed by the deputy
    KEPT_BY_STAFF = "kept_by_staff"  # reported, disputed, staff found it kept
    DISPUTED = "disputed"  # reported, disputed, awaiting staff
    BROKEN = "broken"  # reported, disputed, staff found it not kept
    RESCHEDULED = "rescheduled"  # the department moved the date, with a reason


#: One promise of each of these first (the pages show every state at once).
SHOWN_FATES = (
    Fate.OVERDUE,
    Fate.OPEN,
    Fate.REPORTED,
    Fate.KEPT,
    Fate.DISPUTED,
    Fate.BROKEN,
    Fate.RESCHEDULED,
)

#: A service call of a promise's life at its simulated moment.
Call = tuple[dt.datetime, Callable[[], object]]

#: The order a published request gets them in (there are few published promises).
PUBLIC_FIRST = (
    Fate.KEPT,
    Fate.BROKEN,
    Fate.OVERDUE,
    Fate.RESCHEDULED,
    Fate.DISPUTED,
    Fate.REPORTED,
    Fate.OPEN,
)

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


@dataclass
class Candidate:
    """An open promise of the demo year and what it needs for each fate."""

    commitment: Commitment
    past_due: bool
    public: bool
    can_move_ahead: bool  # its date can be moved past today within the rule's limit
    settled: bool  # made long enough ago for a report, a verdict and staff's decision

    def fits(self, fate: str) -> bool:
        if fate in (Fate.KEPT, Fate.KEPT_BY_STAFF, Fate.DISPUTED, Fate.BROKEN):
            return self.settled
        if fate == Fate.OVERDUE:
            return self.past_due
        if fate == Fate.OPEN:
            return not self.past_due
        if fate == Fate.RESCHEDULED:
            return self.can_move_ahead
        return True


@dataclass(order=True)
class Step:
    moment: dt.datetime
    order: int
    action: Callable[[], object] = field(compare=False)


class PromiseYear:
    """Plans and replays the lives of the demo year's promises."""

    def __init__(self, context: DemoContext) -> None:
        self.context = context
        self.rng = context.rng("promises")
        # The demo year's calendar and clock (its own generator: drawing here changes nothing
        # of the requests).
        self.time = RequestYearPlanner(context, count=0)
        self.today = self.time.today
        self.horizon = self.time.horizon
        self.staff = context.directory.staff
        self.heads = context.directory.heads
        self.executors = context.directory.executors

    # --- Choosing -----------------------------------------------------------------------

    def candidates(self) -> list[Candidate]:
        """Open promises of answers still standing (not returned for rework), by number."""
        later_answer = Response.objects.filter(
            request_id=OuterRef("request_id"),
            kind=ResponseKind.FINAL,
            status=ResponseStatus.SENT,
            sent_at__gt=OuterRef("response__sent_at"),
        )
        rows = (
            Commitment.objects.filter(state=CommitmentState.OPEN, reported_at__isnull=True)
            .exclude(response__evaluation="rework")
            .exclude(Exists(later_answer))
            .select_related("request", "request__author__user", "department")
            .order_by("request__number", "pk")
        )
        candidates = []
        for commitment in rows:
            if commitment.department.code not in self.executors:
                continue
            limit = services.reschedule_limit(commitment)
            age = self.horizon - self.local(commitment.created_at)
            candidates.append(
                Candidate(
                    commitment=commitment,
                    past_due=commitment.due_date < self.today,
                    public=commitment.request.is_public
                    and commitment.request.status == RequestStatus.CLOSED,
                    can_move_ahead=limit > self.today + 30 * DAY and age > 10 * DAY,
                    settled=age > 10 * DAY,
                )
            )
        return candidates

    def in_turn(self, candidates: list[Candidate]) -> list[Candidate]:
        """Shuffled, then one department after another (the states spread over them)."""
        self.rng.shuffle(candidates)
        queues: dict[int, list[Candidate]] = {}
        for candidate in candidates:
            queues.setdefault(candidate.commitment.department_id, []).append(candidate)
        ordered: list[Candidate] = []
        while queues:
            for department_id in list(queues):
                ordered.append(queues[department_id].pop(0))
                if not queues[department_id]:
                    del queues[department_id]
        return ordered

    def assign(self, candidates: list[Candidate]) -> list[tuple[Candidate, str]]:
        """Each candidate's fate: every shown state first (once on a published request
        too, where there is one), the rest by the weights of ``promises.json``."""
        pool = self.in_turn(candidates)
        fates: dict[int, str] = {}
        used_departments: set[int] = set()

        def pick(fate: str, *, public: bool) -> None:
            fitting = [
                c
                for c in pool
                if c.commitment.pk not in fates and c.fits(fate) and (c.public or not public)
            ]
            fresh = [c for c in fitting if c.commitment.department_id not in used_departments]
            if fresh or fitting:
                chosen = (fresh or fitting)[0]
                fates[chosen.commitment.pk] = fate
                used_departments.add(chosen.commitment.department_id)

        for fate in PUBLIC_FIRST:
            pick(fate, public=True)
        for fate in SHOWN_FATES:
            pick(fate, public=False)
        for candidate in pool:
            if candidate.commitment.pk in fates:
                continue
            weights = STATE_WEIGHTS["past_due" if candidate.past_due else "not_due"]
            fitting = {fate: w for fate, w in weights.items() if candidate.fits(fate)}
            fates[candidate.commitment.pk] = str(weighted(self.rng, fitting))
        return [(candidate, fates[candidate.commitment.pk]) for candidate in pool]

    # --- Planning the moments -----------------------------------------------------------

    def local(self, moment: dt.datetime) -> dt.datetime:
        return self.time.local(moment)

    def office_between(self, after: dt.datetime, before: dt.datetime) -> dt.datetime:
        """A moment in office hours between the two if there is one, else in between."""
        moment = self.time.between(self.rng, after, before, office=True)
        return moment or after + (before - after) / 2

    def before_today(self, moment: dt.datetime, after: dt.datetime) -> dt.datetime:
        """``moment``, or a moment between ``after`` and today's midnight if it is not past."""
        if moment < self.horizon and moment > after:
            return moment
        return after + (self.horizon - after) * self.rng.uniform(0.3, 0.7)

    def report_moment(self, commitment: Commitment, *, recent: bool, room: int) -> dt.datetime:
        """When the department reports: near the promised date (early for one not yet due),
        with ``room`` days left for the deputy and staff; ``recent``: in the last days."""
        rng = self.rng
        created = self.local(commitment.created_at)
        if recent:
            return self.office_between(
                max(created + HOUR, self.horizon - 12 * DAY), self.horizon - HOUR
            )
        earliest = created + min(14 * DAY, (self.horizon - created) * 0.3)
        latest = max(self.horizon - room * DAY, earliest + HOUR)
        day = commitment.due_date - dt.timedelta(days=rng.randint(0, 25))
        target = self.time.office_time(rng, self.time.working_day_on_or_after(day))
        if target < earliest or target > latest:
            target = self.office_between(earliest, latest)
        return target

    def reporter(self, commitment: Commitment) -> User:
        code = commitment.department.code
        return self.executors[code] if self.rng.random() < 0.75 else self.heads[code]

    def language(self, commitment: Commitment) -> str:
        return "kk" if KAZAKH_LETTERS.search(commitment.request.title) else "ru"

    def steps(self, candidate: Candidate, fate: str) -> Iterator[Call]:
        """The service calls of one promise's life, as (moment, call)."""
        rng = self.rng
        commitment = candidate.commitment
        pk = commitment.pk
        author = commitment.request.author.user
        language = self.language(commitment)
        if fate in (Fate.OPEN, Fate.OVERDUE):
            return
        if fate == Fate.RESCHEDULED:
            yield from self.reschedule_steps(commitment, language)
            return

        reported = self.report_moment(
            commitment, recent=fate == Fate.REPORTED, room=20 if fate != Fate.KEPT else 10
        )
        reporter, report = self.reporter(commitment), rng.choice(REPORTS[language])
        yield reported, lambda: services.commitment_report(pk=pk, by=reporter, text=report)
        if fate == Fate.REPORTED:
            return
        verdict_at = self.before_today(
            self.time.deputy_after(rng, reported, rng.randint(1, 6)), reported
        )
        if fate == Fate.KEPT:
            comment = rng.choice(CONFIRM_COMMENTS) if rng.random() < 0.4 else ""
            yield verdict_at, lambda: services.commitment_confirm(pk=pk, by=author, comment=comment)
            return
        objection = rng.choice(DISPUTE_COMMENTS)
        yield verdict_at, lambda: services.commitment_dispute(pk=pk, by=author, comment=objection)
        if fate == Fate.DISPUTED:
            return
        decided = self.before_today(
            self.time.office_after(rng, verdict_at, rng.randint(2, 8)), verdict_at
        )
        kept = fate == Fate.KEPT_BY_STAFF
        note = rng.choice(RESOLVE_KEPT if kept else RESOLVE_BROKEN)
        staff = self.staff
        yield decided, lambda: services.commitment_resolve(pk=pk, by=staff, kept=kept, comment=note)

    def reschedule_steps(self, commitment: Commitment, language: str) -> Iterator[Call]:
        """The department moves the date a little before it (or soon after it passed), to
        the end of a month past today within the rule's limit."""
        rng = self.rng
        created = self.local(commitment.created_at)
        earliest = created + min(14 * DAY, (self.horizon - created) * 0.3)
        day = commitment.due_date - dt.timedelta(days=rng.randint(-10, 20))
        moment = self.time.office_time(rng, self.time.working_day_on_or_after(day))
        if not earliest < moment < self.horizon - HOUR:
            moment = self.office_between(earliest, self.horizon - HOUR)
        limit = services.reschedule_limit(commitment)
        first = max(self.today + dt.timedelta(days=20), commitment.due_date + dt.timedelta(days=14))
        new_due = first + (limit - first) * rng.uniform(0.2, 0.9) if first < limit else limit
        head, reason = (
            self.heads[commitment.department.code],
            rng.choice(RESCHEDULE_REASONS[language]),
        )
        yield (
            moment,
            lambda: services.commitment_reschedule(
                pk=commitment.pk, by=head, new_due_date=new_due, reason=reason
            ),
        )

    # --- Replay ---------------------------------------------------------------------------

    def replay(self, fates: list[tuple[Candidate, str]]) -> None:
        """Every promise's service calls in chronological order on the simulated clock."""
        steps = sorted(
            Step(moment, order, action)
            for order, (moment, action) in enumerate(
                step for candidate, fate in fates for step in self.steps(candidate, fate)
            )
        )
        with ExitStack() as patches:
            patches.enter_context(mock.patch("django.utils.timezone.now", self.time.clock))
            # Whichever module of the promises tells people, it tells them in the app only.
            for name, module in sorted(sys.modules.items()):
                if name.startswith("commitments.") and getattr(module, "notify", None) is notify:
                    patches.enter_context(mock.patch.object(module, "notify", in_app_only(notify)))
            for step in steps:
                assert step.moment < self.horizon, "the demo year must stay in the past"
                self.time.clock.set(step.moment)
                step.action()

    def settle_notifications(self) -> None:
        """The promises' notifications of the past year: never e-mailed, read unless recent
        (as ``demo.requests`` leaves the requests' own)."""
        notifications = Notification.objects.filter(item_type=ItemType.REQUEST)
        notifications.filter(send_email=True, emailed_at__isnull=True).update(send_email=False)
        recent = self.horizon - dt.timedelta(days=NOTIFICATIONS_UNREAD_DAYS)
        notifications.filter(read_at__isnull=True, created_at__lt=recent).update(
            read_at=F("created_at")
        )


def promise_states(today: dt.date | None = None) -> Counter[str]:
    """How many promises are in each state, one state each: ``overdue`` (still to be kept,
    past its date, no report) and ``reported`` (awaiting the deputy's verdict) derived,
    ``disputed`` awaiting staff, ``rescheduled`` moved to a date not yet past."""
    today = today or timezone.localdate()
    active = Q(state__in=ACTIVE_STATES)
    unreported = active & Q(reported_at__isnull=True)
    shown = {
        "open": unreported & Q(state=CommitmentState.OPEN, due_date__gte=today),
        "overdue": unreported & Q(due_date__lt=today),
        "reported": active & Q(reported_at__isnull=False, verdict=Verdict.NONE),
        "kept": Q(state=CommitmentState.KEPT),
        "disputed": active & Q(verdict=Verdict.DISPUTED),
        "broken": Q(state=CommitmentState.BROKEN),
        "rescheduled": unreported & Q(state=CommitmentState.RESCHEDULED, due_date__gte=today),
    }
    for state in CommitmentState:  # the states a promise ends in otherwise (superseded…)
        if state not in (*ACTIVE_STATES, CommitmentState.KEPT, CommitmentState.BROKEN):
            shown[str(state)] = Q(state=state)
    return Counter({name: Commitment.objects.filter(rule).count() for name, rule in shown.items()})


def seed_promises(context: DemoContext) -> str:
    """The promises of the demo year in every state (a ``seed_demo`` step, after the
    requests); skipped when a promise already has a report or a moved date."""
    # A report or a move of the date is a step of some promise's life (a promise closed
    # otherwise, e.g. by the answer's return for rework, is not).
    moved = Commitment.objects.filter(Q(reported_at__isnull=False) | Q(reschedule_count__gt=0))
    if moved.exists():
        return _("Promises: %(count)d already in the database, none changed.") % {
            "count": Commitment.objects.count()
        }
    started = time.perf_counter()
    year = PromiseYear(context)
    fates = year.assign(year.candidates())
    year.replay(fates)
    year.settle_notifications()
    seconds = time.perf_counter() - started
    bulk = bulk_promises(context, today=year.today, horizon=year.horizon)
    states = promise_states(year.today)
    line = _(
        "Promises: %(total)d (%(states)s); %(changed)d moved on through the services in "
        "%(seconds).1f s."
    ) % {
        "total": Commitment.objects.count(),
        "states": ", ".join(f"{name} {states[name]}" for name in states),
        "changed": sum(1 for _candidate, fate in fates if fate not in (Fate.OPEN, Fate.OVERDUE)),
        "seconds": seconds,
    }
    if bulk is not None:
        line += " " + bulk
    return line
