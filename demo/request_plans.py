"""The plans of the demo year of requests: what each request says and how its life goes.

Every request gets a *plan* (content and fate), drawn from ``context.rng("requests")``
only; ``demo.requests.DemoYear`` then replays the plans through the services.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from maslikhat.core.deadlines import RULE_DEPUTY_REQUEST, WorkingCalendar, calendar_for, get_rule
from maslikhat.directory.models import Category, Department, DepartmentKind, Deputy, District
from requests_app import services

from .clock import SimulatedClock
from .context import DemoContext
from .request_corpus import (
    BUS_ROUTES,
    CATEGORY_WEIGHTS,
    CLOSERS,
    CO_AUTHOR_SHARE,
    CO_EXECUTOR_SHARE,
    DAYS_IN_YEAR,
    DECLINE_SHARE,
    DECLINE_SHARE_OTHER,
    DISTRICT_WEIGHTS,
    DRAFT_SHARE,
    DRAFTS_WITHIN_DAYS,
    KAZAKH_SHARE,
    MICRODISTRICT_SERIES,
    MISROUTE_SHARE,
    MONTH_WEIGHTS,
    OPENERS,
    OWN_DISTRICT_SHARE,
    PRIVATE_PLACES,
    PROBLEMS,
    PUBLIC_SHARE,
    SMALL_STREETS,
    SOLUTION_SHARE,
    STALLED_SHARE,
    SUGGESTED_SHARE,
    URBAN_ADDRESSES,
    WITHDRAW_SHARE,
    WITHDRAW_STAGES,
    Problem,
    genitive,
    kk_genitive,
    kk_locative,
    locative,
    pace_of,
    weighted,
)

# --- Plans ----------------------------------------------------------------------------------


class Fate:
    NORMAL = "normal"
    DRAFT = "draft"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    STALLED = "stalled"


@dataclass
class Content:
    """What the deputy writes and where it goes."""

    author: Deputy
    co_authors: list[Deputy]
    category: Category
    problem: Problem
    district: District | None
    address: str
    fields: dict[str, Any]
    title: str
    body: str
    solution: str
    is_public: bool
    lead: Department
    co_departments: list[Department]
    suggested: list[Department]

    @property
    def language(self) -> str:
        return self.problem.language


@dataclass
class Plan:
    """One request of the year: its content, when it starts and how its life goes."""

    index: int
    rng: random.Random
    created: dt.datetime
    content: Content
    fate: str = Fate.NORMAL
    withdraw_stage: str = ""
    misroute: Department | None = None
    # Pinned plans stop after a stage so every state is present today.
    stop_after: str = ""
    forced_delay: int | None = None
    simple: bool = False  # no extension, interim answer, thread or returned draft


#: A request's life as a generator: each value is the moment of its next step.
Steps = Generator[dt.datetime, None, None]


class RequestYearPlanner:
    """Plans one demo year of requests: the calendar, the content and the fate of each."""

    def __init__(self, context: DemoContext, *, count: int) -> None:
        self.context = context
        self.count = count
        self.rng = context.rng("requests")
        self.tz = timezone.get_default_timezone()
        self.today = timezone.localdate()
        self.horizon = dt.datetime.combine(self.today, dt.time(0), tzinfo=self.tz)
        self.start = self.today - dt.timedelta(days=DAYS_IN_YEAR)
        self.calendar: WorkingCalendar = calendar_for(self.start, self.today)
        self.clock = SimulatedClock(self.horizon)

        directory = context.directory
        reference = directory.reference
        self.staff = directory.staff
        self.heads = directory.heads
        self.executors = directory.executors
        self.departments: dict[str, Department] = {
            code: department
            for code, department in sorted(reference.departments.items())
            if department.is_active and code in self.heads and code in self.executors
        }
        self.departments_by_id = {d.pk: d for d in self.departments.values()}
        self.akimats: dict[int, Department] = {
            d.district_id: d
            for d in self.departments.values()
            if d.kind == DepartmentKind.DISTRICT_AKIMAT and d.district_id is not None
        }
        self.city_departments = [
            d for d in self.departments.values() if d.kind == DepartmentKind.CITY_DEPARTMENT
        ]
        self.fallback = self.departments.get("akim-office") or next(iter(self.departments.values()))
        self.districts: dict[str, District] = dict(sorted(reference.districts.items()))
        self.district_codes = {d.pk: code for code, d in self.districts.items()}
        self.categories: dict[str, Category] = dict(sorted(reference.categories.items()))
        self.deputies = [d for d in directory.deputies if d.is_active]
        # Some deputies file far more than others (the thesis: engagement burns out).
        self.deputy_weights = [min(self.rng.paretovariate(1.2), 12.0) for _deputy in self.deputies]
        self.problems: dict[str, list[Problem]] = {}
        for problem in PROBLEMS:
            self.problems.setdefault(problem.category, []).append(problem)
        self.category_weights = {
            code: float(CATEGORY_WEIGHTS.get(code, 1)) for code in self.categories
        }
        self.request_rule = get_rule(RULE_DEPUTY_REQUEST)

    # --- Time ---------------------------------------------------------------------------

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    @property
    def now(self) -> dt.datetime:
        return self.local(self.clock.current)

    def at(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        while not self.calendar.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def working_days_after(self, day: dt.date, n: int) -> dt.date:
        if n <= 0:
            return self.working_day_on_or_after(day)
        return self.calendar.add_working_days(day, n).due

    def working_days_before(self, day: dt.date, n: int) -> dt.date:
        while n > 0:
            day -= dt.timedelta(days=1)
            if self.calendar.is_working_day(day):
                n -= 1
        return day

    def office_time(self, rng: random.Random, day: dt.date) -> dt.datetime:
        return self.at(day, rng.randint(9, 17), rng.randint(0, 59))

    def office_after(
        self, rng: random.Random, moment: dt.datetime, working_days: int
    ) -> dt.datetime:
        """An officer acts ``working_days`` after ``moment`` (0: later the same working day)."""
        moment = self.local(moment)
        if working_days <= 0:
            if self.calendar.is_working_day(moment.date()) and moment.hour < 16:
                return moment + dt.timedelta(minutes=rng.randint(15, 150))
            working_days = 1
        return self.office_time(rng, self.working_days_after(moment.date(), working_days))

    def deputy_after(self, rng: random.Random, moment: dt.datetime, days: int) -> dt.datetime:
        """A deputy acts ``days`` calendar days after ``moment`` (0: a little later)."""
        moment = self.local(moment)
        if days <= 0:
            return moment + dt.timedelta(minutes=rng.randint(10, 240))
        day = moment.date() + dt.timedelta(days=days)
        return self.at(day, rng.randint(8, 21), rng.randint(0, 59))

    def between(
        self, rng: random.Random, after: dt.datetime, before: dt.datetime, *, office: bool
    ) -> dt.datetime | None:
        """A moment strictly between ``after`` and ``before`` (office hours if possible)."""
        after, before = self.local(after), self.local(before)
        if before - after < dt.timedelta(minutes=20):
            return None
        span_days = (before.date() - after.date()).days
        for _attempt in range(3):
            day = after.date() + dt.timedelta(days=rng.randint(0, span_days))
            if office and not self.calendar.is_working_day(day):
                continue
            moment = (
                self.office_time(rng, day)
                if office
                else self.at(day, rng.randint(8, 21), rng.randint(0, 59))
            )
            if after < moment < before:
                return moment
        return after + (before - after) * rng.uniform(0.1, 0.9)

    def creation_time(self, rng: random.Random, *, within_days: int = DAYS_IN_YEAR) -> dt.datetime:
        """When a deputy starts a draft: weekdays mostly, fewer in January and the summer."""
        while True:
            day = self.today - dt.timedelta(days=rng.randint(1, within_days))
            weight = MONTH_WEIGHTS[day.month] * (1.0 if day.weekday() < 5 else 0.3)
            if rng.random() < weight / 1.2:
                return self.at(day, rng.randint(8, 21), rng.randint(0, 59))

    # --- Content ------------------------------------------------------------------------

    def address(self, rng: random.Random, district_code: str, where: str) -> tuple[str, str]:
        """(address, place): a full address and the street or microdistrict alone."""
        street = rng.choice(SMALL_STREETS)
        if where == "private" and PRIVATE_PLACES.get(district_code):
            place = rng.choice(PRIVATE_PLACES[district_code])
            return f"{place}, ул. {street}, {rng.randint(1, 180)}", place
        templates = URBAN_ADDRESSES.get(district_code) or URBAN_ADDRESSES["almaly"]
        template = rng.choice(templates)
        building = str(rng.randint(1, 320)) + ("а" if rng.random() < 0.08 else "")
        address = template.format(
            h=rng.randint(1, 60),
            b=building,
            k=rng.randint(1, MICRODISTRICT_SERIES),
            street=street,
        )
        return address, address.split(",")[0]

    def lead_for(
        self, problem: Problem, category: Category, district: District | None
    ) -> Department:
        if problem.department in self.departments:
            return self.departments[problem.department]
        if category.route_to_district_akimat and district is not None:
            akimat = self.akimats.get(district.pk)
            if akimat is not None:
                return akimat
        default = self.departments_by_id.get(category.default_department_id or 0)
        return default or self.fallback

    def content(self, rng: random.Random, day: dt.date) -> Content:
        author = rng.choices(self.deputies, weights=self.deputy_weights)[0]
        category_code = weighted(rng, self.category_weights)
        category = self.categories[category_code]
        candidates = (
            [
                p
                for p in self.problems.get(category_code) or self.problems["other"]
                if not p.months or day.month in p.months
            ]
            or self.problems.get(category_code)
            or self.problems["other"]
        )
        kazakh = [p for p in candidates if p.language == "kk"]
        russian = [p for p in candidates if p.language != "kk"] or candidates
        pool = kazakh if kazakh and rng.random() < KAZAKH_SHARE else russian
        problem = rng.choices(pool, weights=[p.weight for p in pool])[0]

        district: District | None = None
        address = place = ""
        if problem.places:
            district_code, address = rng.choice(problem.places)
            district = self.districts.get(district_code)
            place = address
        elif problem.where != "city":
            allowed = [
                c for c in (problem.districts or tuple(self.districts)) if c in self.districts
            ]
            own = self.district_codes.get(author.district_id or 0)
            if own in allowed and rng.random() < OWN_DISTRICT_SHARE:
                district_code = own
            else:
                district_code = weighted(
                    rng, {c: DISTRICT_WEIGHTS.get(c, 1.0) for c in allowed or self.districts}
                )
            district = self.districts[district_code]
            if problem.where in ("urban", "private"):
                address, place = self.address(rng, district_code, problem.where)
        if category.route_to_district_akimat and district is None:
            district = self.districts[weighted(rng, DISTRICT_WEIGHTS)] if self.districts else None

        name_ru = district.name_ru if district else "город Алматы"
        name_kk = district.name_kk if district and district.name_kk else "Алматы қаласы"
        year = day.year + (1 if day.month >= 7 else 0)  # next year's plans from July on
        fields: dict[str, Any] = {
            "address": address,
            "place": place or name_ru,
            "district": name_ru,
            "district_gen": genitive(name_ru) if district else "города Алматы",
            "district_loc": locative(name_ru) if district else "городе Алматы",
            "district_kk": name_kk,
            "district_gen_kk": kk_genitive(name_kk) if district else "Алматы қаласының",
            "district_loc_kk": kk_locative(name_kk) if district else "Алматы қаласында",
            "n": rng.randint(2, 9),
            "route": rng.choice(BUS_ROUTES),
            "school": rng.randint(12, 215),
            "people": rng.choice((40, 60, 85, 120, 150, 230, 300, 450)),
            "houses": rng.randint(3, 14),
            "year": year,
            "year2": year + 1,
        }
        language = problem.language
        body = " ".join(
            (
                rng.choice(OPENERS[language]).format_map(fields),
                problem.body.format_map(fields),
                rng.choice(CLOSERS[language]),
            )
        )
        solution = problem.solution.format_map(fields) if rng.random() < SOLUTION_SHARE else ""

        lead = self.lead_for(problem, category, district)
        co_departments: list[Department] = []
        if problem.co and rng.random() < CO_EXECUTOR_SHARE:
            for code in problem.co:
                co = (
                    self.akimats.get(district.pk)
                    if code == "district" and district is not None
                    else self.departments.get(code)
                )
                if co is not None and co.pk != lead.pk and co not in co_departments:
                    co_departments.append(co)
            co_departments = co_departments[: rng.randint(1, 2)]
        co_authors: list[Deputy] = []
        if rng.random() < CO_AUTHOR_SHARE and len(self.deputies) > 2:
            others = [d for d in self.deputies if d.pk != author.pk]
            co_authors = rng.sample(others, rng.choice((1, 1, 2)))
        return Content(
            author=author,
            co_authors=co_authors,
            category=category,
            problem=problem,
            district=district,
            address=address,
            fields=fields,
            title=problem.title.format_map(fields)[: services.TITLE_MAX],
            body=body,
            solution=solution,
            is_public=rng.random() < PUBLIC_SHARE,
            lead=lead,
            co_departments=co_departments,
            suggested=[lead] if rng.random() < SUGGESTED_SHARE else [],
        )

    # --- Plans --------------------------------------------------------------------------

    def plan(self, index: int, seed: int) -> Plan:
        rng = random.Random(seed)
        draw = rng.random()
        fate = Fate.NORMAL
        edges = (
            (DRAFT_SHARE, Fate.DRAFT),
            (DRAFT_SHARE + DECLINE_SHARE, Fate.DECLINED),
            (DRAFT_SHARE + DECLINE_SHARE + WITHDRAW_SHARE, Fate.WITHDRAWN),
        )
        for edge, name in edges:
            if draw < edge:
                fate = name
                break
        within = DRAFTS_WITHIN_DAYS if fate == Fate.DRAFT else DAYS_IN_YEAR
        created = self.creation_time(rng, within_days=within)
        content = self.content(rng, created.date())
        other = content.category.code == "other"
        if fate == Fate.NORMAL and other and rng.random() < DECLINE_SHARE_OTHER:
            fate = Fate.DECLINED
        if fate == Fate.NORMAL and rng.random() < STALLED_SHARE[pace_of(content.lead)]:
            fate = Fate.STALLED
        plan = Plan(index=index, rng=rng, created=created, content=content, fate=fate)
        if fate == Fate.WITHDRAWN:
            plan.withdraw_stage = weighted(rng, dict(WITHDRAW_STAGES))
        if fate in (Fate.NORMAL, Fate.STALLED) and rng.random() < MISROUTE_SHARE:
            wrong = [d for d in self.city_departments if d.pk != content.lead.pk]
            plan.misroute = rng.choice(wrong) if wrong else None
        return plan

    def plans(self) -> list[Plan]:
        plans = [self.plan(index, self.rng.getrandbits(64)) for index in range(self.count)]
        self._guarantee_every_state(plans)
        plans.sort(key=lambda p: (p.created, p.index))
        return plans

    def _restart(self, plan: Plan, created: dt.datetime) -> None:
        plan.created = created
        plan.content = self.content(plan.rng, created.date())

    def _guarantee_every_state(self, plans: list[Plan]) -> None:
        """However small the year, leave at least one request in every state today.

        The shares above give all of them in a year of 500; a small year (tests) may miss
        some, so a few plans are pinned: forced fates, and requests started at fixed working
        days before today that stop after a stage (submitted, in progress, overdue, answered
        and awaiting evaluation) or answer late.
        """
        if len(plans) < 10:
            return
        rng = self.rng
        normal = [p for p in plans if p.fate == Fate.NORMAL]
        rng.shuffle(normal)
        for fate in (Fate.DRAFT, Fate.DECLINED, Fate.WITHDRAWN):
            if not any(p.fate == fate for p in plans) and normal:
                plan = normal.pop()
                plan.fate = fate
                plan.withdraw_stage = "submitted" if fate == Fate.WITHDRAWN else ""
                if fate == Fate.DRAFT:
                    self._restart(plan, self.creation_time(plan.rng, within_days=10))
        pins = (
            # (working days before today it starts, stop after, forced answer delay)
            (1, "submitted", None),
            (6, "assigned", None),  # in progress, not yet due
            (32, "assigned", None),  # in progress and overdue
            (16, "answered", 6),  # answered, the deputy has days left to evaluate
            (70, "", 19),  # answered after its due date
        )
        for days_before, stop_after, delay in pins:
            if not normal:
                return
            plan = normal.pop()
            day = self.working_days_before(self.today, days_before)
            self._restart(plan, self.at(day, plan.rng.randint(10, 15), plan.rng.randint(0, 59)))
            plan.stop_after = stop_after
            plan.forced_delay = delay
            plan.simple = True
            plan.misroute = None

    # --- Replay -------------------------------------------------------------------------
