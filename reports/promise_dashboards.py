"""The dashboards' figures of promises and of answers sent despite the boilerplate warning.

Each function is a fixed number of SQL queries (aggregates, never a query per row) over
what the actor may see (``commitments.selectors.commitment_visible``):

- staff and the chair (``staff_promises``): the promises to keep this month, the disputed
  ones to resolve, the figures and the kept share per department (two queries);
- a department (``department_promises``): its promises to keep this month, overdue, its
  kept share (one query), and the share of its final answers sent despite the boilerplate
  warning (``answers_sent_despite_warning``, one query);
- a deputy (``deputy_promises``): the reported promises of their requests awaiting their
  verdict (a count and the first rows: two queries).

The kept share and the states are defined once, in ``commitments.selectors`` (*due*, *kept
on time*); ``docs/reports.md`` says them in words.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, IntegerField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from commitments.selectors import (
    commitment_figures,
    commitment_figures_by_department,
    commitment_visible,
    commitments_awaiting_verdict,
    month_bounds,
)
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import Actor
from requests_app import similarity
from requests_app.models import DeputyRequest, Response, ResponseKind, ResponseStatus

#: How many promises awaiting a deputy's verdict the dashboard lists (the count is exact).
AWAITING_SHOWN = 10


def staff_promises(actor: Actor, today: datetime.date | None = None) -> dict[str, Any]:
    """Every promise the actor sees: totals (to keep this month, disputed) and per department."""
    today = today or timezone.localdate()
    qs = commitment_visible(actor)
    totals = commitment_figures(qs, today)
    return {
        "totals": totals,
        "by_department": commitment_figures_by_department(qs, today),
        "month_end": month_bounds(today)[1],
    }


def answers_sent_despite_warning(
    department_id: int,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> dict[str, Any]:
    """The department's sent final answers (sent from ``since`` to ``until``, both
    inclusive, when given) and how many of them its head approved despite the boilerplate
    warning: the approval's history event holds a similarity at or above
    ``BOILERPLATE_SIMILARITY_THRESHOLD`` and the head's ``boilerplate_comment``. One query.
    """
    threshold = similarity.threshold()
    # The answers approved despite the warning, from the few approvals that carry the
    # head's comment (a partial index holds them): one uncorrelated set, not a look-up
    # into the history per sent answer.
    warned = (
        AuditEvent.objects.filter(
            item_type=DeputyRequest.ITEM_TYPE,
            action="approve_final",
            changes__has_key="boilerplate_comment",
            changes__similarity__gte=threshold,
        )
        .annotate(answer=Cast(KeyTextTransform("response", "changes"), IntegerField()))
        .values("answer")
    )
    answers = Response.objects.filter(
        department_id=department_id, kind=ResponseKind.FINAL, status=ResponseStatus.SENT
    )
    if since is not None:
        answers = answers.filter(sent_at__date__gte=since)
    if until is not None:
        answers = answers.filter(sent_at__date__lte=until)
    row = answers.order_by().aggregate(
        sent=Count("pk"), despite=Count("pk", filter=Q(pk__in=warned))
    )
    sent, despite = row["sent"] or 0, row["despite"] or 0
    return {
        "sent": sent,
        "despite_warning": despite,
        "share": despite / sent if sent else None,
        "threshold": threshold,
        "since": since,
        "until": until,
    }


def department_promises(
    actor: Actor,
    today: datetime.date | None = None,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> dict[str, Any]:
    """The department's own promises (it promised them) and its answers sent despite the
    boilerplate warning in the dashboard's period (``since``–``until``; all time when not
    given, as the dashboard's answered counts)."""
    today = today or timezone.localdate()
    department_id = actor.department_id
    assert department_id is not None
    qs = commitment_visible(actor).filter(department_id=department_id)
    return {
        "totals": commitment_figures(qs, today),
        "month_end": month_bounds(today)[1],
        "boilerplate": answers_sent_despite_warning(department_id, since=since, until=until),
    }


def deputy_promises(actor: Actor, *, shown: int = AWAITING_SHOWN) -> dict[str, Any]:
    """The deputy's reported promises awaiting their verdict: how many, the longest waiting."""
    qs = commitments_awaiting_verdict(actor)
    return {
        "awaiting_count": qs.order_by().count(),
        "awaiting": list(qs[:shown]),
    }
