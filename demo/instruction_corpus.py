"""What the council's demo year is about: the topics of its meetings and instructions, and
the texts of reports, comments and messages.

The corpus is data: ``demo/data/instructions.json``. Placeholders: {year} {year2}
(year + 2) {prev_year} {season} (heating season) {district} {district_gen} {district_loc}
("в … районе") {n} {n2} {pct}.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from instructions.models import ReportPeriod
from maslikhat.directory.models import Department

from .data import load, pairs, strings

if TYPE_CHECKING:
    from .instruction_plans import InstructionPlan

DISTRICT = "district"  # in Topic.lead / Topic.co: the akimat of the district in question

# --- Content --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """A question the council deals with: who leads, who controls, what is instructed."""

    code: str
    commission: str
    lead: str  # a department code, or DISTRICT
    question: str
    tasks: tuple[str, ...]
    done: str  # what the final report says was done
    co: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # where it happens (any district when empty)
    places: tuple[tuple[str, str], ...] = ()  # field-visit sites: (district code, address)
    session: bool = False  # fit for a session's agenda
    hearing: bool = True  # fit for a hearing of the lead department's report
    months: tuple[int, ...] = ()  # on the agenda in these months only (any month when empty)


def _topic(data: Mapping[str, Any]) -> Topic:
    return Topic(
        code=data["code"],
        commission=data["commission"],
        lead=data["lead"],
        question=data["question"],
        tasks=strings(data["tasks"]),
        done=data["done"],
        co=strings(data["co"]),
        districts=strings(data["districts"]),
        places=pairs(data["places"]),
        session=data["session"],
        hearing=data["hearing"],
        months=tuple(data["months"]),
    )


_DATA = load("instructions")
TOPICS = tuple(_topic(topic) for topic in _DATA["topics"])
FINAL_REPORTS = strings(_DATA["final_reports"])
REPORTS_AFTER_RETURN = strings(_DATA["reports_after_return"])
PERIODIC_REPORTS = strings(_DATA["periodic_reports"])
INTERIM_REPORTS = strings(_DATA["interim_reports"])
CO_EXECUTOR_REPORTS = strings(_DATA["co_executor_reports"])
PROGRESS = strings(_DATA["progress"])
ACCEPT_COMMENTS = strings(_DATA["accept_comments"])
RETURN_COMMENTS = strings(_DATA["return_comments"])
EXTENSION_REASONS = strings(_DATA["extension_reasons"])
EXTENSION_APPROVALS = strings(_DATA["extension_approvals"])
EXTENSION_REJECTIONS = strings(_DATA["extension_rejections"])
REMOVAL_REASONS = strings(_DATA["removal_reasons"])
CONTROLLER_QUESTIONS = strings(_DATA["controller_questions"])
DEPARTMENT_REPLIES = strings(_DATA["department_replies"])
OVERDUE_REMINDERS = strings(_DATA["overdue_reminders"])
OVERDUE_REPLIES = strings(_DATA["overdue_replies"])
MONTHS = strings(_DATA["months"])  # January … December, for "за январь 2025 года"
SESSION_HALL: str = _DATA["session_hall"]
COMMISSION_ROOM: str = _DATA["commission_room"]


def roman(number: int) -> str:
    """1 → I, 36 → XXXVI (sessions and convocations are numbered in Roman numerals)."""
    parts = []
    for value, letters in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, number = divmod(number, value)
        parts.append(letters * count)
    return "".join(parts)


def genitive_head(name: str) -> str:
    """The genitive of a body's name: «Управление финансов» → «Управления финансов»."""
    first, _sep, rest = name.partition(" ")
    if first.endswith("ие"):
        first = first[:-2] + "ия"
    elif first.endswith("ия"):
        first = first[:-1] + "и"
    elif first[-1:] not in "аяоеьй":
        first += "а"
    return f"{first} {rest}".strip()


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- Fates ----------------------------------------------------------------------------------

EXECUTED = "executed"
EXECUTED_AFTER_RETURN = "executed_after_return"
EXECUTED_EXTENDED = "executed_extended"
LATE = "late"
LATE_EXTENSION_REJECTED = "late_extension_rejected"
LATE_AFTER_RETURN = "late_after_return"
REPORTED = "reported"
RETURNED = "returned"
ON_CONTROL = "on_control"
ON_CONTROL_EXTENSION_PENDING = "on_control_extension_pending"
OVERDUE = "overdue"
OVERDUE_EXTENSION_PENDING = "overdue_extension_pending"
REMOVED = "removed"
REMOVED_AFTER_REPORT = "removed_after_report"

#: Weights of the fates of an instruction whose due date has passed.
PAST_DUE_WEIGHTS: dict[str, int] = _DATA["past_due_weights"]
#: … and of one still running (due today or later).
RUNNING_WEIGHTS: dict[str, int] = _DATA["running_weights"]
#: What a fate falls back to when its timeline does not fit the instruction's dates.
FALLBACK = {
    EXECUTED_AFTER_RETURN: EXECUTED,
    EXECUTED_EXTENDED: EXECUTED,
    LATE_EXTENSION_REJECTED: LATE,
    LATE_AFTER_RETURN: LATE,
    LATE: EXECUTED,
    RETURNED: REPORTED,
    REMOVED_AFTER_REPORT: REMOVED,
    ON_CONTROL_EXTENSION_PENDING: ON_CONTROL,
    OVERDUE_EXTENSION_PENDING: OVERDUE,
}
#: Fates the year must show, most important first: each is forced onto an instruction
#: whose own fate is shared with others, when none drew it.
REQUIRED_FATES = (
    ON_CONTROL,
    OVERDUE,
    REPORTED,
    RETURNED,
    EXECUTED,
    LATE,
    REMOVED,
    EXECUTED_AFTER_RETURN,
    EXECUTED_EXTENDED,
    LATE_EXTENSION_REJECTED,
    OVERDUE_EXTENSION_PENDING,
    REMOVED_AFTER_REPORT,
)


class Infeasible(Exception):
    """The fate's timeline does not fit between the instruction's dates and today."""


@dataclass
class Texts:
    """The report texts of one instruction."""

    plan: InstructionPlan
    done: str

    def _fill(self, template: str, **extra: Any) -> str:
        plan = self.plan
        return template.format(
            number=plan.number,
            protocol=plan.meeting.protocol_number,
            date=plan.meeting.date.strftime("%d.%m.%Y"),
            done=self.done,
            **extra,
        )

    def final(self, rng: random.Random, *, again: bool = False) -> str:
        return self._fill(rng.choice(REPORTS_AFTER_RETURN if again else FINAL_REPORTS))

    def progress(self, rng: random.Random) -> str:
        return rng.choice(PROGRESS).format(pct=rng.randint(30, 80), n=rng.randint(2, 6))

    def periodic(self, day: dt.date, period: str, rng: random.Random) -> str:
        if period == ReportPeriod.MONTHLY:
            month = day - dt.timedelta(days=15)
            label = f"{MONTHS[month.month - 1]} {month.year} года"
        else:
            quarter = day - dt.timedelta(days=45)
            label = f"{roman((quarter.month - 1) // 3 + 1)} квартал {quarter.year} года"
        return self._fill(rng.choice(PERIODIC_REPORTS), period=label, progress=self.progress(rng))

    def interim(self, rng: random.Random) -> str:
        return self._fill(rng.choice(INTERIM_REPORTS), progress=self.progress(rng))

    def co_executor(self, department: Department, rng: random.Random) -> str:
        return self._fill(
            rng.choice(CO_EXECUTOR_REPORTS),
            department=department.name_ru,
            progress=self.progress(rng),
        )
