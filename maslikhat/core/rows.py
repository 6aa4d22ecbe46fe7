"""Values of the API lists' plain rows, written as the serializers write them.

A list reads its columns as plain rows (``QuerySet.values``) and writes each row as a
dict, without a model instance or DRF's field machinery per row; these write a value
exactly as DRF's fields do (ISO 8601, moments in the current time zone).
"""

from __future__ import annotations

import datetime

from django.utils import timezone


def current_zone() -> datetime.tzinfo:
    return timezone.get_current_timezone()


def iso_datetime(value: datetime.datetime | None, zone: datetime.tzinfo) -> str | None:
    """A moment as DRF's ``DateTimeField`` writes it: ISO 8601 in ``zone``, UTC as ``Z``."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_date(value: datetime.date | None) -> str | None:
    """A day as DRF's ``DateField`` writes it."""
    return None if value is None else value.isoformat()
