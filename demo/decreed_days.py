"""The demo's first step: the decreed days of the demo years and the clock-stop choice.

The ``holidays`` package already knows some transfers of days off ("Day off (substituted from
…)", ``core.deadlines.substituted_days_off``); the demo enters each as the two ``CalendarDay``
rows staff would enter from the decree (the weekday made a day off, the weekend day made
working), with the reason in Russian, Kazakh and English, so the calendar page and "how
computed" show transfers. It also makes sure ``pauses_clock`` is on for the deputy request
rule (a rule stored before the flag existed has it off): the demo shows a clarification stopping
the clock. For the real portal staff decide it on the deadline rules page.

Everything goes through the calendar services as the demo staff member; dates already in the
table are left alone and an unchanged rule records nothing, so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.utils import timezone
from django.utils.translation import gettext

from maslikhat.core.deadlines import RULE_DEPUTY_REQUEST, CalendarDayKind, substituted_days_off
from maslikhat.directory import calendar

from .context import DemoContext
from .data import load

DAYS_IN_YEAR = 365


def demo_years(today: dt.date) -> range:
    """The years the demo year touches, and the next one (due dates run into it)."""
    return range((today - dt.timedelta(days=DAYS_IN_YEAR)).year, today.year + 2)


@dataclass(frozen=True)
class DecreedRow:
    """One decreed day as staff would enter it."""

    date: dt.date
    kind: str
    name_ru: str
    name_kk: str
    name_en: str


def transfer_rows(years: range) -> list[DecreedRow]:
    """The ``CalendarDay`` rows for every transfer the package knows in ``years``, by date."""
    texts = load("decreed_days")
    rows: list[DecreedRow] = []
    for year in years:
        for moved_to, moved_from in substituted_days_off(year):
            values = {"moved_to": f"{moved_to:%d.%m.%Y}", "moved_from": f"{moved_from:%d.%m.%Y}"}
            for day, kind, text in (
                (moved_to, CalendarDayKind.DAY_OFF, texts["day_off"]),
                (moved_from, CalendarDayKind.WORKING_DAY, texts["working_day"]),
            ):
                names = [text[lang].format(**values) for lang in ("ru", "kk", "en")]
                rows.append(DecreedRow(day, kind, *names))
    return sorted(rows, key=lambda row: row.date)


def seed_decreed_days(context: DemoContext, *, today: dt.date | None = None) -> str:
    """Enter the known transfers of the demo years; the deputy request rule stops the clock."""
    staff = context.directory.staff
    rows = transfer_rows(demo_years(today or timezone.localdate()))
    present = calendar.decreed_dates([row.date for row in rows])
    created = 0
    for row in rows:
        if row.date in present:
            continue
        calendar.calendar_day_create(by=staff, **asdict(row))
        created += 1
    calendar.deadline_rule_update(by=staff, code=RULE_DEPUTY_REQUEST, pauses_clock=True)
    return gettext("Decreed days entered from the known transfers: %(count)d.") % {"count": created}
