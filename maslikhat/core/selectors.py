"""Reads of the shared item machinery. The item itself was already checked as visible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet
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


def count_by_lead_department(items: QuerySet[Any]) -> QuerySet[Any]:
    """Per lead department of ``items``: its code, names and how many (one grouped query).

    Both item kinds have a ``lead_department``; the to-do's overdue picture reads this.
    """
    return (
        items.order_by()
        .values(
            "lead_department_id",
            "lead_department__code",
            "lead_department__name_ru",
            "lead_department__name_kk",
            "lead_department__name_en",
        )
        .annotate(overdue_count=Count("pk"))
        .order_by("-overdue_count", "lead_department__code")
    )
