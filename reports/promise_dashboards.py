"""The dashboards' figures of promises and of answers sent despite the boilerplate warning.

Each function is a fixed number of SQL queries (aggregates, never a query per row) over
what the actor may see (``commitments.selectors.commitment_visible``):

- staff and the chair (``staff_promises``): the promises to keep this month, the disputed
  ones to resolve, the figures and the kept share per department, the totals being the
  departments' sums. With today's build of the daily counts they are read from the stored
  counts of every promise (``public_counts.promise_counts``: the run, the changed blocks
  of promises, the stored rows, the live blocks — four queries), else counted live (the
  run and one ``GROUP BY``);
- a department (``department_promises``): its promises to keep this month, overdue, its
  kept share, and the share of its final answers sent despite the boilerplate warning —
  from the stored counts with the live days beside them (``public_counts.department_counts``:
  three queries), else counted live (two queries);
- a deputy (``deputy_promises``): the reported promises of their requests awaiting their
  verdict (a count and the first rows: two queries).

The kept share and the states are defined once, in ``commitments.selectors`` (*due*, *kept
on time*); ``docs/domain.md`` says them in words, ``docs/architecture.md`` how the stored
counts stay exact.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from commitments.selectors import (
    FIGURES,
    commitment_figures_by_department,
    commitment_visible,
    commitments_awaiting_verdict,
    figures_of,
    month_bounds,
)
from maslikhat.directory.actors import Actor
from requests_app import similarity

from .public_counts import department_counts, promise_counts

#: How many promises awaiting a deputy's verdict the dashboard lists (the count is exact).
AWAITING_SHOWN = 10


def _totals_of(by_department: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures of every promise: the departments' figures summed (each a count)."""
    rows = list(by_department)
    return figures_of({f"n_{name}": sum(row[name] for row in rows) for name in FIGURES})


def staff_promises(actor: Actor, today: datetime.date | None = None) -> dict[str, Any]:
    """Every promise the actor sees: totals (to keep this month, disputed) and per department.

    From the stored counts of every promise when the actor sees every promise and today's
    build is done, else counted live; the same figures either way."""
    today = today or timezone.localdate()
    qs = commitment_visible(actor)
    counted = None
    if actor.sees_everything:
        counted = promise_counts(
            qs, department_id=None, district_id=None, today=today, public=False
        )
    if counted is None:
        by_department = commitment_figures_by_department(qs, today)
        totals = _totals_of(by_department)
    else:
        totals, by_department = counted
    return {
        "totals": totals,
        "by_department": by_department,
        "month_end": month_bounds(today)[1],
    }


def _boilerplate(
    counts: Mapping[str, int],
    threshold: float,
    since: datetime.date | None,
    until: datetime.date | None,
) -> dict[str, Any]:
    sent, despite = counts["sent"], counts["despite_warning"]
    return {
        "sent": sent,
        "despite_warning": despite,
        "share": despite / sent if sent else None,
        "threshold": threshold,
        "since": since,
        "until": until,
    }


def answers_sent_despite_warning(
    department_id: int,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """The department's sent final answers (sent from ``since`` to ``until``, both
    inclusive, when given) and how many of them its head approved despite the boilerplate
    warning: the approval's history event holds a similarity at or above
    ``BOILERPLATE_SIMILARITY_THRESHOLD`` and the head's ``boilerplate_comment``.

    From the stored counts per day sent (``SentAnswerCount``) with the live days beside
    them when today's build is done (three queries), else counted live (two)."""
    threshold = similarity.threshold()
    _figures, counts = department_counts(
        None,
        department_id,
        today=today or timezone.localdate(),
        threshold=threshold,
        since=since,
        until=until,
    )
    return _boilerplate(counts, threshold, since, until)


def department_promises(
    actor: Actor,
    today: datetime.date | None = None,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> dict[str, Any]:
    """The department's own promises (it promised them) and its answers sent despite the
    boilerplate warning in the dashboard's period (``since``–``until``; all time when not
    given, as the dashboard's answered counts): ``public_counts.department_counts``, from
    the stored counts when today's build is done."""
    today = today or timezone.localdate()
    department_id = actor.department_id
    assert department_id is not None
    qs = commitment_visible(actor).filter(department_id=department_id)
    threshold = similarity.threshold()
    totals, counts = department_counts(
        qs, department_id, today=today, threshold=threshold, since=since, until=until
    )
    return {
        "totals": totals,
        "month_end": month_bounds(today)[1],
        "boilerplate": _boilerplate(counts, threshold, since, until),
    }


def deputy_promises(actor: Actor, *, shown: int = AWAITING_SHOWN) -> dict[str, Any]:
    """The deputy's reported promises awaiting their verdict: how many, the longest waiting."""
    qs = commitments_awaiting_verdict(actor)
    return {
        "awaiting_count": qs.order_by().count(),
        "awaiting": list(qs[:shown]),
    }
