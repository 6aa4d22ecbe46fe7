"""``/api/v1/reports/summary/``, ``/api/v1/requests/export/``, ``/api/v1/instructions/export/``,
``/api/v1/me/todo/`` and the status and download of background exports
(``/exports/<id>/status/``, ``…/download/``).

Views parse input, call one selector or service and choose the response.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.http import FileResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from instructions.filters import InstructionFilter
from maslikhat.core.storage import stored_file_response
from maslikhat.directory.actors import actor_for

from .daily_counts import request_summary_from_daily_counts
from .exports import CONTENT_TYPES, parse_format
from .models import ExportFormat, ExportKind
from .selectors import InvalidFilters, ReportRequestFilter
from .serializers import ExportJobSerializer, SummarySerializer, TodoSerializer
from .services import export_job_file, export_job_for_owner, export_start
from .todo import todo_for


def filter_parameters(filterset_class: type[django_filters.FilterSet]) -> list[OpenApiParameter]:
    """OpenAPI query parameters of a FilterSet (the schema of views that are not lists)."""
    parameters = []
    for name, field in filterset_class.base_filters.items():
        many = isinstance(field, django_filters.MultipleChoiceFilter)
        kind: Any = OpenApiTypes.STR
        enum = None
        if isinstance(field, django_filters.DateFilter):
            kind = OpenApiTypes.DATE
        elif isinstance(field, django_filters.BooleanFilter):
            kind = OpenApiTypes.BOOL
        elif isinstance(field, django_filters.ModelChoiceFilter | django_filters.NumberFilter):
            kind = OpenApiTypes.INT
        elif isinstance(field, django_filters.ChoiceFilter | django_filters.MultipleChoiceFilter):
            enum = [value for value, _label in field.extra.get("choices", [])]
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                OpenApiParameter.QUERY,
                required=False,
                many=many,
                enum=enum,
                description=str(field.label or ""),
            )
        )
    return parameters


SCOPE_PARAMETER = OpenApiParameter(
    "scope",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    enum=["mine", "all"],
    description=(
        "Deputies: own requests only (mine) or also others' published ones (all). Without "
        "it the summary counts a deputy's own requests; an export holds what the list "
        "/api/v1/requests/ holds with the same query."
    ),
)
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    enum=ExportFormat.values,
    description=(
        "xlsx (default); csv: CSV for Excel (semicolon-separated, UTF-8 with BOM: opens as "
        "columns in a Russian or Kazakh Excel); csv-comma: standard comma-separated CSV "
        "(UTF-8 with BOM)."
    ),
)
ORDERING_PARAMETER = OpenApiParameter(
    "ordering", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False
)


class FileFormatNegotiation(DefaultContentNegotiation):
    """Here ``?format=`` names the file type of an export, not a response renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ReportSummaryView(APIView):
    """The figures of the requests ``/api/v1/requests/`` would list with the same filters."""

    @extend_schema(
        operation_id="reports_summary",
        parameters=[*filter_parameters(ReportRequestFilter), SCOPE_PARAMETER],
        responses={200: SummarySerializer, 400: OpenApiResponse(description="Invalid filters.")},
    )
    def get(self, request: Request) -> Response:
        try:
            summary = request_summary_from_daily_counts(
                actor=actor_for(request.user), params=request.query_params
            )
        except InvalidFilters as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(SummarySerializer(summary).data)


class MyTodoView(APIView):
    """What needs the caller's action now, grouped by kind, most urgent first (the home page's
    to-do): each group's count and its first items with the working days left or overdue."""

    @extend_schema(operation_id="me_todo", responses={200: TodoSerializer})
    def get(self, request: Request) -> Response:
        groups = todo_for(actor_for(request.user), timezone.localdate())
        return Response(TodoSerializer({"groups": groups}).data)


FILE_RESPONSES = {
    (200, CONTENT_TYPES[ExportFormat.XLSX]): OpenApiTypes.BINARY,
    (200, "text/csv"): OpenApiTypes.BINARY,
    (202, "application/json"): ExportJobSerializer,
    (400, "application/json"): OpenApiResponse(description="Invalid filters or format."),
}


class _ExportView(APIView):
    kind: str = ExportKind.REQUESTS
    content_negotiation_class = FileFormatNegotiation

    def get(self, request: Request) -> HttpResponseBase:
        try:
            fmt = parse_format(request.query_params.get("format"))
            result = export_start(
                by=request.user, kind=self.kind, params=request.query_params, fmt=fmt
            )
        except InvalidFilters as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        if result.job is not None:
            data = ExportJobSerializer(result.job, context={"request": request}).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]}
            )
        assert result.path is not None
        return send_file(result.path, result.file_name, result.content_type, delete=True)


class RequestExportView(_ExportView):
    """The deputy requests the list shows with the same filters, as Excel or CSV.

    Up to ``EXPORT_SYNC_LIMIT`` rows the file is the response; above it a background job
    starts and the answer is 202 with the job (poll ``status_url``, then ``download_url``).
    """

    kind = ExportKind.REQUESTS

    @extend_schema(
        operation_id="requests_export",
        parameters=[
            FORMAT_PARAMETER,
            *filter_parameters(ReportRequestFilter),
            SCOPE_PARAMETER,
            ORDERING_PARAMETER,
        ],
        responses=FILE_RESPONSES,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class InstructionExportView(_ExportView):
    """The protocol instructions the list shows with the same filters, as Excel or CSV."""

    kind = ExportKind.INSTRUCTIONS

    @extend_schema(
        operation_id="instructions_export",
        parameters=[FORMAT_PARAMETER, *filter_parameters(InstructionFilter), ORDERING_PARAMETER],
        responses=FILE_RESPONSES,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class ExportJobStatusView(APIView):
    """A background export of the caller: status, progress and, when ready, the download URL."""

    @extend_schema(operation_id="export_job_status", responses=ExportJobSerializer)
    def get(self, request: Request, pk: int) -> Response:
        job = export_job_for_owner(user=request.user, pk=pk)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportJobDownloadView(APIView):
    """The finished file of the caller's background export (404 for anyone else's)."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="export_job_download",
        responses={
            (200, CONTENT_TYPES[ExportFormat.XLSX]): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (404, "application/json"): OpenApiResponse(description="Not yours or not ready."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        job = export_job_for_owner(user=request.user, pk=pk)
        name = export_job_file(job)
        not_ready = Response(
            {"detail": gettext("The export is not ready yet.")},
            status=status.HTTP_404_NOT_FOUND,
        )
        if name is None:
            return not_ready
        try:
            # Streamed from the storage (local folder or bucket), never a bucket address.
            return stored_file_response(
                name,
                filename=job.file_name,
                content_type=CONTENT_TYPES[job.format],  # type: ignore[index]
            )
        except FileNotFoundError:
            return not_ready


def send_file(path: Any, name: str, content_type: str, *, delete: bool) -> FileResponse:
    """The file as an attachment; a temporary file is unlinked once opened (POSIX keeps it
    readable until the response closes it)."""
    handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    if delete:
        path.unlink(missing_ok=True)
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
