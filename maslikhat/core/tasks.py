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
