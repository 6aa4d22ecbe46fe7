"""Writes of the shared item machinery: history, thread messages, read marks, attachments.

Called by the services of each item kind inside their transactions; never by views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .exceptions import ValidationFailed
from .threads import Attachment, AuditEvent, Message, ThreadReadMark
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


def message_post(*, item: Any, by: User, text: str) -> Message:
    """Post a message in the item's thread; the poster has read everything up to it."""
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
    return message


def thread_mark_read(*, item: Any, user: User, up_to: int | None = None) -> None:
    """Move the user's read mark of the item's thread forward (never back)."""
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
            last_read_message_id=up_to
        )


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
