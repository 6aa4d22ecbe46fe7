"""Celery tasks of the KPI: thin wrappers that call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="kpi.compute_nightly",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=300,
    max_retries=3,
)
def compute_nightly() -> int:
    """At 02:00: the KPI snapshots as of yesterday (``manage.py compute_kpi`` is the twin).

    Idempotent: each (period, as_of) is replaced, never duplicated, so a retry or a second
    beat does no harm.
    """
    from .services import kpi_compute_nightly

    return len(kpi_compute_nightly())
