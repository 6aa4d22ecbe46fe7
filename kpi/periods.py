"""KPI periods: ``2026-07`` (month), ``2026-Q3`` (quarter), ``2026`` (year), ``rolling90``
(the 90 days up to the snapshot date) and ``conv-8`` (a convocation's term).

Pure: parsing and date arithmetic only. A convocation's dates come from the database, so
``Period.bounds`` takes them as an argument (``services`` looks them up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maslikhat.core.exceptions import ValidationFailed

MONTH, QUARTER, YEAR, ROLLING, CONVOCATION = "month", "quarter", "year", "rolling", "convocation"
MAX_ROLLING_DAYS = 730
_PATTERNS = (
    (MONTH, re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")),
    (QUARTER, re.compile(r"(?P<year>\d{4})-[Qq](?P<quarter>[1-4])")),
    (YEAR, re.compile(r"(?P<year>\d{4})")),
    (ROLLING, re.compile(r"rolling(?P<days>\d{1,3})")),
    (CONVOCATION, re.compile(r"conv-(?P<number>\d{1,2})")),
)


class InvalidPeriod(ValidationFailed):
    """A period the API cannot read: a 400 that says which forms are accepted."""

    code = "invalid_period"
    default_message = _(
        "Unknown period. Use a month (2026-07), a quarter (2026-Q3), a year (2026), "
        "rolling90 or a convocation (conv-8)."
    )

    def __init__(self, message: str | Promise | None = None) -> None:
        super().__init__(message, field="period")


@dataclass(frozen=True)
class Period:
    """A parsed period; ``key`` is its canonical spelling (``2026-Q3``, ``rolling90``…)."""

    kind: str
    key: str
    year: int | None = None
    month: int | None = None
    quarter: int | None = None
    days: int | None = None
    convocation: int | None = None

    @classmethod
    def parse(cls, text: object) -> Period:
        """The period spelled by ``text``; ``InvalidPeriod`` (a 400 in the API) otherwise."""
        if not isinstance(text, str):
            raise InvalidPeriod
        value = text.strip()
        for kind, pattern in _PATTERNS:
            match = pattern.fullmatch(value)
            if match is None:
                continue
            parts = {name: int(part) for name, part in match.groupdict().items()}
            year = parts.get("year")
            if year is not None and not 2000 <= year <= 2100:
                raise InvalidPeriod(_("The year must be between 2000 and 2100."))
            if kind == MONTH:
                if not 1 <= parts["month"] <= 12:
                    raise InvalidPeriod(_("The month must be between 01 and 12."))
                return cls(MONTH, f"{year}-{parts['month']:02d}", year=year, month=parts["month"])
            if kind == QUARTER:
                q = parts["quarter"]
                return cls(QUARTER, f"{year}-Q{q}", year=year, quarter=q)
            if kind == YEAR:
                return cls(YEAR, str(year), year=year)
            if kind == ROLLING:
                if not 1 <= parts["days"] <= MAX_ROLLING_DAYS:
                    raise InvalidPeriod(_("A rolling period is 1 to 730 days long."))
                return cls(ROLLING, f"rolling{parts['days']}", days=parts["days"])
            if parts["number"] < 1:
                raise InvalidPeriod
            return cls(CONVOCATION, f"conv-{parts['number']}", convocation=parts["number"])
        raise InvalidPeriod

    def natural_bounds(
        self, as_of: date, convocation_term: tuple[date, date | None] | None = None
    ) -> tuple[date, date]:
        """First and last day of the period, not clamped to ``as_of``.

        A rolling period ends on ``as_of``; a convocation needs its term (``elected_on``,
        ``ends_on`` or None while it sits).
        """
        if self.kind == MONTH:
            assert self.year is not None and self.month is not None
            start = date(self.year, self.month, 1)
            return start, _next_month(start) - timedelta(days=1)
        if self.kind == QUARTER:
            assert self.year is not None and self.quarter is not None
            start = date(self.year, 3 * self.quarter - 2, 1)
            end = (
                date(self.year + 1, 1, 1)
                if self.quarter == 4
                else date(self.year, start.month + 3, 1)
            )
            return start, end - timedelta(days=1)
        if self.kind == YEAR:
            assert self.year is not None
            return date(self.year, 1, 1), date(self.year, 12, 31)
        if self.kind == ROLLING:
            assert self.days is not None
            return as_of - timedelta(days=self.days - 1), as_of
        if convocation_term is None:
            raise InvalidPeriod(_("There is no such convocation."))
        start, ends = convocation_term
        return start, ends if ends is not None else as_of

    def bounds(
        self, as_of: date, convocation_term: tuple[date, date | None] | None = None
    ) -> tuple[date, date]:
        """The days the KPI of this period counts as of ``as_of``: the period, cut at ``as_of``.

        A snapshot never looks past its ``as_of``, so recomputing it later gives the same
        numbers. A period that starts after ``as_of`` is an error.
        """
        start, end = self.natural_bounds(as_of, convocation_term)
        if start > as_of:
            raise InvalidPeriod(_("The period starts after the date it is computed for."))
        return start, min(end, as_of)

    def __str__(self) -> str:
        return self.key


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def current_periods(as_of: date, convocation_number: int | None = None) -> list[Period]:
    """The periods the nightly run keeps current: ``as_of``'s month, quarter and year,
    rolling90 and the sitting convocation."""
    quarter = (as_of.month - 1) // 3 + 1
    keys = [f"{as_of:%Y-%m}", f"{as_of.year}-Q{quarter}", str(as_of.year), "rolling90"]
    if convocation_number is not None:
        keys.append(f"conv-{convocation_number}")
    return [Period.parse(key) for key in keys]
