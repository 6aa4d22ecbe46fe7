"""A worker SIGKILLed in the middle of an export: the job is restarted and built once.

Real Redis, real ``celery worker`` subprocesses on the PostgreSQL test database (the worker
stack of ``tests.core.test_reminders_integration``). The broker's visibility timeout is the
production one (an hour), so Redis does not hand the killed worker's message to anybody
during the test: what brings the export back is the job's lease running out and the export
sweep (``reports.export_jobs_sweep``) putting it back in the queue. Skips without
``REDIS_URL``; fails under ``CI=true`` when Redis or PostgreSQL is missing.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import redis
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from reports.models import ExportJob, ExportStatus
from reports.tasks import export_build, export_jobs_sweep
from requests_app.models import DeputyRequest, RequestStatus
from tests.core import test_reminders_integration as reminders_integration
from tests.core.test_reminders_integration import REDIS_URL, Stack, wait_for

# The reminders' worker stack fixture, available here as ``reminders_stack``.
from tests.core.test_reminders_integration import stack as reminders_stack  # noqa: F401
from tests.factories import DemoDirectory
from tests.reports_helpers import bulk_requests, places

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

#: Enough rows for the export to run a few seconds on the 2-core machine.
ROWS = 10_000
#: The workers' lease on a job (the portal's default is two minutes).
LEASE_SECONDS = 2
#: The whole recovery, from the SIGKILL to the finished file, stays under this.
RECOVERY_BUDGET_SECONDS = 40


@pytest.fixture
def workers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    # The production visibility timeout for the test's workers: no redelivery by Redis.
    monkeypatch.setattr(
        reminders_integration,
        "VISIBILITY_TIMEOUT",
        django_settings.CELERY_BROKER_VISIBILITY_TIMEOUT,
    )
    stack: Stack = request.getfixturevalue("reminders_stack")
    yield stack
    drop_unacknowledged(stack.queue)


def drop_unacknowledged(queue: str) -> None:
    """Forget the killed worker's message, which Redis would otherwise restore in an hour."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    for tag, raw in client.hscan_iter("unacked"):
        try:
            _message, _exchange, routing_key = json.loads(raw)
        except ValueError:
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def poll(what: str, condition: Any, timeout: float, stack: Stack) -> Any:
    """``wait_for`` with a finer step: progress moves every few hundred milliseconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs(stack)}")


def files_of(job: ExportJob) -> list[str]:
    final = Path(django_settings.MEDIA_ROOT) / job.file_path
    return sorted(p.name for p in final.parent.glob(f"{final.name}*"))


def logs(stack: Stack) -> str:
    """The workers' output, for the message of a failed assertion."""
    return "\n".join(f"--- {w.log.name}\n{w.output()[-4000:]}" for w in stack.workers)


def built_lines(stack: Stack, job_id: int) -> int:
    return sum(w.output().count(f"export job {job_id} built") for w in stack.workers)


def test_a_worker_killed_mid_export_is_replaced_and_the_file_is_built_exactly_once(
    directory: DemoDirectory, workers: Stack, settings: Any
) -> None:
    settings.EXPORT_SYNC_LIMIT = 5
    bulk_requests(directory, ROWS, places())
    expected = DeputyRequest.objects.exclude(status=RequestStatus.DRAFT).count()
    client = APIClient()
    client.force_authenticate(directory.staff)
    response = client.get("/api/v1/requests/export/", {"format": "xlsx"})
    assert response.status_code == 202
    job_id = response.json()["id"]
    lease = {"EXPORT_JOB_LEASE_SECONDS": str(LEASE_SECONDS)}

    first = workers.start_worker(**lease)
    started = time.monotonic()
    # The view published to this process's default queue (nobody consumes it here);
    # publish to the workers' own queue, as the portal's worker would receive it.
    export_build.apply_async((job_id,), queue=workers.queue)
    job = poll(
        "the first worker to write progress",
        lambda: ExportJob.objects.filter(pk=job_id, progress__gt=0).first(),
        timeout=30,
        stack=workers,
    )
    first.kill()
    killed_at = time.monotonic()
    assert first.process.returncode == -signal.SIGKILL, logs(workers)
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING, logs(workers)
    assert 0 < job.progress < expected, "killed in the middle of the export"
    progress_at_kill = job.progress

    workers.start_worker(**lease)
    ready = time.monotonic() - killed_at
    poll("the dead worker's lease to run out", lambda: job_id_lease_expired(job_id), 10, workers)
    # What beat does every minute.
    swept_at = time.monotonic()
    export_jobs_sweep.apply_async(queue=workers.queue)
    poll(
        "the restarted export to finish",
        lambda: ExportJob.objects.filter(
            pk=job_id, status__in=[ExportStatus.DONE, ExportStatus.FAILED]
        ).exists(),
        timeout=RECOVERY_BUDGET_SECONDS,
        stack=workers,
    )
    done_at = time.monotonic()
    recovered = done_at - killed_at

    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, f"{job.error}\n{logs(workers)}"
    assert job.attempts == 2, logs(workers)
    assert (job.progress, job.total) == (expected, expected)
    final = Path(settings.MEDIA_ROOT) / job.file_path
    assert files_of(job) == [final.name], "one file, no partial file left behind"
    sheet = openpyxl.load_workbook(final, read_only=True).worksheets[0]
    assert sum(1 for _row in sheet.iter_rows(min_row=2)) == expected
    assert built_lines(workers, job_id) == 1, logs(workers)
    assert recovered < RECOVERY_BUDGET_SECONDS

    # The killed worker's message delivered late (what Redis does after its visibility
    # timeout): the job is done, nothing is built again.
    finished_at, size = job.finished_at, final.stat().st_mtime_ns
    late = export_build.apply_async((job_id,), queue=workers.queue)
    wait_for("the late message to be handled", lambda: workers.succeeded(late.id))
    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == (ExportStatus.DONE, 2, finished_at)
    assert final.stat().st_mtime_ns == size and files_of(job) == [final.name]
    assert built_lines(workers, job_id) == 1
    print(
        f"\n{expected} rows; killed at {progress_at_kill} rows, "
        f"{killed_at - started:.1f} s after publishing; lease {LEASE_SECONDS} s; "
        f"SIGKILL → file ready {recovered:.1f} s (new worker ready {ready:.1f} s, "
        f"sweep → rebuilt file {done_at - swept_at:.1f} s)"
    )


def job_id_lease_expired(job_id: int) -> bool:
    job = ExportJob.objects.filter(pk=job_id).first()
    return job is not None and job.lease_expired
