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

from django.conf import settings
from django.db import models
from django.db.models import Q
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
