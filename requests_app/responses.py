"""Answers, evaluations and extensions of a deputy request.

An officer drafts an answer and the head approves it (interim or final); the author
accepts the final answer with a rating or returns it for rework; the department
rates the request; the lead department asks for a later due date and staff decide.
Every service opens with ``FLOW.start`` (``lifecycle.py``) like the others.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.exceptions import TransitionNotAllowed, ValidationFailed
from maslikhat.core.notifications import NotificationKind, notify
from maslikhat.core.text import clean_text
from maslikhat.core.workflow import ExtensionSteps
from maslikhat.directory.actors import actor_for
from maslikhat.directory.recipients import department_users, staff_users

from . import permissions, similarity
from .lifecycle import (
    EVALUATION_RULE,
    FLOW,
    REQUEST_RULE,
    close_pending_extensions,
    deputy_users,
    due_date_from,
    refresh_search_document,
)
from .models import (
    CLAIMED_OUTCOMES,
    DeputyRequest,
    Evaluation,
    EvaluationDecision,
    Outcome,
    Response,
    ResponseKind,
    ResponseStatus,
)
from .signals import final_answer_returned, final_answer_sent


def _rating(value: Any, *, field: str = "rating", required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("Give a rating from 1 to 5."), field=field)
        return None
    try:
        rating = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("Give a rating from 1 to 5."), field=field) from exc
    if not 1 <= rating <= 5:
        raise ValidationFailed(_("Give a rating from 1 to 5."), field=field)
    return rating


# --- Answers --------------------------------------------------------------------------


@transaction.atomic
def deputy_request_respond(
    *,
    pk: int,
    by: User,
    kind: str,
    text: str,
    outcome: str | None = None,
    planned_date: datetime.date | None = None,
    version: int | None = None,
) -> Response:
    """An officer of the lead department drafts an answer; the head approves it to send it."""
    item = FLOW.start(pk, by=by, may=permissions.can_respond, version=version, action="respond")
    actor = actor_for(by)
    if kind not in ResponseKind.values:
        raise ValidationFailed(_("Choose an interim or a final answer."), field="kind")
    text = clean_text(text, field="text", required=True)
    if kind == ResponseKind.FINAL:
        if outcome not in CLAIMED_OUTCOMES:
            raise ValidationFailed(_("A final answer states its outcome."), field="outcome")
        if outcome == Outcome.PLANNED and planned_date is None:
            raise ValidationFailed(
                _("Say when the planned work will be done."), field="planned_date"
            )
    else:
        outcome = None
        planned_date = None
    assert item.lead_department is not None  # in_progress always has one (a DB constraint)
    response = Response.objects.create(
        request=item,
        department=item.lead_department,
        kind=kind,
        text=text,
        outcome=outcome,
        planned_date=planned_date if outcome == Outcome.PLANNED else None,
        drafted_by=by,
    )
    core_services.audit_record(
        item=item,
        actor=by,
        action="response_drafted",
        from_status=item.status,
        changes={"response": response.pk, "kind": kind, "outcome": outcome},
    )
    if not actor.is_department_head:
        notify(
            users=department_users([item.lead_department_id], heads_only=True),
            kind=NotificationKind.DRAFT_AWAITS_APPROVAL,
            item=item,
            exclude=by,
        )
    return response


def _lock_draft(item: DeputyRequest, response_id: int) -> Response:
    response = Response.objects.select_for_update().filter(pk=response_id, request=item).first()
    if response is None:
        raise TransitionNotAllowed(_("This answer does not belong to the request."))
    if response.status != ResponseStatus.DRAFT:
        raise TransitionNotAllowed(_("This answer is no longer a draft."))
    return response


def _boilerplate_check(response: Response, comment: str) -> dict[str, Any]:
    """The draft's similarity to the department's earlier answers, for the history; at or
    above the threshold the head's comment is required."""
    closeness = similarity.draft_closeness(response)
    comment = clean_text(comment, field="boilerplate_comment", required=False)
    if closeness.needs_comment and not comment:
        raise ValidationFailed(
            _(
                "This draft is %(percent)s%% similar to an answer your department sent "
                "earlier. Say in a comment why it is the right answer to this request."
            )
            % {"percent": closeness.percent},
            field="boilerplate_comment",
        )
    changes: dict[str, Any] = {"similarity": round(closeness.score, 2)}
    if closeness.matches:
        changes["similar_response"] = closeness.matches[0].earlier.response_id
    if comment:
        changes["boilerplate_comment"] = comment
    return changes


@transaction.atomic
def deputy_request_response_approve(
    *,
    pk: int,
    response_id: int,
    by: User,
    version: int | None = None,
    boilerplate_comment: str = "",
) -> DeputyRequest:
    """The head approves (signs) a draft: it is sent; a final answer makes the request answered.

    Two approvals at once: the row lock serialises them and the second finds the
    answer already sent (409). A draft at least ``BOILERPLATE_SIMILARITY_THRESHOLD``
    similar to an answer the department sent earlier needs ``boilerplate_comment``
    (``similarity.py``); the similarity and the comment go into the history.
    """
    item = FLOW.start(pk, by=by, may=permissions.can_approve_response, version=version)
    response = _lock_draft(item, response_id)
    boilerplate = _boilerplate_check(response, boilerplate_comment)
    now = timezone.now()
    response.status = ResponseStatus.SENT
    response.approved_by = by
    response.sent_at = now
    response.save(update_fields=["status", "approved_by", "sent_at"])
    if response.kind == ResponseKind.INTERIM:
        FLOW.transition(
            item,
            "approve_interim",
            by=by,
            comment=boilerplate.get("boilerplate_comment", ""),
            changes={"response": response.pk, **boilerplate},
        )
        notify(
            users=deputy_users(item), kind=NotificationKind.INTERIM_ANSWER, item=item, exclude=by
        )
    else:
        item.answered_at = now
        item.outcome = response.outcome
        evaluation_due, _basis = due_date_from(timezone.localdate(now), EVALUATION_RULE)
        item.evaluation_due_date = evaluation_due
        close_pending_extensions(item, by=by)
        FLOW.transition(
            item,
            "approve_final",
            by=by,
            comment=boilerplate.get("boilerplate_comment", ""),
            changes={"response": response.pk, "outcome": response.outcome, **boilerplate},
            extra_fields=["answered_at", "outcome", "evaluation_due_date"],
        )
        # Listeners (the promises of a planned answer) act in this transaction.
        final_answer_sent.send(sender=Response, response=response, item=item, by=by)
        notify(
            users=deputy_users(item),
            kind=NotificationKind.ANSWERED,
            item=item,
            email=True,
            exclude=by,
        )
    refresh_search_document(item)
    return item


@transaction.atomic
def deputy_request_response_return(
    *, pk: int, response_id: int, by: User, comment: str, version: int | None = None
) -> Response:
    """The head returns a draft answer to its executor with a comment."""
    item = FLOW.start(
        pk, by=by, may=permissions.can_approve_response, version=version, action="return_draft"
    )
    response = _lock_draft(item, response_id)
    response.status = ResponseStatus.RETURNED
    response.head_comment = clean_text(comment, field="comment", required=True)
    response.save(update_fields=["status", "head_comment"])
    core_services.audit_record(
        item=item,
        actor=by,
        action="response_returned",
        from_status=item.status,
        changes={"response": response.pk},
        comment=response.head_comment,
    )
    notify(users=[response.drafted_by], kind=NotificationKind.DRAFT_RETURNED, item=item, exclude=by)
    return response


# --- Evaluation both ways --------------------------------------------------------------


FINAL_OUTCOMES = (
    Outcome.RESOLVED,
    Outcome.PARTIALLY_RESOLVED,
    Outcome.NOT_RESOLVED,
    Outcome.EXPLAINED,
)


@transaction.atomic
def deputy_request_evaluate(
    *,
    pk: int,
    by: User,
    decision: str,
    rating: Any = None,
    comment: str = "",
    outcome: str | None = None,
    version: int | None = None,
) -> DeputyRequest:
    """The author accepts the answer with a 1–5 rating (closed) or returns it for rework.

    A rating of 1–2 and every return need a written reason. Every evaluation is an
    ``Evaluation`` row of its own, beside the answer it judged, kept for good: a returned
    answer keeps its rating after the next answer is accepted (``docs/domain.md``).
    """
    item = FLOW.start(pk, by=by, may=permissions.can_evaluate, version=version)
    if decision not in EvaluationDecision.values:
        raise ValidationFailed(_("Accept the answer or return it for rework."), field="decision")
    action = "accept" if decision == "accept" else "rework"
    FLOW.ensure_allowed(item, action)
    value = _rating(rating, required=decision == "accept")
    comment = clean_text(comment, field="comment", required=False)
    if decision == "rework" and not comment:
        raise ValidationFailed(_("Say what is missing in the answer."), field="comment")
    if value is not None and value <= 2 and not comment:
        raise ValidationFailed(_("A rating of 1 or 2 needs a comment."), field="comment")
    if outcome is not None and outcome not in FINAL_OUTCOMES:
        raise ValidationFailed(_("Choose a final outcome."), field="outcome")
    now = timezone.now()
    last_final = (
        item.responses.select_for_update()
        .filter(kind=ResponseKind.FINAL, status=ResponseStatus.SENT)
        .order_by("-sent_at", "-id")
        .first()
    )
    if last_final is None:  # an answered request always has one (approve_final sets it)
        raise TransitionNotAllowed(_("There is no answer to evaluate."))
    evaluation = Evaluation.objects.create(
        request=item,
        response=last_final,
        decision=decision,
        rating=value,
        comment=comment,
        by=by,
        at=now,
    )
    # The answer's own columns still mirror its evaluation; every reader reads the rows.
    last_final.evaluation = decision
    last_final.evaluation_rating = value
    last_final.evaluation_comment = comment
    last_final.evaluated_at = now
    last_final.save(
        update_fields=["evaluation", "evaluation_rating", "evaluation_comment", "evaluated_at"]
    )
    judged = {"response": last_final.pk, "evaluation": evaluation.pk, "rating": value}
    if decision == "accept":
        item.rating = value
        item.rating_comment = comment
        item.rated_at = now
        item.closed_at = now
        if outcome:
            item.outcome = outcome
        FLOW.transition(
            item,
            "accept",
            by=by,
            comment=comment,
            changes={**judged, "outcome": item.outcome},
            extra_fields=["rating", "rating_comment", "rated_at", "closed_at", "outcome"],
        )
        # Closed: the final answer is now public, and searchable by everyone who sees it.
        refresh_search_document(item)
        notify(
            users=department_users([item.lead_department_id]),
            kind=NotificationKind.ACCEPTED,
            item=item,
            exclude=by,
        )
    else:
        item.rework_count = F("rework_count") + 1
        item.answered_at = None
        item.evaluation_due_date = None
        item.outcome = None
        item.due_date, item.due_date_basis = due_date_from(timezone.localdate(now), REQUEST_RULE)
        item.original_due_date = item.due_date
        FLOW.transition(
            item,
            "rework",
            by=by,
            comment=comment,
            changes={**judged, "due_date": item.due_date.isoformat()},
            extra_fields=[
                "rework_count",
                "answered_at",
                "evaluation_due_date",
                "outcome",
                "due_date",
                "due_date_basis",
                "original_due_date",
            ],
        )
        item.refresh_from_db(fields=["rework_count"])
        # Listeners (the promise of a returned planned answer) act in this transaction.
        final_answer_returned.send(sender=Response, response=last_final, item=item, by=by)
        notify(
            users=department_users([item.lead_department_id]),
            kind=NotificationKind.RETURNED,
            item=item,
            email=True,
            exclude=by,
        )
    return item


@transaction.atomic
def deputy_request_rate_request(
    *, pk: int, by: User, rating: Any, comment: str = "", version: int | None = None
) -> DeputyRequest:
    """The department rates the request's quality 1–5 (clear problem, facts, a proposed
    solution, within competence). It may change its rating for seven days; then it is frozen."""
    item = FLOW.start(
        pk, by=by, may=permissions.can_rate_request, version=version, action="rate_request"
    )
    now = timezone.now()
    if permissions.rating_is_frozen(item.request_rated_at, now):
        raise TransitionNotAllowed(_("Ratings are frozen seven days after they are given."))
    value = _rating(rating)
    comment = clean_text(comment, field="comment", required=False)
    if value is not None and value <= 2 and not comment:
        raise ValidationFailed(_("A rating of 1 or 2 needs a comment."), field="comment")
    item.request_rating = value
    item.request_rating_comment = comment
    item.request_rated_at = item.request_rated_at or now
    item.request_rated_by = by
    FLOW.transition(
        item,
        "rate_request",
        by=by,
        comment=comment,
        changes={"request_rating": value},
        extra_fields=[
            "request_rating",
            "request_rating_comment",
            "request_rated_at",
            "request_rated_by",
        ],
    )
    return item


# --- Extensions -----------------------------------------------------------------------


EXTENSIONS: ExtensionSteps[DeputyRequest] = ExtensionSteps(
    FLOW,
    may_ask=permissions.can_ask_extension,
    may_decide=permissions.can_decide_extension,
    rule_code=REQUEST_RULE,
    deciders=staff_users,
    heads_of=lambda item: department_users([item.lead_department_id], heads_only=True),
    # The requester is told of an extension (APPC art. 76).
    told_of_approval=deputy_users,
)
#: The lead department asks for a later due date with a reason; staff decide.
deputy_request_extension_ask = EXTENSIONS.ask
#: Staff approve or reject an extension. The original due date stays for statistics.
deputy_request_extension_decide = EXTENSIONS.decide
