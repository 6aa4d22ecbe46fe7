"""Core Celery tasks."""

from __future__ import annotations

from typing import Any

from celery import shared_task

#: How every task that sends one recorded e-mail is run: acknowledged only when done, and
#: retried with backoff for up to a day (the send itself is claimed, so never twice).
EMAIL_TASK_OPTIONS: dict[str, Any] = {
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 8,
}


@shared_task(name="core.ping", ignore_result=True)
def ping() -> str:
    """A no-op the health check publishes to prove the broker accepts messages."""
    return "pong"


@shared_task(name="core.send_notification_email", **EMAIL_TASK_OPTIONS)
def send_notification_email(notification_id: int) -> None:
    """Thin wrapper: the service sends at most once, whatever happens to this task."""
    from .notifications import notification_send_email

    notification_send_email(notification_id=notification_id)


@shared_task(name="core.send_digest", **EMAIL_TASK_OPTIONS)
def send_digest(outgoing_id: int) -> None:
    """Thin wrapper: the recorded e-mail is claimed, so it is sent at most once."""
    from .digests import digest_send

    digest_send(outgoing_id=outgoing_id)


@shared_task(
    name="core.send_pending_email",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=3,
)
def send_pending_email(older_than_seconds: int = 600) -> dict[str, int]:
    """Re-enqueue e-mail left unsent (broker down, worker died); the sweep runs it daily."""
    from datetime import timedelta

    from .digests import email_catch_up

    result = email_catch_up(older_than=timedelta(seconds=older_than_seconds))
    return {"digests": result.digests, "notifications": result.notifications}


# The name predates the sweep's move into core: beat's schedule and any message
# already queued know the task by it.
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

    from .digests import email_catch_up
    from .reminders import reminders_sweep

    the_day = datetime.date.fromisoformat(day) if day else timezone.localdate()
    result = reminders_sweep(day=the_day, force=force)
    email_catch_up()
    return result.as_dict()
