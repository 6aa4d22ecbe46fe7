"""What the API of every item kind shares: the sub-resources ``messages/``,
``attachments/``, ``history/``, the ``extensions/`` endpoints and the round trip of an
action (parse the body, call one service, answer with the item as its page shows it).

A viewset of an item kind mixes these in; ``get_object()`` of that viewset
already answers 404 for an item the user may not see, and the kind's
``can_read`` adds the rule for its correspondence (404 too), so these endpoints
inherit the kind's visibility without repeating it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
    ExtensionAskSerializer,
    ExtensionDecideSerializer,
    ExtensionSerializer,
    MessageCreateSerializer,
    MessageSerializer,
)
from .threads import attach_read_receipts


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
            page = self.paginate_queryset(selectors.messages_for(item))  # type: ignore[attr-defined]
            # The read receipts of the page: one query for the thread's marks.
            attach_read_receipts(page, selectors.thread_marks(item), item.ITEM_TYPE)
            data = MessageSerializer(page, many=True, context={"request": request}).data
            response = self.get_paginated_response(data)  # type: ignore[attr-defined]
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


class ItemActionsMixin(ItemSubresourcesMixin):
    # The action round trip of an item viewset and its ``{id}/extensions/`` endpoints.
    #
    # The kind says how its items are found (``visible_item``: a 404 for one the caller
    # may not see), what its detail answer carries (``detail_serializer_class`` and
    # ``detail_context``) and which services ask for and decide an extension. The
    # viewset names its detail serializer as the answer of ``decide_extension`` with
    # ``extend_schema_view``, so each kind's schema keeps its own component. (No
    # docstrings here: the schema describes each kind's operations in its own words.)

    detail_serializer_class: type[Serializer]
    #: ``service(pk=, by=, new_due_date=, reason=, version=)``: the extension asked.
    extension_ask_service: Callable[..., Any]
    #: ``service(pk=, extension_id=, by=, approve=, comment=, version=)``: the item.
    extension_decide_service: Callable[..., Any]

    def visible_item(self, pk: Any) -> Any:
        """The item ``pk`` as the caller sees it (404 when they may not)."""
        raise NotImplementedError

    def detail_context(self, item: Any) -> dict[str, Any]:
        """What the kind's detail serializer reads besides the request (its actions…)."""
        return {}

    def get_object(self) -> Any:
        return self.visible_item(self.kwargs["pk"])  # type: ignore[attr-defined]

    def detail_response(
        self, item: Any, *, code: int = status.HTTP_200_OK, reread: bool = True
    ) -> Response:
        """The item as its detail page shows it, re-read after a change so annotations
        are current.

        After an action that takes the item out of the caller's sight (a department
        redirecting a request back to staff) the answer is the item as the action left
        it, with no actions, rather than a 404 for a done action.
        """
        if reread:
            try:
                item = self.visible_item(item.pk)
            except Http404:
                item.refresh_from_db()
                row = self.serializer_class(item)  # type: ignore[attr-defined]
                return Response(row.data, status=code)
        context = {"request": self.request, **self.detail_context(item)}  # type: ignore[attr-defined]
        return Response(self.detail_serializer_class(item, context=context).data, status=code)

    def _act(
        self,
        service: Callable[..., Any],
        serializer_class: type[Serializer] | None = None,
        **extra: Any,
    ) -> Response:
        """Parse the body with ``serializer_class``, call ``service`` on the item, answer
        with the item as the service left it."""
        item = self.get_object()
        request = self.request  # type: ignore[attr-defined]
        data = parse(serializer_class, request) if serializer_class else {}
        result = service(pk=item.pk, by=request.user, **data, **extra)
        return self.detail_response(result if isinstance(result, type(item)) else item)

    @extend_schema(methods=["GET"], responses=ExtensionSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ExtensionAskSerializer, responses={201: ExtensionSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        # The extensions asked (GET); the lead department asks for a later due date (POST).
        item = self.get_object()
        if request.method == "GET":
            return Response(ExtensionSerializer(item.extensions.all(), many=True).data)
        data = parse(ExtensionAskSerializer, request)
        ask = type(self).extension_ask_service
        extension = ask(pk=item.pk, by=request.user, **data)
        return Response(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ExtensionDecideSerializer,
        parameters=[OpenApiParameter("eid", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"extensions/(?P<eid>\d+)/decide")
    def decide_extension(
        self, request: Request, pk: str | None = None, eid: str | None = None
    ) -> Response:
        # Those who decide approve or reject (a rejection needs a ``comment``).
        return self._act(
            type(self).extension_decide_service,
            ExtensionDecideSerializer,
            extension_id=int(eid or 0),
        )
