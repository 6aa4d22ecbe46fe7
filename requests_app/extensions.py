"""Extensions of a deadline, shared by deputy requests and protocol instructions.

Both kinds follow the same rules: the department asks for a later date with a
reason, within the rule's maximum counted from the ORIGINAL due date, one
request at a time; the decision is someone else's (the item's service checks
who). These helpers run inside the item service's transaction, on a locked item.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.deadlines import get_rule, max_extension_date
from maslikhat.core.exceptions import TransitionNotAllowed, ValidationFailed
from maslikhat.core.items import ItemType
from maslikhat.core.text import clean_text

from .models import Extension, ExtensionStatus

#: The foreign key of ``Extension`` that points at each item kind.
ITEM_FIELD = {ItemType.REQUEST: "request", ItemType.INSTRUCTION: "instruction"}


def extension_open(
    *, item: Any, by: User, new_due_date: datetime.date, reason: str, rule_code: str
) -> Extension:
    """Record the department's request for ``new_due_date`` (validated) and audit it."""
    reason = clean_text(reason, field="reason", required=True)
    current, original = item.due_date, item.original_due_date
    assert current is not None and original is not None  # an item whose deadline runs
    if new_due_date <= current:
        raise ValidationFailed(
            _("The new due date must be later than the current one."), field="new_due_date"
        )
    limit = max_extension_date(rule=get_rule(rule_code), original_due=original)
    if new_due_date > limit:
        raise ValidationFailed(
            _("An extension may not go beyond %(date)s.") % {"date": limit.strftime("%d.%m.%Y")},
            field="new_due_date",
        )
    if item.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise TransitionNotAllowed(_("An extension is already awaiting a decision."))
    extension = Extension.objects.create(
        **{ITEM_FIELD[item.ITEM_TYPE]: item},
        requested_by=by,
        previous_due_date=current,
        new_due_date=new_due_date,
        reason=reason,
    )
    core_services.audit_record(
        item=item,
        actor=by,
        action="extension_asked",
        from_status=item.status,
        changes={"extension": extension.pk, "new_due_date": new_due_date.isoformat()},
        comment=reason,
    )
    return extension


def extension_decide(
    *, item: Any, extension_id: int, by: User, approve: bool, comment: str
) -> tuple[Extension, dict[str, Any]]:
    """Approve or reject a pending extension of ``item``; an approval moves ``due_date``.

    The original due date is never touched: statistics count against it.
    Returns the extension and the changes for the item's audit event; the
    caller saves ``due_date`` with its transition.
    """
    extension = (
        Extension.objects.select_for_update()
        .filter(pk=extension_id, **{ITEM_FIELD[item.ITEM_TYPE]: item})
        .first()
    )
    if extension is None:
        raise TransitionNotAllowed(_("This extension does not belong to the item."))
    if extension.status != ExtensionStatus.PENDING:
        raise TransitionNotAllowed(_("This extension has already been decided."))
    if extension.previous_due_date != item.due_date:
        # The deadline it would extend is gone (a new cycle after rework).
        raise TransitionNotAllowed(_("This extension no longer applies to the current due date."))
    comment = clean_text(comment, field="comment", required=not approve)
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    extension.decided_by = by
    extension.decided_at = timezone.now()
    extension.comment = comment
    extension.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    changes: dict[str, Any] = {"extension": extension.pk, "approved": bool(approve)}
    if approve:
        changes["due_date"] = [item.due_date.isoformat(), extension.new_due_date.isoformat()]
        item.due_date = extension.new_due_date
    return extension, changes


def close_pending_extensions(item: Any, *, by: User | None, comment: Any) -> None:
    """The deadline an undecided extension was about has ended: close it, do not leave it."""
    Extension.objects.filter(
        **{ITEM_FIELD[item.ITEM_TYPE]: item}, status=ExtensionStatus.PENDING
    ).update(
        status=ExtensionStatus.REJECTED,
        decided_by=by,
        decided_at=timezone.now(),
        comment=str(comment),
    )
