"""Celery tasks of deputy requests: thin wrappers that call services."""

from __future__ import annotations

from typing import Any

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


@shared_task(
    name="requests.reminders_sweep",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
)
def sweep_reminders(day: str | None = None, force: bool = False) -> dict[str, Any]:
    """Beat, daily at 09:00 Asia/Almaty: today's reminders, then the e-mail catch-up.

    ``day`` (YYYY-MM-DD, default today) and ``force`` are for operators and tests;
    on a non-working day the sweep does nothing unless forced. Idempotent, so a
    redelivered or duplicated task sends nothing twice. The digests are published
    after the sweep commits; the catch-up re-publishes whatever an earlier run
    (broker down, worker killed) left unsent.
    """
    import datetime

    from django.utils import timezone

    from maslikhat.core.digests import email_catch_up

    from .reminders import reminders_sweep

    the_day = datetime.date.fromisoformat(day) if day else timezone.localdate()
    result = reminders_sweep(day=the_day, force=force)
    email_catch_up()
    return result.as_dict()
