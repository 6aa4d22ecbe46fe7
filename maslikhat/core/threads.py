"""The shared item machinery: history (audit events), threads, read marks, attachments.

Rows point at their item by ``(item_type, item_id)`` — one mechanism for deputy
requests and protocol instructions alike. Nothing here is ever hard-deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import ItemType


class ItemRowQuerySet(models.QuerySet):
    def for_item(self, item: models.Model) -> ItemRowQuerySet:
        return self.filter(item_type=item.ITEM_TYPE, item_id=item.pk)  # type: ignore[attr-defined]


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
        indexes = [models.Index(fields=["item_type", "item_id", "created_at"])]

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
