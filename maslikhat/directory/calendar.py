"""The working calendar and the deadline rules as staff maintain them in the portal.

Selectors and services behind the pages ``/calendar/`` (the public holidays of the ``holidays``
package and the decreed days of a year) and ``/calendar/rules/`` (the deadline rules). The
models live in ``maslikhat.core.deadlines``; they are edited here because the pages need the
roles (``accounts``) and the core may not import them.

A change takes effect for due dates computed afterwards: due dates already set on items are
not recomputed (an item keeps the computation it was given, ``due_date_basis``).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext

from maslikhat.core.deadlines import CalendarDay

# From this day of the year on, the next year's decreed days are expected to be entered
# (the government usually publishes the transfers for the next year in the autumn).
WARN_FROM_MONTH = 10
WARN_FROM_DAY = 1


def year_has_decreed_days(year: int) -> bool:
    return CalendarDay.objects.filter(
        date__gte=date(year, 1, 1), date__lt=date(year + 1, 1, 1)
    ).exists()


def coming_year(today: date) -> int | None:
    """The year whose decreed days are missing and should be entered now, or ``None``.

    The current year when it has no entries; from 1 October on, the next year when it has
    none.
    """
    if not year_has_decreed_days(today.year):
        return today.year
    if (today.month, today.day) >= (WARN_FROM_MONTH, WARN_FROM_DAY) and not (
        year_has_decreed_days(today.year + 1)
    ):
        return today.year + 1
    return None


def coming_year_warning(today: date) -> str | None:
    """A warning for staff when the coming year has no decreed days entered; else ``None``."""
    year = coming_year(today)
    if year is None:
        return None
    return gettext(
        "No decreed days (transferred days off, working Saturdays) are entered for %(year)s: "
        "due dates in %(year)s count only weekends and public holidays."
    ) % {"year": year}
