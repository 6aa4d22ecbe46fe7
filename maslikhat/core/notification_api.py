"""``/api/v1/notifications/``: the current user's own notifications."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .notifications import (
    Notification,
    NotificationKind,
    list_values,
    notification_mark_all_read,
    notification_mark_read,
)
from .serializers import NotificationSerializer


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(method="filter_unread", label=_("Unread only"))
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices)

    class Meta:
        model = Notification
        fields = ["unread", "kind", "item_type"]

    def filter_unread(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[Any]:
        # Own only: another user's notification is simply not there (404).
        return Notification.objects.filter(user_id=self.request.user.pk or 0)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list: a page of plain rows, each sentence rendered in the reader's language."""
        page = self.paginate_queryset(list_values(self.filter_queryset(self.get_queryset())))
        assert page is not None
        return self.get_paginated_response(NotificationSerializer.rows(page))

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        notification = notification_mark_read(user=request.user, notification_id=notification.pk)  # type: ignore[arg-type]
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        count = notification_mark_all_read(user=request.user)  # type: ignore[arg-type]
        return Response({"marked": count})
