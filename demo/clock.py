"""The simulated clock the demo year is replayed on, and notifications without e-mail.

The requests and the instructions of the demo year go through the services while
``django.utils.timezone.now`` returns the moment of the step (``SimulatedClock``), and the
services' ``notify`` creates in-app notifications only (``in_app_only``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

NOTIFICATIONS_UNREAD_DAYS = 7  # older notifications of the demo year count as read


class SimulatedClock:
    """Stands in for ``django.utils.timezone.now`` while the year is replayed."""

    def __init__(self, moment: dt.datetime) -> None:
        self.current = moment.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, moment: dt.datetime) -> None:
        self.current = moment.astimezone(dt.UTC)


def in_app_only(notify: Callable[..., Any]) -> Callable[..., Any]:
    """``notify`` that never asks for e-mail.

    Why: the services notify with ``email=True`` and enqueue the e-mail tasks with
    ``transaction.on_commit``. The demo runs in the command's single transaction, so those
    callbacks would fire at its commit — after this step has returned and any patch of
    ``enqueue_emails`` is gone — and publish one Celery task per notification of a year of
    history; and rows left with ``send_email=True`` would be picked up by the daily sweep.
    Turning e-mail off at the source creates the same in-app notifications with
    ``send_email=False`` and registers no callback at all.
    """

    def notify_in_app_only(**kwargs: Any) -> Any:
        kwargs["email"] = False
        return notify(**kwargs)

    return notify_in_app_only
