"""The import of past records: one ``ImportBatch`` per uploaded file, one ``ImportedItem``
per request or instruction it created.

The items themselves are ordinary ``DeputyRequest`` and ``Instruction`` rows; what marks
them as imported (and keeps the import idempotent) lives here, so the item apps need no
field of their own (``docs/imports.md``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maslikhat.core.items import ItemType


class ImportKind(models.TextChoices):
    REQUESTS = "requests", _("Deputy requests")
    INSTRUCTIONS = "instructions", _("Protocol instructions")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Checking")
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """One uploaded file and what became of it.

    ``columns`` maps the file's headers to the template's fields where staff chose them;
    ``names`` holds the names staff matched by hand (``{group: {normalised name: value}}``);
    ``report`` is the last check of the file (preview rows, errors per row, unknown names
    with their close matches, counts). The import itself runs under a lease like the
    export jobs (``lease_token``/``lease_until``) and is all-or-nothing.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="import_batches",
        verbose_name=_("imported by"),
    )
    kind = models.CharField(_("what"), max_length=16, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(_("file"), max_length=300, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    columns = models.JSONField(_("column mapping"), default=dict, blank=True)
    names = models.JSONField(_("matched names"), default=dict, blank=True)
    report = models.JSONField(_("check report"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("items created"), default=0)
    skipped_count = models.PositiveIntegerField(_("rows already imported"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    progress = models.PositiveIntegerField(_("rows written"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_token = models.CharField(_("lease token"), max_length=32, blank=True)
    lease_until = models.DateTimeField(_("lease valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ImportKind.values), name="imports_batch_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="imports_batch_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_kind_display()}, {self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportedItem(models.Model):
    """A request or instruction that came from a file, under its original number.

    ``(item_type, original_number)`` is unique: importing the same row twice adds nothing.
    For an instruction the original number is ``<protocol date>/<protocol number>/<number>``.
    """

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="items", verbose_name=_("import")
    )
    item_type = models.CharField(_("item kind"), max_length=16, choices=ItemType.choices)
    item_id = models.PositiveBigIntegerField(_("item"))
    original_number = models.CharField(_("original number"), max_length=120)
    row = models.PositiveIntegerField(_("row of the file"))

    class Meta:
        verbose_name = _("imported item")
        verbose_name_plural = _("imported items")
        constraints = [
            models.UniqueConstraint(
                fields=["item_type", "original_number"], name="imports_item_number_unique"
            ),
            models.UniqueConstraint(fields=["item_type", "item_id"], name="imports_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item_type} {self.original_number}"
