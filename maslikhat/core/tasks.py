"""Core Celery tasks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.ping", ignore_result=True)
def ping() -> str:
    """A no-op the health check publishes to prove the broker accepts messages."""
    return "pong"


@shared_task(
    name="core.send_notification_email",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_notification_email(notification_id: int) -> None:
    """Thin wrapper: the service sends at most once, whatever happens to this task."""
    from .notifications import notification_send_email

    notification_send_email(notification_id=notification_id)


@shared_task(
    name="core.send_digest",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
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
