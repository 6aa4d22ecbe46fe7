"""Promise outcomes of a day, for the followers' digest (``follows``): kept, broken, moved.

Read from the requests' history (the ``commitment_confirmed``, ``commitment_resolved`` and
``commitment_rescheduled`` events of the day), among the requests the caller passes — the
follows digest passes only published requests whose final answer is public (closed), so a
follower learns nothing a public page does not show: the outcome and the promised date,
never the report, a comment or who wrote it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from maslikhat.core.threads import AuditEvent
from requests_app.models import DeputyRequest

from .models import CommitmentState

KEPT = "promise_kept"
BROKEN = "promise_broken"
RESCHEDULED = "promise_rescheduled"

_ACTIONS = ("commitment_confirmed", "commitment_resolved", "commitment_rescheduled")


@dataclass(frozen=True)
class PromiseOutcome:
    request_id: int
    event: str  # KEPT, BROKEN or RESCHEDULED
    due_date: datetime.date | None  # the new date of a rescheduled promise


def _outcome(action: str, changes: dict[str, Any]) -> tuple[str, datetime.date | None] | None:
    if action == "commitment_rescheduled":
        dates = changes.get("due_date")
        new = dates[1] if isinstance(dates, list) and len(dates) == 2 else None
        return RESCHEDULED, datetime.date.fromisoformat(new) if new else None
    state = changes.get("state")
    to_state = state[1] if isinstance(state, list) and len(state) == 2 else None
    if to_state == CommitmentState.KEPT:
        return KEPT, None
    if to_state == CommitmentState.BROKEN:
        return BROKEN, None
    return None


def outcomes_on(
    day: datetime.date, requests: QuerySet[DeputyRequest]
) -> dict[int, list[PromiseOutcome]]:
    """``{request id: [outcome, …]}``: the promises of ``requests`` kept, broken or moved on
    ``day`` (local), in the order they happened. One query."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    events = (
        AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            item_id__in=requests.values("pk"),
            action__in=_ACTIONS,
            created_at__gte=start,
            created_at__lt=end,
        )
        .order_by("created_at", "id")
        .values_list("item_id", "action", "changes")
    )
    found: dict[int, list[PromiseOutcome]] = {}
    for request_id, action, changes in events:
        outcome = _outcome(action, changes or {})
        if outcome is not None:
            event, due = outcome
            found.setdefault(request_id, []).append(PromiseOutcome(request_id, event, due))
    return found
