"""Celery tasks of following: thin wrappers around the services."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from maslikhat.core.tasks import EMAIL_TASK_OPTIONS


@shared_task(name="follows.send_email", **EMAIL_TASK_OPTIONS)
def send_email(outgoing_id: int) -> None:
    """The recorded e-mail is claimed, so it is sent at most once whatever happens here."""
    from .services import follow_email_send

    follow_email_send(outgoing_id=outgoing_id)


@shared_task(
    name="follows.send_digests",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=5,
)
def send_digests(day: str | None = None) -> dict[str, int]:
    """Beat, daily: yesterday's public changes to every follower (``send_follow_digests``)."""
    from .services import enqueue_emails, follow_digests_create

    target = (
        datetime.date.fromisoformat(day)
        if day
        else timezone.localdate() - datetime.timedelta(days=1)
    )
    with transaction.atomic():
        result = follow_digests_create(day=target)
        ids = result.pending_ids
        transaction.on_commit(lambda: enqueue_emails(ids))
    return {"created": result.created, "pending": len(result.pending_ids)}
