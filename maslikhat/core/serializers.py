from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .notifications import Notification
from .threads import Attachment, AuditEvent, Message


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
)
class PersonField(serializers.Field):
    """A user as ``{"id", "name"}``: enough to show who, nothing personal."""

    def to_representation(self, value: object) -> dict[str, object] | None:
        if value is None:
            return None
        return {"id": value.pk, "name": value.full_name}  # type: ignore[attr-defined]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = PersonField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "uploaded_by",
            "created_at",
            "message",
            "download_url",
        ]

    def get_download_url(self, attachment: Attachment) -> str:
        return reverse("core:attachment-download", args=[attachment.pk])


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class MessageSerializer(serializers.ModelSerializer):
    author = PersonField(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "author", "text", "created_at", "attachments"]
        read_only_fields = ["id", "author", "created_at", "attachments"]


class MessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000, trim_whitespace=True)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = PersonField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "changes",
            "comment",
            "actor",
            "created_at",
        ]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "item_type", "item_id", "text", "link", "created_at", "read_at"]
