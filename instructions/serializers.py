"""API shapes of meetings, protocols and protocol instructions (``docs/api.md``) and action bodies.

Field names are fixed by the contract. Serializers only parse and present; every
rule (who, when, which dates) is in ``services``. Bodies shared with
deputy requests (comment, reason, extensions) are ``maslikhat.core.serializers``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maslikhat.core.rows import current_zone, iso_date, iso_datetime
from maslikhat.core.serializers import ExtensionSerializer, PersonField, VersionField
from maslikhat.core.text import TEXT_MAX
from maslikhat.directory.models import Commission, Convocation, Department, Deputy

from .models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ProtocolItem,
    ReportPeriod,
    SessionKind,
)
from .selectors import next_periodic_report_date, next_report_date

#: A protocol rarely has more than a few dozen questions; the cap keeps one body bounded.
PROTOCOL_ITEMS_MAX = 500


# --- Meetings ------------------------------------------------------------------------------


class NullWhenBlankChoiceField(serializers.ChoiceField):
    """A choice the model stores as ``""`` when it does not apply, presented as ``null``."""

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class MeetingSerializer(serializers.ModelSerializer):
    protocol_count = serializers.IntegerField(read_only=True)
    session_kind = NullWhenBlankChoiceField(
        choices=SessionKind.choices,
        allow_null=True,
        read_only=True,
        help_text=_("Regular or extraordinary, for a session; null for other meetings."),
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "kind",
            "session_kind",
            "date",
            "commission",
            "department",
            "title",
            "agenda",
            "location",
            "is_field_visit",
            "convocation",
            "protocol_count",
        ]
        read_only_fields = fields


class MeetingCreateSerializer(serializers.Serializer):
    """``POST /meetings/`` (staff): a session, a commission meeting or a hearing."""

    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    session_kind = serializers.ChoiceField(
        choices=SessionKind.choices, required=False, allow_blank=True, allow_null=True
    )
    date = serializers.DateField()
    title = serializers.CharField(max_length=300)
    commission = serializers.PrimaryKeyRelatedField(
        queryset=Commission.objects.all(), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), required=False, allow_null=True
    )
    agenda = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    location = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_field_visit = serializers.BooleanField(required=False)
    convocation = serializers.PrimaryKeyRelatedField(
        queryset=Convocation.objects.all(), required=False, allow_null=True
    )

    def validate_session_kind(self, value: str | None) -> str:
        return value or ""  # null and "" alike: not a session


# --- Protocols -----------------------------------------------------------------------------


class ProtocolItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProtocolItem
        fields = ["id", "number", "title"]
        read_only_fields = fields


class ProtocolSerializer(serializers.ModelSerializer):
    items = ProtocolItemSerializer(many=True, read_only=True)
    instruction_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Protocol
        fields = ["id", "meeting", "number", "date", "items", "instruction_count"]
        read_only_fields = fields


class ProtocolCreateSerializer(serializers.Serializer):
    """``POST /protocols/`` (staff): the protocol and its numbered items (questions)."""

    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all())
    number = serializers.CharField(max_length=40)
    date = serializers.DateField()
    items = serializers.ListField(
        child=serializers.CharField(max_length=TEXT_MAX, allow_blank=True),
        required=False,
        max_length=PROTOCOL_ITEMS_MAX,
    )


# --- Instructions --------------------------------------------------------------------------


class InstructionSerializer(serializers.ModelSerializer):
    co_departments: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    is_overdue = serializers.BooleanField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    next_report_date = serializers.SerializerMethodField()

    class Meta:
        model = Instruction
        fields = [
            "id",
            "number",
            "protocol",
            "item",
            "text",
            "lead_department",
            "co_departments",
            "controller_commission",
            "controller_deputy",
            "due_date",
            "original_due_date",
            "report_period",
            "status",
            "status_display",
            "is_overdue",
            "version",
            "reported_at",
            "executed_at",
            "removed_at",
            "removal_reason",
            "next_report_date",
            "convocation",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_report_date(self, item: Instruction) -> datetime.date | None:
        """The next periodic report date while the instruction is open (none without periods)."""
        return next_periodic_report_date(item, timezone.localdate())


class InstructionListSerializer(InstructionSerializer):
    """A row of the instruction list: the fields of ``InstructionSerializer`` (the list's
    fields in ``docs/api.md``, and the schema's), written straight from the plain rows of
    ``selectors.list_values`` and the page's co-department ids — no model instance and no
    field machinery per row."""

    @classmethod
    def rows(
        cls, rows: list[dict[str, Any]], co_departments: dict[int, list[int]]
    ) -> list[dict[str, Any]]:
        zone = current_zone()
        today = timezone.localdate()
        labels = {value: str(label) for value, label in InstructionStatus.choices}
        return [
            {
                "id": row["id"],
                "number": row["number"],
                "protocol": row["protocol_id"],
                "item": row["item_id"],
                "text": row["text"],
                "lead_department": row["lead_department_id"],
                "co_departments": co_departments.get(row["id"], []),
                "controller_commission": row["controller_commission_id"],
                "controller_deputy": row["controller_deputy_id"],
                "due_date": iso_date(row["due_date"]),
                "original_due_date": iso_date(row["original_due_date"]),
                "report_period": row["report_period"],
                "status": row["status"],
                "status_display": labels.get(row["status"], row["status"]),
                "is_overdue": bool(row["overdue"]),
                "version": row["version"],
                "reported_at": iso_datetime(row["reported_at"], zone),
                "executed_at": iso_datetime(row["executed_at"], zone),
                "removed_at": iso_datetime(row["removed_at"], zone),
                "removal_reason": row["removal_reason"],
                "next_report_date": iso_date(
                    next_report_date(
                        status=row["status"],
                        created_at=row["created_at"],
                        due_date=row["due_date"],
                        report_period=row["report_period"],
                        today=today,
                    )
                ),
                "convocation": row["convocation_id"],
                "created_at": iso_datetime(row["created_at"], zone),
                "updated_at": iso_datetime(row["updated_at"], zone),
            }
            for row in rows
        ]


class ExecutionReportSerializer(serializers.ModelSerializer):
    submitted_by = PersonField(read_only=True)
    decided_by = PersonField(read_only=True)

    class Meta:
        model = ExecutionReport
        fields = [
            "id",
            "department",
            "text",
            "is_final",
            "status",
            "submitted_by",
            "submitted_at",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields


class InstructionDetailSerializer(InstructionSerializer):
    reports = ExecutionReportSerializer(many=True, read_only=True)
    extensions = ExtensionSerializer(many=True, read_only=True)
    due_date_basis = serializers.JSONField(read_only=True)
    created_by = PersonField(read_only=True)
    available_actions = serializers.SerializerMethodField()

    class Meta(InstructionSerializer.Meta):
        fields = [
            *InstructionSerializer.Meta.fields,
            "due_date_basis",
            "created_by",
            "reports",
            "extensions",
            "available_actions",
        ]
        read_only_fields = fields

    def get_available_actions(self, item: Instruction) -> list[str]:
        return sorted(self.context.get("actions", []))


class InstructionCreateSerializer(serializers.Serializer):
    """``POST /instructions/`` (staff). Without ``due_date`` the deadline rule gives it."""

    protocol = serializers.PrimaryKeyRelatedField(queryset=Protocol.objects.all())
    item = serializers.PrimaryKeyRelatedField(
        queryset=ProtocolItem.objects.all(), required=False, allow_null=True
    )
    number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    text = serializers.CharField(max_length=TEXT_MAX)
    lead_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True)
    )
    co_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), many=True, required=False
    )
    controller_commission = serializers.PrimaryKeyRelatedField(
        queryset=Commission.objects.all(), required=False, allow_null=True
    )
    controller_deputy = serializers.PrimaryKeyRelatedField(
        queryset=Deputy.objects.filter(is_active=True), required=False, allow_null=True
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    report_period = serializers.ChoiceField(choices=ReportPeriod.choices, required=False)


class InstructionReportSerializer(serializers.Serializer):
    """``POST /instructions/{id}/reports/`` (the lead department; co-executors interim only)."""

    text = serializers.CharField(max_length=TEXT_MAX)
    final = serializers.BooleanField(required=False, default=False)
    version = VersionField()


class DepartmentDisciplineSerializer(serializers.Serializer):
    """One lead department's execution discipline over the instructions the caller sees."""

    lead_department = serializers.IntegerField()
    lead_department_code = serializers.CharField(source="lead_department__code")
    lead_department_name = serializers.CharField(source="lead_department__name_ru")
    total = serializers.IntegerField()
    on_time = serializers.IntegerField(help_text="Final report by the due date.")
    late = serializers.IntegerField(help_text="Final report after the due date.")
    open_overdue = serializers.IntegerField(help_text="Still owed and past the due date.")
    on_control = serializers.IntegerField(help_text="Still owed (on control or returned).")
