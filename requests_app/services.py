"""Every change of a deputy request: one service per user-visible action.

Each service runs in one transaction and opens with ``FLOW.start`` (``lifecycle.py``):
the request row locked (``select_for_update``) so two people acting at once are
serialised, who is acting checked (``permissions``), the version (a stale form is a
409) and the transition table; each move writes an audit event, and notifications
go out after commit. The HTML views and the API call these same functions.

This module holds drafts, registration and routing, withdrawal, auto-close and the
thread; answers, evaluations and extensions are in ``responses.py`` and are named
here too, so callers find every service of a request in one place.
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

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.exceptions import ActionForbidden, ValidationFailed
from maslikhat.core.notifications import NotificationKind, notify
from maslikhat.core.text import clean_text
from maslikhat.core.threads import Attachment, Message
from maslikhat.core.workflow import require
from maslikhat.directory.actors import Actor, actor_for
from maslikhat.directory.models import Category, Department, DepartmentMember, Deputy, District
from maslikhat.directory.recipients import department_users, staff_users

from . import permissions
from .clarifications import deputy_request_answer_clarification, deputy_request_clarify
from .lifecycle import (
    ACTION_LABELS,
    EVALUATION_RULE,
    FLOW,
    REQUEST_RULE,
    TITLE_MAX,
    TRANSITIONS,
    allowed,
    close_pending_extensions,
    deputy_users,
    due_date_from,
    refresh_search_document,
    search_documents,
)
from .models import DeputyRequest, RegistrationCounter, RequestStatus
from .pauses import open_clarification
from .responses import (
    FINAL_OUTCOMES,
    deputy_request_evaluate,
    deputy_request_extension_ask,
    deputy_request_extension_decide,
    deputy_request_rate_request,
    deputy_request_respond,
    deputy_request_response_approve,
    deputy_request_response_return,
)

__all__ = [
    "ACTION_LABELS",
    "EVALUATION_RULE",
    "FINAL_OUTCOMES",
    "REQUEST_RULE",
    "TITLE_MAX",
    "TRANSITIONS",
    "UNSET",
    "allowed",
    "available_actions",
    "deputy_request_answer_clarification",
    "deputy_request_assign",
    "deputy_request_attachment_add",
    "deputy_request_auto_close",
    "deputy_request_clarify",
    "deputy_request_create",
    "deputy_request_decline",
    "deputy_request_evaluate",
    "deputy_request_extension_ask",
    "deputy_request_extension_decide",
    "deputy_request_message_post",
    "deputy_request_rate_request",
    "deputy_request_redirect",
    "deputy_request_reroute",
    "deputy_request_respond",
    "deputy_request_response_approve",
    "deputy_request_response_return",
    "deputy_request_route",
    "deputy_request_set_public",
    "deputy_request_submit",
    "deputy_request_update_draft",
    "deputy_request_withdraw",
    "deputy_requests_auto_close_due",
    "due_if_routed_today",
    "refresh_search_document",
    "search_documents",
]


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
        item.title = clean_text(title, field="title", required=True, limit=TITLE_MAX)
    if body is not None:
        item.body = clean_text(body, field="body", required=True)
    if proposed_solution is not None:
        item.proposed_solution = clean_text(
            proposed_solution, field="proposed_solution", required=False
        )
    if category is not None:
        item.category = category
    if district is not UNSET:
        item.district = district
    if address is not None:
        item.address = clean_text(address, field="address", required=False, limit=300)
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
    item = FLOW.start(pk, by=by, may=permissions.can_edit_draft, version=version)
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
    FLOW.transition(
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
    item = FLOW.start(pk, by=by, may=permissions.is_author, version=version)
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
    item = FLOW.start(pk, by=by, may=permissions.can_submit, version=version)
    now = timezone.now()
    FLOW.ensure_allowed(item, "submit")
    item.number = _next_number(timezone.localdate(now).year)
    item.submitted_at = now
    FLOW.transition(
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
        notify(users=staff_users(), kind=NotificationKind.SUBMITTED, item=item)
    return item


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
    item.due_date, item.due_date_basis = due_date_from(timezone.localdate(now), REQUEST_RULE)
    item.original_due_date = item.due_date
    item.status_reason = ""
    FLOW.transition(
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
        users=department_users([lead.pk, *(d.pk for d in co)]),
        kind=NotificationKind.ROUTED,
        item=item,
        email=True,
        exclude=by,
    )
    notify(
        users=deputy_users(item),
        kind=NotificationKind.REQUEST_ROUTED,
        item=item,
        email=True,
        exclude=by,
        params={"department": lead.name, "due": item.due_date},
    )


def due_if_routed_today(today: datetime.date | None = None) -> datetime.date:
    """The due date a request would get if staff routed it today (the page of a submitted
    request and the message after submitting say it: the clock starts on routing)."""
    due, _basis = due_date_from(today or timezone.localdate(), REQUEST_RULE)
    return due


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
    item = FLOW.start(pk, by=by, may=permissions.can_route, version=version, action="route")
    _route(item, by=by, lead=lead_department, co_departments=co_departments)
    return item


@transaction.atomic
def deputy_request_decline(
    *, pk: int, by: User, reason: str, version: int | None = None
) -> DeputyRequest:
    """Staff decline a submitted request (not a deputy request, not in local competence)."""
    item = FLOW.start(pk, by=by, may=permissions.can_decline, version=version)
    item.status_reason = clean_text(reason, field="reason", required=True)
    item.closed_at = timezone.now()
    FLOW.transition(
        item,
        "decline",
        by=by,
        comment=item.status_reason,
        extra_fields=["status_reason", "closed_at"],
    )
    notify(
        users=deputy_users(item), kind=NotificationKind.DECLINED, item=item, email=True, exclude=by
    )
    return item


@transaction.atomic
def deputy_request_assign(
    *, pk: int, by: User, executor: User, version: int | None = None
) -> DeputyRequest:
    """The head gives the request to one of the department's officers."""
    item = FLOW.start(pk, by=by, may=permissions.can_assign, version=version)
    is_member = DepartmentMember.objects.filter(
        user=executor, department=item.lead_department, is_active=True, user__is_active=True
    ).exists()
    if not is_member:
        raise ValidationFailed(
            _("The executor must be an officer of the department."), field="executor"
        )
    previous = item.executor.username if item.executor_id else None  # type: ignore[union-attr]
    item.executor = executor
    FLOW.transition(
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
    item = FLOW.start(pk, by=by, may=permissions.can_redirect, version=version)
    reason = clean_text(reason, field="reason", required=True)
    previous = item.lead_department.code if item.lead_department else None
    item.status_reason = reason
    item.lead_department = None
    item.executor = None
    item.due_date = None
    item.original_due_date = None
    item.routed_at = None
    close_pending_extensions(item, by=by)
    FLOW.transition(
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
    notify(users=staff_users(), kind=NotificationKind.REDIRECTED, item=item, email=True, exclude=by)
    return item


class DeadlinePolicy:
    """What a re-routing does to the deadline: start it again from today, or keep it."""

    RESTART = "restart"
    KEEP = "keep"
    CHOICES = (RESTART, KEEP)


@transaction.atomic
def deputy_request_reroute(
    *,
    pk: int,
    by: User,
    lead_department: Department,
    co_departments: Iterable[Department] = (),
    reason: str,
    deadline: str,
    version: int | None = None,
) -> DeputyRequest:
    """Staff move a request in work to another lead department (and co-executors).

    ``deadline``: ``restart`` counts a new due date from today, ``keep`` keeps the due
    dates. The former departments lose the request (and their pending extension and open
    clarification question end with their work); the executor is reset; the new
    departments and the deputies are told. The reason and the policy are in the history.
    """
    item = FLOW.start(pk, by=by, may=permissions.can_reroute, version=version, action="reroute")
    reason = clean_text(reason, field="reason", required=True)
    if deadline not in DeadlinePolicy.CHOICES:
        raise ValidationFailed(
            _("Choose whether the deadline restarts or is kept."), field="deadline"
        )
    if not lead_department.is_active:
        raise ValidationFailed(_("This department is no longer active."), field="lead_department")
    co = [d for d in co_departments if d.pk != lead_department.pk]
    if any(not d.is_active for d in co):
        raise ValidationFailed(
            _("A co-executor department is no longer active."), field="co_departments"
        )
    old_co = sorted(Department.objects.filter(co_requests=item).values_list("code", flat=True))
    previous = item.lead_department.code if item.lead_department else None
    close_pending_extensions(item, by=by)
    old_due = item.due_date
    item.lead_department = lead_department
    item.executor = None
    fields = ["lead_department", "executor"]
    if deadline == DeadlinePolicy.RESTART:
        now = timezone.now()
        item.routed_at = now
        item.due_date, item.due_date_basis = due_date_from(timezone.localdate(now), REQUEST_RULE)
        item.original_due_date = item.due_date
        fields += ["routed_at", "due_date", "due_date_basis", "original_due_date"]
    assert item.due_date is not None  # in progress: a database constraint
    FLOW.transition(
        item,
        "reroute",
        by=by,
        comment=reason,
        changes={
            "lead_department": [previous, lead_department.code],
            "co_departments": [old_co, sorted(d.code for d in co)],
            "deadline": deadline,
            "due_date": [old_due.isoformat() if old_due else None, item.due_date.isoformat()],
        },
        extra_fields=fields,
    )
    item.co_departments.set(co)
    item._co_department_ids = {d.pk for d in co}  # type: ignore[attr-defined]
    notify(
        users=department_users([lead_department.pk, *(d.pk for d in co)]),
        kind=NotificationKind.ROUTED,
        item=item,
        email=True,
        exclude=by,
    )
    notify(
        users=deputy_users(item),
        kind=NotificationKind.REROUTED,
        item=item,
        email=True,
        exclude=by,
        params={"department": lead_department.name},
    )
    return item


# --- Withdrawal and auto-close ----------------------------------------------------------


@transaction.atomic
def deputy_request_withdraw(
    *, pk: int, by: User, reason: str = "", version: int | None = None
) -> DeputyRequest:
    """The author withdraws the request in any open state."""
    item = FLOW.start(pk, by=by, may=permissions.can_withdraw, version=version)
    was_draft = item.status == RequestStatus.DRAFT
    reason = clean_text(reason, field="reason", required=not was_draft)
    item.status_reason = reason
    item.closed_at = timezone.now()
    departments = [item.lead_department_id, *permissions.co_department_ids(item)]
    close_pending_extensions(item, by=by)
    FLOW.transition(
        item, "withdraw", by=by, comment=reason, extra_fields=["status_reason", "closed_at"]
    )
    if not was_draft:
        notify(
            users=department_users(departments),
            kind=NotificationKind.WITHDRAWN,
            item=item,
            exclude=by,
        )
    return item


@transaction.atomic
def deputy_request_auto_close(*, pk: int, today: datetime.date | None = None) -> bool:
    """Close an answered request the deputy did not evaluate in time, unrated. True if closed."""
    today = today or timezone.localdate()
    item = FLOW.lock(pk)
    if item.status != RequestStatus.ANSWERED or item.evaluation_due_date is None:
        return False
    if item.evaluation_due_date >= today:
        return False
    item.closed_at = timezone.now()
    FLOW.transition(item, "auto_close", by=None, extra_fields=["closed_at"])
    refresh_search_document(item)
    notify(users=deputy_users(item), kind=NotificationKind.AUTO_CLOSED, item=item)
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
    item = FLOW.lock(pk)
    actor = actor_for(by)
    require(permissions.can_write_thread(actor, item))
    # The thread's participants of both sides; core tells only the poster's other side
    # (the deputies, or the department working on it: its executor, else its heads).
    officers = (
        [item.executor]
        if item.executor is not None
        else department_users([item.lead_department_id], heads_only=True)
    )
    message = core_services.message_post(
        item=item, by=by, text=text, participants=[*deputy_users(item), *officers]
    )
    refresh_search_document(item)
    return message


@transaction.atomic
def deputy_request_attachment_add(*, pk: int, by: User, upload: UploadedFile) -> Attachment:
    item = FLOW.lock(pk)
    require(permissions.can_attach(actor_for(by), item))
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
        "clarify": permissions.can_clarify,
        "answer_clarification": permissions.can_answer_clarification,
        "reroute": permissions.can_reroute,
    }
    actions = FLOW.available(actor, item, checks)
    if actions & {"clarify", "answer_clarification"}:
        # One question open at a time: the department asks, or the author answers.
        known = getattr(item, "_has_open_clarification", None)
        is_open = known if known is not None else open_clarification(item) is not None
        actions.discard("answer_clarification" if not is_open else "clarify")
    if "rate_request" in actions and permissions.rating_is_frozen(
        item.request_rated_at, timezone.now()
    ):
        actions.discard("rate_request")
    return actions
