"""Exports: answer small ones at once, hand large ones to a background job.

``export_start`` is the one entry point of the HTML export links and the API export
endpoints; ``export_job_build`` is what the Celery task runs, under a lease that
``export_jobs_sweep`` checks every minute (docs/architecture.md, "Export jobs").
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext

from maslikhat.core.storage import is_safe_name, publish, staging_dir, stored_exists
from maslikhat.directory.actors import actor_for

from .exports import (
    CONTENT_TYPES,
    ExportSpec,
    export_spec,
    extension,
    file_name,
    parameters_without_controls,
    write_export,
    write_to_temporary_file,
)
from .models import ExportJob, ExportKind, ExportStatus

logger = logging.getLogger(__name__)

#: Exports with more rows than this run as a background job (setting ``EXPORT_SYNC_LIMIT``).
DEFAULT_EXPORT_SYNC_LIMIT = 5_000
EXPORTS_DIR = "exports"
#: A worker's lease on a job it builds, and the claims of one job before it fails
#: (settings ``EXPORT_JOB_LEASE_SECONDS`` and ``EXPORT_JOB_MAX_ATTEMPTS``).
DEFAULT_EXPORT_LEASE_SECONDS = 120
DEFAULT_EXPORT_MAX_ATTEMPTS = 3


def export_sync_limit() -> int:
    return int(getattr(settings, "EXPORT_SYNC_LIMIT", DEFAULT_EXPORT_SYNC_LIMIT))


def export_root() -> Path:
    return Path(settings.MEDIA_ROOT) / EXPORTS_DIR


@dataclass
class ExportResult:
    """Either a file ready now (``path``, deleted by whoever sends it) or a background job."""

    path: Path | None = None
    file_name: str = ""
    content_type: str = ""
    job: ExportJob | None = None


def export_start(*, by: Any, kind: str, params: QueryDict, fmt: str) -> ExportResult:
    """Export the list ``kind`` with the list's filters ``params`` as ``by`` may see it.

    Up to ``EXPORT_SYNC_LIMIT`` rows (and every KPI ranking, a few dozen rows) the file is
    written now; above it an ``ExportJob`` is created and its task enqueued after commit.
    Raises ``InvalidFilters`` for filters that do not parse and kpi's ``NoSnapshot``.
    """
    language = translation.get_language() or settings.LANGUAGE_CODE
    spec = export_spec(kind=kind, actor=actor_for(by), params=params, language=language)
    limit = export_sync_limit()
    if kind == ExportKind.KPI or spec.count(limit) <= limit:
        return _ready_now(spec, fmt)
    job = export_job_create(by=by, kind=kind, params=params, fmt=fmt, language=language)
    return ExportResult(job=job)


def _ready_now(spec: ExportSpec, fmt: str) -> ExportResult:
    return ExportResult(
        path=write_to_temporary_file(spec, fmt),
        file_name=file_name(spec, fmt),
        content_type=CONTENT_TYPES[fmt],  # type: ignore[index]
    )


@transaction.atomic
def export_job_create(
    *, by: Any, kind: str, params: QueryDict, fmt: str, language: str
) -> ExportJob:
    """Record a background export and enqueue its task once the row is committed."""
    job = ExportJob.objects.create(
        user=by,
        kind=kind,
        format=fmt,
        params={"filters": parameters_without_controls(params)},
        language=language,
    )
    # The file's name is not guessable: the download view checks the owner anyway.
    job.file_path = f"{EXPORTS_DIR}/{job.pk}-{secrets.token_hex(8)}.{extension(fmt)}"
    job.save(update_fields=["file_path"])
    # After commit: the worker must find the row it is asked to build.
    transaction.on_commit(lambda: enqueue_export(job.pk))
    return job


def enqueue_export(job_id: int) -> None:
    """Publish the build task; with the broker down the job fails with a clear message."""
    from .tasks import export_build

    try:
        export_build.apply_async((job_id,), retry=False)
    except Exception:  # broker down: tell the user now rather than leave the bar at 0 %
        logger.warning("broker unavailable; export job %s not started", job_id)
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED,
            finished_at=timezone.now(),
            error=gettext(
                "The background service is not available. Try again later or narrow the "
                "filters so the export is small enough to download at once."
            ),
        )


class LeaseLost(Exception):
    """This worker's lease on an export job ran out and the job was handed to another one."""


def export_lease_seconds() -> int:
    return int(getattr(settings, "EXPORT_JOB_LEASE_SECONDS", DEFAULT_EXPORT_LEASE_SECONDS))


def export_max_attempts() -> int:
    return int(getattr(settings, "EXPORT_JOB_MAX_ATTEMPTS", DEFAULT_EXPORT_MAX_ATTEMPTS))


def _lease_expired(now: datetime.datetime) -> Q:
    # A running job without a lease was started before leases existed: its worker is gone.
    return Q(status=ExportStatus.RUNNING) & (Q(lease_until__lt=now) | Q(lease_until__isnull=True))


def export_job_claim(*, job_id: int) -> str | None:
    """Take export job ``job_id`` for this worker; the new lease token, or None if taken.

    One conditional UPDATE: a pending job, or a running one whose lease expired (its worker
    died) and that has attempts left, becomes ``running`` under a fresh token and lease.
    Two deliveries of the same message (a redelivery after a lost acknowledgement, the
    sweep's re-queue) race on that UPDATE and exactly one wins; a job running under a
    live lease, done or failed is not touched, so such a message does nothing.
    """
    now = timezone.now()
    token = secrets.token_hex(16)
    claimable = Q(status=ExportStatus.PENDING) | (
        _lease_expired(now) & Q(attempts__lt=export_max_attempts())
    )
    claimed = ExportJob.objects.filter(claimable, pk=job_id).update(
        status=ExportStatus.RUNNING,
        lease_token=token,
        lease_until=now + datetime.timedelta(seconds=export_lease_seconds()),
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        started_at=now,
        progress=0,
    )
    return token if claimed else None


def export_job_renew(*, job_id: int, token: str, **changes: Any) -> None:
    """Renew the lease of ``token`` on job ``job_id`` (with ``changes``, e.g. ``progress``).

    Raises ``LeaseLost`` when the job is no longer this worker's: the sweep gave it to
    another worker after this one went silent for longer than the lease.
    """
    now = timezone.now()
    renewed = ExportJob.objects.filter(
        pk=job_id, status=ExportStatus.RUNNING, lease_token=token
    ).update(
        lease_until=now + datetime.timedelta(seconds=export_lease_seconds()),
        heartbeat_at=now,
        **changes,
    )
    if not renewed:
        raise LeaseLost(job_id)


def export_job_build(*, job_id: int) -> ExportJob | None:
    """Build the file of export job ``job_id`` if this worker can claim it.

    Idempotent: a message for a job that is done, failed, or running under another
    worker's live lease does nothing (``export_job_claim``). The claim's lease is renewed
    with every progress report. The file is written under a name of this claim's own and
    renamed into place only while the lease still holds, so a reader never sees half a
    file and two workers never leave two files; a worker that lost its lease stops,
    deletes its partial file and leaves the row to the new owner. Visibility is the
    owner's as of now.
    """
    token = export_job_claim(job_id=job_id)
    if token is None:
        return ExportJob.objects.filter(pk=job_id).first()
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    # Written locally under a name of this claim's own, then published to the storage in
    # one step: a rename on the local disk, one upload to a bucket (maslikhat.core.storage).
    final_name = PurePosixPath(job.file_path).name
    staging = staging_dir(str(PurePosixPath(job.file_path).parent))
    partial = staging / f"{final_name}.{token}.part"
    try:
        # What a dead worker left half-written: its claim is over, its file is ours to drop.
        for stale in staging.glob(f"{final_name}.*.part"):
            if stale != partial:
                stale.unlink(missing_ok=True)
        with translation.override(job.language):
            params: list[Any] = (
                job.params.get("filters", []) if isinstance(job.params, dict) else []
            )
            spec = export_spec(
                kind=job.kind, actor=actor_for(job.user), params=params, language=job.language
            )
            total = spec.count()
            export_job_renew(job_id=job.pk, token=token, total=total)

            def report(rows: int) -> None:
                export_job_renew(job_id=job.pk, token=token, progress=rows)

            # The last report comes after the file is closed: the lease still holds here.
            written = write_export(spec, partial, job.format, progress=report)
            name = file_name(spec, job.format)
        publish(partial, job.file_path)  # atomic: a rename, or one upload
    except LeaseLost:
        partial.unlink(missing_ok=True)
        logger.warning("export job %s: lease lost, another worker builds it", job_id)
        return ExportJob.objects.filter(pk=job_id).first()
    except Exception as exc:
        partial.unlink(missing_ok=True)
        logger.exception("export job %s failed", job_id)
        with translation.override(job.language):
            message = gettext("The export could not be built: %(error)s") % {
                "error": getattr(exc, "message", None) or exc.__class__.__name__
            }
        ExportJob.objects.filter(pk=job.pk, lease_token=token).update(
            status=ExportStatus.FAILED, finished_at=timezone.now(), lease_until=None, error=message
        )
        job.refresh_from_db()
        return job
    # Conditional on the token: if the lease was lost after the publish, the new owner's
    # publish replaces this file with its own, and its row update is the one that counts.
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, lease_token=token).update(
        status=ExportStatus.DONE,
        progress=written,
        total=max(total, written),
        file_name=name,
        finished_at=timezone.now(),
        lease_until=None,
        error="",
    )
    logger.info("export job %s built: %s rows, attempt %s", job_id, written, job.attempts)
    job.refresh_from_db()
    return job


@dataclass
class SweepResult:
    """What one run of the export sweep did: jobs put back in the queue, and failed."""

    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def export_jobs_expired() -> list[tuple[int, str, int]]:
    """``(id, lease_token, attempts)`` of running jobs whose lease has run out."""
    return list(
        ExportJob.objects.filter(_lease_expired(timezone.now()))
        .order_by("pk")
        .values_list("pk", "lease_token", "attempts")
    )


def export_job_requeue(*, job_id: int, token: str, attempts: int) -> str:
    """Put a job whose lease (``token``) expired back in the queue, or fail it after the
    last attempt. Returns ``"requeued"``, ``"failed"`` or ``""`` (someone else was first).

    The UPDATE is conditional on the expired lease ``token`` the caller saw: of two sweeps
    (two beats by mistake, a sweep and the command twin) only one changes the row and
    only that one enqueues the task, after commit.
    """
    now = timezone.now()
    same_claim = ExportJob.objects.filter(_lease_expired(now), pk=job_id, lease_token=token)
    if attempts >= export_max_attempts():
        language = ExportJob.objects.filter(pk=job_id).values_list("language", flat=True).first()
        with translation.override(language or settings.LANGUAGE_CODE):
            message = gettext(
                "The export was interrupted because the background worker stopped "
                "(attempts: %(attempts)s) and will not be restarted again. Start it again, "
                "or narrow the filters so the export is smaller."
            ) % {"attempts": attempts}
        done = same_claim.update(
            status=ExportStatus.FAILED, finished_at=now, lease_until=None, error=message
        )
        return "failed" if done else ""
    done = same_claim.update(status=ExportStatus.PENDING, lease_until=None, progress=0)
    if not done:
        return ""
    # After commit, like every enqueue: the worker must see the row as pending.
    transaction.on_commit(lambda: enqueue_export(job_id))
    return "requeued"


def export_jobs_sweep() -> SweepResult:
    """Every minute (beat), and ``manage.py sweep_export_jobs``: restart the export jobs
    whose worker died, fail those out of attempts. Safe to run twice at once."""
    result = SweepResult()
    for job_id, token, attempts in export_jobs_expired():
        outcome = export_job_requeue(job_id=job_id, token=token, attempts=attempts)
        if outcome == "requeued":
            result.requeued.append(job_id)
        elif outcome == "failed":
            result.failed.append(job_id)
    if result.requeued or result.failed:
        logger.warning("export sweep: restarted %s, failed %s", result.requeued, result.failed)
    return result


def export_job_for_owner(*, user: Any, pk: Any) -> ExportJob:
    """The job ``pk`` if ``user`` started it; 404 for "missing" and "someone else's" alike."""
    from django.http import Http404

    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if not getattr(user, "is_authenticated", False):
        raise Http404
    job = ExportJob.objects.filter(pk=pk, user=user).first()
    if job is None:
        raise Http404
    return job


def export_job_file(job: ExportJob) -> str | None:
    """The storage name of the job's finished file, or None while it is not ready (or was
    removed). Only names under ``exports/`` count."""
    if not job.is_ready or not is_safe_name(job.file_path, under=EXPORTS_DIR):
        return None
    return job.file_path if stored_exists(job.file_path) else None
