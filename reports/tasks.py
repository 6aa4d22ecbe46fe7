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
    """Build the file of export job ``job_id`` (idempotent: see ``export_job_build``).

    No automatic retry: a failure is recorded on the job with its reason and the user
    starts a new export. A worker that dies mid-way stops renewing its lease on the job;
    ``export_jobs_sweep`` then enqueues this task again. A redelivered message for a job
    that another worker builds under a live lease, or that is finished, does nothing.
    """
    from .services import export_job_build

    job = export_job_build(job_id=job_id)
    return job.status if job is not None else None


@shared_task(name="reports.export_jobs_sweep", ignore_result=True, acks_late=True)
def export_jobs_sweep() -> dict[str, list[int]]:
    """Beat, every minute: restart export jobs whose worker died (their lease expired).

    Safe to run twice at once (two beats by mistake): each job is re-queued by one
    conditional UPDATE. ``manage.py sweep_export_jobs`` is the twin.
    """
    from .services import export_jobs_sweep as sweep

    result = sweep()
    return {"requeued": result.requeued, "failed": result.failed}


@shared_task(name="reports.daily_counts_build", ignore_result=True, acks_late=True)
def daily_counts_build() -> int:
    """Beat, nightly: rebuild the daily request and instruction counts as of today
    (idempotent: a rerun replaces them). ``manage.py build_daily_counts`` is the twin."""
    from .daily_counts import build_daily_counts

    return build_daily_counts().rows
