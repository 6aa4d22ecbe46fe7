"""The to-do's working days counted once per process and year (``reports.todo``): the same
figures as a day-by-day walk of the working calendar, and a decreed day staff save, change
or remove counts at once (the cache is keyed on the year's decreed days)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maslikhat.core.deadlines import CalendarDay, CalendarDayKind, WorkingCalendar
from maslikhat.directory import calendar as calendar_services
from maslikhat.directory.actors import actor_for
from reports.todo import WorkingDayCounts, _year_counts, todo_for
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

S = RequestStatus
FRIDAY = datetime.date(2026, 12, 11)
MONDAY = datetime.date(2026, 12, 14)
THURSDAY = datetime.date(2026, 12, 17)


def _due(directory: DemoDirectory, due: datetime.date, title: str) -> DeputyRequest:
    item = make_request(directory, status=S.IN_PROGRESS, title=title)
    DeputyRequest.objects.filter(pk=item.pk).update(due_date=due)
    return item


def _rows(directory: DemoDirectory, today: datetime.date) -> dict[int, tuple[int | None, ...]]:
    """``{request id: (days left, overdue days)}`` of the finance head's to-do on ``today``."""
    groups = todo_for(actor_for(directory.finance_head), today)
    return {
        item.id: (item.days_left, item.overdue_days)
        for group in groups
        if group.kind in ("request_unassigned", "request_department_overdue")
        for item in group.items
    }


def test_counts_match_a_walk_of_the_calendar_across_years() -> None:
    CalendarDay.objects.create(
        date=datetime.date(2025, 12, 29), kind=CalendarDayKind.DAY_OFF, name_ru="Перенос"
    )
    CalendarDay.objects.create(
        date=datetime.date(2026, 1, 3), kind=CalendarDayKind.WORKING_DAY, name_ru="Суббота"
    )
    first, last = datetime.date(2024, 11, 20), datetime.date(2027, 2, 10)
    stored = WorkingDayCounts.read(first, last)
    calendar = WorkingCalendar.load(first, last)
    for a, b in [(first, last), (datetime.date(2025, 12, 20), datetime.date(2026, 1, 10))]:
        assert stored(b) - stored(a) == calendar.working_days_between(a, b)
    walked = WorkingDayCounts.walk(calendar, first, last)
    day = first
    while day <= last:
        assert stored(day) - stored(first) == walked(day), day
        day += datetime.timedelta(days=1)


def test_a_year_is_counted_once_per_state_of_its_decreed_days() -> None:
    _year_counts.cache_clear()
    WorkingDayCounts.read(FRIDAY, THURSDAY)
    WorkingDayCounts.read(MONDAY, THURSDAY)
    assert _year_counts.cache_info().misses == 1
    assert _year_counts.cache_info().hits == 1
    with CaptureQueriesContext(connection) as captured:
        WorkingDayCounts.read(FRIDAY, THURSDAY)
    assert len(captured.captured_queries) == 1  # the decreed days; the year from the cache


def test_a_decreed_day_saved_changed_or_removed_counts_at_once(
    directory: DemoDirectory,
) -> None:
    due_thursday = _due(directory, THURSDAY, "До четверга")
    due_friday = _due(directory, FRIDAY, "До пятницы")
    # Wednesday 12-16 is Independence Day: from Friday, Mon 14, Tue 15 and Thu 17 count.
    assert _rows(directory, FRIDAY)[due_thursday.pk] == (3, None)
    assert _rows(directory, THURSDAY)[due_friday.pk] == (None, 3)

    # Staff decree Monday a day off: the same process counts it at once.
    day = calendar_services.calendar_day_create(
        by=directory.staff, date=MONDAY, kind=CalendarDayKind.DAY_OFF, name_ru="Перенос"
    )
    assert _rows(directory, FRIDAY)[due_thursday.pk] == (2, None)
    assert _rows(directory, THURSDAY)[due_friday.pk] == (None, 2)

    # Moved to Tuesday: still one day fewer, then none once removed.
    calendar_services.calendar_day_update(
        by=directory.staff,
        pk=day.pk,
        date=MONDAY + datetime.timedelta(days=1),
        kind=CalendarDayKind.DAY_OFF,
        name_ru="Перенос",
    )
    assert _rows(directory, FRIDAY)[due_thursday.pk] == (2, None)
    calendar_services.calendar_day_remove(by=directory.staff, pk=day.pk)
    assert _rows(directory, FRIDAY)[due_thursday.pk] == (3, None)

    # A working Saturday decreed between the two days counts too.
    calendar_services.calendar_day_create(
        by=directory.staff,
        date=datetime.date(2026, 12, 12),
        kind=CalendarDayKind.WORKING_DAY,
        name_ru="Рабочая суббота",
    )
    assert _rows(directory, FRIDAY)[due_thursday.pk] == (4, None)
