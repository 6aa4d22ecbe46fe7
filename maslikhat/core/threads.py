"""The shared item machinery: history (audit events), threads, read marks, attachments.

Rows point at their item by ``(item_type, item_id)`` — one mechanism for deputy
requests and protocol instructions alike. Nothing here is ever hard-deleted.

A thread has two sides (``thread_side``): for a deputy request the deputies against
the departments and council staff, for an instruction the departments against the
council (staff and the controllers). A message is *read* when somebody of the other
side has read the thread past it (``ThreadReadMark``): ``attach_read_receipts``
gives each message that time, from the marks of the thread read in one query.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import ItemType, item_kind


class ItemRowQuerySet(models.QuerySet):
    def for_item(self, item: models.Model) -> ItemRowQuerySet:
        return self.filter(item_type=item.ITEM_TYPE, item_id=item.pk)  # type: ignore[attr-defined]


class ItemRowsManager(models.Manager[Any]):
    """``item.<name>`` for an item: its rows of one ``ItemRow`` model, like a reverse relation.

    ``.all()``, ``.filter()``, ``.select_related()`` read the item's rows, and
    ``prefetch_related("<name>")`` (and ``"<name>__user_field"``) reads them for many
    items in one query, as it would through a foreign key.
    """

    def __init__(self, model: type[models.Model], instance: Any, cache_name: str) -> None:
        super().__init__()
        self.model = model
        self.instance = instance
        self.cache_name = cache_name

    def _apply_rel_filters(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(item_type=self.instance.ITEM_TYPE, item_id=self.instance.pk)

    def get_queryset(self) -> models.QuerySet:
        cache = getattr(self.instance, "_prefetched_objects_cache", {})
        if self.cache_name in cache:
            return cache[self.cache_name]
        return self._apply_rel_filters(self.model._default_manager.get_queryset())

    def get_prefetch_querysets(
        self, instances: Sequence[Any], querysets: Sequence[models.QuerySet] | None = None
    ) -> tuple[models.QuerySet, Any, Any, bool, str, bool]:
        rows = querysets[0] if querysets else self.model._default_manager.get_queryset()
        rows = rows.filter(
            item_type=instances[0].ITEM_TYPE, item_id__in={item.pk for item in instances}
        )
        return rows, attrgetter("item_id"), attrgetter("pk"), False, self.cache_name, False


class ItemRows:
    """A class attribute of an item model: ``extensions = ItemRows("core.Extension")``."""

    def __init__(self, model_label: str) -> None:
        self.model_label = model_label
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return ItemRowsManager(apps.get_model(self.model_label), instance, self.name)


class ItemRow(models.Model):
    item_type = models.CharField(_("item type"), max_length=16, choices=ItemType.choices)
    item_id = models.PositiveBigIntegerField(_("item"))

    objects = ItemRowQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditEvent(ItemRow):
    """One change of an item: who, when, what action, from which state to which, what changed.

    Append-only, like a flip of a status: the history page reads it, and the
    KPI can count from it.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=32, blank=True)
    to_status = models.CharField(_("to"), max_length=32, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("history event")
        verbose_name_plural = _("history")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["item_type", "item_id", "created_at"]),
            # The few final answers a head approved despite the boilerplate warning (the
            # approval's event holds the head's comment): the department dashboard's share.
            models.Index(
                fields=["item_id"],
                condition=models.Q(action="approve_final", changes__has_key="boilerplate_comment"),
                name="audit_boilerplate_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_type}:{self.item_id} {self.action}"


class Message(ItemRow):
    """A message in an item's thread (оперативная переписка)."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="item_messages",
        verbose_name=_("author"),
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item_type", "item_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.item_type}:{self.item_id} #{self.pk}"


class ThreadReadMark(ItemRow):
    """How far a user has read an item's thread: one row per (item, user)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    last_read_message_id = models.PositiveBigIntegerField(_("last read message"), default=0)
    read_at = models.DateTimeField(_("read at"), auto_now=True)

    class Meta:
        verbose_name = _("read mark")
        verbose_name_plural = _("read marks")
        constraints = [
            models.UniqueConstraint(
                fields=["item_type", "item_id", "user"], name="read_mark_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_type}:{self.item_id} read by {self.user_id}"


#: The side of a thread of a kind that names none: the department officers against the rest.
DEPARTMENT_SIDE = "department"
COUNCIL_SIDE = "council"


def thread_side(item_type: str, user: Any) -> str:
    """The side of the item's thread ``user`` speaks for (``ItemKind.thread_side``)."""
    rule = item_kind(item_type).thread_side
    if rule is not None:
        return rule(user)
    return DEPARTMENT_SIDE if getattr(user, "is_department_officer", False) else COUNCIL_SIDE


def attach_read_receipts(
    messages: Iterable[Any], marks: Iterable[ThreadReadMark], item_type: str
) -> None:
    """Give each message ``read_at``: when the other side first read the thread past it.

    ``marks`` are the thread's read marks with their users (one query, whatever the
    number of messages). The earliest ``read_at`` of a mark of a user of the other side
    of the message's author whose mark covers the message; ``None``: not read yet. A
    mark keeps only its newest reading, so a message its reader read again later (after
    newer messages) shows that later time for that reader.
    """
    sides: dict[int, str] = {}

    def side_of(user: Any) -> str:
        if user.pk not in sides:
            sides[user.pk] = thread_side(item_type, user)
        return sides[user.pk]

    readings: list[tuple[str, int, datetime.datetime]] = [
        (side_of(mark.user), mark.last_read_message_id, mark.read_at) for mark in marks
    ]
    for message in messages:
        side = side_of(message.author)
        times = [at for seen_by, last, at in readings if seen_by != side and last >= message.pk]
        message.read_at = min(times, default=None)


class Attachment(ItemRow):
    """A file attached to an item (optionally to one of its messages).

    Stored under a generated name outside the web root; downloaded only through
    a view that asks the item's kind whether the user may see the item.
    """

    message = models.ForeignKey(
        Message,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("message"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    original_name = models.CharField(_("file name"), max_length=200)
    file = models.FileField(_("file"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=120)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item_type", "item_id"])]

    def __str__(self) -> str:
        return self.original_name
