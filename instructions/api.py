"""``/api/v1/meetings/``, ``/api/v1/protocols/`` and ``/api/v1/instructions/`` (``api.md``).

The same shape as the deputy-request API (``requests_app.api``): each action parses
its body, calls one service and returns the updated item with its
``available_actions``; a transition not allowed now is a 409, a stale ``version``
too, an instruction the user may not see a 404 (for every action alike).
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import ActionForbidden
from maslikhat.core.item_api import ItemActionsMixin, parse
from maslikhat.core.serializers import (
    CommentSerializer,
    ReasonSerializer,
)
from maslikhat.directory.actors import actor_for

from . import permissions, selectors, services
from .filters import INSTRUCTION_ORDERING_FIELDS, InstructionFilter, MeetingFilter, ProtocolFilter
from .models import Instruction, Meeting, Protocol
from .serializers import (
    DepartmentDisciplineSerializer,
    ExecutionReportSerializer,
    InstructionCreateSerializer,
    InstructionDetailSerializer,
    InstructionListSerializer,
    InstructionReportSerializer,
    InstructionSerializer,
    MeetingCreateSerializer,
    MeetingSerializer,
    ProtocolCreateSerializer,
    ProtocolSerializer,
)


def _user(request: Request) -> User:
    """The signed-in user (every endpoint here requires a login)."""
    return cast(User, request.user)


def _require_create(request: Request) -> None:
    """Only staff create meetings, protocols and instructions: 403 before reading the body."""
    if not permissions.can_create(actor_for(request.user)):
        raise ActionForbidden()


class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions, commission meetings and hearings: readable by every signed-in user."""

    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["title", "agenda", "location"]
    ordering_fields = ["date"]
    ordering = ["-date", "-id"]

    def get_queryset(self) -> QuerySet[Meeting]:
        return selectors.meeting_list()

    @extend_schema(request=MeetingCreateSerializer, responses={201: MeetingSerializer})
    def create(self, request: Request) -> ApiResponse:
        _require_create(request)
        data = parse(MeetingCreateSerializer, request)
        meeting = services.meeting_create(by=_user(request), **data)
        row = self.get_queryset().get(pk=meeting.pk)
        return ApiResponse(MeetingSerializer(row).data, status=status.HTTP_201_CREATED)


class ProtocolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Protocols of meetings with their numbered items: readable by every signed-in user."""

    serializer_class = ProtocolSerializer
    filterset_class = ProtocolFilter
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["number", "meeting__title"]
    ordering_fields = ["date", "number"]
    ordering = ["-date", "-id"]

    def get_queryset(self) -> QuerySet[Protocol]:
        return selectors.protocol_list_with_items()

    @extend_schema(request=ProtocolCreateSerializer, responses={201: ProtocolSerializer})
    def create(self, request: Request) -> ApiResponse:
        _require_create(request)
        data = parse(ProtocolCreateSerializer, request)
        protocol = services.protocol_create(by=_user(request), **data)
        row = self.get_queryset().get(pk=protocol.pk)
        return ApiResponse(ProtocolSerializer(row).data, status=status.HTTP_201_CREATED)


class ReportPublishSerializer(serializers.Serializer):
    """Show an execution report on the public portal (``true``) or withdraw it (``false``)."""

    public = serializers.BooleanField(default=True)


class ReportPublishedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    is_public = serializers.BooleanField()


@extend_schema_view(
    extensions=extend_schema(
        description="The extensions asked (GET); the lead department asks for a later due date "
        "(POST)."
    ),
    decide_extension=extend_schema(
        responses=InstructionDetailSerializer,
        description="Staff or the chair approve or reject (a rejection needs a ``comment``).",
    ),
)
class InstructionViewSet(
    ItemActionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Protocol instructions the caller may see, their reports, extensions and thread."""

    serializer_class = InstructionSerializer
    filterset_class = InstructionFilter
    ordering_fields = INSTRUCTION_ORDERING_FIELDS
    ordering = ["due_date", "id"]
    detail_serializer_class = InstructionDetailSerializer
    extension_ask_service = services.instruction_extension_ask
    extension_decide_service = services.instruction_extension_decide

    def get_queryset(self) -> QuerySet[Instruction]:
        return selectors.instruction_list(actor=actor_for(self.request.user))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        """The list: the filters and ordering over the visible instructions, a page of
        plain rows with their co-departments (one query for the page)."""
        rows = self.filter_queryset(selectors.instruction_rows(actor=actor_for(request.user)))
        page = self.paginate_queryset(selectors.list_values(rows))
        assert page is not None
        co_departments = selectors.co_department_ids([row["id"] for row in page])
        return self.get_paginated_response(InstructionListSerializer.rows(page, co_departments))

    def visible_item(self, pk: Any) -> Instruction:
        # The selector prefetches the reports' and extensions' people.
        return selectors.instruction_get_visible(user=self.request.user, pk=pk)

    def detail_context(self, item: Any) -> dict[str, Any]:
        return {"actions": services.available_actions(actor_for(self.request.user), item)}

    @extend_schema(responses=InstructionDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        return self.detail_response(self.get_object(), reread=False)

    @extend_schema(
        request=InstructionCreateSerializer, responses={201: InstructionDetailSerializer}
    )
    def create(self, request: Request) -> ApiResponse:
        _require_create(request)
        data = parse(InstructionCreateSerializer, request)
        item = services.instruction_create(by=_user(request), **data)
        return self.detail_response(item, code=status.HTTP_201_CREATED)

    # --- Reports --------------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=ExecutionReportSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=InstructionReportSerializer,
        responses={201: ExecutionReportSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def reports(self, request: Request, pk: str | None = None) -> ApiResponse:
        """The execution reports (GET); a department submits one (POST, interim or final)."""
        item = self.get_object()
        if request.method == "GET":
            rows = item.reports.all()
            return ApiResponse(ExecutionReportSerializer(rows, many=True).data)
        data = parse(InstructionReportSerializer, request)
        report = services.instruction_report(pk=item.pk, by=_user(request), **data)
        return ApiResponse(ExecutionReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CommentSerializer, responses=InstructionDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> ApiResponse:
        """The controller or staff accept the final report: the instruction is executed."""
        item = self.get_object()
        data = parse(CommentSerializer, request)
        services.instruction_accept(
            pk=item.pk,
            by=_user(request),
            comment=data.get("comment", ""),
            version=data.get("version"),
        )
        return self.detail_response(item)

    @extend_schema(request=CommentSerializer, responses=InstructionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_report(self, request: Request, pk: str | None = None) -> ApiResponse:
        """The controller or staff return the final report with a ``comment``."""
        item = self.get_object()
        data = parse(CommentSerializer, request)
        services.instruction_return(
            pk=item.pk,
            by=_user(request),
            comment=data.get("comment", ""),
            version=data.get("version"),
        )
        return self.detail_response(item)

    # --- Removal (the extensions are ``ItemActionsMixin``'s) ---------------------------------

    @extend_schema(request=ReasonSerializer, responses=InstructionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="remove-from-control")
    def remove_from_control(self, request: Request, pk: str | None = None) -> ApiResponse:
        """Staff close the instruction with a ``reason``, from any state but removed."""
        item = self.get_object()
        data = parse(ReasonSerializer, request)
        services.instruction_remove_from_control(
            pk=item.pk,
            by=_user(request),
            reason=data.get("reason", ""),
            version=data.get("version"),
        )
        return self.detail_response(item)

    # --- Publication of a report on the public portal ---------------------------------------

    @extend_schema(
        request=ReportPublishSerializer,
        responses=ReportPublishedSerializer,
        description="Staff publish one execution report on the public instruction page "
        "(``public: true``) or withdraw it (``public: false``); the history records it. "
        "Reports are internal until published.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"reports/(?P<report_id>[0-9]+)/publish",
        url_name="report-publish",
    )
    def report_publish(
        self, request: Request, pk: str | None = None, report_id: str | None = None
    ) -> ApiResponse:
        """Staff show a report on the public portal, or withdraw it."""
        item = self.get_object()
        report_pk = int(report_id or 0)
        # A number no row can have (beyond the database's integers) is simply not found.
        if report_pk > 2**31 - 1 or not item.reports.filter(pk=report_pk).exists():
            raise Http404
        data = parse(ReportPublishSerializer, request)
        report = services.instruction_report_publish(
            pk=item.pk, report_id=report_pk, by=_user(request), public=data["public"]
        )
        return ApiResponse(ReportPublishedSerializer(report).data)

    # --- Discipline -----------------------------------------------------------------------

    @extend_schema(responses=DepartmentDisciplineSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[])
    def discipline(self, request: Request) -> ApiResponse:
        """Per lead department: executed on time, late, open overdue (what the caller sees)."""
        rows = selectors.discipline_rows(actor=actor_for(request.user))
        page = self.paginate_queryset(rows)
        data = DepartmentDisciplineSerializer(page, many=True).data
        return self.get_paginated_response(data)
