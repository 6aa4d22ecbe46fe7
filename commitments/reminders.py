"""Promises' part of the daily reminder sweep (``maslikhat/core/reminders.py``).

The rows of docs/kpi.md's table that concern a promise still to be kept (open or
rescheduled) — the same working-day windows as a request's due date:

- not yet reported, due in 3, 1, 0 working days: the request's executor (else the
  department's officers) and the department's heads, asked to report on the date;
- not yet reported, overdue by 1 working day: escalated once to the department's heads and
  council staff;
- reported ``VERDICT_AFTER`` working days ago and no verdict yet: the request's author is
  asked again whether it was done (the report itself told them on its day).

A kept, broken or withdrawn promise gives no reminder; neither does a reported one to the
department (it waits for the author's verdict, or for staff's decision of a dispute). The
reminder's item is the promise's request (its link opens the request's page), so the
sweep's one notification per (user, kind, item, day) keeps every reminder to one.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils.translation import gettext, ngettext

from maslikhat.core.reminders import (
    ESCALATE,
    EVALUATE_AFTER,
    REMIND,
    Drafts,
    ItemReminders,
    Reason,
    SweepResult,
    Windows,
    local_midnight,
)
from maslikhat.directory.recipients import Recipients

from .models import ACTIVE_STATES, Commitment, Verdict

#: The rules of the promises' rows (``Reason.rule`` and keys of ``SweepResult.items``).
PROMISE_DUE = "promise_due"
PROMISE_OVERDUE = "promise_overdue"
PROMISE_VERDICT = "promise_verdict"
#: The author is asked for a verdict again this many working days after the report.
VERDICT_AFTER = EVALUATE_AFTER

_DEFERRED = (
    "request__body",
    "request__proposed_solution",
    "request__search_document",
    "request__published_document",
    "request__due_date_basis",
    "text",
    "reported_text",
)


def _render_due(reason: Reason) -> str:
    if reason.count == 0:
        if reason.when is not None:
            return gettext(
                "the work promised in the answer is due on %(date)s; please report what was done."
            ) % {"date": reason.when.strftime("%d.%m.%Y")}
        return gettext("the work promised in the answer is due today; please report what was done.")
    return ngettext(
        "the work promised in the answer is due in %(count)d working day.",
        "the work promised in the answer is due in %(count)d working days.",
        reason.count,
    ) % {"count": reason.count}


def _render_overdue(reason: Reason) -> str:
    return ngettext(
        "the work promised in the answer is overdue by %(count)d working day and not reported.",
        "the work promised in the answer is overdue by %(count)d working days and not reported.",
        reason.count,
    ) % {"count": reason.count}


def _render_verdict(reason: Reason) -> str:
    return ngettext(
        "the department reported the promised work done %(count)d working day ago: "
        "was it done? Please confirm or dispute it.",
        "the department reported the promised work done %(count)d working days ago: "
        "was it done? Please confirm or dispute it.",
        reason.count,
    ) % {"count": reason.count}


#: The texts of the promises' reasons (registered with the sweep in ``apps.py``).
REASONS = {
    PROMISE_DUE: _render_due,
    PROMISE_OVERDUE: _render_overdue,
    PROMISE_VERDICT: _render_verdict,
}


class CommitmentReminders(ItemReminders):
    """Promises near or just past their date without a report, and reports awaiting the
    author's verdict: one query each, whatever the number of other promises."""

    def __init__(self, day: date) -> None:
        super().__init__(day)
        # Escalated once (overdue by 1): the walk back of the windows always reaches it,
        # so the calendar need not reach the oldest overdue promise.
        self.oldest_overdue = None
        self.unreported: list[Commitment] = []
        self.reported: list[Commitment] = []

    def find(self, windows: Windows) -> None:
        escalated = [due for due, behind in windows.overdue.items() if behind == 1]
        unreported = Q(reported_at__isnull=True, due_date__in=[*windows.due_in, *escalated])
        awaiting_verdict = Q(
            verdict=Verdict.NONE,
            reported_at__gte=local_midnight(windows.evaluate_from),
            reported_at__lt=local_midnight(windows.evaluate_to),
        )
        # One query for both: split by whether the department has reported.
        found = list(
            Commitment.objects.filter(unreported | awaiting_verdict, state__in=ACTIVE_STATES)
            .select_related("request", "request__executor", "request__author__user")
            .defer(*_DEFERRED)
            .order_by("id")
        )
        self.unreported = [c for c in found if c.reported_at is None]
        self.reported = [c for c in found if c.reported_at is not None]

    def remind(self, windows: Windows, drafts: Drafts, result: SweepResult) -> None:
        day = windows.day
        people = Recipients(
            [c.department_id for c in self.unreported],
            need_staff=any(c.due_date not in windows.due_in for c in self.unreported),
        )
        for commitment in self.unreported:
            request = commitment.request
            heads = people.heads.get(commitment.department_id, [])
            left = windows.due_in.get(commitment.due_date)
            if left is not None:
                result.items[PROMISE_DUE] += 1
                when = commitment.due_date if left == 0 and commitment.due_date != day else None
                executor = (
                    request.executor
                    if request.lead_department_id == commitment.department_id
                    else None
                )
                assignees = people.executor_or_officers(commitment.department_id, executor)
                drafts.add([*assignees, *heads], REMIND, request, Reason(PROMISE_DUE, left, when))
                continue
            result.items[PROMISE_OVERDUE] += 1
            drafts.add([*heads, *people.staff], ESCALATE, request, Reason(PROMISE_OVERDUE, 1))
        for commitment in self.reported:
            result.items[PROMISE_VERDICT] += 1
            drafts.add(
                [commitment.request.author.user],
                REMIND,
                commitment.request,
                Reason(PROMISE_VERDICT, VERDICT_AFTER),
            )
