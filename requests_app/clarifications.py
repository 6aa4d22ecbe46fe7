"""Clarification questions: the lead department asks the author, the author answers.

Where the request's deadline rule stops the clock (``DeadlineRule.pauses_clock``), the
question stops it and the answer starts it again, moving the due dates by the paused
working days (``pauses.py``; ``docs/domain.md``, "Clarification pauses"). One question
is open at a time.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core.deadlines import DeadlineRule, get_rule
from maslikhat.core.exceptions import TransitionNotAllowed
from maslikhat.core.notifications import NotificationKind, notify
from maslikhat.core.text import clean_text
from maslikhat.directory.recipients import department_users

from . import permissions
from .lifecycle import FLOW, REQUEST_RULE
from .models import Clarification, DeputyRequest
from .pauses import end_pause, open_clarification

ALREADY_OPEN = _(
    "A clarification question already waits for the author's answer. "
    "Ask the next one after it is answered."
)
NONE_OPEN = _("There is no clarification question waiting for an answer.")


def _rule_of(item: DeputyRequest) -> DeadlineRule:
    code = (item.due_date_basis or {}).get("rule") or REQUEST_RULE
    try:
        return get_rule(code)
    except DeadlineRule.DoesNotExist:
        return get_rule(REQUEST_RULE)


@transaction.atomic
def deputy_request_clarify(
    *, pk: int, by: User, question: str, version: int | None = None
) -> Clarification:
    """The lead department asks the author a question; the clock stops where the rule says so.

    A question asked after the due date has passed stops nothing: the deadline was
    already missed.
    """
    item = FLOW.start(pk, by=by, may=permissions.can_clarify, version=version, action="clarify")
    question = clean_text(question, field="question", required=True)
    if open_clarification(item) is not None:
        raise TransitionNotAllowed(ALREADY_OPEN)
    now = timezone.now()
    today = timezone.localdate(now)
    pauses = bool(
        _rule_of(item).pauses_clock and item.due_date is not None and today <= item.due_date
    )
    assert item.lead_department_id is not None  # in progress: a database constraint
    clarification = Clarification.objects.create(
        request=item,
        department_id=item.lead_department_id,
        question=question,
        asked_by=by,
        asked_at=now,
        pauses_clock=pauses,
    )
    if pauses:
        item.paused_since = today
    FLOW.transition(
        item,
        "clarify",
        by=by,
        comment=question,
        changes={"clarification": clarification.pk, "pauses_clock": pauses},
        extra_fields=["paused_since"],
    )
    notify(
        users=[item.author.user],
        kind=NotificationKind.CLARIFICATION_ASKED,
        item=item,
        email=True,
        exclude=by,
    )
    return clarification


@transaction.atomic
def deputy_request_answer_clarification(
    *, pk: int, by: User, text: str, version: int | None = None
) -> DeputyRequest:
    """The author answers the open question; a stopped clock runs again, the due date moved."""
    item = FLOW.start(
        pk,
        by=by,
        may=permissions.can_answer_clarification,
        version=version,
        action="answer_clarification",
    )
    text = clean_text(text, field="text", required=True)
    ended = end_pause(item, by=by, answer=text)
    if ended is None:
        raise TransitionNotAllowed(NONE_OPEN)
    clarification, changes = ended
    FLOW.transition(item, "answer_clarification", by=by, comment=text, changes=changes)
    recipients = [
        clarification.asked_by,
        *([item.executor] if item.executor is not None else []),
        *department_users([item.lead_department_id], heads_only=True),
    ]
    notify(
        users=recipients,
        kind=NotificationKind.CLARIFICATION_ANSWERED,
        item=item,
        email=True,
        exclude=by,
    )
    return item
