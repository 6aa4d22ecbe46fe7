"""Core Celery tasks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.ping", ignore_result=True)
def ping() -> str:
    """A no-op the health check publishes to prove the broker accepts messages."""
    return "pong"
