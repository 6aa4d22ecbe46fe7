"""``/api/v1/commitments/``: the promises of planned answers and their actions (``api.md``).

Each action parses its body, calls one service and returns the promise; an action
not allowed in the promise's state is a 409, one the caller may not take a 403, a
promise the caller may not see a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from maslikhat.core.item_api import parse
from maslikhat.directory.actors import actor_for

from . import selectors, services
from .filters import CommitmentFilter
from .models import Commitment
from .serializers import (
    CommitmentDetailSerializer,
    CommitmentSerializer,
    ReportSerializer,
    RescheduleSerializer,
    ResolveSerializer,
    VerdictSerializer,
)


class CommitmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Promises: deputies see their requests' promises, departments their own, staff all."""

    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    ordering_fields = ["due_date", "created_at", "id"]
    ordering = ["due_date", "id"]

    def get_queryset(self) -> QuerySet[Commitment]:
        return selectors.commitment_list(actor=actor_for(self.request.user))

    def get_object(self) -> Commitment:
        return selectors.commitment_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def _detail(self, commitment: Commitment) -> Response:
        context = {"request": self.request, "history": selectors.commitment_history(commitment)}
        return Response(CommitmentDetailSerializer(commitment, context=context).data)

    def _act(self, service: Callable[..., Any], serializer_class: type[Serializer]) -> Response:
        commitment = self.get_object()
        data = parse(serializer_class, self.request)
        service(pk=commitment.pk, by=self.request.user, **data)
        # Re-read: the annotations (``overdue``) follow the change.
        return self._detail(self.get_object())

    @extend_schema(responses=CommitmentDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The promise with its history (created, reported, confirmed, rescheduled…)."""
        return self._detail(self.get_object())

    @extend_schema(request=ReportSerializer, responses=CommitmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        """The department reports the work done (``text``)."""
        return self._act(services.commitment_report, ReportSerializer)

    @extend_schema(request=VerdictSerializer, responses=CommitmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """The request's author confirms the report: the promise is kept."""
        return self._act(services.commitment_confirm, VerdictSerializer)

    @extend_schema(request=VerdictSerializer, responses=CommitmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def dispute(self, request: Request, pk: str | None = None) -> Response:
        """The request's author disputes the report (``comment`` required)."""
        return self._act(services.commitment_dispute, VerdictSerializer)

    @extend_schema(request=RescheduleSerializer, responses=CommitmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str | None = None) -> Response:
        """The department moves the date (``new_due_date``, ``reason``): at most the original
        date plus the request rule's ``max_extension_months``."""
        return self._act(services.commitment_reschedule, RescheduleSerializer)

    @extend_schema(request=ResolveSerializer, responses=CommitmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Staff decide a disputed promise: ``kept`` true or false (broken)."""
        return self._act(services.commitment_resolve, ResolveSerializer)
