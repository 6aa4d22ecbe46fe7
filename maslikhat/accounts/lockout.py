"""The message shown when django-axes locks a username out after failed logins."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import ngettext


def locked_out_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
