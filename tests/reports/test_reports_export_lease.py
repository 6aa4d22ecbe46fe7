"""Export jobs survive dead workers: the lease, its renewal, the claim and the sweep.

A frozen clock (``time_machine``) stands for time passing; "a worker" is a claim made
through ``export_job_claim``, "a dead worker" a claim nobody renews. Runs on SQLite and,
with ``DATABASE_URL``, on PostgreSQL. The real worker killed mid-export is in
``tests/reports/test_reports_export_recovery.py``.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import translation

from maslikhat.celery import app
from reports import services as export_services
from reports.models import ExportJob, ExportStatus
from reports.services import (
    LeaseLost,
    export_job_claim,
    export_job_create,
    export_job_renew,
    export_job_requeue,
    export_jobs_expired,
    export_jobs_sweep,
)
from reports.tasks import export_build
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.reports_helpers import bulk_requests, places

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Almaty"))
LEASE = 60
ROWS = 12


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clock(time_machine: Any, settings: Any) -> Any:
    settings.EXPORT_JOB_LEASE_SECONDS = LEASE
    settings.EXPORT_JOB_MAX_ATTEMPTS = 3
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def job(directory: DemoDirectory, clock: Any) -> ExportJob:
    bulk_requests(directory, ROWS, places(), drafts=2)
    # Inside the test's transaction the task is not enqueued (nothing commits).
    return export_job_create(
        by=directory.staff, kind="requests", params=QueryDict(""), fmt="xlsx", language="en"
    )


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The job ids the code publishes to the broker (recorded, not sent)."""
    sent: list[int] = []

    def record(args: tuple[int], **kwargs: Any) -> None:
        sent.append(args[0])

    monkeypatch.setattr(export_build, "apply_async", record)
    yield sent


def fresh(job: ExportJob) -> ExportJob:
    return ExportJob.objects.get(pk=job.pk)


def exports_folder(settings: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports"


def sheet_rows(path: Path) -> int:
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    return sum(1 for _row in book.worksheets[0].iter_rows(min_row=2))


def note_in(job: ExportJob, language: str = "en") -> str:
    with translation.override(language):
        return fresh(job).restart_note


def registered() -> int:
    return DeputyRequest.objects.exclude(status=RequestStatus.DRAFT).count()


# --- The claim -------------------------------------------------------------------------------


def test_a_pending_job_is_claimed_under_a_lease_and_a_second_claim_gets_nothing(
    job: ExportJob,
) -> None:
    token = export_job_claim(job_id=job.pk)
    assert token
    claimed = fresh(job)
    assert claimed.status == ExportStatus.RUNNING
    assert claimed.lease_token == token
    assert claimed.attempts == 1
    assert claimed.lease_until == NOW + datetime.timedelta(seconds=LEASE)
    assert claimed.heartbeat_at == NOW

    assert export_job_claim(job_id=job.pk) is None
    again = fresh(job)
    assert (again.lease_token, again.attempts) == (token, 1)


def test_writing_progress_renews_the_lease(job: ExportJob, clock: Any) -> None:
    token = export_job_claim(job_id=job.pk)
    assert token
    clock.shift(45)
    export_job_renew(job_id=job.pk, token=token, progress=2000)
    renewed = fresh(job)
    assert renewed.progress == 2000
    assert renewed.heartbeat_at == NOW + datetime.timedelta(seconds=45)
    assert renewed.lease_until == NOW + datetime.timedelta(seconds=45 + LEASE)
    # Renewed in time, the job is not the sweep's, even past the first lease's end.
    clock.shift(LEASE - 1)
    assert export_jobs_sweep().requeued == []
    assert fresh(job).status == ExportStatus.RUNNING


def test_a_worker_that_renews_after_its_job_was_restarted_learns_it_lost_the_lease(
    job: ExportJob, clock: Any, enqueued: list[int]
) -> None:
    stalled = export_job_claim(job_id=job.pk)
    assert stalled
    clock.shift(LEASE + 1)
    assert export_jobs_sweep().requeued == [job.pk]
    with pytest.raises(LeaseLost):
        export_job_renew(job_id=job.pk, token=stalled, progress=4000)
    assert fresh(job).progress == 0


def test_a_message_for_a_job_running_under_a_live_lease_does_nothing(
    job: ExportJob, clock: Any, settings: Any
) -> None:
    token = export_job_claim(job_id=job.pk)
    clock.shift(LEASE - 1)
    export_build(job.pk)  # a redelivered message while another worker builds the file
    untouched = fresh(job)
    assert untouched.status == ExportStatus.RUNNING
    assert (untouched.lease_token, untouched.attempts) == (token, 1)
    assert not exports_folder(settings).exists()


def test_a_message_for_a_finished_job_does_nothing(job: ExportJob, clock: Any) -> None:
    export_build(job.pk)
    done = fresh(job)
    assert done.status == ExportStatus.DONE
    clock.shift(3600)
    export_build(job.pk)
    again = fresh(job)
    assert (again.status, again.attempts, again.finished_at) == (
        ExportStatus.DONE,
        1,
        done.finished_at,
    )


def test_a_job_whose_worker_died_is_built_again_into_exactly_one_file(
    job: ExportJob, clock: Any, settings: Any
) -> None:
    dead = export_job_claim(job_id=job.pk)
    final = Path(settings.MEDIA_ROOT) / job.file_path
    final.parent.mkdir(parents=True)
    # What the dead worker left: half a file under its claim's own name.
    final.with_name(f"{final.name}.{dead}.part").write_bytes(b"PK half a workbook")
    clock.shift(LEASE + 1)
    export_build(job.pk)  # the redelivered message, or the sweep's
    built = fresh(job)
    assert built.status == ExportStatus.DONE, built.error
    assert built.attempts == 2
    assert built.lease_token != dead
    assert sorted(p.name for p in final.parent.iterdir()) == [final.name]
    assert sheet_rows(final) == registered() == built.progress == built.total
    assert note_in(job) == "Restarted after a worker failure, attempt 2."


# --- The sweep -------------------------------------------------------------------------------


def test_the_sweep_leaves_a_job_under_a_live_lease_alone(
    job: ExportJob, clock: Any, enqueued: list[int]
) -> None:
    token = export_job_claim(job_id=job.pk)
    clock.shift(LEASE - 1)
    assert export_jobs_sweep().requeued == []
    assert fresh(job).lease_token == token
    assert enqueued == []


def test_the_sweep_requeues_an_expired_job_once_and_enqueues_it_after_commit(
    job: ExportJob, clock: Any, enqueued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    export_job_claim(job_id=job.pk)
    export_job_renew(job_id=job.pk, token=fresh(job).lease_token, progress=10)
    clock.shift(LEASE + 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = export_jobs_sweep()
        second = export_jobs_sweep()
    assert enqueued == [], "nothing is published before the commit"
    for callback in callbacks:
        callback()
    assert (first.requeued, second.requeued) == ([job.pk], [])
    assert enqueued == [job.pk]
    requeued = fresh(job)
    assert (requeued.status, requeued.progress, requeued.attempts) == (ExportStatus.PENDING, 0, 1)
    assert requeued.lease_until is None
    assert note_in(job) == (
        "The export was interrupted by a worker failure and will restart: attempt 2."
    )


def test_of_two_sweeps_that_saw_the_same_expired_job_only_one_requeues_it(
    job: ExportJob, clock: Any, enqueued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    export_job_claim(job_id=job.pk)
    clock.shift(LEASE + 1)
    seen_by_the_slow_sweep = export_jobs_expired()
    assert [row[0] for row in seen_by_the_slow_sweep] == [job.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert export_jobs_sweep().requeued == [job.pk]  # the other beat was quicker
        # A new worker takes the job before the slow sweep gets to it.
        new_owner = export_job_claim(job_id=job.pk)
        job_id, token, attempts = seen_by_the_slow_sweep[0]
        assert export_job_requeue(job_id=job_id, token=token, attempts=attempts) == ""
    assert enqueued == [job.pk]
    owned = fresh(job)
    assert (owned.status, owned.lease_token, owned.attempts) == (
        ExportStatus.RUNNING,
        new_owner,
        2,
    )


def test_a_job_out_of_attempts_is_failed_with_a_clear_message(
    job: ExportJob, clock: Any, settings: Any, enqueued: list[int]
) -> None:
    settings.EXPORT_JOB_MAX_ATTEMPTS = 2
    export_job_claim(job_id=job.pk)
    clock.shift(LEASE + 1)
    assert export_jobs_sweep().requeued == [job.pk]
    assert export_job_claim(job_id=job.pk)  # attempt 2, and its worker dies too
    clock.shift(LEASE + 1)
    result = export_jobs_sweep()
    assert (result.requeued, result.failed) == ([], [job.pk])
    failed = fresh(job)
    assert failed.status == ExportStatus.FAILED
    assert failed.error.startswith(
        "The export was interrupted because the background worker stopped (attempts: 2)"
    )  # in the job's language
    assert failed.lease_until is None and failed.finished_at == NOW + datetime.timedelta(
        seconds=2 * (LEASE + 1)
    )
    # A late redelivery of an old message cannot revive it.
    assert export_job_claim(job_id=job.pk) is None
    export_build(job.pk)
    assert fresh(job).status == ExportStatus.FAILED
    assert export_jobs_sweep().failed == []


def test_a_running_job_from_before_leases_is_restarted_by_the_sweep(
    job: ExportJob, enqueued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, progress=4000)
    with django_capture_on_commit_callbacks(execute=True):
        assert export_jobs_sweep().requeued == [job.pk]
    assert enqueued == [job.pk]
    assert fresh(job).status == ExportStatus.PENDING


def test_a_worker_that_lost_its_lease_mid_export_stops_and_leaves_the_job_to_the_new_owner(
    job: ExportJob, clock: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = export_services.write_export
    taken_over: list[str] = []

    def paused_worker(*args: Any, **kwargs: Any) -> int:
        report = kwargs["progress"]

        def pause_then_report(rows: int) -> None:
            if not taken_over:
                # The worker stalls past its lease; the sweep hands the job to another one.
                clock.shift(LEASE + 1)
                export_jobs_sweep()
                taken_over.append(export_job_claim(job_id=job.pk) or "")
            report(rows)

        kwargs["progress"] = pause_then_report
        kwargs["every"] = 5
        return write(*args, **kwargs)

    monkeypatch.setattr(export_services, "write_export", paused_worker)
    export_build(job.pk)
    assert taken_over and taken_over[0]
    row = fresh(job)
    assert (row.status, row.lease_token, row.attempts) == (
        ExportStatus.RUNNING,
        taken_over[0],
        2,
    )
    assert row.progress == 0, "the stalled worker wrote no progress on the new owner's row"
    assert list(exports_folder(settings).iterdir()) == [], "its partial file is gone"


# --- What people and operators see -----------------------------------------------------------


def test_the_progress_page_and_the_status_say_the_export_restarted_after_a_worker_failure(
    job: ExportJob, clock: Any, directory: DemoDirectory, enqueued: list[int]
) -> None:
    client = Client()
    client.force_login(directory.staff)
    page_url = reverse("reports:export-job", args=[job.pk])
    status_url = reverse("reports:export-job-status", args=[job.pk])
    first = client.get(page_url).content.decode()
    assert 'mb-2 d-none" data-export-note' in first, "no note on a first attempt"

    export_job_claim(job_id=job.pk)
    clock.shift(LEASE + 1)
    silent = client.get(status_url).json()
    assert silent["restart_note"] == note_in(job, "ru")
    assert "restart" in note_in(job) and silent["attempts"] == 1

    export_jobs_sweep()
    waiting = client.get(status_url).json()
    assert (waiting["status"], waiting["attempts"]) == (ExportStatus.PENDING, 1)
    assert waiting["restart_note"] == note_in(job, "ru")

    export_build(job.pk)
    html = client.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "My exports" in html, "the page is in English"
    assert "Restarted after a worker failure, attempt 2." in html
    assert 'mb-2 d-none" data-export-note' not in html
    done = client.get(status_url).json()
    assert (done["status"], done["attempts"]) == (ExportStatus.DONE, 2)
    listing = client.get(reverse("reports:export-jobs")).content.decode()
    assert note_in(job, "ru") in listing


def test_the_sweep_command_twin_restarts_expired_jobs(
    job: ExportJob, clock: Any, enqueued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    export_job_claim(job_id=job.pk)
    clock.shift(LEASE + 1)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_export_jobs", stdout=out)
    assert out.getvalue().startswith(f"Restarted: 1 [{job.pk}]; failed: 0")
    assert enqueued == [job.pk]


def test_beat_runs_the_export_sweep_every_minute(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reports-export-jobs-sweep"]
    assert entry["task"] == "reports.export_jobs_sweep" in app.tasks
    assert entry["schedule"] <= 60


def test_the_broker_visibility_timeout_outlasts_every_task_run_and_retry_countdown(
    settings: Any,
) -> None:
    """A shorter timeout would hand a running or retry-waiting task to a second worker."""
    app.loader.import_default_modules()
    longest_run = max(
        task.time_limit or settings.CELERY_TASK_TIME_LIMIT for task in app.tasks.values()
    )
    longest_countdown = max(
        getattr(task, "retry_backoff_max", 0) if getattr(task, "retry_backoff", False) else 0
        for task in app.tasks.values()
    )
    timeout = settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert timeout > longest_run and timeout > longest_countdown
    # The lease, not the broker, brings back a dead worker's export: minutes, not an hour.
    assert settings.EXPORT_JOB_LEASE_SECONDS + 60 <= 5 * 60
