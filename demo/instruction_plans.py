"""The plans of the council's demo year: meetings, protocols, instructions and their fates.

Every instruction is given a *fate* (executed on time, after a return or an extension;
executed late; reported and awaiting a decision; returned; on control, overdue or not;
removed from control) and a timeline of dated actions that leads there, drawn from
``context.rng("instructions")`` only; each instruction draws its timeline from a generator
seeded from it, so forcing a missing fate onto one instruction changes nothing else.
``demo.instructions.InstructionYear`` then replays the plans through the services.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from instructions.models import Meeting, MeetingKind, ReportPeriod, SessionKind
from instructions.services import INSTRUCTION_RULE
from maslikhat.accounts.models import User
from maslikhat.core.deadlines import WorkingCalendar, add_months, calendar_for, get_rule
from maslikhat.core.extensions import Extension
from maslikhat.directory.models import Commission, Department, Deputy
from maslikhat.directory.services import read_reference_data

from .clock import SimulatedClock
from .context import DemoContext
from .instruction_corpus import (
    ACCEPT_COMMENTS,
    COMMISSION_ROOM,
    CONTROLLER_QUESTIONS,
    DEPARTMENT_REPLIES,
    DISTRICT,
    EXECUTED,
    EXECUTED_AFTER_RETURN,
    EXECUTED_EXTENDED,
    EXTENSION_APPROVALS,
    EXTENSION_REASONS,
    EXTENSION_REJECTIONS,
    FALLBACK,
    LATE,
    LATE_AFTER_RETURN,
    LATE_EXTENSION_REJECTED,
    ON_CONTROL,
    ON_CONTROL_EXTENSION_PENDING,
    OVERDUE,
    OVERDUE_EXTENSION_PENDING,
    OVERDUE_REMINDERS,
    OVERDUE_REPLIES,
    PAST_DUE_WEIGHTS,
    REMOVAL_REASONS,
    REMOVED,
    REMOVED_AFTER_REPORT,
    REPORTED,
    REQUIRED_FATES,
    RETURN_COMMENTS,
    RETURNED,
    RUNNING_WEIGHTS,
    SESSION_HALL,
    TOPICS,
    Infeasible,
    Texts,
    Topic,
    genitive_head,
    lower_first,
    roman,
)

# --- Volume ---------------------------------------------------------------------------------
#
#: ``--scale`` beyond this does not add meetings or instructions (see ``Year.__init__``).
MAX_SCALE = 4

# One demo year; ``context.scale`` multiplies it (up to ``MAX_SCALE``). The sessions come from
# ``figures_2023`` in the reference data (the defaults below are used when it has none).
# Tests make a smaller year by monkeypatching these constants.

COMMISSION_MEETINGS = 40
HEARINGS = 8
INSTRUCTIONS = 150
DEFAULT_REGULAR_SESSIONS = 4
DEFAULT_EXTRAORDINARY_SESSIONS = 9
FIELD_VISIT_SHARE = 0.35
PERIODIC_SHARE = 0.25
MONTHLY_SHARE = 0.65  # of the periodic ones; the others report quarterly
CO_EXECUTOR_SHARE = 0.4
CONTROLLER_DEPUTY_SHARE = 0.3
STAFF_DECIDES_SHARE = 0.55  # reports decided by staff; the others by the controller
CHAIR_DECIDES_EXTENSION_SHARE = 0.3
MESSAGE_SHARE = 0.3
UPCOMING_SESSIONS = (2, 3)
UPCOMING_COMMISSION_MEETINGS = (3, 5)
UPCOMING_DAYS = 30

DAYS_IN_YEAR = 365
#: The most recent held meeting is at least this many days before today (its protocol
#: takes a few working days), and the last session is at most 20 days old (so some
#: instructions are still running, not yet due).
RECENT_MEETING_DAYS = 5
LAST_SESSION_WITHIN_DAYS = 20


# --- Plans ----------------------------------------------------------------------------------


@dataclass
class MeetingPlan:
    kind: str
    date: dt.date
    title: str
    items: list[tuple[str, Topic]]  # the agenda: (question, topic)
    location: str
    session_kind: str = ""
    commission: Commission | None = None
    department: Department | None = None
    is_field_visit: bool = False
    district: str = ""  # of a field visit
    protocol_number: str = ""
    protocol_day: dt.date | None = None  # when staff record the protocol; None: upcoming
    weight: float = 1.0  # its share of the year's instructions
    instructions: list[InstructionPlan] = field(default_factory=list)
    meeting: Meeting | None = None


@dataclass
class Action:
    day: dt.date
    kind: str  # interim, final, accept, return, ask, decide, remove, message
    user: User
    text: str = ""
    approve: bool = False
    new_due: dt.date | None = None


@dataclass
class InstructionPlan:
    index: int
    meeting: MeetingPlan
    item_number: int
    number: str
    text: str
    topic: Topic
    lead: Department
    co: list[Department]
    commission: Commission
    deputy: Deputy | None
    due: dt.date
    period: str
    seed: int
    fields: dict[str, Any]
    fate: str = ""
    actions: list[Action] = field(default_factory=list)
    pk: int | None = None
    extension: Extension | None = None


# --- The year -------------------------------------------------------------------------------


class InstructionPlanner:
    """Plans one demo year of meetings and protocol instructions, and their fates."""

    def __init__(self, context: DemoContext) -> None:
        self.context = context
        self.rng = context.rng("instructions")
        # Instructions go through the services one by one; a benchmark's volume is in
        # the requests (bulk-loaded), so the council's year grows at most fourfold.
        self.scale = max(1, min(context.scale, MAX_SCALE))
        self.tz = timezone.get_default_timezone()
        self.today = timezone.localdate()
        self.last_day = self.today - dt.timedelta(days=1)
        self.horizon = dt.datetime.combine(self.today, dt.time(0), tzinfo=self.tz)
        self.start = self.today - dt.timedelta(days=DAYS_IN_YEAR)
        self.calendar: WorkingCalendar = calendar_for(
            self.start, self.today + dt.timedelta(days=UPCOMING_DAYS + 120)
        )
        self.clock = SimulatedClock(self.horizon)
        self.extension_rule = get_rule(INSTRUCTION_RULE)

        directory = context.directory
        reference = directory.reference
        self.staff = directory.staff
        self.chair = directory.chair
        self.heads = directory.heads
        self.executors = directory.executors
        self.convocation = reference.convocation
        self.departments: dict[str, Department] = {
            code: department
            for code, department in sorted(reference.departments.items())
            if department.is_active and code in self.heads and code in self.executors
        }
        self.districts = dict(sorted(reference.districts.items()))
        self.commissions: dict[str, Commission] = {
            c.code: c
            for c in Commission.objects.filter(convocation=self.convocation)
            .select_related("chair__user")
            .order_by("order", "code")
        }
        members: dict[int, list[Deputy]] = {}
        for deputy in (
            Deputy.objects.filter(convocation=self.convocation, is_active=True)
            .select_related("user")
            .prefetch_related("commissions")
            .order_by("pk")
        ):
            for commission in deputy.commissions.all():
                members.setdefault(commission.pk, []).append(deputy)
        self.members = members
        self.topics = [
            t
            for t in TOPICS
            if t.commission in self.commissions
            and (t.lead == DISTRICT or t.lead in self.departments)
        ]
        data = read_reference_data()
        figures = data.get("figures_2023") or {}
        self.regular_sessions = int(figures.get("regular_sessions", DEFAULT_REGULAR_SESSIONS))
        self.extraordinary_sessions = int(
            figures.get("extraordinary_sessions", DEFAULT_EXTRAORDINARY_SESSIONS)
        )

    # --- Time -----------------------------------------------------------------------------

    def at(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def pick(self, rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
        """A day in ``lo``..``hi``, a working day when there is one; Infeasible when empty."""
        if hi < lo:
            raise Infeasible
        days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
        working = [day for day in days if self.calendar.is_working_day(day)]
        return rng.choice(working or days)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        while not self.calendar.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def spread(self, count: int, lo: dt.date, hi: dt.date) -> list[dt.date]:
        """``count`` dates over ``lo``..``hi``, one in each of ``count`` equal slots."""
        span = (hi - lo).days + 1
        dates = []
        for i in range(count):
            a = lo + dt.timedelta(days=span * i // count)
            b = lo + dt.timedelta(days=max(span * (i + 1) // count - 1, span * i // count))
            dates.append(self.pick(self.rng, a, b))
        return dates

    # --- Meetings -------------------------------------------------------------------------

    def years_since_election(self, day: dt.date) -> float:
        elected = self.convocation.elected_on
        return max(0.0, (day - elected).days / 365.25) if elected else 0.0

    def fields_for(self, day: dt.date, district: str = "") -> dict[str, Any]:
        season_start = day.year if day.month >= 4 else day.year - 1
        values: dict[str, Any] = {
            "year": day.year,
            "year2": day.year + 2,
            "prev_year": day.year - 1,
            "season": f"{season_start}–{season_start + 1}",
        }
        if district and district in self.districts:
            name = self.districts[district].name_ru
            stem = name.removesuffix("ий район")
            values["district"] = name
            values["district_gen"] = f"{stem}ого района" if stem != name else name
            values["district_loc"] = f"в {stem}ом районе" if stem != name else f"в районе {name}"
        return values

    def topics_on(self, day: dt.date) -> list[Topic]:
        """The topics in season on ``day`` (snow in winter, the heating season in summer)."""
        return [t for t in self.topics if not t.months or day.month in t.months]

    def question(self, topic: Topic, day: dt.date) -> str:
        return topic.question.format_map(self.fields_for(day))

    def commission_genitive(self, commission: Commission) -> str:
        """«Комиссия по экономике…» → «комиссии по экономике…»."""
        name = commission.name_ru
        if name.startswith("Комиссия"):
            return "комиссии" + name.removeprefix("Комиссия")
        return name

    def plan_sessions(self, lo: dt.date, hi: dt.date) -> list[MeetingPlan]:
        rng = self.rng
        regular = self.regular_sessions * self.scale
        count = regular + self.extraordinary_sessions * self.scale
        if count == 0:
            return []
        dates = self.spread(count, lo, hi)
        # The last session is recent: some of its instructions are still running.
        dates[-1] = self.pick(rng, max(dates[-1], hi - dt.timedelta(LAST_SESSION_WITHIN_DAYS)), hi)
        regular_positions = {int((k + 0.5) * count / regular) for k in range(regular)}
        before = round(
            self.years_since_election(lo) * (self.regular_sessions + self.extraordinary_sessions)
        )
        amendment = next((t for t in self.topics if t.code == "budget_amendment"), None)
        plans = []
        for i, day in enumerate(sorted(dates)):
            is_regular = i in regular_positions
            session_topics = [t for t in self.topics_on(day) if t.session]
            if is_regular:
                topics = rng.sample(session_topics, min(rng.randint(3, 5), len(session_topics)))
            else:
                others = [t for t in session_topics if t is not amendment]
                topics = rng.sample(others, min(rng.randint(1, 2), len(others)))
                if amendment is not None and rng.random() < 0.7:
                    topics.insert(0, amendment)
                elif others:
                    extra = [t for t in others if t not in topics]
                    if extra:
                        topics.append(rng.choice(extra))
            plans.append(self.session(before + i + 1, day, is_regular, topics))
        return plans

    def session(
        self, number: int, day: dt.date, is_regular: bool, topics: Sequence[Topic]
    ) -> MeetingPlan:
        convocation = roman(self.convocation.number)
        kind = "" if is_regular else " (внеочередная)"
        return MeetingPlan(
            kind=MeetingKind.SESSION,
            session_kind=SessionKind.REGULAR if is_regular else SessionKind.EXTRAORDINARY,
            date=day,
            title=f"{roman(number)}{kind} сессия маслихата города Алматы {convocation} созыва",
            items=[(self.question(t, day), t) for t in topics],
            location=SESSION_HALL,
            protocol_number=str(number),
            weight=3.0 if is_regular else 2.0,
        )

    def commission_meeting(
        self, commission: Commission, day: dt.date, *, field_visit: bool, max_items: int = 4
    ) -> MeetingPlan:
        rng = self.rng
        own = [t for t in self.topics_on(day) if t.commission == commission.code]
        with_places = [t for t in own if t.places]
        genitive = self.commission_genitive(commission)
        district = ""
        location = COMMISSION_ROOM
        first: list[Topic] = []
        if field_visit and with_places:
            topic = rng.choice(with_places)
            district, address = rng.choice(topic.places)
            place = self.districts[district].name_ru if district in self.districts else ""
            location = f"{place}, {address}" if place else address
            first = [topic]
        else:
            field_visit = False
        rest = [t for t in own if t not in first]
        wanted = max(2, rng.randint(2, max_items)) - len(first)
        topics = first + rng.sample(rest, min(wanted, len(rest)))
        title = f"{'Выездное заседание' if field_visit else 'Заседание'} постоянной {genitive}"
        return MeetingPlan(
            kind=MeetingKind.COMMISSION,
            date=day,
            title=title[:300],
            items=[(self.question(t, day), t) for t in topics],
            location=location,
            commission=commission,
            is_field_visit=field_visit,
            district=district,
        )

    def plan_commission_meetings(self, lo: dt.date, hi: dt.date) -> list[MeetingPlan]:
        rng = self.rng
        count = COMMISSION_MEETINGS * self.scale
        commissions = list(self.commissions.values())
        if not count or not commissions:
            return []
        order = [commissions[i % len(commissions)] for i in range(count)]
        rng.shuffle(order)
        return [
            self.commission_meeting(commission, day, field_visit=rng.random() < FIELD_VISIT_SHARE)
            for commission, day in zip(order, self.spread(count, lo, hi), strict=True)
        ]

    def plan_hearings(self, lo: dt.date, hi: dt.date) -> list[MeetingPlan]:
        rng = self.rng
        count = HEARINGS * self.scale
        if not count:
            return []
        heard: Counter[str] = Counter()  # each department's report is heard in turn
        plans = []
        for day in self.spread(count, lo, hi):
            fit = [t for t in self.topics_on(day) if t.hearing and t.lead != DISTRICT]
            if not fit:
                continue
            fewest = min(heard[t.code] for t in fit)
            topic = rng.choice([t for t in fit if heard[t.code] == fewest])
            heard[topic.code] += 1
            department = self.departments[topic.lead]
            head = f"руководителя {genitive_head(department.name_ru)}"
            question = lower_first(self.question(topic, day))
            others = [
                t
                for t in self.topics_on(day)
                if t.commission == topic.commission and t is not topic
            ]
            extra = rng.sample(others, min(rng.randint(1, 2), len(others)))
            plans.append(
                MeetingPlan(
                    kind=MeetingKind.HEARING,
                    date=day,
                    title=f"Заслушивание отчёта {head} {question}"[:300],
                    items=[(f"Отчёт {head} {question}", topic)]
                    + [(self.question(t, day), t) for t in extra],
                    location=COMMISSION_ROOM,
                    commission=self.commissions[topic.commission],
                    department=department,
                    weight=2.5,
                )
            )
        return plans

    def number_commission_protocols(self, plans: Sequence[MeetingPlan], lo: dt.date) -> None:
        """«К-3/12»: the commission's order and its meeting's number in the convocation."""
        per_year = (COMMISSION_MEETINGS + HEARINGS) / max(len(self.commissions), 1)
        before = round(self.years_since_election(lo) * per_year)
        counters: Counter[str] = Counter()
        for plan in sorted(plans, key=lambda p: p.date):
            assert plan.commission is not None
            counters[plan.commission.code] += 1
            plan.protocol_number = (
                f"К-{plan.commission.order}/{before + counters[plan.commission.code]}"
            )

    def plan_meetings(self) -> list[MeetingPlan]:
        lo = self.start + dt.timedelta(days=1)
        hi = self.today - dt.timedelta(days=RECENT_MEETING_DAYS)
        sessions = self.plan_sessions(lo, hi)
        commission_meetings = self.plan_commission_meetings(lo, hi)
        hearings = self.plan_hearings(lo, hi)
        self.number_commission_protocols([*commission_meetings, *hearings], lo)
        plans = sorted([*sessions, *commission_meetings, *hearings], key=lambda p: p.date)
        for plan in plans:
            plan.protocol_day = self.pick(
                self.rng,
                plan.date + dt.timedelta(days=1),
                min(plan.date + dt.timedelta(days=3), self.last_day),
            )
        return plans

    # --- Instructions ---------------------------------------------------------------------

    def department_for(self, code: str, district: str) -> Department | None:
        return self.departments.get(district if code == DISTRICT else code)

    def plan_instructions(self, meetings: Sequence[MeetingPlan]) -> list[InstructionPlan]:
        rng = self.rng
        held = [m for m in meetings if m.items]
        total = INSTRUCTIONS * self.scale
        if not held or not total:
            return []
        counts = Counter[int]()
        if total >= len(held):
            counts.update(range(len(held)))
        weights = [m.weight for m in held]
        for index in rng.choices(range(len(held)), weights=weights, k=total - sum(counts.values())):
            counts[index] += 1
        plans: list[InstructionPlan] = []
        district_codes = list(self.districts)
        for index, meeting in enumerate(held):
            items = [(n, t) for n, (_title, t) in enumerate(meeting.items, start=1)]
            per_item: Counter[int] = Counter()
            for k in range(counts[index]):
                item_number, topic = items[k % len(items)]
                per_item[item_number] += 1
                task_index = (per_item[item_number] - 1) % len(topic.tasks)
                district = (
                    meeting.district
                    if meeting.district and item_number == 1
                    else rng.choice(list(topic.districts) or district_codes)
                )
                lead = self.department_for(topic.lead, district)
                if lead is None:
                    continue
                co: list[Department] = []
                if topic.co and rng.random() < CO_EXECUTOR_SHARE:
                    for code in rng.sample(topic.co, min(rng.randint(1, 2), len(topic.co))):
                        department = self.department_for(code, district)
                        if department is not None and department != lead and department not in co:
                            co.append(department)
                commission = self.commissions[topic.commission]
                deputy = None
                if rng.random() < CONTROLLER_DEPUTY_SHARE:
                    candidates = [
                        d
                        for d in self.members.get(commission.pk, [])
                        if d.pk != commission.chair_id
                    ]
                    deputy = rng.choice(candidates) if candidates else None
                period = ReportPeriod.NONE
                days = rng.randint(30, 92)
                if rng.random() < PERIODIC_SHARE:
                    period = (
                        ReportPeriod.MONTHLY
                        if rng.random() < MONTHLY_SHARE
                        else ReportPeriod.QUARTERLY
                    )
                    days = rng.randint(60, 92)
                fields = self.fields_for(meeting.date, district)
                plans.append(
                    InstructionPlan(
                        index=len(plans),
                        meeting=meeting,
                        item_number=item_number,
                        number=f"{item_number}.{per_item[item_number]}",
                        text=topic.tasks[task_index].format_map(fields),
                        topic=topic,
                        lead=lead,
                        co=co,
                        commission=commission,
                        deputy=deputy,
                        due=self.working_day_on_or_after(meeting.date + dt.timedelta(days=days)),
                        period=period,
                        seed=rng.getrandbits(64),
                        fields=fields,
                    )
                )
                meeting.instructions.append(plans[-1])
        return plans

    # --- Fates and timelines ----------------------------------------------------------------

    def assign_fates(self, plans: Sequence[InstructionPlan]) -> None:
        rng = self.rng
        for plan in plans:
            weights = PAST_DUE_WEIGHTS if plan.due < self.today else RUNNING_WEIGHTS
            fate = rng.choices(list(weights), weights=list(weights.values()))[0]
            while True:
                try:
                    plan.actions = self.timeline(plan, fate)
                except Infeasible:
                    fate = FALLBACK.get(fate) or self.base_fate(plan)
                    continue
                plan.fate = fate
                break
        # A small year may not draw every fate: force each missing one onto an instruction
        # whose fate others share, so every state is there to see.
        counts = Counter(p.fate for p in plans)
        candidates = list(plans)
        rng.shuffle(candidates)
        for fate in REQUIRED_FATES:
            if counts[fate]:
                continue
            for plan in candidates:
                if counts[plan.fate] < 2:
                    continue
                try:
                    actions = self.timeline(plan, fate)
                except Infeasible:
                    continue
                counts[plan.fate] -= 1
                counts[fate] += 1
                plan.fate, plan.actions = fate, actions
                break

    def base_fate(self, plan: InstructionPlan) -> str:
        """Always fits: nothing but interim reports and messages."""
        return OVERDUE if plan.due < self.today else ON_CONTROL

    def decider(self, rng: random.Random, plan: InstructionPlan) -> User:
        """Staff or the controller (the deputy, or the commission's chair) decide on a report."""
        controllers = [d.user for d in (plan.deputy, plan.commission.chair) if d is not None]
        if not controllers or rng.random() < STAFF_DECIDES_SHARE:
            return self.staff
        return rng.choice(controllers)

    def timeline(self, plan: InstructionPlan, fate: str) -> list[Action]:
        """The dated actions that take ``plan`` to ``fate``; Infeasible when they do not fit."""
        rng = random.Random(plan.seed)
        pick = self.pick
        day = dt.timedelta(days=1)
        assert plan.meeting.protocol_day is not None
        created, due, last = plan.meeting.protocol_day, plan.due, self.last_day
        head, officer = self.heads[plan.lead.code], self.executors[plan.lead.code]
        limit = add_months(due, self.extension_rule.max_extension_months)
        actions: list[Action] = []
        texts = self.texts(plan, rng)

        def add(when: dt.date, kind: str, user: User, text: str = "", **extra: Any) -> dt.date:
            actions.append(Action(day=when, kind=kind, user=user, text=text, **extra))
            return when

        def reporter() -> User:
            return head if rng.random() < 0.6 else officer

        def final(lo: dt.date, hi: dt.date, *, again: bool = False) -> dt.date:
            return add(pick(rng, lo, hi), "final", reporter(), texts.final(rng, again=again))

        def accept(after: dt.date) -> dt.date:
            when = pick(rng, after + day, min(after + 7 * day, last))
            return add(when, "accept", self.decider(rng, plan), rng.choice(ACCEPT_COMMENTS))

        def give_back(lo: dt.date, hi: dt.date) -> dt.date:
            return add(
                pick(rng, lo, hi), "return", self.decider(rng, plan), rng.choice(RETURN_COMMENTS)
            )

        def ask(lo: dt.date, hi: dt.date, new_due: dt.date) -> dt.date:
            if not due < new_due <= limit:
                raise Infeasible
            when = pick(rng, lo, hi)
            return add(when, "ask", officer, rng.choice(EXTENSION_REASONS), new_due=new_due)

        def decide(after: dt.date, hi: dt.date, *, approve: bool) -> dt.date:
            by = self.chair if rng.random() < CHAIR_DECIDES_EXTENSION_SHARE else self.staff
            comment = rng.choice(EXTENSION_APPROVALS if approve else EXTENSION_REJECTIONS)
            return add(pick(rng, after + day, hi), "decide", by, comment, approve=approve)

        on_time = min(due, last - day)
        first_final: dt.date | None = None  # the open period (for interim reports) ends here
        if fate == EXECUTED:
            lo = created + max(1, (on_time - created).days * 2 // 5) * day
            first_final = final(lo, on_time)
            accept(first_final)
        elif fate == EXECUTED_AFTER_RETURN:
            first_final = final(created + 2 * day, on_time - 6 * day)
            back = give_back(first_final + day, first_final + 3 * day)
            accept(final(back + 2 * day, on_time, again=True))
        elif fate == EXECUTED_EXTENDED:
            new_due = min(due + rng.randint(14, 45) * day, limit)
            asked = ask(
                max(created + 2 * day, due - 20 * day), min(due - day, last - 4 * day), new_due
            )
            decided = decide(asked, min(asked + 3 * day, last - 3 * day), approve=True)
            first_final = final(decided + day, min(new_due, last - day))
            accept(first_final)
        elif fate == LATE:
            if due > last - 2 * day:
                raise Infeasible
            first_final = final(due + day, min(due + rng.randint(5, 45) * day, last - day))
            accept(first_final)
        elif fate == LATE_EXTENSION_REJECTED:
            new_due = min(due + rng.randint(14, 40) * day, limit)
            asked = ask(
                max(created + 2 * day, due - 15 * day), min(due - day, last - 5 * day), new_due
            )
            decided = decide(asked, min(asked + 3 * day, last - 4 * day), approve=False)
            lo = max(due, decided) + day
            first_final = final(lo, min(lo + 40 * day, last - day))
            accept(first_final)
        elif fate == LATE_AFTER_RETURN:
            if due > last - 4 * day:
                raise Infeasible
            first_final = final(max(created + 2 * day, due - 12 * day), min(due, last - 7 * day))
            back = give_back(first_final + day, min(first_final + 4 * day, last - 5 * day))
            lo = max(back + 2 * day, due + day)
            accept(final(lo, min(lo + 30 * day, last - day), again=True))
        elif fate == REPORTED:
            first_final = final(max(created + 2 * day, last - 10 * day), last)
        elif fate == RETURNED:
            first_final = final(max(created + 2 * day, last - 20 * day), last - 2 * day)
            give_back(first_final + day, min(first_final + 5 * day, last))
        elif fate in (ON_CONTROL, ON_CONTROL_EXTENSION_PENDING):
            if due < self.today:
                raise Infeasible
            if fate == ON_CONTROL_EXTENSION_PENDING:
                new_due = min(due + rng.randint(14, 40) * day, limit)
                ask(max(created + 3 * day, last - 10 * day), last, new_due)
        elif fate in (OVERDUE, OVERDUE_EXTENSION_PENDING):
            if due >= self.today:
                raise Infeasible
            if fate == OVERDUE_EXTENSION_PENDING:
                lo = max(created + 3 * day, due - 2 * day, last - 10 * day)
                new_due = min(max(due, lo) + rng.randint(10, 30) * day, limit)
                if new_due < lo + 7 * day:
                    raise Infeasible
                ask(lo, last, new_due)
            reminded = add(
                pick(rng, due + day, last), "message", self.staff, rng.choice(OVERDUE_REMINDERS)
            )
            if reminded < last and rng.random() < 0.6:
                add(
                    pick(rng, reminded + day, min(reminded + 3 * day, last)),
                    "message",
                    officer,
                    rng.choice(OVERDUE_REPLIES),
                )
        elif fate == REMOVED:
            add(
                pick(rng, created + 10 * day, last),
                "remove",
                self.staff,
                rng.choice(REMOVAL_REASONS),
            )
        elif fate == REMOVED_AFTER_REPORT:
            first_final = final(created + 3 * day, last - 3 * day)
            add(
                pick(rng, first_final + day, min(first_final + 20 * day, last)),
                "remove",
                self.staff,
                rng.choice(REMOVAL_REASONS),
            )
        else:  # pragma: no cover - the fates are the constants above
            raise ValueError(fate)

        removed = next((a.day for a in actions if a.kind == "remove"), None)
        open_until = min(d for d in (first_final, removed, self.today) if d is not None)
        self.interim_reports(plan, rng, texts, created, open_until, actions)
        self.conversation(plan, rng, created, open_until, actions)
        return actions

    def interim_reports(
        self,
        plan: InstructionPlan,
        rng: random.Random,
        texts: Texts,
        created: dt.date,
        open_until: dt.date,
        actions: list[Action],
    ) -> None:
        """Periodic reports, the co-executors' parts and the odd progress note, all before
        ``open_until`` (the first final report, the removal or today)."""
        officer = self.executors[plan.lead.code]
        last_open = open_until - dt.timedelta(days=1)
        if plan.period != ReportPeriod.NONE:
            step = 30 if plan.period == ReportPeriod.MONTHLY else 91
            stop = min(open_until, plan.due + dt.timedelta(days=90))
            k = 1
            while (moment := created + dt.timedelta(days=step * k)) < stop:
                when = self.pick(rng, moment, min(moment + dt.timedelta(days=4), last_open))
                actions.append(
                    Action(when, "interim", officer, texts.periodic(when, plan.period, rng))
                )
                k += 1
        elif rng.random() < 0.15:
            try:
                when = self.pick(rng, created + dt.timedelta(days=7), last_open)
            except Infeasible:
                pass
            else:
                actions.append(Action(when, "interim", officer, texts.interim(rng)))
        for department in plan.co:
            if rng.random() < 0.7:
                try:
                    when = self.pick(rng, created + dt.timedelta(days=3), last_open)
                except Infeasible:
                    continue
                text = texts.co_executor(department, rng)
                actions.append(Action(when, "interim", self.executors[department.code], text))

    def conversation(
        self,
        plan: InstructionPlan,
        rng: random.Random,
        created: dt.date,
        open_until: dt.date,
        actions: list[Action],
    ) -> None:
        """Now and then the controller (or staff) asks in the thread and the department answers."""
        if rng.random() >= MESSAGE_SHARE:
            return
        controllers = [d.user for d in (plan.deputy, plan.commission.chair) if d is not None]
        asker = rng.choice(controllers) if controllers and rng.random() < 0.7 else self.staff
        try:
            asked = self.pick(
                rng, created + dt.timedelta(days=1), open_until - dt.timedelta(days=1)
            )
        except Infeasible:
            return
        actions.append(Action(asked, "message", asker, rng.choice(CONTROLLER_QUESTIONS)))
        if asked < self.last_day:
            reply = self.pick(rng, asked, min(asked + dt.timedelta(days=2), self.last_day))
            actions.append(
                Action(
                    reply, "message", self.executors[plan.lead.code], rng.choice(DEPARTMENT_REPLIES)
                )
            )

    def texts(self, plan: InstructionPlan, rng: random.Random) -> Texts:
        return Texts(plan=plan, done=plan.topic.done.format_map(self.numbers(rng, plan.fields)))

    @staticmethod
    def numbers(rng: random.Random, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            **fields,
            "n": rng.randint(3, 40),
            "n2": rng.randint(2, 15),
            "pct": rng.randint(85, 100),
        }

    # --- Replay ---------------------------------------------------------------------------
