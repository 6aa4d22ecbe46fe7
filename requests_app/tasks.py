"""Celery tasks of deputy requests: thin wrappers that call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="requests.auto_close_unevaluated",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=5,
)
def auto_close_unevaluated() -> int:
    """Close answered requests the deputy did not evaluate within 10 working days.

    Idempotent: a request is closed once; a second run finds nothing to do.
    """
    from .services import deputy_requests_auto_close_due

    return deputy_requests_auto_close_due()
