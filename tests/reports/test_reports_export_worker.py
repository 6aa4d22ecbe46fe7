"""A background export built by a real ``celery worker`` through the real Redis broker.

Uses the worker stack of ``tests.core.test_reminders_integration`` (a queue of the test's own, a
worker subprocess on the PostgreSQL test database). Skips without ``REDIS_URL``; fails under
``CI=true`` when Redis or PostgreSQL is missing.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from rest_framework.test import APIClient

from reports.models import ExportJob, ExportStatus
from reports.tasks import export_build
from requests_app.models import DeputyRequest, RequestStatus
from tests.core.test_reminders_integration import Stack, wait_for

# The reminders' worker stack fixture, available here as ``worker_stack``.
from tests.core.test_reminders_integration import stack as worker_stack  # noqa: F401
from tests.factories import DemoDirectory
from tests.reports_helpers import bulk_requests, places

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_large_export_is_built_by_a_real_worker(
    directory: DemoDirectory, request: pytest.FixtureRequest, settings: Any
) -> None:
    workers: Stack = request.getfixturevalue("worker_stack")
    settings.EXPORT_SYNC_LIMIT = 5
    bulk_requests(directory, 30, places())
    client = APIClient()
    client.force_authenticate(directory.staff)
    response = client.get("/api/v1/requests/export/", {"format": "xlsx"})
    assert response.status_code == 202
    job_id = response.json()["id"]

    workers.start_worker()
    # The view published to this process's default queue (nobody consumes it here);
    # publish to the worker's own queue, as the portal's worker would receive it.
    result = export_build.apply_async((job_id,), queue=workers.queue)
    wait_for("the worker to build the export", lambda: workers.succeeded(result.id))

    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportStatus.DONE, job.error
    expected = DeputyRequest.objects.exclude(status=RequestStatus.DRAFT).count()
    assert (job.progress, job.total) == (expected, expected)
    download = client.get(response.json()["status_url"]).json()["download_url"]
    file_response: Any = client.get(download)
    content = b"".join(file_response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    assert sum(1 for _row in sheet.iter_rows(min_row=2)) == expected
