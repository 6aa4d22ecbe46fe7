"""The promise as the API shows it, and the bodies of its actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maslikhat.core.serializers import AuditEventSerializer

from .models import Commitment, CommitmentState


class CommitmentSerializer(serializers.ModelSerializer):
    request_number = serializers.CharField(source="request.number", read_only=True)
    request_title = serializers.CharField(source="request.title", read_only=True)
    state = serializers.ChoiceField(choices=CommitmentState.choices, read_only=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Commitment
        fields = [
            "id",
            "request",
            "request_number",
            "request_title",
            "response",
            "department",
            "text",
            "original_due_date",
            "due_date",
            "state",
            "overdue",
            "reschedule_count",
            "reported_text",
            "reported_at",
            "verdict",
            "verdict_comment",
            "verdict_at",
            "resolution_comment",
            "resolved_at",
            "created_at",
        ]
        read_only_fields = fields


class CommitmentDetailSerializer(CommitmentSerializer):
    history = serializers.SerializerMethodField()

    class Meta(CommitmentSerializer.Meta):
        fields = [*CommitmentSerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(AuditEventSerializer(many=True))
    def get_history(self, obj: Commitment) -> list[dict[str, Any]]:
        return list(AuditEventSerializer(self.context.get("history", []), many=True).data)


class ReportSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, allow_blank=True)


class VerdictSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")


class RescheduleSerializer(serializers.Serializer):
    new_due_date = serializers.DateField()
    reason = serializers.CharField(max_length=20_000, allow_blank=True)


class ResolveSerializer(serializers.Serializer):
    kept = serializers.BooleanField()
    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")
