from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .extensions import Extension
from .notifications import Notification, render_text
from .rows import current_zone, iso_datetime
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
    read_at = serializers.SerializerMethodField(
        help_text=_(
            "When somebody of the other side of the thread first read the message; "
            "null: not read yet."
        )
    )

    class Meta:
        model = Message
        fields = ["id", "author", "text", "created_at", "attachments", "read_at"]
        read_only_fields = ["id", "author", "created_at", "attachments", "read_at"]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_read_at(self, message: Message) -> Any:
        # Set by ``threads.attach_read_receipts``; a message just posted is read by nobody.
        value = getattr(message, "read_at", None)
        return serializers.DateTimeField().to_representation(value) if value else None


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
    # In the reader's language (the request's), rendered from the stored values.
    text = serializers.CharField(source="display_text", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "item_type", "item_id", "text", "link", "created_at", "read_at"]

    @classmethod
    def rows(cls, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The list's rows (``notifications.list_values``) with these fields, written
        without a model instance or DRF's field machinery per row."""
        zone = current_zone()
        return [
            {
                "id": row["id"],
                "kind": row["kind"],
                "item_type": row["item_type"],
                "item_id": row["item_id"],
                "text": render_text(row["kind"], row["params"], fallback=row["text"]),
                "link": row["link"],
                "created_at": iso_datetime(row["created_at"], zone),
                "read_at": iso_datetime(row["read_at"], zone),
            }
            for row in rows
        ]


# --- Shared by every item kind: the extension record and the bodies of actions ----------


class ExtensionSerializer(serializers.ModelSerializer):
    requested_by = PersonField(read_only=True)
    decided_by = PersonField(read_only=True)

    class Meta:
        model = Extension
        fields = [
            "id",
            "previous_due_date",
            "new_due_date",
            "reason",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class VersionField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault(
            "help_text",
            _("The version you loaded; a stale version gets 409 instead of overwriting."),
        )
        super().__init__(**kwargs)


class ReasonSerializer(serializers.Serializer):
    # Optional here: the service says when a reason is required (and answers 400 with it).
    reason = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")
    version = VersionField()


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    version = VersionField()


class ExtensionAskSerializer(serializers.Serializer):
    new_due_date = serializers.DateField()
    reason = serializers.CharField(max_length=20_000)
    version = VersionField()


class ExtensionDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    version = VersionField()
