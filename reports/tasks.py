"""Celery tasks of the reports: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="reports.export_build",
    ignore_result=True,
    acks_late=True,
    # A 100k-row export takes tens of seconds; a million rows a few minutes.
    soft_time_limit=1800,
    time_limit=1900,
)
def export_build(job_id: int) -> str | None:
    """Build the file of export job ``job_id`` (idempotent: a finished job is left alone).

    No automatic retry: a failure is recorded on the job with its reason and the user
    starts a new export; a redelivery after a lost worker rebuilds the file from scratch.
    """
    from .services import export_job_build

    job = export_job_build(job_id=job_id)
    return job.status if job is not None else None
