"""Reads of the instruction pages that are not about who may see what.

Everything here reads the council's registry of meetings and protocols or the
directory as it is, for every signed-in person alike; the reads that decide
visibility are in ``selectors.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from maslikhat.directory.models import Department

from .models import Meeting, Protocol

#: A filter's select offers at most this many of the newest meetings or protocols; any
#: other one is still accepted by id (an address, the meeting's or protocol's own page).
RECENT_CHOICES = 50


def protocols_with_meetings() -> QuerySet[Protocol]:
    """Protocols with their meeting and what the protocol page names of it (one join)."""
    return Protocol.objects.select_related(
        "meeting__commission", "meeting__department", "meeting__convocation"
    )


def departments_by_id(ids: Iterable[int]) -> dict[int, Department]:
    """The departments of the given ids, in one query."""
    return Department.objects.in_bulk(list(ids))


def recent_protocols() -> QuerySet[Protocol]:
    """The newest protocols with their meetings, for a filter's select: one walk of the
    ``(date, id)`` index, at most ``RECENT_CHOICES`` rows however many there are."""
    return Protocol.objects.select_related("meeting").order_by("-date", "-id")[:RECENT_CHOICES]


def recent_meetings() -> QuerySet[Meeting]:
    """The newest meetings, for a filter's select: at most ``RECENT_CHOICES`` rows."""
    return Meeting.objects.order_by("-date", "-id")[:RECENT_CHOICES]
