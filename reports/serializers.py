"""API shapes of the reports: the summary and export jobs (field names fixed by ``docs/api.md``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from requests_app.models import RequestStatus

from .models import ExportFormat, ExportJob, ExportKind


class DepartmentRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text=_("Null: not routed yet."))
    name = serializers.CharField()
    received = serializers.IntegerField()
    answered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    answered_late = serializers.IntegerField()
    overdue_open = serializers.IntegerField()
    open = serializers.IntegerField()
    median_days = serializers.FloatField(allow_null=True)


class PlaceRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    received = serializers.IntegerField()
    answered = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed = serializers.IntegerField()
    resolved = serializers.IntegerField()
    open = serializers.IntegerField()


class MonthRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text=_("YYYY-MM"))
    received = serializers.IntegerField()
    answered = serializers.IntegerField()


class FunnelStepSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=["registered", "routed", "answered", "closed"])
    count = serializers.IntegerField()


class CountersSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    overdue_open = serializers.IntegerField()
    due_this_week = serializers.IntegerField()
    answered = serializers.IntegerField()
    answered_late = serializers.IntegerField()
    on_time = serializers.IntegerField()
    awaiting_evaluation = serializers.IntegerField()
    routed = serializers.IntegerField()
    closed = serializers.IntegerField()
    resolved = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    """``/api/v1/reports/summary/``: the figures of the requests the list would show."""

    total = serializers.IntegerField()
    by_status = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=_("Requests per status code: %(codes)s.")
        % {"codes": ", ".join(RequestStatus.values)},
    )
    by_department = DepartmentRowSerializer(many=True)
    by_district = PlaceRowSerializer(many=True)
    by_category = PlaceRowSerializer(many=True)
    by_month = MonthRowSerializer(many=True)
    overdue = serializers.IntegerField(
        help_text=_("Requests the list shows with is_overdue=true (late now or answered late).")
    )
    median_answer_days = serializers.FloatField(
        allow_null=True, help_text=_("Median calendar days from routing to the final answer.")
    )
    counters = CountersSerializer()
    funnel = FunnelStepSerializer(many=True)


class ExportJobSerializer(serializers.ModelSerializer):
    """A background export: poll ``status_url`` until ``status`` is ``done``."""

    percent = serializers.IntegerField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    restart_note = serializers.CharField(
        read_only=True,
        help_text="Set when a worker failure interrupted the export (for example "
        "'Restarted after a worker failure, attempt 2.'), otherwise empty.",
    )
    status_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=ExportKind.choices, read_only=True)
    format = serializers.ChoiceField(choices=ExportFormat.choices, read_only=True)

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "format",
            "status",
            "status_display",
            "attempts",
            "restart_note",
            "progress",
            "total",
            "percent",
            "created_at",
            "finished_at",
            "error",
            "status_url",
            "page_url",
            "download_url",
        ]
        read_only_fields = fields

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_status_url(self, job: ExportJob) -> str:
        return self._absolute(reverse("reports:export-job-status", args=[job.pk]))

    def get_page_url(self, job: ExportJob) -> str:
        return self._absolute(reverse("reports:export-job", args=[job.pk]))

    def get_download_url(self, job: ExportJob) -> str | None:
        if not job.is_ready:
            return None
        return self._absolute(reverse("reports:export-job-download", args=[job.pk]))


def summary_payload(summary: dict[str, Any]) -> dict[str, Any]:
    return dict(SummarySerializer(summary).data)


# --- The to-do (``GET /api/v1/me/todo/``; names ``kind``, ``count``, ``items`` fixed) ---------


class TodoItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["request", "instruction", "commitment", "department"],
        help_text=(
            "request or instruction; commitment: a promise (its page is its request's, "
            "url ends in #promise); department: a count of overdue items (the chair)."
        ),
    )
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="Empty for a draft; a department's code.")
    title = serializers.CharField()
    status = serializers.CharField(help_text="The item's status code; empty for a department.")
    status_label = serializers.CharField()
    department = serializers.CharField(help_text="The lead department's name, if any.")
    due_date = serializers.DateField(
        allow_null=True,
        help_text="When the action is due: the due date, or for an answer the evaluation date.",
    )
    days_left = serializers.IntegerField(
        allow_null=True, help_text="Working days left up to the due date; null when overdue."
    )
    overdue_days = serializers.IntegerField(
        allow_null=True,
        help_text="Working days since the due date passed; null when not overdue.",
    )
    count = serializers.IntegerField(
        allow_null=True, help_text="For a department row: its overdue items."
    )
    paused_since = serializers.DateField(
        allow_null=True,
        help_text=(
            "A request whose clock a clarification question stopped: since when. No days "
            "count meanwhile (days_left and overdue_days are null); the due date moves."
        ),
    )
    url = serializers.CharField(help_text="The item's page (or the filtered list).")
    api_url = serializers.CharField(help_text="The item in the API (or the filtered list).")


class TodoGroupSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The group's code, e.g. request_evaluations.")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    empty = serializers.CharField(help_text="What the empty group says.")
    count = serializers.IntegerField(
        help_text=(
            "Every item of the group, not only those listed; exact up to 1,000 "
            "(count_is_capped: more than that)."
        )
    )
    count_is_capped = serializers.BooleanField(
        help_text="The group holds more items than count: counting stopped at 1,000."
    )
    items = TodoItemSerializer(many=True, help_text="The first items, most urgent first.")
    list_url = serializers.CharField(help_text="The list showing the group's items.")


class TodoSerializer(serializers.Serializer):
    groups = TodoGroupSerializer(many=True)
