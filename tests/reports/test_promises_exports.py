"""The request export carries each request's promise in force: its date, state, report date.

The existing columns stay as they were; the three promise columns follow them. The promise
data is read beside each chunk of rows (one query per chunk), so the export's query count
does not grow with the number of promises.
"""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment
from maslikhat.directory.actors import actor_for
from reports.exports import request_export, rows_of
from tests.factories import DemoDirectory
from tests.reports.promise_data import bulk_promises, keep, move_due, promised
from tests.reports_helpers import Places, bulk_requests, places
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

#: The export's columns before the promise was added to it, in English.
REQUEST_COLUMNS = [
    "Number",
    "Submitted",
    "Title",
    "Category",
    "District",
    "Author",
    "Lead department",
    "Co-executors",
    "Executor",
    "Status",
    "Due date",
    "Original due date",
    "Answered",
    "Overdue",
    "Outcome",
    "Returned for rework (times)",
    "Evaluations of the answers",
    "Ratings",
    "Last rating",
    "Deputy's rating",
    "Department's rating of the request",
]
PROMISE_COLUMNS = ["Promised for", "Promise state", "Promise reported"]


def by_number(
    language: str, directory: DemoDirectory
) -> tuple[list[str], dict[str | None, list[Any]]]:
    spec = request_export(actor=actor_for(directory.staff), params=QueryDict(""), language=language)
    return spec.headers, {row[0]: row for row in rows_of(spec)}


def test_the_request_export_adds_the_promise_after_the_existing_columns(
    directory: DemoDirectory,
) -> None:
    today = timezone.localdate()
    kept = keep(directory, promised(directory))
    late = move_due(promised(directory, close=False), today - datetime.timedelta(days=3))
    plain = make_request(directory, status="in_progress")

    headers, rows = by_number("en", directory)
    assert headers == REQUEST_COLUMNS + PROMISE_COLUMNS
    kept_row = rows[kept.request.number]
    assert kept_row[-3:] == [kept.due_date, "Kept", today]
    assert rows[late.request.number][-3:] == [late.due_date, "Overdue", None]
    assert rows[plain.number][-3:] == [None, "", None]
    # The request's own columns are what they were.
    assert kept_row[0] == kept.request.number and kept_row[13] in ("yes", "no")

    _headers, ru_rows = by_number("ru", directory)
    assert ru_rows[kept.request.number][-2] == "Выполнено"


def test_the_csv_file_holds_the_promise_columns(directory: DemoDirectory) -> None:
    kept = keep(directory, promised(directory))
    client = Client()
    client.force_login(directory.staff)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("reports:export-requests"), {"format": "csv-comma"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-3:] == PROMISE_COLUMNS
    (row,) = [row for row in rows[1:] if row[0] == kept.request.number]
    assert row[-3:] == [f"{kept.due_date:%d.%m.%Y}", "Kept", f"{timezone.localdate():%d.%m.%Y}"]


def count_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("reports:export-requests"), {"format": "csv"})
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return len(captured)


def test_the_export_query_count_is_the_same_at_10_and_1000_promises(
    directory: DemoDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One chunk of rows either way (3,000 requests): the count is then fixed per chunk.
    monkeypatch.setattr("reports.exports.CHUNK_SIZE", 5_000)
    where: Places = places()
    bulk_promises(bulk_requests(directory, 30, where, with_answers=True))
    assert Commitment.objects.count() == 10
    client = Client()
    client.force_login(directory.staff)
    at_10 = count_queries(client)
    bulk_promises(bulk_requests(directory, 2970, where, with_answers=True))
    assert Commitment.objects.count() == 1000
    assert count_queries(client) == at_10
