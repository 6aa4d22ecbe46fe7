"""Deputy requests' part of the daily reminder sweep (``maslikhat/core/reminders.py``).

The rows of docs/kpi.md's table that concern a request: due in 3, 1, 0 working days
(the executor, else the department's officers, and the head), overdue by 1, 6,
11, … (the head and staff; from the second escalation the author too), answered
``EVALUATE_AFTER`` days ago and not evaluated (the author), an extension undecided
for ``EXTENSION_AFTER`` days (staff), a clarification question open since before today
(the author, every working day until it is answered). While the clock is stopped by a
clarification (``paused_since``) the department gets no reminder or escalation of the
request: its due date moves when the author answers.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Min
from django.utils import timezone

from maslikhat.core.items import ItemType
from maslikhat.core.notifications import NotificationKind
from maslikhat.core.reminders import (
    CLARIFY,
    DUE,
    ESCALATE,
    EVALUATE,
    EVALUATE_AFTER,
    OVERDUE,
    REMIND,
    Drafts,
    ItemReminders,
    Reason,
    SweepResult,
    Windows,
    extensions_awaiting,
    local_midnight,
)
from maslikhat.directory.recipients import Recipients

from .models import Clarification, DeputyRequest, RequestStatus

# Big text columns a reminder never reads.
_REQUEST_DEFERRED = (
    "body",
    "proposed_solution",
    "search_document",
    "published_document",
    "due_date_basis",
)


class RequestReminders(ItemReminders):
    """Requests in progress near or past their due date, answers awaiting evaluation,
    extensions of requests awaiting a decision: one query each."""

    def __init__(self, day: date) -> None:
        super().__init__(day)
        self.oldest_overdue = DeputyRequest.objects.filter(
            status=RequestStatus.IN_PROGRESS, due_date__lt=day, paused_since__isnull=True
        ).aggregate(oldest=Min("due_date"))["oldest"]
        self.requests: list[DeputyRequest] = []  # due in 3/1/0 or overdue by 1, 6, 11…
        self.answered: list[DeputyRequest] = []  # answered EVALUATE_AFTER working days ago
        self.extended: list[DeputyRequest] = []  # an extension pending EXTENSION_AFTER days
        self.questions: list[Clarification] = []  # open clarification questions

    def find(self, windows: Windows) -> None:
        self.requests = list(
            DeputyRequest.objects.filter(
                status=RequestStatus.IN_PROGRESS,
                due_date__in=[*windows.due_in, *windows.overdue],
                paused_since__isnull=True,
            )
            .select_related("executor", "author__user")
            .defer(*_REQUEST_DEFERRED)
            .order_by("id")
        )
        self.answered = list(
            DeputyRequest.objects.filter(
                status=RequestStatus.ANSWERED,
                answered_at__gte=local_midnight(windows.evaluate_from),
                answered_at__lt=local_midnight(windows.evaluate_to),
            )
            .select_related("author__user")
            .defer(*_REQUEST_DEFERRED)
            .order_by("id")
        )
        self.questions = list(
            Clarification.objects.filter(
                answered_at__isnull=True,
                asked_at__lt=local_midnight(windows.day),
                request__status=RequestStatus.IN_PROGRESS,
            )
            .select_related("request__author__user")
            .defer(*(f"request__{name}" for name in _REQUEST_DEFERRED))
            .order_by("id")
        )
        asked = extensions_awaiting(ItemType.REQUEST, windows)
        self.extended = list(
            DeputyRequest.objects.filter(pk__in=asked).defer(*_REQUEST_DEFERRED).order_by("id")
        )

    def remind(self, windows: Windows, drafts: Drafts, result: SweepResult) -> None:
        day = windows.day
        people = Recipients(
            [item.lead_department_id for item in self.requests],
            need_staff=bool(self.extended)
            or any(item.due_date in windows.overdue for item in self.requests),
        )
        for request in self.requests:
            assert request.due_date is not None  # in progress: a database constraint
            heads = people.heads.get(request.lead_department_id or 0, [])
            left = windows.due_in.get(request.due_date)
            if left is not None:
                result.items[DUE] += 1
                when = request.due_date if left == 0 and request.due_date != day else None
                assignees = people.executor_or_officers(
                    request.lead_department_id, request.executor
                )
                drafts.add([*assignees, *heads], REMIND, request, Reason(DUE, left, when))
                continue
            behind = windows.overdue[request.due_date]
            result.items[OVERDUE] += 1
            escalated = [*heads, *people.staff]
            if behind > 1:
                escalated.append(request.author.user)
            drafts.add(escalated, ESCALATE, request, Reason(OVERDUE, behind))
        for request in self.answered:
            result.items[EVALUATE] += 1
            drafts.add(
                [request.author.user],
                NotificationKind.PLEASE_EVALUATE,
                request,
                Reason(EVALUATE, EVALUATE_AFTER),
            )
        for question in self.questions:
            result.items[CLARIFY] += 1
            asked_on = timezone.localdate(question.asked_at)
            drafts.add(
                [question.request.author.user],
                REMIND,
                question.request,
                Reason(CLARIFY, when=asked_on),
            )
        self.remind_of_extensions(self.extended, people.staff, drafts, result)
