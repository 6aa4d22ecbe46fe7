"""Deadlines as data: deadline rules, the decreed-days table and the working-day calendar.

A deadline rule (срок) says how many days an item has (working or calendar days), on what
legal basis, and how far it may be extended; staff edit the rules in the admin. The calendar
is Kazakhstan's: weekends, the public holidays of the ``holidays`` package (``KZ``, including
the days off it already knows to be transferred) and the ``CalendarDay`` table, where staff
enter what the government decrees each year (days off moved, working Saturdays, Kurban Ait).
A ``CalendarDay`` row overrides everything else for its date.

``models.py`` imports this module at its end, after ``TranslatedName`` is defined, so the
models below belong to the ``core`` app. Import the models from ``maslikhat.core.models``
or from here, once Django is set up.

Computing a due date never queries once per day: ``WorkingCalendar`` loads the decreed days
of the years it needs (one query for the range given to ``load``, then one per further year
it is asked about) and the public holidays are cached per year for the whole process.
"""

from __future__ import annotations

import functools
import itertools
import re
from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.db import models
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import TranslatedName

RULE_DEPUTY_REQUEST = "deputy_request"
RULE_DEPUTY_REQUEST_EVALUATION = "deputy_request_evaluation"
RULE_INSTRUCTION = "instruction"
RULE_FORWARDING = "forwarding"

# How far around the requested range ``WorkingCalendar.load`` reads decreed days: a deadline
# counted from ``end`` may run into the next year (15 working days, then up to 2 months of
# extension), so one query covers the usual cases.
LOAD_DAYS_BEFORE = 7
LOAD_DAYS_AFTER = 400


class DayUnit(models.TextChoices):
    WORKING = "working", _("working days")
    CALENDAR = "calendar", _("calendar days")


class CalendarDayKind(models.TextChoices):
    DAY_OFF = "day_off", _("Day off (extra or transferred)")
    WORKING_DAY = "working_day", _("Working day (working Saturday or transferred)")


class DeadlineRule(TranslatedName):
    """A deadline rule (правило срока): days, unit, legal basis and extension limits."""

    code = models.SlugField(
        _("code"),
        unique=True,
        help_text=_("Stable identifier used by the code, e.g. deputy_request."),
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    days = models.PositiveSmallIntegerField(_("days"))
    unit = models.CharField(_("unit"), max_length=16, choices=DayUnit.choices)
    max_extension_months = models.PositiveSmallIntegerField(
        _("maximum extension (months)"), default=2
    )
    notice_days = models.PositiveSmallIntegerField(
        _("extension notice (working days)"),
        default=3,
        help_text=_("Working days within which the requester is told of an extension."),
    )
    pauses_clock = models.BooleanField(
        _("clarification stops the clock"),
        default=False,
        help_text=_(
            "While the department waits for the author's answer to a clarification question, "
            "the deadline does not run; the due date moves by the paused working days."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        app_label = "core"
        ordering = ("code",)
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gte=1), name="deadlinerule_days_gte_1"),
            models.CheckConstraint(
                condition=models.Q(unit__in=DayUnit.values), name="deadlinerule_unit_valid"
            ),
        ]


class CalendarDay(TranslatedName):
    """A decreed exception to the normal calendar (перенос выходного дня, рабочая суббота).

    The name fields hold the reason, e.g. «Перенос выходного дня с 5 января на 3 января
    (постановление Правительства)».
    """

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)

    class Meta:
        app_label = "core"
        ordering = ("date",)
        verbose_name = _("decreed calendar day")
        verbose_name_plural = _("decreed calendar days")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=CalendarDayKind.values),
                name="calendarday_kind_valid",
            ),
        ]


# --- Public holidays -------------------------------------------------------------------------

# The holiday names the ``holidays`` package gives for KZ in English, marked for translation
# so the portal shows them in Russian and Kazakh too (the package has no Russian names).
_HOLIDAY_NAMES: dict[str, Promise] = {
    "New Year's Day": _("New Year's Day"),
    "Orthodox Christmas": _("Orthodox Christmas"),
    "International Women's Day": _("International Women's Day"),
    "Nowruz Holiday": _("Nowruz Holiday"),
    "Kazakhstan's People Solidarity Holiday": _("Kazakhstan People's Unity Day"),
    "Defender of the Fatherland Day": _("Defender of the Fatherland Day"),
    "Victory Day": _("Victory Day"),
    "Capital Day": _("Capital Day"),
    "Constitution Day": _("Constitution Day"),
    "Republic Day": _("Republic Day"),
    "First President Day": _("First President Day"),
    "Independence Day": _("Independence Day"),
    "Eid al-Adha": _("Kurban Ait"),
}
_SUBSTITUTED = re.compile(r"Day off \(substituted from (\d{2})/(\d{2})/(\d{4})\)")
_SUFFIXED = re.compile(r"(?P<name>.+) \((?P<suffix>observed|estimated|observed, estimated)\)")


@dataclass(frozen=True)
class _YearHolidays:
    names: Mapping[date, str]  # English names, as the package gives them
    weekend_workdays: frozenset[date]  # weekend days the package knows were made working


@functools.lru_cache(maxsize=64)
def _kz_holidays(year: int) -> _YearHolidays:
    import holidays

    # The names are read in English (the source language) and translated on display.
    kz = holidays.country_holidays("KZ", years=year, language="en_US")
    return _YearHolidays(
        names={day: str(name) for day, name in kz.items() if day.year == year},
        weekend_workdays=frozenset(d for d in kz.weekend_workdays if d.year == year),
    )


def _translate_one_holiday(name: str) -> str:
    substituted = _SUBSTITUTED.fullmatch(name)
    if substituted:
        month, day, year = (int(part) for part in substituted.groups())
        return gettext("Day off transferred from %(date)s") % {
            "date": _format_date(date(year, month, day))
        }
    suffixed = _SUFFIXED.fullmatch(name)
    if suffixed:
        holiday = _translate_one_holiday(suffixed["name"])
        if suffixed["suffix"] == "observed":
            return gettext("%(holiday)s, transferred") % {"holiday": holiday}
        if suffixed["suffix"] == "estimated":
            return gettext("%(holiday)s, estimated date") % {"holiday": holiday}
        return gettext("%(holiday)s, transferred, estimated date") % {"holiday": holiday}
    known = _HOLIDAY_NAMES.get(name)
    return str(known) if known is not None else name


def _translate_holiday(names: str) -> str:
    # The package joins two holidays on one date with "; ".
    return "; ".join(_translate_one_holiday(name) for name in names.split("; "))


def _format_date(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def public_holidays(year: int) -> list[DayInfo]:
    """The days of ``year`` the ``holidays`` package knows (KZ), in date order, never a query.

    Public holidays and the days off it knows to be transferred (``is_working`` false), and
    the weekend days it knows to be made working (``is_working`` true); names translated.
    """
    known = _kz_holidays(year)
    days = [
        DayInfo(day, False, _translate_holiday(name), DaySource.HOLIDAY)
        for day, name in known.names.items()
    ]
    days.extend(
        DayInfo(
            day, True, gettext("Working day transferred by government decree"), DaySource.HOLIDAY
        )
        for day in known.weekend_workdays
    )
    return sorted(days, key=lambda info: info.date)


def substituted_days_off(year: int) -> list[tuple[date, date]]:
    """The transfers the ``holidays`` package knows in ``year``: (day off, the day it replaces).

    The package names such a day "Day off (substituted from MM/DD/YYYY)": the day off moved
    from a weekend day, which becomes a working day.
    """
    moves = []
    for day, names in _kz_holidays(year).names.items():
        for name in names.split("; "):
            found = _SUBSTITUTED.fullmatch(name)
            if found:
                month, dom, from_year = (int(part) for part in found.groups())
                moves.append((day, date(from_year, month, dom)))
    return sorted(moves)


# --- The calendar ----------------------------------------------------------------------------


class DaySource:
    """Where ``WorkingCalendar.day_info`` took its answer from."""

    DECREE = "decree"
    HOLIDAY = "holiday"
    WEEKEND = "weekend"


@dataclass(frozen=True)
class DayInfo:
    """Whether ``date`` is a working day and why (in the language active when computed)."""

    date: date
    is_working: bool
    reason: str
    #: Where the answer comes from: ``decree`` (a ``CalendarDay`` row), ``holiday`` (the
    #: ``holidays`` package), ``weekend``, or empty for an ordinary working day.
    source: str = ""


@dataclass(frozen=True)
class DueDate:
    """A computed due date and how it was computed: the non-working days it skipped."""

    due: date
    start: date
    days: int
    unit: str
    skipped: list[DayInfo] = field(default_factory=list)
    rule_code: str | None = None
    #: The rule's legal basis as it read when the date was computed (``None``: not recorded).
    legal_basis: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable record of the computation, to store on the item."""
        return {
            "due": self.due.isoformat(),
            "start": self.start.isoformat(),
            "days": self.days,
            "unit": str(self.unit),
            "rule": self.rule_code,
            "legal_basis": self.legal_basis,
            "skipped": [
                {"date": info.date.isoformat(), "reason": str(info.reason), "source": info.source}
                for info in self.skipped
            ],
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any] | None) -> DueDate | None:
        """The computation stored by ``as_dict`` read back, or ``None`` when there is none.

        A record written by hand (a due date set by staff) or damaged reads as ``None``.
        The reasons of the skipped days stay as they were worded when it was computed.
        """
        if not record:
            return None
        try:
            return cls(
                due=date.fromisoformat(record["due"]),
                start=date.fromisoformat(record["start"]),
                days=int(record["days"]),
                unit=str(record.get("unit") or DayUnit.WORKING),
                skipped=[
                    DayInfo(
                        date.fromisoformat(day["date"]),
                        False,
                        str(day.get("reason", "")),
                        str(day.get("source") or ""),
                    )
                    for day in record.get("skipped", [])
                ],
                rule_code=record.get("rule"),
                legal_basis=(
                    str(record["legal_basis"]) if record.get("legal_basis") is not None else None
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def explain(self) -> list[str]:
        """Human-readable lines: the count, every skipped day and why, the due date."""
        start = _format_date(self.start)
        if self.unit == DayUnit.CALENDAR:
            lines = [
                ngettext(
                    "%(count)d calendar day from %(start)s.",
                    "%(count)d calendar days from %(start)s.",
                    self.days,
                )
                % {"count": self.days, "start": start}
            ]
            if self.skipped:
                lines.append(
                    gettext(
                        "The deadline fell on %(date)s, a day off, and moves to the next "
                        "working day."
                    )
                    % {"date": _format_date(self.skipped[0].date)}
                )
        else:
            lines = [
                ngettext(
                    "%(count)d working day counted from the day after %(start)s.",
                    "%(count)d working days counted from the day after %(start)s.",
                    self.days,
                )
                % {"count": self.days, "start": start}
            ]
        lines.extend(_skipped_line(info) for info in self.skipped)
        lines.append(gettext("Due date: %(date)s.") % {"date": _format_date(self.due)})
        return lines


def _skipped_line(info: DayInfo) -> str:
    """One skipped day of "how computed": a decreed transfer is named as such."""
    values = {"date": _format_date(info.date), "reason": info.reason}
    if info.source == DaySource.DECREE:
        return gettext("%(date)s: %(reason)s (day off by government decree)") % values
    return gettext("%(date)s: %(reason)s (day off)") % values


class WorkingCalendar:
    """Kazakhstan's working days: weekends, public holidays and the decreed ``CalendarDay`` rows.

    Build it with ``WorkingCalendar.load(start, end)`` (or ``calendar_for``) and reuse it for
    many computations. Decreed days are read once per year: the years around the loaded range
    in one query, any other year on first use. ``WorkingCalendar.from_days(rows)`` builds a
    calendar that never queries, from the rows given. Keep instances short-lived (a request,
    a task run): they do not see decreed days staff add after they were read.

    ``working_days_between`` is a difference of two counts "working days since 1 January"
    (``year_working_day_counts``), computed once per process for each year and each state of
    that year's decreed days: the hundred "N working days left" of a dashboard or a to-do
    cost a hundred lookups, not a walk over every day between today and each due date.
    """

    def __init__(self, *, query_database: bool = True) -> None:
        self._query_database = query_database
        self._decreed: dict[date, CalendarDay] = {}
        self._loaded_years: set[int] = set()
        self._is_working: dict[date, bool] = {}
        self._counts: dict[int, tuple[int, ...]] = {}

    @classmethod
    def load(cls, start: date, end: date) -> WorkingCalendar:
        """A calendar with the decreed days around ``start``..``end`` read in one query."""
        cal = cls()
        first = (min(start, end) - timedelta(days=LOAD_DAYS_BEFORE)).year
        last = (max(start, end) + timedelta(days=LOAD_DAYS_AFTER)).year
        cal._read_years(first, last)
        return cal

    @classmethod
    def from_days(cls, days: Iterable[CalendarDay]) -> WorkingCalendar:
        """A calendar whose only decreed days are ``days`` (saved or not); it never queries."""
        cal = cls(query_database=False)
        for row in days:
            cal._decreed[row.date] = row
        return cal

    def _read_years(self, first: int, last: int) -> None:
        rows = CalendarDay.objects.filter(
            date__gte=date(first, 1, 1), date__lt=date(last + 1, 1, 1)
        )
        for row in rows:
            self._decreed[row.date] = row
        self._loaded_years.update(range(first, last + 1))

    def _decreed_day(self, day: date) -> CalendarDay | None:
        if self._query_database and day.year not in self._loaded_years:
            self._read_years(day.year, day.year)
        return self._decreed.get(day)

    def day_info(self, day: date) -> DayInfo:
        """Whether ``day`` is a working day, and the reason: a decree, a holiday or the weekend."""
        decreed = self._decreed_day(day)
        if decreed is not None:
            return DayInfo(
                day, decreed.kind == CalendarDayKind.WORKING_DAY, decreed.name, DaySource.DECREE
            )
        year = _kz_holidays(day.year)
        if day in year.weekend_workdays:
            return DayInfo(
                day,
                True,
                gettext("Working day transferred by government decree"),
                DaySource.HOLIDAY,
            )
        if day in year.names:
            return DayInfo(day, False, _translate_holiday(year.names[day]), DaySource.HOLIDAY)
        if day.weekday() == 5:
            return DayInfo(day, False, gettext("Saturday"), DaySource.WEEKEND)
        if day.weekday() == 6:
            return DayInfo(day, False, gettext("Sunday"), DaySource.WEEKEND)
        return DayInfo(day, True, gettext("Working day"))

    def is_working_day(self, day: date) -> bool:
        known = self._is_working.get(day)
        if known is None:
            known = self._is_working[day] = self.day_info(day).is_working
        return known

    def add_working_days(self, start: date, n: int) -> DueDate:
        """The ``n``-th working day after ``start`` (the count starts the day after ``start``)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day, remaining = start, n
        skipped: list[DayInfo] = []
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
            else:
                skipped.append(self.day_info(day))
        return DueDate(due=day, start=start, days=n, unit=DayUnit.WORKING, skipped=skipped)

    def add_days(self, start: date, n: int, unit: str) -> DueDate:
        """``n`` days of ``unit`` after ``start``; a calendar-day deadline that falls on a day
        off moves to the next working day (the days passed over are in ``skipped``)."""
        if unit == DayUnit.WORKING:
            return self.add_working_days(start, n)
        if unit != DayUnit.CALENDAR:
            raise ValueError(f"unknown day unit {unit!r}")
        if n < 0:
            raise ValueError("n must not be negative")
        day = start + timedelta(days=n)
        skipped: list[DayInfo] = []
        while not self.is_working_day(day):
            skipped.append(self.day_info(day))
            day += timedelta(days=1)
        return DueDate(due=day, start=start, days=n, unit=DayUnit.CALENDAR, skipped=skipped)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``.

        ``working_days_between(today, due)`` is "N working days left";
        ``working_days_between(due, today)`` is "overdue by N working days".
        """
        if b < a:
            return -self.working_days_between(b, a)
        counted = self._since_new_year(b) - self._since_new_year(a)
        for year in range(a.year, b.year):
            counted += self._year_counts(year)[-1]
        return counted

    def _since_new_year(self, day: date) -> int:
        """Working days from 1 January of ``day``'s year up to and including ``day``."""
        return self._year_counts(day.year)[day.timetuple().tm_yday - 1]

    def _year_counts(self, year: int) -> tuple[int, ...]:
        counts = self._counts.get(year)
        if counts is None:
            if self._query_database and year not in self._loaded_years:
                self._read_years(year, year)
            decreed = tuple(
                sorted((day, row.kind) for day, row in self._decreed.items() if day.year == year)
            )
            counts = self._counts[year] = year_working_day_counts(year, decreed)
        return counts


#: A year's decreed days as ``year_working_day_counts`` keys them: ``((date, kind), …)``.
Decreed = tuple[tuple[date, str], ...]


@functools.lru_cache(maxsize=32)
def year_working_day_counts(year: int, decreed: Decreed) -> tuple[int, ...]:
    """Working days of ``year`` from 1 January up to each of its days (index: the day of the
    year less one), given the year's decreed days.

    Computed once per process for each state of the year's decreed days: a day staff add,
    change or remove is another key, so the next calendar counts the year afresh and
    nothing needs clearing."""
    calendar = WorkingCalendar.from_days(CalendarDay(date=day, kind=kind) for day, kind in decreed)
    start = date(year, 1, 1)
    length = (date(year + 1, 1, 1) - start).days
    flags = (calendar.is_working_day(start + timedelta(days=n)) for n in range(length))
    return tuple(itertools.accumulate(flags))


def calendar_for(start: date, end: date | None = None) -> WorkingCalendar:
    """A calendar loaded for computations between ``start`` and ``end`` (default: ``start``)."""
    return WorkingCalendar.load(start, end if end is not None else start)


def compute_due_date(
    *, rule: DeadlineRule, start: date, calendar: WorkingCalendar | None = None
) -> DueDate:
    """The due date under ``rule`` for an item whose deadline runs from ``start``.

    Pass ``calendar`` when computing many due dates, so the decreed days are read once.
    """
    cal = calendar if calendar is not None else calendar_for(start)
    return replace(
        cal.add_days(start, rule.days, rule.unit),
        rule_code=rule.code,
        legal_basis=rule.legal_basis,
    )


@dataclass(frozen=True)
class Pause:
    """A stopped clock (a clarification question awaiting its answer) and what it moved.

    ``days`` are the working days after ``start`` (the question's date) up to and including
    ``end`` (the answer's date); ``due_to`` is the ``days``-th working day after ``due_from``
    (``docs/domain.md``, "Clarification pauses").
    """

    start: date
    end: date
    days: int
    due_from: date
    due_to: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "due_from": self.due_from.isoformat(),
            "due_to": self.due_to.isoformat(),
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Pause | None:
        try:
            return cls(
                start=date.fromisoformat(record["start"]),
                end=date.fromisoformat(record["end"]),
                days=int(record["days"]),
                due_from=date.fromisoformat(record["due_from"]),
                due_to=date.fromisoformat(record["due_to"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def explain(self) -> str:
        return ngettext(
            "The clock stopped from %(start)s to %(end)s for a clarification by the author: "
            "%(count)d working day added, the due date moved from %(from)s to %(to)s.",
            "The clock stopped from %(start)s to %(end)s for a clarification by the author: "
            "%(count)d working days added, the due date moved from %(from)s to %(to)s.",
            self.days,
        ) % {
            "start": _format_date(self.start),
            "end": _format_date(self.end),
            "count": self.days,
            "from": _format_date(self.due_from),
            "to": _format_date(self.due_to),
        }


def paused_shift(
    *, due: date, start: date, end: date, calendar: WorkingCalendar | None = None
) -> tuple[int, date]:
    """(paused working days, the new due date) of a clock stopped from ``start`` to ``end``.

    Paused days: the working days after ``start`` up to and including ``end`` (none when
    ``end`` is not after ``start``); the new due date is that many working days after
    ``due`` (``due`` itself when none).
    """
    cal = calendar if calendar is not None else calendar_for(min(start, due), max(end, due))
    days = max(cal.working_days_between(start, end), 0)
    return days, cal.add_working_days(due, days).due if days else due


def _paused_line(since: date) -> str:
    return gettext(
        "The clock has been stopped since %(date)s, waiting for the author's answer to a "
        "clarification question; the due date moves when it comes."
    ) % {"date": _format_date(since)}


def due_explanation(item: Any) -> dict[str, Any] | None:
    """The "how computed" box of an item's page, from its ``due_date_basis``.

    ``{"set_by_staff": bool, "lines": [...], "extended": bool}``: the lines are worded in
    the reader's language from the stored computation (``DueDate.from_dict``), the finished
    pauses (``basis["pauses"]``, each a ``Pause``) and, while the clock stands still, the day
    it stopped (the item's ``paused_since``); ``extended`` says the due date has since moved
    otherwise (an approved extension). ``None``
    when the item has no readable record (no deadline yet, or a damaged one).
    ``legal_basis`` (when computed by a rule) is the rule's legal basis as recorded with the
    computation; a record from before the basis was recorded reads the rule (one query).
    """
    basis = item.due_date_basis or {}
    pauses = [p for p in map(Pause.from_dict, basis.get("pauses") or []) if p is not None]
    paused_since = getattr(item, "paused_since", None)
    try:
        recorded_due = date.fromisoformat(basis["due"])
    except (KeyError, TypeError, ValueError):
        recorded_due = None
    extended = item.due_date is not None and recorded_due not in (None, item.due_date)
    if pauses:
        # A pause moves the original due date too (it is not an extension): what differs
        # from it now was extended.
        original = getattr(item, "original_due_date", None)
        extended = original is not None and item.due_date not in (None, original)
    if basis.get("set_by_staff"):
        return {
            "set_by_staff": True,
            "lines": [
                *(p.explain() for p in pauses),
                *([_paused_line(paused_since)] if paused_since is not None else []),
            ],
            "extended": extended,
        }
    computed = DueDate.from_dict(basis)
    if computed is None:
        return None
    lines = computed.explain()
    lines.extend(p.explain() for p in pauses)
    if paused_since is not None:
        lines.append(_paused_line(paused_since))
    legal_basis = computed.legal_basis
    if legal_basis is None and computed.rule_code:
        legal_basis = (
            DeadlineRule.objects.filter(code=computed.rule_code)
            .values_list("legal_basis", flat=True)
            .first()
        )
    return {
        "set_by_staff": False,
        "lines": lines,
        "extended": extended,
        "legal_basis": legal_basis or "",
    }


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def max_extension_date(*, rule: DeadlineRule, original_due: date) -> date:
    """The latest date an extension under ``rule`` may set: the original due date plus
    ``rule.max_extension_months`` months (31 January + 1 month is the last day of February)."""
    return add_months(original_due, rule.max_extension_months)


# --- Default rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DefaultRule:
    """Seed data for one ``DeadlineRule``."""

    code: str
    days: int
    unit: str
    legal_basis: str
    name_ru: str
    name_kk: str
    name_en: str
    max_extension_months: int = 2
    notice_days: int = 3
    #: A clarification question to the requester stops the clock until the answer.
    pauses_clock: bool = False


DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule(
        code=RULE_DEPUTY_REQUEST,
        days=15,
        unit=DayUnit.WORKING,
        legal_basis=(
            "Административный процедурный кодекс РК, ст. 76: срок рассмотрения — 15 рабочих "
            "дней; продление мотивированным решением до 2 месяцев; заявитель уведомляется "
            "о продлении в течение 3 рабочих дней"
        ),
        name_ru="Рассмотрение депутатского запроса",
        name_kk="Депутаттық сауалды қарау",
        name_en="Consideration of a deputy request",
        pauses_clock=True,
    ),
    DefaultRule(
        code=RULE_DEPUTY_REQUEST_EVALUATION,
        days=10,
        unit=DayUnit.WORKING,
        legal_basis=(
            "Регламент маслихата: депутат оценивает ответ в течение 10 рабочих дней; "
            "если депутат не оценил ответ в срок, запрос закрывается автоматически без оценки"
        ),
        name_ru="Оценка ответа депутатом",
        name_kk="Депутаттың жауапты бағалауы",
        name_en="Evaluation of the answer by the deputy",
        max_extension_months=0,
    ),
    DefaultRule(
        code=RULE_INSTRUCTION,
        days=30,
        unit=DayUnit.CALENDAR,
        legal_basis=(
            "Регламент маслихата: протокольное поручение исполняется в течение 30 календарных "
            "дней, если в протоколе не установлен иной срок"
        ),
        name_ru="Исполнение протокольного поручения",
        name_kk="Хаттамалық тапсырманы орындау",
        name_en="Execution of a protocol instruction",
    ),
    DefaultRule(
        code=RULE_FORWARDING,
        days=3,
        unit=DayUnit.WORKING,
        legal_basis=(
            "Административный процедурный кодекс РК, ст. 76: обращение, рассмотрение которого "
            "не входит в компетенцию, направляется по принадлежности в течение 3 рабочих дней"
        ),
        name_ru="Перенаправление по компетенции",
        name_kk="Құзыреті бойынша жолдау",
        name_en="Forwarding to the competent body",
        max_extension_months=0,
    ),
)


def deadline_rules_ensure_defaults() -> int:
    """Create the default rules that are missing; return how many were created.

    Existing rules are left as they are: staff may have edited them in the admin.
    """
    created_count = 0
    for default in DEFAULT_RULES:
        _rule, created = DeadlineRule.objects.get_or_create(
            code=default.code,
            defaults={
                "days": default.days,
                "unit": default.unit,
                "legal_basis": default.legal_basis,
                "name_ru": default.name_ru,
                "name_kk": default.name_kk,
                "name_en": default.name_en,
                "max_extension_months": default.max_extension_months,
                "notice_days": default.notice_days,
                "pauses_clock": default.pauses_clock,
            },
        )
        created_count += created
    return created_count


def get_rule(code: str) -> DeadlineRule:
    """The rule with ``code`` (active or not); a missing default rule is created first.

    Raises ``DeadlineRule.DoesNotExist`` for a code that is neither stored nor a default.
    """
    try:
        return DeadlineRule.objects.get(code=code)
    except DeadlineRule.DoesNotExist:
        deadline_rules_ensure_defaults()
        return DeadlineRule.objects.get(code=code)
