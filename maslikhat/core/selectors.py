"""Reads of the shared item machinery. The item itself was already checked as visible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404

from .threads import Attachment, AuditEvent, Message, ThreadReadMark

if TYPE_CHECKING:
    from maslikhat.accounts.models import User


def item_pk(pk: Any) -> int:
    """The id of the item a page or an API call names; a 404 when it is not a number."""
    try:
        return int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc


def history_for(item: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_item(item).select_related("actor")


def messages_for(item: Any) -> QuerySet[Message]:
    return Message.objects.for_item(item).select_related("author").prefetch_related("attachments")


def attachments_for(item: Any) -> QuerySet[Attachment]:
    return Attachment.objects.for_item(item).select_related("uploaded_by")


def thread_marks(item: Any) -> QuerySet[ThreadReadMark]:
    """The read marks of the item's thread with their readers (the read receipts)."""
    return ThreadReadMark.objects.for_item(item).select_related("user")


def last_read_message_id(*, item: Any, user: User) -> int:
    mark = (
        ThreadReadMark.objects.filter(item_type=item.ITEM_TYPE, item_id=item.pk, user=user)
        .values_list("last_read_message_id", flat=True)
        .first()
    )
    return mark or 0
