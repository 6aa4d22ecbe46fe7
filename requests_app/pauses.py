"""The clarification pause of a request's clock ("stopping the clock"), ``docs/domain.md``.

The lead department asks the author a clarification question (``clarifications.py``).
Where the request's deadline rule says so (``DeadlineRule.pauses_clock``) and the question
came by the due date, the clock stops on the question's day (``paused_since``); when the
pause ends — the author's answer, or the department's work on the deadline ending (a final
answer, a redirect, a re-routing, a withdrawal) — the paused working days are counted
(working days after the question's date up to and including the end's date) and both the
due date and the original due date move by them: the clock stood still, the deadline was
not extended. The computation is kept in ``due_date_basis["pauses"]`` for "how computed".

Called by the services inside their transaction, on a locked request.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.deadlines import Pause, calendar_for, paused_shift

from .models import Clarification, DeputyRequest


def open_clarification(item: DeputyRequest) -> Clarification | None:
    """The request's question still waiting for the author's answer, if any (at most one)."""
    return Clarification.objects.filter(request_id=item.pk, answered_at__isnull=True).first()


def end_pause(
    item: DeputyRequest,
    *,
    by: User | None,
    answer: str = "",
    today: datetime.date | None = None,
) -> tuple[Clarification, dict[str, Any]] | None:
    """Close the open question (with the author's ``answer``, or unanswered when the
    department's work ended) and, when it stopped the clock, move the due dates.

    Saves what it changes itself (the caller's transition saves its own fields). Closed
    unanswered, it writes the history event ``clarification_closed``; with an ``answer``
    the caller records its own transition with the changes returned. ``None`` when no
    question was open.
    """
    clarification = open_clarification(item)
    if clarification is None:
        return None
    now = timezone.now()
    today = today or timezone.localdate(now)
    clarification.answered_at = now
    clarification.answer = answer
    clarification.answered_by = by if answer else None
    changes: dict[str, Any] = {"clarification": clarification.pk}
    item_fields: dict[str, Any] = {}
    if clarification.pauses_clock and item.paused_since is not None:
        start = item.paused_since
        if item.due_date is not None:
            calendar = calendar_for(min(start, item.due_date), max(today, item.due_date))
            days, new_due = paused_shift(
                due=item.due_date, start=start, end=today, calendar=calendar
            )
            original = item.original_due_date or item.due_date
            _days, new_original = paused_shift(
                due=original, start=start, end=today, calendar=calendar
            )
            pause = Pause(start=start, end=today, days=days, due_from=item.due_date, due_to=new_due)
            basis = dict(item.due_date_basis or {})
            basis["pauses"] = [*(basis.get("pauses") or []), pause.as_dict()]
            changes |= {
                "paused_days": days,
                "due_date": [item.due_date.isoformat(), new_due.isoformat()],
            }
            clarification.paused_days = days
            item_fields = {
                "due_date": new_due,
                "original_due_date": new_original,
                "due_date_basis": basis,
                "paused_days": item.paused_days + days,
            }
        changes["paused_since"] = start.isoformat()
        item_fields["paused_since"] = None
    clarification.save(update_fields=["answered_at", "answer", "answered_by", "paused_days"])
    if item_fields:
        # ``update`` skips ``auto_now``: the daily counts read ``updated_at`` to know a change.
        item_fields["updated_at"] = timezone.now()
        DeputyRequest.objects.filter(pk=item.pk).update(**item_fields)
        for name, value in item_fields.items():
            setattr(item, name, value)
    if not answer:
        core_services.audit_record(
            item=item,
            actor=by,
            action="clarification_closed",
            from_status=item.status,
            changes=changes,
        )
    return clarification, changes
