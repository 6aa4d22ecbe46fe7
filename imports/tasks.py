"""Celery task of the import: a thin wrapper that calls the service."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="imports.commit",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def import_commit(batch_id: int) -> str | None:
    """Import batch ``batch_id`` (idempotent: a batch already claimed, done or failed is
    left alone; see ``services.batch_commit``)."""
    from .services import batch_commit

    batch = batch_commit(batch_id=batch_id)
    return batch.status if batch is not None else None
