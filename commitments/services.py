"""Every change of a promise: one function per change, for the API and any page alike.

Each locks the promise's row, checks the caller (``permissions``: a 403) and the state
(a 409), changes the row and writes the event to the request's history
(``audit_record``: ``commitment_created``, ``commitment_reported``,
``commitment_confirmed``, ``commitment_disputed``, ``commitment_rescheduled``,
``commitment_resolved``, ``commitment_withdrawn``; ``changes["commitment"]`` names the
promise and ``changes["state"]`` its state change; the event's from/to stay the request's status).

Rescheduling: the department may move the date to any day from today up to the
original promised date plus the request rule's ``max_extension_months`` (the same
limit as an extension of the request's deadline); a reason is required.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.deadlines import get_rule, max_extension_date
from maslikhat.core.exceptions import TransitionNotAllowed, ValidationFailed
from maslikhat.core.selectors import item_pk
from maslikhat.core.text import clean_text
from maslikhat.core.threads import AuditEvent
from maslikhat.core.uploads import inspect_upload
from maslikhat.core.workflow import require
from maslikhat.directory.actors import actor_for
from requests_app.lifecycle import REQUEST_RULE
from requests_app.models import DeputyRequest, Outcome, Response, ResponseKind, ResponseStatus

from . import notices, permissions
from .models import ACTIVE_STATES, Commitment, CommitmentState, Verdict


def _audit(
    commitment: Commitment,
    *,
    by: User | None,
    action: str,
    from_state: str,
    changes: dict[str, Any] | None = None,
    comment: str = "",
) -> None:
    # The event's from/to are the request's status (unchanged: the request's history shows
    # its own transitions); the promise's state change is in ``changes["state"]``.
    state = {"state": [from_state, commitment.state]} if from_state != commitment.state else {}
    core_services.audit_record(
        item=commitment.request,
        actor=by,
        action=action,
        from_status=commitment.request.status,
        changes={"commitment": commitment.pk, **state, **(changes or {})},
        comment=comment,
    )


def _lock(pk: Any) -> Commitment:
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(pk=item_pk(pk))
        .first()
    )
    if commitment is None:
        raise TransitionNotAllowed(_("This promise no longer exists."))
    return commitment


def _require_active(commitment: Commitment) -> None:
    if commitment.state not in ACTIVE_STATES:
        raise TransitionNotAllowed(_("This promise is already settled."))


def is_promise(response: Response) -> bool:
    """A sent final answer with the outcome ``planned`` and a date promises the work."""
    return (
        response.kind == ResponseKind.FINAL
        and response.status == ResponseStatus.SENT
        and response.outcome == Outcome.PLANNED
        and response.planned_date is not None
    )


@transaction.atomic
def commitment_create_for_answer(*, response: Response, by: User | None) -> Commitment | None:
    """The promise of a planned final answer (exactly one per answer; ``None`` for others)."""
    if not is_promise(response):
        return None
    existing = Commitment.objects.filter(response=response).first()
    if existing is not None:
        return existing
    assert response.planned_date is not None
    try:
        with transaction.atomic():
            commitment = Commitment.objects.create(
                request_id=response.request_id,
                response=response,
                department_id=response.department_id,
                text=response.text,
                original_due_date=response.planned_date,
                due_date=response.planned_date,
            )
    except IntegrityError:
        # Created meanwhile by another approval of the same answer: the one promise.
        return Commitment.objects.get(response=response)
    commitment.request = DeputyRequest.objects.get(pk=response.request_id)
    _audit(
        commitment,
        by=by,
        action="commitment_created",
        from_state="",
        changes={"due_date": commitment.due_date.isoformat()},
    )
    return commitment


def commitment_on_final_answer(
    sender: Any, *, response: Response, item: DeputyRequest, by: User, **kwargs: Any
) -> None:
    """Receiver of ``requests_app.signals.final_answer_sent``."""
    commitment_create_for_answer(response=response, by=by)


@transaction.atomic
def commitment_report(
    *, pk: Any, by: User, text: str, files: Sequence[UploadedFile] = ()
) -> Commitment:
    """The department reports what it did to keep the promise (again: the newer report).

    ``files`` (photos, acts) are attached to the request as its files (permission-checked
    downloads, each with its ``attachment_added`` event); the report's event names them
    (``changes["files"]``: id and name). Every file is checked before any is stored.
    """
    commitment = _lock(pk)
    require(permissions.can_report(actor_for(by), commitment))
    _require_active(commitment)
    commitment.reported_text = clean_text(text, field="text", required=True)
    for upload in files:
        inspect_upload(upload)
    attached = [
        core_services.attachment_add(item=commitment.request, by=by, upload=upload)
        for upload in files
    ]
    commitment.reported_at = timezone.now()
    commitment.reported_by = by
    # A new report asks the author again.
    commitment.verdict = Verdict.NONE
    commitment.save(update_fields=["reported_text", "reported_at", "reported_by", "verdict"])
    _audit(
        commitment,
        by=by,
        action="commitment_reported",
        from_state=commitment.state,
        changes=(
            {"files": [{"id": a.pk, "name": a.original_name} for a in attached]}
            if attached
            else None
        ),
        comment=commitment.reported_text,
    )
    notices.reported(commitment, by=by)
    return commitment


def _verdict_allowed(commitment: Commitment) -> None:
    _require_active(commitment)
    if commitment.reported_at is None:
        raise TransitionNotAllowed(_("The department has not reported on this promise yet."))
    if commitment.verdict:
        raise TransitionNotAllowed(_("The report has already been confirmed or disputed."))


@transaction.atomic
def commitment_confirm(*, pk: Any, by: User, comment: str = "") -> Commitment:
    """The request's author confirms the report: the promise is kept."""
    commitment = _lock(pk)
    require(permissions.can_give_verdict(actor_for(by), commitment))
    _verdict_allowed(commitment)
    from_state = commitment.state
    commitment.verdict = Verdict.CONFIRMED
    commitment.verdict_comment = clean_text(comment, field="comment", required=False)
    commitment.verdict_at = timezone.now()
    commitment.verdict_by = by
    commitment.state = CommitmentState.KEPT
    commitment.save(
        update_fields=["verdict", "verdict_comment", "verdict_at", "verdict_by", "state"]
    )
    _audit(
        commitment,
        by=by,
        action="commitment_confirmed",
        from_state=from_state,
        comment=commitment.verdict_comment,
    )
    notices.confirmed(commitment, by=by)
    return commitment


@transaction.atomic
def commitment_dispute(*, pk: Any, by: User, comment: str) -> Commitment:
    """The request's author disputes the report (a comment is required); staff resolve it."""
    commitment = _lock(pk)
    require(permissions.can_give_verdict(actor_for(by), commitment))
    _verdict_allowed(commitment)
    commitment.verdict = Verdict.DISPUTED
    commitment.verdict_comment = clean_text(comment, field="comment", required=True)
    commitment.verdict_at = timezone.now()
    commitment.verdict_by = by
    commitment.save(update_fields=["verdict", "verdict_comment", "verdict_at", "verdict_by"])
    _audit(
        commitment,
        by=by,
        action="commitment_disputed",
        from_state=commitment.state,
        comment=commitment.verdict_comment,
    )
    notices.disputed(commitment, by=by)
    return commitment


def reschedule_limit(commitment: Commitment) -> datetime.date:
    """The latest date a promise may be moved to (see the module docstring)."""
    rule = get_rule(REQUEST_RULE)
    return max_extension_date(rule=rule, original_due=commitment.original_due_date)


@transaction.atomic
def commitment_reschedule(
    *, pk: Any, by: User, new_due_date: datetime.date, reason: str
) -> Commitment:
    """The department moves the promised date, with a reason: the promise is rescheduled."""
    commitment = _lock(pk)
    require(permissions.can_reschedule(actor_for(by), commitment))
    _require_active(commitment)
    reason = clean_text(reason, field="reason", required=True)
    if new_due_date == commitment.due_date:
        raise ValidationFailed(_("Choose a date other than the current one."), field="new_due_date")
    if new_due_date < timezone.localdate():
        raise ValidationFailed(_("The new date cannot be in the past."), field="new_due_date")
    limit = reschedule_limit(commitment)
    if new_due_date > limit:
        raise ValidationFailed(
            _("The new date may be at most %(date)s.") % {"date": limit.strftime("%d.%m.%Y")},
            field="new_due_date",
        )
    from_state = commitment.state
    old_due = commitment.due_date
    commitment.due_date = new_due_date
    commitment.state = CommitmentState.RESCHEDULED
    commitment.reschedule_count += 1
    commitment.save(update_fields=["due_date", "state", "reschedule_count"])
    _audit(
        commitment,
        by=by,
        action="commitment_rescheduled",
        from_state=from_state,
        changes={"due_date": [old_due.isoformat(), new_due_date.isoformat()]},
        comment=reason,
    )
    notices.rescheduled(commitment, by=by)
    return commitment


@transaction.atomic
def commitment_resolve(*, pk: Any, by: User, kept: bool, comment: str = "") -> Commitment:
    """Staff decide a disputed promise: kept or broken."""
    commitment = _lock(pk)
    require(permissions.can_resolve(actor_for(by), commitment))
    _require_active(commitment)
    if commitment.verdict != Verdict.DISPUTED:
        raise TransitionNotAllowed(_("Only a disputed promise is resolved by staff."))
    from_state = commitment.state
    commitment.state = CommitmentState.KEPT if kept else CommitmentState.BROKEN
    commitment.resolution_comment = clean_text(comment, field="comment", required=False)
    commitment.resolved_at = timezone.now()
    commitment.resolved_by = by
    commitment.save(update_fields=["state", "resolution_comment", "resolved_at", "resolved_by"])
    _audit(
        commitment,
        by=by,
        action="commitment_resolved",
        from_state=from_state,
        comment=commitment.resolution_comment,
    )
    notices.resolved(commitment, by=by)
    return commitment


@transaction.atomic
def commitment_withdraw_for_answer(*, response: Response, by: User | None) -> Commitment | None:
    """The author returned ``response`` for rework: its promise, still to be kept, is
    withdrawn (superseded by rework; the next planned answer makes a new promise).

    A promise already kept or broken stays as it is; an answer without a promise has
    nothing to withdraw (``None``). Written to the request's history
    (``commitment_withdrawn``); nobody is notified (the return itself is).
    """
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(response=response)
        .first()
    )
    if commitment is None or commitment.state not in ACTIVE_STATES:
        return None
    from_state = commitment.state
    commitment.state = CommitmentState.WITHDRAWN
    commitment.save(update_fields=["state"])
    _audit(commitment, by=by, action="commitment_withdrawn", from_state=from_state)
    return commitment


def commitment_on_answer_returned(
    sender: Any, *, response: Response, item: DeputyRequest, by: User, **kwargs: Any
) -> None:
    """Receiver of ``requests_app.signals.final_answer_returned``."""
    commitment_withdraw_for_answer(response=response, by=by)


#: Answers per statement of the sweep (a bound on the ``IN`` list).
SWEEP_CHUNK = 2000


def commitments_create_missing() -> int:
    """Set-based: the promise of every sent planned final answer that has none; how many made.

    For answers sent before this app existed or written in bulk (the demo year, an import),
    which no signal saw. Each chunk is one transaction: the promises and their
    ``commitment_created`` events (no actor) together. Running it again makes none.
    """
    missing = (
        Response.objects.filter(
            kind=ResponseKind.FINAL,
            status=ResponseStatus.SENT,
            outcome=Outcome.PLANNED,
            planned_date__isnull=False,
        )
        # An anti-join: ``NOT IN (subquery)`` was planned, once the promises outgrew the
        # planner's working memory, as a scan of every promise for each answer.
        .exclude(Exists(Commitment.objects.filter(response_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "request_id", "department_id", "text", "planned_date", "request__status")
    )
    made = 0
    last = 0
    while True:
        # Keyset chunks: memory is one chunk's, however many answers lack their promise.
        chunk = list(missing.filter(pk__gt=last)[:SWEEP_CHUNK])
        if not chunk:
            break
        last = chunk[-1][0]
        with transaction.atomic():
            Commitment.objects.bulk_create(
                [
                    Commitment(
                        request_id=request_id,
                        response_id=response_id,
                        department_id=department_id,
                        text=text,
                        original_due_date=planned,
                        due_date=planned,
                    )
                    for response_id, request_id, department_id, text, planned, _status in chunk
                    if planned is not None  # the filter's; said again for the types
                ],
                ignore_conflicts=True,
            )
            # ``ignore_conflicts`` returns no ids: read back the promises of this chunk that
            # have no ``commitment_created`` event yet (those a signal made meanwhile have one).
            status_of = {row[0]: row[5] for row in chunk}
            fresh = Commitment.objects.filter(response_id__in=status_of)
            noted = set(
                AuditEvent.objects.filter(
                    item_type=DeputyRequest.ITEM_TYPE,
                    item_id__in={row[1] for row in chunk},
                    action="commitment_created",
                ).values_list("changes__commitment", flat=True)
            )
            events = [
                AuditEvent(
                    item_type=DeputyRequest.ITEM_TYPE,
                    item_id=commitment.request_id,
                    actor=None,
                    action="commitment_created",
                    from_status=status_of[commitment.response_id],
                    to_status=status_of[commitment.response_id],
                    changes={
                        "commitment": commitment.pk,
                        "state": ["", CommitmentState.OPEN],
                        "due_date": commitment.due_date.isoformat(),
                    },
                )
                for commitment in fresh
                if commitment.pk not in noted
            ]
            AuditEvent.objects.bulk_create(events)
            made += len(events)
    return made
