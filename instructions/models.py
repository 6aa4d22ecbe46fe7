"""Meetings, protocols and protocol instructions (протокольные поручения) on control.

The lifecycle is one transition table in ``services.py``; this module holds the
fields, the constraints and tiny pure properties only. The tables keep the names
they had when these models lived in ``requests_app`` (``db_table``): the move into
this app changed no table and no row.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.core.items import ItemType
from maslikhat.core.threads import ItemRows
from maslikhat.directory.models import Commission, Convocation, Department, Deputy


class MeetingKind(models.TextChoices):
    SESSION = "session", _("Session")
    COMMISSION = "commission", _("Commission meeting")
    HEARING = "hearing", _("Hearing of a department's report")


class SessionKind(models.TextChoices):
    REGULAR = "regular", _("Regular")
    EXTRAORDINARY = "extraordinary", _("Extraordinary")


class Meeting(models.Model):
    """A council session, a standing commission's meeting or a hearing of a department's report."""

    convocation = models.ForeignKey(
        Convocation,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("convocation"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=MeetingKind.choices)
    session_kind = models.CharField(
        _("session kind"), max_length=16, choices=SessionKind.choices, blank=True
    )
    date = models.DateField(_("date"))
    commission = models.ForeignKey(
        Commission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("commission"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hearings",
        verbose_name=_("heard department"),
    )
    title = models.CharField(_("title"), max_length=300)
    agenda = models.TextField(_("agenda"), blank=True)
    location = models.CharField(_("place"), max_length=300, blank=True)
    is_field_visit = models.BooleanField(_("field visit"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "requests_app_meeting"
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["date"]),
            # The lists' order, newest first: a page walks it with a LIMIT.
            models.Index(fields=["date", "id"], name="meeting_date_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=MeetingKind.values), name="meeting_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind=MeetingKind.COMMISSION) | Q(commission__isnull=False),
                name="meeting_commission_has_commission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.title}"


class Protocol(models.Model):
    """The record of a meeting, with its number, date and numbered items."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="protocols", verbose_name=_("meeting")
    )
    number = models.CharField(_("number"), max_length=40)
    date = models.DateField(_("date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "requests_app_protocol"
        verbose_name = _("protocol")
        verbose_name_plural = _("protocols")
        ordering = ["-date", "-id"]
        # The lists' order, newest first: a page walks it with a LIMIT.
        indexes = [models.Index(fields=["date", "id"], name="protocol_date_id")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "number"], name="protocol_number_per_meeting"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Protocol No. %(number)s of %(date)s")) % {
            "number": self.number,
            "date": self.date.strftime("%d.%m.%Y"),
        }


class ProtocolItem(models.Model):
    """A numbered item (question on the agenda) of a protocol."""

    protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="items", verbose_name=_("protocol")
    )
    number = models.PositiveSmallIntegerField(_("item number"))
    title = models.TextField(_("question"))

    class Meta:
        db_table = "requests_app_protocolitem"
        verbose_name = _("protocol item")
        verbose_name_plural = _("protocol items")
        ordering = ["protocol", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "number"], name="protocol_item_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title[:80]}"


class InstructionStatus(models.TextChoices):
    ON_CONTROL = "on_control", _("On control")
    REPORTED = "reported", _("Reported")
    EXECUTED = "executed", _("Executed")
    RETURNED = "returned", _("Returned")
    REMOVED_FROM_CONTROL = "removed_from_control", _("Removed from control")


#: States in which the department still owes the execution (the deadline runs).
INSTRUCTION_OPEN_STATUSES = (InstructionStatus.ON_CONTROL, InstructionStatus.RETURNED)


class ReportPeriod(models.TextChoices):
    NONE = "none", _("No periodic reports")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class Instruction(models.Model):
    """A protocol instruction (протокольное поручение): "on control" until executed."""

    ITEM_TYPE = ItemType.INSTRUCTION
    #: Its extensions of the deadline (``core.Extension``, keyed by item like the thread).
    extensions = ItemRows("core.Extension")

    protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="instructions", verbose_name=_("protocol")
    )
    item = models.ForeignKey(
        ProtocolItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="instructions",
        verbose_name=_("protocol item"),
    )
    number = models.CharField(_("number"), max_length=20)
    convocation = models.ForeignKey(
        Convocation,
        on_delete=models.PROTECT,
        related_name="instructions",
        verbose_name=_("convocation"),
    )
    text = models.TextField(_("text"))
    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="lead_instructions",
        verbose_name=_("lead department"),
    )
    co_departments = models.ManyToManyField(
        Department,
        related_name="co_instructions",
        blank=True,
        verbose_name=_("co-executor departments"),
    )
    controller_commission = models.ForeignKey(
        Commission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="controlled_instructions",
        verbose_name=_("controlling commission"),
    )
    controller_deputy = models.ForeignKey(
        Deputy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="controlled_instructions",
        verbose_name=_("controlling deputy"),
    )
    due_date = models.DateField(_("due date"))
    original_due_date = models.DateField(_("original due date"))
    due_date_basis = models.JSONField(default=dict, blank=True, editable=False)
    report_period = models.CharField(
        _("periodic reports"),
        max_length=10,
        choices=ReportPeriod.choices,
        default=ReportPeriod.NONE,
    )
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=InstructionStatus.choices,
        default=InstructionStatus.ON_CONTROL,
    )
    reported_at = models.DateTimeField(
        _("final report submitted at"),
        null=True,
        blank=True,
        help_text=_("When the final report that was accepted (or awaits a decision) came in."),
    )
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed from control at"), null=True, blank=True)
    removal_reason = models.TextField(_("reason for removal from control"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "requests_app_instruction"
        verbose_name = _("protocol instruction")
        verbose_name_plural = _("protocol instructions")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["lead_department", "status"]),
            # The lists' orderings and filters: every instruction by due date (the list's
            # order), the open ones in the list's order (the list opens on them; overdue,
            # due this week), a department's by status and due date.
            models.Index(fields=["due_date", "id"], name="instruction_due"),
            models.Index(
                fields=["due_date", "id"],
                condition=Q(status__in=INSTRUCTION_OPEN_STATUSES),
                name="instruction_open_due_id",
            ),
            models.Index(
                fields=["lead_department", "status", "due_date"],
                name="instruction_lead_status_due",
            ),
            # The daily counts' live part: the instructions created today (or on a changed
            # day) and those changed since the nightly build.
            models.Index(fields=["created_at"], name="instruction_created"),
            models.Index(fields=["updated_at"], name="instruction_updated"),
            # A controller's to-do: the final reports awaiting their decision, by the
            # deputy who controls the instruction or the commission that does.
            models.Index(
                fields=["controller_deputy", "due_date"],
                condition=Q(status=InstructionStatus.REPORTED),
                name="instruction_reported_deputy",
            ),
            models.Index(
                fields=["controller_commission", "due_date"],
                condition=Q(status=InstructionStatus.REPORTED),
                name="instr_reported_commission",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InstructionStatus.values), name="instruction_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(report_period__in=ReportPeriod.values),
                name="instruction_report_period_valid",
            ),
            models.CheckConstraint(
                condition=Q(controller_commission__isnull=False)
                | Q(controller_deputy__isnull=False),
                name="instruction_has_controller",
            ),
            models.UniqueConstraint(
                fields=["protocol", "number"], name="instruction_number_per_protocol"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Instruction %(number)s «%(text)s»")) % {
            "number": self.number,
            "text": self.text[:60] + ("…" if len(self.text) > 60 else ""),
        }

    @property
    def label(self) -> str:
        return str(self)

    def is_overdue_on(self, today: datetime.date) -> bool:
        """Overdue: past due and not reported, or reported after the due date."""
        if self.status in INSTRUCTION_OPEN_STATUSES:
            return today > self.due_date
        if self.reported_at is not None and self.status != InstructionStatus.REMOVED_FROM_CONTROL:
            return timezone.localdate(self.reported_at) > self.due_date
        return False

    @property
    def is_overdue(self) -> bool:
        annotated = getattr(self, "overdue", None)
        if annotated is not None:
            return bool(annotated)
        return self.is_overdue_on(timezone.localdate())


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class ExecutionReport(models.Model):
    """A department's report on an instruction: interim (periodic, a co-executor's) or final.

    Final reports go to the controller; interim ones keep the instruction where it is.
    """

    instruction = models.ForeignKey(
        Instruction, on_delete=models.PROTECT, related_name="reports", verbose_name=_("instruction")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="execution_reports",
        verbose_name=_("department"),
    )
    text = models.TextField(_("text"))
    is_final = models.BooleanField(_("final report"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("controller's comment"), blank=True)
    #: Reports are internal until staff publish them on the public instruction page
    #: (``services.instruction_report_publish``).
    is_public = models.BooleanField(_("published"), default=False)

    class Meta:
        db_table = "requests_app_executionreport"
        verbose_name = _("execution report")
        verbose_name_plural = _("execution reports")
        ordering = ["submitted_at", "id"]
        indexes = [models.Index(fields=["instruction", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.instruction} — {self.submitted_at:%d.%m.%Y}"
