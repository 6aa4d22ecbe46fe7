"""The calendar and deadline-rule pages in a real browser: no serious accessibility violation
(axe-core, WCAG 2 A and AA) in Russian on a phone and in Kazakh on a desktop."""

from __future__ import annotations

import datetime as dt

import pytest

from maslikhat.core.deadlines import CalendarDayKind
from maslikhat.directory import calendar
from tests.browser import checked_browser_page
from tests.factories import DemoDirectory
from tests.portal.test_browser_accessibility import WIDTHS, check, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_calendar_pages_have_no_serious_accessibility_violations(
    live_server, directory: DemoDirectory
) -> None:
    row = calendar.calendar_day_create(
        by=directory.staff,
        date=dt.date(2027, 1, 8),
        kind=CalendarDayKind.DAY_OFF,
        name_ru="Перенос выходного дня с 09.01.2027 на 08.01.2027",
        name_kk="Демалыс күнін 09.01.2027 күннен 08.01.2027 күнге ауыстыру",
    )
    base = live_server.url
    found: list[str] = []
    seen: list[str] = []
    with checked_browser_page(base) as (page, blocked):
        for language, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 844})
            log_in(page, base, "staff", language)
            for path in (
                "/calendar/?year=2027",
                f"/calendar/days/{row.pk}/",
                f"/calendar/days/{row.pk}/remove/",
                "/calendar/rules/",
                "/calendar/rules/deputy_request/",
            ):
                check(page, f"{base}{path}", language, found, seen)
    assert len(seen) == 10
    assert found == [], "\n".join(found)
    assert blocked == []
