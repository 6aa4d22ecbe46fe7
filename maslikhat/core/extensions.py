"""Extensions of a deadline: one record for every item kind, keyed like a message.

The department asks for a later due date with a reason; someone else decides
(the item's service checks who). A row points at its item by
``(item_type, item_id)``, as the thread and the history do, so deputy requests
and protocol instructions share the model, the rules and their services
(``services.extension_open`` / ``extension_decide`` / ``close_pending_extensions``).
The table keeps the name it had when requests held it (``requests_app_extension``):
the move to the shared machinery kept every row and its id.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from .threads import ItemRow


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Extension(ItemRow):
    """The department's request for a later due date of an item, and its decision.

    Decided by council staff (and, for instructions, the chair) — never by the
    department that asks. At most one awaits a decision per item.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    previous_due_date = models.DateField(_("due date before"))
    new_due_date = models.DateField(_("new due date"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("decision comment"), blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    class Meta:
        db_table = "requests_app_extension"
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item_type", "item_id"], name="extension_item")]
        constraints = [
            models.UniqueConstraint(
                fields=["item_type", "item_id"],
                condition=Q(status=ExtensionStatus.PENDING),
                name="extension_one_pending_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_type}:{self.item_id} → {self.new_due_date}"


# --- The to-do's reads: items by their extensions --------------------------------------------
#
# The extensions are a short queue beside tables of a million items: each read is a semi-join
# on the extensions (their own index), so a to-do group reads the few items it names by
# primary key and sorts them, instead of walking every item by due date.


def with_pending_extension(item_type: str) -> Q:
    """The items of ``item_type`` (a filter on their ``pk``) with an extension waiting for a
    decision."""
    pending = Extension.objects.filter(item_type=item_type, status=ExtensionStatus.PENDING)
    return Q(pk__in=pending.order_by().values("item_id"))


def with_extension_decided_since(item_type: str, since: datetime.datetime) -> Q:
    """The items of ``item_type`` (a filter on their ``pk``) whose extension was approved or
    rejected since ``since``."""
    decided = Extension.objects.filter(
        item_type=item_type,
        status__in=[ExtensionStatus.APPROVED, ExtensionStatus.REJECTED],
        decided_at__gte=since,
    )
    return Q(pk__in=decided.order_by().values("item_id"))


def first_pending_by_due(item_type: str, model: type[models.Model], size: int) -> QuerySet[Any]:
    """The ids of the first ``size`` items of ``model`` (of ``item_type``, with a ``due_date``)
    with an extension waiting for a decision, earliest due first: taken from the pending
    queue itself, each item's due date read by its key — not a join of the whole queue,
    which PostgreSQL plans as a scan of every item once the queue is long."""
    due = model._default_manager.filter(pk=OuterRef("item_id")).order_by().values("due_date")[:1]
    return (
        Extension.objects.filter(item_type=item_type, status=ExtensionStatus.PENDING)
        .annotate(item_due=Subquery(due))
        .order_by(F("item_due").asc(nulls_last=True), "item_id")
        .values("item_id")[:size]
    )
