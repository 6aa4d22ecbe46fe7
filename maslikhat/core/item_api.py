"""API sub-resources every item kind shares: ``messages/``, ``attachments/``, ``history/``.

A viewset of an item kind mixes this in; ``get_object()`` of that viewset
already answers 404 for an item the user may not see, and the kind's
``can_read`` adds the rule for its correspondence (404 too), so these endpoints
inherit the kind's visibility without repeating it.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from . import selectors, services
from .items import item_kind
from .serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    AuditEventSerializer,
    MessageCreateSerializer,
    MessageSerializer,
)


def parse(serializer_class: type[Serializer], request: Request, **kwargs: Any) -> dict[str, Any]:
    """The action's body, validated by ``serializer_class`` (a 400 with the field errors)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ItemSubresourcesMixin:
    """Adds ``{id}/messages/``, ``{id}/attachments/`` and ``{id}/history/`` to an item viewset."""

    def _readable_item(self) -> Any:
        item = self.get_object()  # type: ignore[attr-defined]
        if not item_kind(item.ITEM_TYPE).can_read(self.request.user, item):  # type: ignore[attr-defined]
            raise Http404
        return item

    def _page(self, request: Request, queryset: Any, serializer_class: Any) -> Response:
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        data = serializer_class(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]

    @extend_schema(methods=["GET"], responses=MessageSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer}
    )
    @action(detail=True, methods=["get", "post"], url_path="messages", filter_backends=[])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            item = self._readable_item()
            queryset = selectors.messages_for(item)
            response = self._page(request, queryset, MessageSerializer)
            services.thread_mark_read(item=item, user=request.user)  # type: ignore[arg-type]
            return response
        item = self._readable_item()
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = item_kind(item.ITEM_TYPE).post_message(
            pk=item.pk, by=request.user, text=serializer.validated_data["text"]
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=AttachmentUploadSerializer, responses={201: AttachmentSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="attachments",
        filter_backends=[],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            item = self._readable_item()
            return self._page(request, selectors.attachments_for(item), AttachmentSerializer)
        item = self._readable_item()
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = item_kind(item.ITEM_TYPE).add_attachment(
            pk=item.pk, by=request.user, upload=serializer.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=AuditEventSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="history", filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        item = self._readable_item()
        return self._page(request, selectors.history_for(item), AuditEventSerializer)
