"""API shapes of deputy requests (field names fixed by ``docs/api.md``) and of action bodies.

Serializers only parse and present; every rule is in ``services``. The bodies and
shapes both item kinds share (version, comment, reason, extensions) are in
``maslikhat.core.serializers``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maslikhat.accounts.models import User
from maslikhat.core.rows import current_zone, iso_date, iso_datetime
from maslikhat.core.serializers import (
    ExtensionSerializer,
    PersonField,
    VersionField,
)
from maslikhat.directory.models import Category, Department, Deputy, District

from .models import (
    Clarification,
    DeputyRequest,
    Evaluation,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
)


class DeputyRequestSerializer(serializers.ModelSerializer):
    author: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    co_authors: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    co_departments: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    # No executor until the department head assigns one.
    executor: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    is_overdue = serializers.BooleanField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DeputyRequest
        fields = [
            "id",
            "number",
            "title",
            "body",
            "proposed_solution",
            "category",
            "district",
            "address",
            "author",
            "co_authors",
            "lead_department",
            "co_departments",
            "executor",
            "status",
            "status_display",
            "outcome",
            "is_public",
            "submitted_at",
            "routed_at",
            "due_date",
            "original_due_date",
            "answered_at",
            "closed_at",
            "is_overdue",
            "rework_count",
            "rating",
            "request_rating",
            "version",
            "convocation",
            "evaluation_due_date",
            "status_reason",
            "paused_since",
            "paused_days",
        ]
        read_only_fields = fields


class DeputyRequestListSerializer(DeputyRequestSerializer):
    """A row of the request list: the fields of ``DeputyRequestSerializer`` (the list's
    fields in ``docs/api.md``, and the schema's), written straight from the plain rows of
    ``selectors.list_values`` and the page's co-author and co-department ids — no model
    instance and no field machinery per row."""

    @classmethod
    def rows(
        cls,
        rows: list[dict[str, Any]],
        co_authors: dict[int, list[int]],
        co_departments: dict[int, list[int]],
    ) -> list[dict[str, Any]]:
        zone = current_zone()
        labels = {value: str(label) for value, label in RequestStatus.choices}
        return [
            {
                "id": row["id"],
                "number": row["number"],
                "title": row["title"],
                "body": row["body"],
                "proposed_solution": row["proposed_solution"],
                "category": row["category_id"],
                "district": row["district_id"],
                "address": row["address"],
                "author": row["author_id"],
                "co_authors": co_authors.get(row["id"], []),
                "lead_department": row["lead_department_id"],
                "co_departments": co_departments.get(row["id"], []),
                "executor": row["executor_id"],
                "status": row["status"],
                "status_display": labels.get(row["status"], row["status"]),
                "outcome": row["outcome"],
                "is_public": row["is_public"],
                "submitted_at": iso_datetime(row["submitted_at"], zone),
                "routed_at": iso_datetime(row["routed_at"], zone),
                "due_date": iso_date(row["due_date"]),
                "original_due_date": iso_date(row["original_due_date"]),
                "answered_at": iso_datetime(row["answered_at"], zone),
                "closed_at": iso_datetime(row["closed_at"], zone),
                "is_overdue": bool(row["overdue"]),
                "rework_count": row["rework_count"],
                "rating": row["rating"],
                "request_rating": row["request_rating"],
                "version": row["version"],
                "convocation": row["convocation_id"],
                "evaluation_due_date": iso_date(row["evaluation_due_date"]),
                "status_reason": row["status_reason"],
                "paused_since": iso_date(row["paused_since"]),
                "paused_days": row["paused_days"],
            }
            for row in rows
        ]


class EvaluationSerializer(serializers.ModelSerializer):
    """One evaluation of a sent final answer: kept for good, a return for rework too."""

    response: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    # Null only for a row whose author's account is gone from the record.
    by: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    by_name = serializers.SerializerMethodField()
    decision_display = serializers.CharField(source="get_decision_display", read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "response",
            "decision",
            "decision_display",
            "rating",
            "comment",
            "by",
            "by_name",
            "at",
        ]
        read_only_fields = fields

    def get_by_name(self, evaluation: Evaluation) -> str | None:
        return evaluation.by.full_name if evaluation.by is not None else None


class ClarificationSerializer(serializers.ModelSerializer):
    """A clarification question of the lead department and the author's answer."""

    asked_by = PersonField(read_only=True)
    answered_by = PersonField(read_only=True)

    class Meta:
        model = Clarification
        fields = [
            "id",
            "department",
            "question",
            "asked_by",
            "asked_at",
            "pauses_clock",
            "answer",
            "answered_by",
            "answered_at",
            "paused_days",
        ]
        read_only_fields = fields


def _evaluations_of(response: Response) -> list[Evaluation]:
    """The answer's evaluations, oldest first (prefetched by ``responses_visible``), read once."""
    cached = getattr(response, "_evaluation_rows", None)
    if cached is None:
        cached = list(response.evaluations.all())
        response._evaluation_rows = cached  # type: ignore[attr-defined]
    return cached


class ResponseSerializer(serializers.ModelSerializer):
    drafted_by = PersonField(read_only=True)
    approved_by = PersonField(read_only=True)
    # The answer's latest evaluation, from its ``Evaluation`` rows; ``evaluations`` has all.
    evaluation = serializers.SerializerMethodField()
    evaluation_rating = serializers.SerializerMethodField()
    evaluation_comment = serializers.SerializerMethodField()
    evaluations = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = [
            "id",
            "kind",
            "status",
            "text",
            "outcome",
            "planned_date",
            "department",
            "drafted_by",
            "approved_by",
            "head_comment",
            "created_at",
            "sent_at",
            "evaluation",
            "evaluation_rating",
            "evaluation_comment",
            "evaluations",
        ]
        read_only_fields = fields

    def _last(self, response: Response) -> Evaluation | None:
        rows = _evaluations_of(response)
        return rows[-1] if rows else None

    def get_evaluation(self, response: Response) -> str:
        last = self._last(response)
        return last.decision if last is not None else ""

    def get_evaluation_rating(self, response: Response) -> int | None:
        last = self._last(response)
        return last.rating if last is not None else None

    def get_evaluation_comment(self, response: Response) -> str:
        last = self._last(response)
        return last.comment if last is not None else ""

    @extend_schema_field(EvaluationSerializer(many=True))
    def get_evaluations(self, response: Response) -> list[dict[str, Any]]:
        return EvaluationSerializer(_evaluations_of(response), many=True).data  # type: ignore[return-value]


class DeputyRequestDetailSerializer(DeputyRequestSerializer):
    responses = serializers.SerializerMethodField()
    clarifications = serializers.SerializerMethodField()
    evaluations = serializers.SerializerMethodField()
    extensions = ExtensionSerializer(many=True, read_only=True)
    suggested_departments: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    due_date_basis = serializers.JSONField(read_only=True)
    rating_comment = serializers.CharField(read_only=True)
    request_rating_comment = serializers.CharField(read_only=True)
    available_actions = serializers.SerializerMethodField()

    class Meta(DeputyRequestSerializer.Meta):
        fields = [
            *DeputyRequestSerializer.Meta.fields,
            "suggested_departments",
            "due_date_basis",
            "rating_comment",
            "request_rating_comment",
            "responses",
            "clarifications",
            "evaluations",
            "extensions",
            "available_actions",
        ]
        read_only_fields = fields

    def get_responses(self, item: DeputyRequest) -> list[dict[str, Any]]:
        responses = self.context.get("responses", [])
        return ResponseSerializer(responses, many=True).data  # type: ignore[return-value]

    @extend_schema_field(EvaluationSerializer(many=True))
    def get_evaluations(self, item: DeputyRequest) -> list[dict[str, Any]]:
        # Every evaluation of the answers, oldest first, from the answers' prefetched rows.
        responses = self.context.get("responses", [])
        rows = sorted(
            (e for response in responses for e in _evaluations_of(response)),
            key=lambda e: (e.at, e.pk),
        )
        return EvaluationSerializer(rows, many=True).data  # type: ignore[return-value]

    @extend_schema_field(ClarificationSerializer(many=True))
    def get_clarifications(self, item: DeputyRequest) -> list[dict[str, Any]]:
        # Only for those who read the request's correspondence (the view decides).
        rows = self.context.get("clarifications", [])
        return ClarificationSerializer(rows, many=True).data  # type: ignore[return-value]

    def get_available_actions(self, item: DeputyRequest) -> list[str]:
        return sorted(self.context.get("actions", []))


class DraftSerializer(serializers.Serializer):
    """Create or edit a draft (``POST /requests/``, ``PATCH /requests/{id}/``)."""

    title = serializers.CharField(max_length=300)
    body = serializers.CharField(max_length=20_000)
    proposed_solution = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    district = serializers.PrimaryKeyRelatedField(
        queryset=District.objects.all(), required=False, allow_null=True
    )
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)
    co_authors = serializers.PrimaryKeyRelatedField(
        queryset=Deputy.objects.filter(is_active=True), many=True, required=False
    )
    suggested_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), many=True, required=False
    )
    version = VersionField()


class RouteSerializer(serializers.Serializer):
    lead_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True)
    )
    co_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), many=True, required=False
    )
    version = VersionField()


class RerouteSerializer(RouteSerializer):
    """Staff re-route a request in work: the new departments, why, and the deadline policy."""

    reason = serializers.CharField(max_length=20_000)
    deadline = serializers.ChoiceField(
        choices=[
            ("restart", _("Restart the deadline from today")),
            ("keep", _("Keep the due date")),
        ]
    )


class ClarifySerializer(serializers.Serializer):
    question = serializers.CharField(max_length=20_000)
    version = VersionField()


class ClarificationAnswerSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000)
    version = VersionField()


class AssignSerializer(serializers.Serializer):
    executor = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    version = VersionField()


class RespondSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ResponseKind.choices)
    text = serializers.CharField(max_length=20_000)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_null=True)
    planned_date = serializers.DateField(required=False, allow_null=True)
    version = VersionField()


class EvaluateSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[("accept", _("Accept")), ("rework", _("Return for rework"))]
    )
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_null=True)
    version = VersionField()


class RateRequestSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    version = VersionField()


class ResponseApproveSerializer(serializers.Serializer):
    """The head's approval of a draft; ``comment`` is accepted and ignored as before."""

    comment = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    boilerplate_comment = serializers.CharField(
        max_length=20_000,
        required=False,
        allow_blank=True,
        help_text="Required when the draft is at least BOILERPLATE_SIMILARITY_THRESHOLD "
        "similar to an answer the department sent earlier.",
    )
    version = VersionField()


class SimilarQuerySerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    district = serializers.IntegerField(required=False, min_value=1)
    exclude = serializers.IntegerField(required=False, min_value=1)
