"""The to-do's working days left and overdue (``reports.todo``): a decreed day staff save,
change or remove counts at once, though the years' working days are counted once per
process (``WorkingCalendar.working_days_between``, tested in ``tests/core/test_deadlines.py``)."""

from __future__ import annotations

import datetime

import pytest

from maslikhat.core.deadlines import CalendarDayKind
from maslikhat.directory import calendar as calendar_services
from maslikhat.directory.actors import actor_for
from reports.todo import todo_for
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
