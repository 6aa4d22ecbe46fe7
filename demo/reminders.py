"""The demo's last step: today's reminders, so the demo accounts see them at once."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from maslikhat.core.reminders import reminders_sweep

from .context import DemoContext


def seed_reminders(context: DemoContext) -> str:
    """Today's reminders (a ``seed_demo`` step).

    Forced on a day off too (a demo opened on a Sunday still shows what is due);
    nothing is published: the worker of ``make run`` sends the day's digests at
    its next sweep or catch-up.
    """
    del context  # every step has the same signature; the sweep derives its work from the data
    result = reminders_sweep(day=timezone.localdate(), force=True, enqueue=False)
    return gettext("Reminders today: %(count)d notifications.") % {"count": result.notifications}
