"""The reminder sweep's cost does not grow with the items it reminds of.

``test_reminders.py`` holds the queries equal for items that do *not* match the day; here
every copy matches: 10 or 200 requests due in 3 working days and 10 or 200 overdue by one,
each reminded to its department and escalated to staff, with the same reads; only the
multi-row INSERTs of the notifications follow their number.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.reminders import reminders_sweep
from requests_app.models import DeputyRequest
from tests.factories import DemoDirectory
from tests.instruction_helpers import create_instruction, make_world
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

D = datetime.date
ROUTED_ON = D(2026, 11, 2)
DUE = D(2026, 11, 23)  # due in 3 working days on Wed 18.11
SWEEP_DAY = D(2026, 11, 18)
OVERDUE_BY_1 = D(2026, 11, 17)  # due Tue 17.11: overdue by one working day on 18.11


def copies(template: DeputyRequest, count: int, due: datetime.date) -> None:
    """Bulk copies of a request in progress, all due on ``due``."""
    fields = [f for f in DeputyRequest._meta.concrete_fields if not f.primary_key]
    values = {f.attname: getattr(template, f.attname) for f in fields}
    start = DeputyRequest.objects.count()
    DeputyRequest.objects.bulk_create(
        DeputyRequest(**{**values, "number": f"DZ-2026-9{start + n:04d}", "due_date": due})
        for n in range(count)
    )


def sweep_queries() -> tuple[int, int, int]:
    """The sweep's reads, its inserts of notifications and the notifications it wrote
    (rolled back afterwards)."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            result = reminders_sweep(day=SWEEP_DAY, enqueue=False)
        written = Notification.objects.filter(day=SWEEP_DAY, deduplicate=True).count()
        transaction.set_rollback(True)
    assert written == result.notifications
    sql = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    inserts = [q for q in sql if 'INTO "core_notification"' in q]
    return len(sql) - len(inserts), len(inserts), result.notifications


def test_the_sweep_runs_the_same_queries_for_10_or_200_items_it_reminds_of(
    directory: DemoDirectory, time_machine: Any
) -> None:
    time_machine.move_to(datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    template = make_request(directory, status="in_progress")
    assert template.due_date == DUE
    create_instruction(make_world(directory, protocol_date=ROUTED_ON), due_date=DUE)
    copies(template, 9, DUE)
    copies(template, 10, OVERDUE_BY_1)
    few, few_inserts, few_rows = sweep_queries()
    copies(template, 190, DUE)
    copies(template, 190, OVERDUE_BY_1)
    many, many_inserts, many_rows = sweep_queries()
    assert many == few
    # Every copy is reminded (due) or escalated (overdue): the rows grow, the reads do not;
    # the rows go in as multi-row INSERTs (SQLite caps one at 999 values, ~70 rows).
    assert many_rows >= few_rows + 380
    assert few_inserts == 1
    assert many_inserts <= many_rows // 50 + 1
    result = reminders_sweep(day=SWEEP_DAY, enqueue=False)
    assert result.items["due"] == 201  # 200 requests and the instruction
    assert result.items["overdue"] == 200
    assert result.by_kind[NotificationKind.ESCALATION] >= 200
