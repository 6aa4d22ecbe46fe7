"""Reads of the import: the batches staff see, and which items came from a file."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from maslikhat.core.items import ItemType

from .models import ImportBatch, ImportedItem
from .permissions import can_import

RECENT_BATCHES = 50


def batch_list(*, user: Any) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("user").order_by("-created_at", "-id")[
        :RECENT_BATCHES
    ]


def batch_for(*, user: Any, pk: int) -> ImportBatch:
    """One batch, for those who import (404 for anyone else)."""
    if not can_import(user):
        raise Http404
    batch = ImportBatch.objects.select_related("user").filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


def imported_ids(item_type: str) -> QuerySet[ImportedItem, Any]:
    """The ids of the items of ``item_type`` that came from a file (a subquery)."""
    return ImportedItem.objects.filter(item_type=item_type).values("item_id")


def imported_request_ids() -> QuerySet[ImportedItem, Any]:
    return imported_ids(ItemType.REQUEST)


def imported_instruction_ids() -> QuerySet[ImportedItem, Any]:
    return imported_ids(ItemType.INSTRUCTION)


def is_imported(item_type: str, item_id: int) -> bool:
    return ImportedItem.objects.filter(item_type=item_type, item_id=item_id).exists()
