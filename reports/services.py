"""Exports: answer small ones at once, hand large ones to a background job.

``export_start`` is the one entry point of the HTML export links and the API export
endpoints; ``export_job_build`` is what the Celery task runs.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext

from maslikhat.directory.actors import actor_for

from .exports import (
    CONTENT_TYPES,
    ExportSpec,
    export_spec,
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
    job.file_path = f"{EXPORTS_DIR}/{job.pk}-{secrets.token_hex(8)}.{fmt}"
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


def export_job_build(*, job_id: int) -> ExportJob | None:
    """Build the file of a pending (or interrupted) job, reporting progress every chunk.

    Idempotent: a finished job is left alone. A job whose worker died mid-way (status
    ``running``, redelivered thanks to ``acks_late``) is built again from the start; the
    file is written beside its final name and renamed into place, so a reader never sees
    half a file. Visibility is the owner's as of now.
    """
    claimed = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
    ).update(status=ExportStatus.RUNNING, started_at=timezone.now(), progress=0)
    if not claimed:
        return ExportJob.objects.filter(pk=job_id).first()
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    final = Path(settings.MEDIA_ROOT) / job.file_path
    partial = final.with_name(final.name + ".part")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with translation.override(job.language):
            params: list[Any] = (
                job.params.get("filters", []) if isinstance(job.params, dict) else []
            )
            spec = export_spec(
                kind=job.kind, actor=actor_for(job.user), params=params, language=job.language
            )
            total = spec.count()
            ExportJob.objects.filter(pk=job.pk).update(total=total)

            def report(rows: int) -> None:
                ExportJob.objects.filter(pk=job.pk).update(progress=rows)

            written = write_export(spec, partial, job.format, progress=report)
            name = file_name(spec, job.format)
        partial.replace(final)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        logger.exception("export job %s failed", job_id)
        with translation.override(job.language):
            message = gettext("The export could not be built: %(error)s") % {
                "error": getattr(exc, "message", None) or exc.__class__.__name__
            }
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, finished_at=timezone.now(), error=message
        )
        job.refresh_from_db()
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        progress=written,
        total=max(total, written),
        file_name=name,
        finished_at=timezone.now(),
        error="",
    )
    job.refresh_from_db()
    return job


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


def export_job_file(job: ExportJob) -> Path | None:
    """The job's finished file, or None while it is not ready (or was removed)."""
    if not job.is_ready:
        return None
    root = export_root().resolve()
    path = (Path(settings.MEDIA_ROOT) / job.file_path).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path
