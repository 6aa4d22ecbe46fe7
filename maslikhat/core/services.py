"""Writes of the shared item machinery: history, thread messages, read marks, attachments,
extensions of a deadline.

Called by the services of each item kind inside their transactions; never by views.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .deadlines import get_rule, max_extension_date
from .exceptions import TransitionNotAllowed, ValidationFailed
from .extensions import Extension, ExtensionStatus
from .notifications import Notification, NotificationKind, notify
from .text import clean_text
from .threads import Attachment, AuditEvent, Message, ThreadReadMark, thread_side
from .uploads import generated_storage_name, inspect_upload, safe_original_name

if TYPE_CHECKING:
    from maslikhat.accounts.models import User

MESSAGE_MAX_LENGTH = 10_000


def audit_record(
    *,
    item: Any,
    actor: User | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    changes: dict[str, Any] | None = None,
    comment: str = "",
) -> AuditEvent:
    """Append one event to the item's history."""
    return AuditEvent.objects.create(
        item_type=item.ITEM_TYPE,
        item_id=item.pk,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status or from_status,
        changes=changes or {},
        comment=comment,
    )


def message_post(
    *, item: Any, by: User, text: str, participants: Iterable[User] | None = None
) -> Message:
    """Post a message in the item's thread; the poster has read everything up to it.

    ``participants`` are the people of the thread to tell: those of the other side
    (``thread_side``) get a ``message`` notification (and the daily digest counts it);
    the poster and the poster's own side are never notified.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Write a message first."), field="text")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationFailed(
            _("The message is too long (at most %(limit)d characters).")
            % {"limit": MESSAGE_MAX_LENGTH},
            field="text",
        )
    message = Message.objects.create(
        item_type=item.ITEM_TYPE, item_id=item.pk, author=by, text=text
    )
    thread_mark_read(item=item, user=by, up_to=message.pk)
    if participants is not None:
        own_side = thread_side(item.ITEM_TYPE, by)
        notify(
            users=[u for u in participants if thread_side(item.ITEM_TYPE, u) != own_side],
            kind=NotificationKind.MESSAGE,
            item=item,
            exclude=by,
            params={"message": message.pk},
        )
    return message


def thread_mark_read(*, item: Any, user: User, up_to: int | None = None) -> None:
    """Move the user's read mark of the item's thread forward (never back).

    The mark's ``read_at`` moves with it (the read receipts of the other side), and the
    user's ``message`` notifications of the messages now read are read too (the bell,
    the daily digest).
    """
    if up_to is None:
        last = Message.objects.for_item(item).order_by("-id").values_list("id", flat=True).first()
        up_to = last or 0
    mark, created = ThreadReadMark.objects.get_or_create(
        item_type=item.ITEM_TYPE,
        item_id=item.pk,
        user=user,
        defaults={"last_read_message_id": up_to},
    )
    if not created and mark.last_read_message_id < up_to:
        ThreadReadMark.objects.filter(pk=mark.pk, last_read_message_id__lt=up_to).update(
            last_read_message_id=up_to, read_at=timezone.now()
        )
    elif not created:
        return
    if up_to:
        Notification.objects.filter(
            user=user,
            kind=NotificationKind.MESSAGE,
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            read_at__isnull=True,
            params__message__lte=up_to,
        ).update(read_at=timezone.now())


def attachment_add(
    *, item: Any, by: User, upload: UploadedFile, message: Message | None = None
) -> Attachment:
    """Check the upload by its content, store it under a generated name, record it.

    The caller has already decided that ``by`` may write to the item.
    """
    inspected = inspect_upload(upload)
    name = default_storage.save(generated_storage_name(inspected.extension), upload)
    try:
        attachment = Attachment.objects.create(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            message=message,
            uploaded_by=by,
            original_name=safe_original_name(inspected.original_name),
            file=name,
            size=inspected.size,
            content_type=inspected.content_type,
            sha256=inspected.sha256,
        )
        audit_record(
            item=item,
            actor=by,
            action="attachment_added",
            changes={"file": attachment.original_name, "size": attachment.size},
        )
    except Exception:
        # No row, no file: an upload that failed to register leaves nothing behind.
        default_storage.delete(name)
        raise
    return attachment


# --- Extensions of a deadline ---------------------------------------------------------
# They run inside the item service's transaction, on an item it has locked and
# after it has checked who acts and that the item's state allows it.


def extension_open(
    *, item: Any, by: User, new_due_date: datetime.date, reason: str, rule_code: str
) -> Extension:
    """Record the department's request for ``new_due_date`` and audit it.

    The new date must be later than the current one and within the rule's maximum
    counted from the ORIGINAL due date; one request awaits a decision at a time.
    """
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
    if Extension.objects.for_item(item).filter(status=ExtensionStatus.PENDING).exists():
        raise TransitionNotAllowed(_("An extension is already awaiting a decision."))
    extension = Extension.objects.create(
        item_type=item.ITEM_TYPE,
        item_id=item.pk,
        requested_by=by,
        previous_due_date=current,
        new_due_date=new_due_date,
        reason=reason,
    )
    audit_record(
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

    The original due date is never touched: statistics count against it. Returns
    the extension and the changes for the item's audit event; the caller saves
    ``due_date`` with its transition.
    """
    extension = Extension.objects.select_for_update().for_item(item).filter(pk=extension_id).first()
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
    Extension.objects.for_item(item).filter(status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.REJECTED,
        decided_by=by,
        decided_at=timezone.now(),
        comment=str(comment),
    )
