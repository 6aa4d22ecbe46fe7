"""Every change of a deputy request: one service per user-visible action.

Each service runs in one transaction, locks the request row
(``select_for_update``) so two people acting at once are serialised, checks
who is acting (``permissions``) and whether the action is allowed in the
current state (``TRANSITIONS``), honours optimistic concurrency (``version``:
a stale form is a 409), writes an audit event, and notifies after commit.
The HTML views and the API call these same functions.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import Role, User
from maslikhat.core import services as core_services
from maslikhat.core.deadlines import compute_due_date, get_rule
from maslikhat.core.exceptions import (
    ActionForbidden,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from maslikhat.core.notifications import NotificationKind, notify
from maslikhat.core.text import clean_text
from maslikhat.core.threads import Attachment, Message
from maslikhat.directory.actors import Actor, actor_for
from maslikhat.directory.models import (
    Category,
    Department,
    DepartmentMember,
    Deputy,
    District,
)

from . import extensions, permissions
from .models import (
    CLAIMED_OUTCOMES,
    DeputyRequest,
    Extension,
    Outcome,
    RegistrationCounter,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

S = RequestStatus

#: The lifecycle in one table: action -> (states it is allowed in, state it leads to;
#: None keeps the state). ``domain.md`` draws the same machine.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (frozenset({S.DRAFT}), None),
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "route": (frozenset({S.SUBMITTED}), S.IN_PROGRESS),
    "decline": (frozenset({S.SUBMITTED}), S.DECLINED),
    "assign": (frozenset({S.IN_PROGRESS, S.ANSWERED}), None),
    "redirect": (frozenset({S.IN_PROGRESS}), S.SUBMITTED),
    "respond": (frozenset({S.IN_PROGRESS}), None),
    "approve_interim": (frozenset({S.IN_PROGRESS}), None),
    "approve_final": (frozenset({S.IN_PROGRESS}), S.ANSWERED),
    "return_draft": (frozenset({S.IN_PROGRESS}), None),
    "accept": (frozenset({S.ANSWERED}), S.CLOSED),
    "rework": (frozenset({S.ANSWERED}), S.IN_PROGRESS),
    "auto_close": (frozenset({S.ANSWERED}), S.CLOSED),
    "rate_request": (frozenset({S.IN_PROGRESS, S.ANSWERED, S.CLOSED}), None),
    "ask_extension": (frozenset({S.IN_PROGRESS}), None),
    "decide_extension": (frozenset({S.IN_PROGRESS}), None),
    "withdraw": (frozenset({S.DRAFT, S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED}), S.WITHDRAWN),
}

REQUEST_RULE = "deputy_request"
EVALUATION_RULE = "deputy_request_evaluation"
TITLE_MAX = 300


def allowed(action: str, status: str) -> bool:
    states, _target = TRANSITIONS[action]
    return status in states


# --- Internals ------------------------------------------------------------------------


def _lock(pk: int) -> DeputyRequest:
    """The request row, locked until the end of the transaction."""
    try:
        return DeputyRequest.objects.select_for_update().get(pk=pk)
    except DeputyRequest.DoesNotExist as exc:
        raise TransitionNotAllowed(_("This request does not exist.")) from exc


def _check_version(item: DeputyRequest, version: int | None) -> None:
    if version is not None and int(version) != item.version:
        raise StaleVersion()


def _require(allowed_by_role: bool) -> None:
    if not allowed_by_role:
        raise ActionForbidden()


def _transition(
    item: DeputyRequest,
    action: str,
    *,
    by: User | None,
    comment: str = "",
    changes: dict[str, Any] | None = None,
    extra_fields: Iterable[str] = (),
) -> None:
    """Apply ``action`` from the table: check the state, move it, bump the version, audit."""
    _ensure_allowed(item, action)
    _states, target = TRANSITIONS[action]
    before = item.status
    if target is not None:
        item.status = target
    item.version = F("version") + 1
    fields = {"status", "version", "updated_at", *extra_fields}
    item.save(update_fields=sorted(fields))
    item.refresh_from_db(fields=["version"])
    core_services.audit_record(
        item=item,
        actor=by,
        action=action,
        from_status=before,
        to_status=item.status,
        changes=changes,
        comment=comment,
    )


def _ensure_allowed(item: DeputyRequest, action: str) -> None:
    """Raise the 409 of the transition table when ``action`` is not allowed in the item's state."""
    if not allowed(action, item.status):
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the request is “%(status)s”.")
            % {"action": ACTION_LABELS.get(action, action), "status": item.get_status_display()}
        )


ACTION_LABELS: dict[str, Any] = {
    "edit": _("Edit"),
    "submit": _("Submit"),
    "route": _("Route"),
    "decline": _("Decline"),
    "assign": _("Assign an executor"),
    "redirect": _("Not our competence"),
    "respond": _("Draft an answer"),
    "approve_interim": _("Approve the interim answer"),
    "approve_final": _("Approve the final answer"),
    "return_draft": _("Return the draft"),
    "accept": _("Accept the answer"),
    "rework": _("Return for rework"),
    "auto_close": _("Close without evaluation"),
    "rate_request": _("Rate the request"),
    "ask_extension": _("Ask for an extension"),
    "decide_extension": _("Decide on the extension"),
    "withdraw": _("Withdraw"),
}


_clean_text = clean_text


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


def _department_users(
    department_ids: Iterable[int | None], *, heads_only: bool = False
) -> list[User]:
    ids = [pk for pk in department_ids if pk]
    if not ids:
        return []
    members = DepartmentMember.objects.filter(
        department_id__in=ids, is_active=True, user__is_active=True
    ).select_related("user")
    if heads_only:
        members = members.filter(position="head")
    return [m.user for m in members]


def _deputy_users(item: DeputyRequest) -> list[User]:
    deputies = [item.author, *item.co_authors.select_related("user")]
    return [d.user for d in deputies]


def _staff_users() -> list[User]:
    return list(User.objects.filter(role=Role.STAFF, is_active=True))


def search_documents(
    *,
    request_text: Iterable[str],
    address: str,
    sent_answers: Iterable[str],
    public_answer: str,
    thread: Iterable[str],
    file_names: Iterable[str],
) -> tuple[str, str]:
    """(participants' document, published document) of a request (``docs/search.md``).

    ``request_text``: number, title, text and proposed solution; ``public_answer``: the
    final answer the public page shows (once the request is closed), else empty. Both
    documents are lower-cased here, once: SQLite's LIKE folds only Latin letters, so the
    search compares lower-cased words with lower-cased documents.
    """
    request_parts = [p for p in request_text if p]
    participants = [*request_parts, address, *sent_answers, *thread, *file_names]
    published = [*request_parts, public_answer]
    return (
        "\n".join(p for p in participants if p).lower(),
        "\n".join(p for p in published if p).lower(),
    )


def refresh_search_document(item: DeputyRequest) -> None:
    """Rebuild what search reads: the participants' document and the published one.

    Unsent drafts are in neither: an answer becomes searchable when the head sends it.
    """
    sent = list(
        item.responses.filter(status=ResponseStatus.SENT)
        .order_by("sent_at", "id")
        .values_list("kind", "text")
    )
    finals = [text for kind, text in sent if kind == ResponseKind.FINAL]
    public_answer = finals[-1] if finals and item.status == RequestStatus.CLOSED else ""
    participants, published = search_documents(
        request_text=[item.number or "", item.title, item.body, item.proposed_solution],
        address=item.address,
        sent_answers=[text for _kind, text in sent],
        public_answer=public_answer,
        thread=Message.objects.for_item(item).values_list("text", flat=True),
        file_names=Attachment.objects.for_item(item).values_list("original_name", flat=True),
    )
    DeputyRequest.objects.filter(pk=item.pk).update(
        search_document=participants, published_document=published
    )
    item.search_document = participants
    item.published_document = published


def _close_pending_extensions(item: DeputyRequest, *, by: User | None) -> None:
    """The department's work on this deadline has ended (final answer, redirect, withdrawal)."""
    extensions.close_pending_extensions(
        item, by=by, comment=_("Closed: the department's work on this deadline has ended.")
    )


def _next_number(year: int) -> str:
    """``DZ-<year>-<00001>``: unique and gap-free per year.

    The counter row is locked for the rest of the submitting transaction, so two
    deputies submitting at once get consecutive numbers, and a rolled-back
    submission gives its number back.
    """
    RegistrationCounter.objects.get_or_create(year=year)
    counter = RegistrationCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"DZ-{year}-{counter.last_number:05d}"


# --- Drafts ---------------------------------------------------------------------------


class _Unset:
    """A field the caller did not send (``None`` means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _apply_draft_fields(
    item: DeputyRequest,
    *,
    title: str | None,
    body: str | None,
    proposed_solution: str | None,
    category: Category | None,
    district: District | None,
    address: str | None,
    is_public: bool | None,
) -> None:
    if title is not None:
        item.title = _clean_text(title, field="title", required=True, limit=TITLE_MAX)
    if body is not None:
        item.body = _clean_text(body, field="body", required=True)
    if proposed_solution is not None:
        item.proposed_solution = _clean_text(
            proposed_solution, field="proposed_solution", required=False
        )
    if category is not None:
        item.category = category
    if district is not UNSET:
        item.district = district
    if address is not None:
        item.address = _clean_text(address, field="address", required=False, limit=300)
    if is_public is not None:
        item.is_public = bool(is_public)


def _set_people(
    item: DeputyRequest,
    *,
    co_authors: Iterable[Deputy] | None,
    suggested_departments: Iterable[Department] | None,
) -> None:
    if co_authors is not None:
        others = [d for d in co_authors if d.pk != item.author_id]
        item.co_authors.set(others)
    if suggested_departments is not None:
        item.suggested_departments.set(list(suggested_departments))


@transaction.atomic
def deputy_request_create(
    *,
    by: User,
    title: str,
    body: str,
    category: Category,
    proposed_solution: str = "",
    district: District | None = None,
    address: str = "",
    is_public: bool = False,
    co_authors: Iterable[Deputy] = (),
    suggested_departments: Iterable[Department] = (),
) -> DeputyRequest:
    """Start a draft. Only a deputy files requests; the draft is theirs alone until submitted."""
    actor = actor_for(by)
    if actor.deputy_id is None:
        raise ActionForbidden(_("Only deputies file requests."))
    author = Deputy.objects.select_related("convocation").get(pk=actor.deputy_id)
    item = DeputyRequest(author=author, convocation=author.convocation, status=RequestStatus.DRAFT)
    _apply_draft_fields(
        item,
        title=title,
        body=body,
        proposed_solution=proposed_solution,
        category=category,
        district=district,
        address=address,
        is_public=is_public,
    )
    item.save()
    _set_people(item, co_authors=co_authors, suggested_departments=suggested_departments)
    core_services.audit_record(item=item, actor=by, action="create", to_status=item.status)
    refresh_search_document(item)
    return item


@transaction.atomic
def deputy_request_update_draft(
    *,
    pk: int,
    by: User,
    version: int | None = None,
    title: str | None = None,
    body: str | None = None,
    proposed_solution: str | None = None,
    category: Category | None = None,
    district: District | None = UNSET,
    address: str | None = None,
    is_public: bool | None = None,
    co_authors: Iterable[Deputy] | None = None,
    suggested_departments: Iterable[Department] | None = None,
) -> DeputyRequest:
    """Edit a draft: fields left out stay as they are; ``district=None`` clears the district."""
    item = _lock(pk)
    _require(permissions.can_edit_draft(actor_for(by), item))
    _check_version(item, version)
    _apply_draft_fields(
        item,
        title=title,
        body=body,
        proposed_solution=proposed_solution,
        category=category,
        district=district,
        address=address,
        is_public=is_public,
    )
    _set_people(item, co_authors=co_authors, suggested_departments=suggested_departments)
    _transition(
        item,
        "edit",
        by=by,
        extra_fields=[
            "title",
            "body",
            "proposed_solution",
            "category",
            "district",
            "address",
            "is_public",
        ],
    )
    refresh_search_document(item)
    return item


@transaction.atomic
def deputy_request_set_public(
    *, pk: int, by: User, is_public: bool, version: int | None = None
) -> DeputyRequest:
    """The author publishes a request (or takes it off the public portal) at any time."""
    item = _lock(pk)
    _require(permissions.is_author(actor_for(by), item))
    _check_version(item, version)
    item.is_public = bool(is_public)
    item.version = F("version") + 1
    item.save(update_fields=["is_public", "version", "updated_at"])
    item.refresh_from_db(fields=["version"])
    core_services.audit_record(
        item=item,
        actor=by,
        action="publish" if is_public else "unpublish",
        from_status=item.status,
        changes={"is_public": bool(is_public)},
    )
    return item


# --- Registration and routing ------------------------------------------------------------


def _auto_route_department(item: DeputyRequest) -> Department | None:
    category = item.category
    if not category.auto_route:
        return None
    if category.route_to_district_akimat:
        if item.district_id is None:
            return None
        return Department.objects.filter(
            kind="district_akimat", district_id=item.district_id, is_active=True
        ).first()
    department = category.default_department
    return department if department is not None and department.is_active else None


@transaction.atomic
def deputy_request_submit(*, pk: int, by: User, version: int | None = None) -> DeputyRequest:
    """Register the draft with a number; auto-route it where staff enabled that for the category."""
    item = _lock(pk)
    _require(permissions.can_submit(actor_for(by), item))
    _check_version(item, version)
    now = timezone.now()
    _ensure_allowed(item, "submit")
    item.number = _next_number(timezone.localdate(now).year)
    item.submitted_at = now
    _transition(
        item,
        "submit",
        by=by,
        extra_fields=["number", "submitted_at"],
        changes={"number": item.number},
    )
    refresh_search_document(item)
    department = _auto_route_department(item)
    if department is not None:
        _route(item, by=None, lead=department, co_departments=[], automatic=True)
    else:
        notify(users=_staff_users(), kind=NotificationKind.SUBMITTED, item=item)
    return item


def _due_date_from(start: datetime.date, rule_code: str) -> tuple[datetime.date, dict[str, Any]]:
    due = compute_due_date(rule=get_rule(rule_code), start=start)
    return due.due, due.as_dict()


def _route(
    item: DeputyRequest,
    *,
    by: User | None,
    lead: Department,
    co_departments: Iterable[Department],
    automatic: bool = False,
) -> None:
    if not lead.is_active:
        raise ValidationFailed(_("This department is no longer active."), field="lead_department")
    co = [d for d in co_departments if d.pk != lead.pk]
    if any(not d.is_active for d in co):
        raise ValidationFailed(
            _("A co-executor department is no longer active."), field="co_departments"
        )
    now = timezone.now()
    item.lead_department = lead
    item.routed_at = now
    item.executor = None
    item.due_date, item.due_date_basis = _due_date_from(timezone.localdate(now), REQUEST_RULE)
    item.original_due_date = item.due_date
    item.status_reason = ""
    _transition(
        item,
        "route",
        by=by,
        comment=str(_("Routed automatically by category")) if automatic else "",
        changes={
            "lead_department": lead.code,
            "co_departments": [d.code for d in co],
            "due_date": item.due_date.isoformat(),
        },
        extra_fields=[
            "lead_department",
            "routed_at",
            "executor",
            "due_date",
            "due_date_basis",
            "original_due_date",
            "status_reason",
        ],
    )
    item.co_departments.set(co)
    item._co_department_ids = {d.pk for d in co}  # type: ignore[attr-defined]
    notify(
        users=_department_users([lead.pk, *(d.pk for d in co)]),
        kind=NotificationKind.ROUTED,
        item=item,
        email=True,
        exclude=by,
    )


@transaction.atomic
def deputy_request_route(
    *,
    pk: int,
    by: User,
    lead_department: Department,
    co_departments: Iterable[Department] = (),
    version: int | None = None,
) -> DeputyRequest:
    """Staff address a submitted request to a lead department (+ co-executors); the clock starts."""
    item = _lock(pk)
    _require(permissions.can_route(actor_for(by), item))
    _check_version(item, version)
    _ensure_allowed(item, "route")
    _route(item, by=by, lead=lead_department, co_departments=co_departments)
    return item


@transaction.atomic
def deputy_request_decline(
    *, pk: int, by: User, reason: str, version: int | None = None
) -> DeputyRequest:
    """Staff decline a submitted request (not a deputy request, not in local competence)."""
    item = _lock(pk)
    _require(permissions.can_decline(actor_for(by), item))
    _check_version(item, version)
    item.status_reason = _clean_text(reason, field="reason", required=True)
    item.closed_at = timezone.now()
    _transition(
        item,
        "decline",
        by=by,
        comment=item.status_reason,
        extra_fields=["status_reason", "closed_at"],
    )
    notify(
        users=_deputy_users(item), kind=NotificationKind.DECLINED, item=item, email=True, exclude=by
    )
    return item


@transaction.atomic
def deputy_request_assign(
    *, pk: int, by: User, executor: User, version: int | None = None
) -> DeputyRequest:
    """The head gives the request to one of the department's officers."""
    item = _lock(pk)
    _require(permissions.can_assign(actor_for(by), item))
    _check_version(item, version)
    is_member = DepartmentMember.objects.filter(
        user=executor, department=item.lead_department, is_active=True, user__is_active=True
    ).exists()
    if not is_member:
        raise ValidationFailed(
            _("The executor must be an officer of the department."), field="executor"
        )
    previous = item.executor.username if item.executor_id else None  # type: ignore[union-attr]
    item.executor = executor
    _transition(
        item,
        "assign",
        by=by,
        changes={"executor": [previous, executor.username]},
        extra_fields=["executor"],
    )
    notify(users=[executor], kind=NotificationKind.ASSIGNED, item=item, exclude=by)
    return item


@transaction.atomic
def deputy_request_redirect(
    *, pk: int, by: User, reason: str, version: int | None = None
) -> DeputyRequest:
    """The department says "not our competence": back to staff for re-routing."""
    item = _lock(pk)
    _require(permissions.can_redirect(actor_for(by), item))
    _check_version(item, version)
    reason = _clean_text(reason, field="reason", required=True)
    previous = item.lead_department.code if item.lead_department else None
    item.status_reason = reason
    item.lead_department = None
    item.executor = None
    item.due_date = None
    item.original_due_date = None
    item.routed_at = None
    _close_pending_extensions(item, by=by)
    _transition(
        item,
        "redirect",
        by=by,
        comment=reason,
        changes={"lead_department": [previous, None]},
        extra_fields=[
            "status_reason",
            "lead_department",
            "executor",
            "due_date",
            "original_due_date",
            "routed_at",
        ],
    )
    item.co_departments.clear()
    notify(
        users=_staff_users(), kind=NotificationKind.REDIRECTED, item=item, email=True, exclude=by
    )
    return item


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
    item = _lock(pk)
    actor = actor_for(by)
    _require(permissions.can_respond(actor, item))
    _check_version(item, version)
    _ensure_allowed(item, "respond")
    if kind not in ResponseKind.values:
        raise ValidationFailed(_("Choose an interim or a final answer."), field="kind")
    text = _clean_text(text, field="text", required=True)
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
            users=_department_users([item.lead_department_id], heads_only=True),
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


@transaction.atomic
def deputy_request_response_approve(
    *, pk: int, response_id: int, by: User, version: int | None = None
) -> DeputyRequest:
    """The head approves (signs) a draft: it is sent; a final answer makes the request answered.

    Two approvals at once: the row lock serialises them and the second finds the
    answer already sent (409).
    """
    item = _lock(pk)
    _require(permissions.can_approve_response(actor_for(by), item))
    _check_version(item, version)
    response = _lock_draft(item, response_id)
    now = timezone.now()
    response.status = ResponseStatus.SENT
    response.approved_by = by
    response.sent_at = now
    response.save(update_fields=["status", "approved_by", "sent_at"])
    if response.kind == ResponseKind.INTERIM:
        _transition(item, "approve_interim", by=by, changes={"response": response.pk})
        notify(
            users=_deputy_users(item), kind=NotificationKind.INTERIM_ANSWER, item=item, exclude=by
        )
    else:
        item.answered_at = now
        item.outcome = response.outcome
        evaluation_due, _basis = _due_date_from(timezone.localdate(now), EVALUATION_RULE)
        item.evaluation_due_date = evaluation_due
        _close_pending_extensions(item, by=by)
        _transition(
            item,
            "approve_final",
            by=by,
            changes={"response": response.pk, "outcome": response.outcome},
            extra_fields=["answered_at", "outcome", "evaluation_due_date"],
        )
        notify(
            users=_deputy_users(item),
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
    item = _lock(pk)
    _require(permissions.can_approve_response(actor_for(by), item))
    _check_version(item, version)
    _ensure_allowed(item, "return_draft")
    response = _lock_draft(item, response_id)
    response.status = ResponseStatus.RETURNED
    response.head_comment = _clean_text(comment, field="comment", required=True)
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

    A rating of 1–2 and every return need a written reason.
    """
    item = _lock(pk)
    _require(permissions.can_evaluate(actor_for(by), item))
    _check_version(item, version)
    if decision not in ("accept", "rework"):
        raise ValidationFailed(_("Accept the answer or return it for rework."), field="decision")
    action = "accept" if decision == "accept" else "rework"
    _ensure_allowed(item, action)
    value = _rating(rating, required=decision == "accept")
    comment = _clean_text(comment, field="comment", required=False)
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
    if last_final is not None:
        last_final.evaluation = decision
        last_final.evaluation_rating = value
        last_final.evaluation_comment = comment
        last_final.evaluated_at = now
        last_final.save(
            update_fields=["evaluation", "evaluation_rating", "evaluation_comment", "evaluated_at"]
        )
    if decision == "accept":
        item.rating = value
        item.rating_comment = comment
        item.rated_at = now
        item.closed_at = now
        if outcome:
            item.outcome = outcome
        _transition(
            item,
            "accept",
            by=by,
            comment=comment,
            changes={"rating": value, "outcome": item.outcome},
            extra_fields=["rating", "rating_comment", "rated_at", "closed_at", "outcome"],
        )
        # Closed: the final answer is now public, and searchable by everyone who sees it.
        refresh_search_document(item)
        notify(
            users=_department_users([item.lead_department_id]),
            kind=NotificationKind.ACCEPTED,
            item=item,
            exclude=by,
        )
    else:
        item.rework_count = F("rework_count") + 1
        item.answered_at = None
        item.evaluation_due_date = None
        item.outcome = None
        item.due_date, item.due_date_basis = _due_date_from(timezone.localdate(now), REQUEST_RULE)
        item.original_due_date = item.due_date
        _transition(
            item,
            "rework",
            by=by,
            comment=comment,
            changes={"rating": value, "due_date": item.due_date.isoformat()},
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
        notify(
            users=_department_users([item.lead_department_id]),
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
    item = _lock(pk)
    _require(permissions.can_rate_request(actor_for(by), item))
    _check_version(item, version)
    _ensure_allowed(item, "rate_request")
    now = timezone.now()
    if permissions.rating_is_frozen(item.request_rated_at, now):
        raise TransitionNotAllowed(_("Ratings are frozen seven days after they are given."))
    value = _rating(rating)
    comment = _clean_text(comment, field="comment", required=False)
    if value is not None and value <= 2 and not comment:
        raise ValidationFailed(_("A rating of 1 or 2 needs a comment."), field="comment")
    item.request_rating = value
    item.request_rating_comment = comment
    item.request_rated_at = item.request_rated_at or now
    item.request_rated_by = by
    _transition(
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


@transaction.atomic
def deputy_request_extension_ask(
    *, pk: int, by: User, new_due_date: datetime.date, reason: str, version: int | None = None
) -> Extension:
    """The lead department asks for a later due date with a reason; staff decide."""
    item = _lock(pk)
    _require(permissions.can_ask_extension(actor_for(by), item))
    _check_version(item, version)
    _ensure_allowed(item, "ask_extension")
    extension = extensions.extension_open(
        item=item, by=by, new_due_date=new_due_date, reason=reason, rule_code=REQUEST_RULE
    )
    notify(users=_staff_users(), kind=NotificationKind.EXTENSION_REQUESTED, item=item, exclude=by)
    return extension


@transaction.atomic
def deputy_request_extension_decide(
    *,
    pk: int,
    extension_id: int,
    by: User,
    approve: bool,
    comment: str = "",
    version: int | None = None,
) -> DeputyRequest:
    """Staff approve or reject an extension. The original due date stays for statistics."""
    item = _lock(pk)
    _require(permissions.can_decide_extension(actor_for(by), item))
    _check_version(item, version)
    _ensure_allowed(item, "decide_extension")
    extension, changes = extensions.extension_decide(
        item=item, extension_id=extension_id, by=by, approve=approve, comment=comment
    )
    fields = ["due_date"] if approve else []
    _transition(
        item,
        "decide_extension",
        by=by,
        comment=extension.comment,
        changes=changes,
        extra_fields=fields,
    )
    recipients = [
        extension.requested_by,
        *_department_users([item.lead_department_id], heads_only=True),
    ]
    if approve:
        # The requester is told of an extension (APPC art. 76).
        recipients += _deputy_users(item)
    notify(
        users=recipients, kind=NotificationKind.EXTENSION_DECIDED, item=item, email=True, exclude=by
    )
    return item


# --- Withdrawal and auto-close ----------------------------------------------------------


@transaction.atomic
def deputy_request_withdraw(
    *, pk: int, by: User, reason: str = "", version: int | None = None
) -> DeputyRequest:
    """The author withdraws the request in any open state."""
    item = _lock(pk)
    _require(permissions.can_withdraw(actor_for(by), item))
    _check_version(item, version)
    was_draft = item.status == RequestStatus.DRAFT
    reason = _clean_text(reason, field="reason", required=not was_draft)
    item.status_reason = reason
    item.closed_at = timezone.now()
    departments = [item.lead_department_id, *permissions.co_department_ids(item)]
    _close_pending_extensions(item, by=by)
    _transition(
        item, "withdraw", by=by, comment=reason, extra_fields=["status_reason", "closed_at"]
    )
    if not was_draft:
        notify(
            users=_department_users(departments),
            kind=NotificationKind.WITHDRAWN,
            item=item,
            exclude=by,
        )
    return item


@transaction.atomic
def deputy_request_auto_close(*, pk: int, today: datetime.date | None = None) -> bool:
    """Close an answered request the deputy did not evaluate in time, unrated. True if closed."""
    today = today or timezone.localdate()
    item = _lock(pk)
    if item.status != RequestStatus.ANSWERED or item.evaluation_due_date is None:
        return False
    if item.evaluation_due_date >= today:
        return False
    item.closed_at = timezone.now()
    _transition(item, "auto_close", by=None, extra_fields=["closed_at"])
    refresh_search_document(item)
    notify(users=_deputy_users(item), kind=NotificationKind.AUTO_CLOSED, item=item)
    return True


def deputy_requests_auto_close_due(*, today: datetime.date | None = None) -> int:
    """Auto-close every answered request past its evaluation date; each in its own transaction."""
    today = today or timezone.localdate()
    ids = DeputyRequest.objects.filter(
        status=RequestStatus.ANSWERED, evaluation_due_date__lt=today
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(ids) if deputy_request_auto_close(pk=pk, today=today))


# --- Thread and attachments -------------------------------------------------------------


@transaction.atomic
def deputy_request_message_post(*, pk: int, by: User, text: str) -> Message:
    """Post in the request's thread and tell the other side."""
    item = _lock(pk)
    actor = actor_for(by)
    _require(permissions.can_write_thread(actor, item))
    message = core_services.message_post(item=item, by=by, text=text)
    refresh_search_document(item)
    recipients: list[User] = []
    if permissions.is_author(actor, item) or permissions.is_coauthor(actor, item) or actor.is_staff:
        recipients += (
            [item.executor]
            if item.executor is not None
            else _department_users([item.lead_department_id], heads_only=True)
        )
    if actor.is_department or actor.is_staff:
        recipients += _deputy_users(item)
    notify(users=recipients, kind=NotificationKind.MESSAGE, item=item, exclude=by)
    return message


@transaction.atomic
def deputy_request_attachment_add(*, pk: int, by: User, upload: UploadedFile) -> Attachment:
    item = _lock(pk)
    _require(permissions.can_attach(actor_for(by), item))
    attachment = core_services.attachment_add(item=item, by=by, upload=upload)
    refresh_search_document(item)
    return attachment


def available_actions(actor: Actor, item: DeputyRequest) -> set[str]:
    """The actions ``actor`` may take on ``item`` now: entitled by role and allowed by state."""
    checks = {
        "edit": permissions.can_edit_draft,
        "submit": permissions.can_submit,
        "route": permissions.can_route,
        "decline": permissions.can_decline,
        "assign": permissions.can_assign,
        "redirect": permissions.can_redirect,
        "respond": permissions.can_respond,
        "approve_final": permissions.can_approve_response,
        "accept": permissions.can_evaluate,
        "rework": permissions.can_evaluate,
        "rate_request": permissions.can_rate_request,
        "ask_extension": permissions.can_ask_extension,
        "decide_extension": permissions.can_decide_extension,
        "withdraw": permissions.can_withdraw,
    }
    actions = {
        name for name, check in checks.items() if allowed(name, item.status) and check(actor, item)
    }
    if "rate_request" in actions and permissions.rating_is_frozen(
        item.request_rated_at, timezone.now()
    ):
        actions.discard("rate_request")
    return actions
