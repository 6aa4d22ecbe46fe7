"""Shapes of the KPI API (``/api/v1/kpi/…``): input validation and output, no logic."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .calculators import DEPARTMENT, DEPUTY
from .models import ActivityKind, DeputyActivity, FlagStatus, RaterFlag, SurveyAnswer, SurveyRound
from .presenters import period_label


# Several models of the portal have a "kind", and drf-spectacular names every enum after its
# field: these two are described by a pattern instead, so they never collide with the others.
@extend_schema_field({"type": "string", "pattern": f"^({DEPARTMENT}|{DEPUTY})$"})
class KpiKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[DEPARTMENT, DEPUTY], **kwargs)


@extend_schema_field({"type": "string", "pattern": f"^({'|'.join(ActivityKind.values)})$"})
class ActivityKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ActivityKind.choices, **kwargs)


# --- Rankings ---------------------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        default="rolling90",
        max_length=20,
        help_text=_("2026-07, 2026-Q3, 2026, rolling90 or conv-8 (default rolling90)."),
    )


class HistoryQuerySerializer(serializers.Serializer):
    periods = serializers.ChoiceField(
        choices=["month", "quarter", "year"], required=False, default="month"
    )


class RankingRowSerializer(serializers.Serializer):
    entity = serializers.DictField(help_text=_("id, name (and code for departments)."))
    components = serializers.DictField(
        help_text=_(
            "Each component: value, n; shares also successes and the 95% Wilson interval "
            "low/high; composite terms also score (0–1). Departments' promises (promises kept) "
            "also kept_late, disputed, min_n and insufficient_data: below min_n promises due "
            "its value and interval are null."
        )
    )
    composite = serializers.FloatField(
        allow_null=True,
        help_text=_("0–100; null when insufficient_data: too few rated items make no score."),
    )
    rank = serializers.IntegerField(allow_null=True)
    insufficient_data = serializers.BooleanField()
    rated_items = serializers.IntegerField()
    weights = serializers.DictField(child=serializers.FloatField())
    weights_version = serializers.IntegerField()
    computed_at = serializers.DateTimeField()


# One object (an envelope), though it answers a list action.
@extend_schema_serializer(many=False)
class RankingsSerializer(serializers.Serializer):
    kind = KpiKindField()
    period = serializers.CharField()
    period_label = serializers.SerializerMethodField(
        help_text=_("The period in words, in the language asked for.")
    )
    as_of = serializers.DateField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    computed_at = serializers.DateTimeField(allow_null=True)
    count = serializers.SerializerMethodField()
    results = RankingRowSerializer(many=True, source="rows")

    def get_count(self, obj: Any) -> int:
        return len(obj.rows)

    def get_period_label(self, obj: Any) -> str:
        return period_label(obj.period)


class HistoryPointSerializer(serializers.Serializer):
    period = serializers.CharField()
    period_label = serializers.SerializerMethodField(
        help_text=_("The period in words, in the language asked for.")
    )
    as_of = serializers.DateField()
    composite = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    insufficient_data = serializers.BooleanField()
    components = serializers.DictField()

    def get_period_label(self, obj: Any) -> str:
        return period_label(obj.period)


class EntityHistorySerializer(serializers.Serializer):
    kind = serializers.CharField()
    entity = serializers.DictField()
    points = HistoryPointSerializer(many=True)


# --- Weights ------------------------------------------------------------------------------------


class WeightsVersionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    version = serializers.IntegerField()
    weights = serializers.DictField(child=serializers.FloatField())
    created_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


# One object (an envelope), though it answers a list action.
@extend_schema_serializer(many=False)
class WeightsInForceSerializer(serializers.Serializer):
    department = WeightsVersionSerializer()
    deputy = WeightsVersionSerializer()


class WeightsSetSerializer(serializers.Serializer):
    kind = KpiKindField()
    weights = serializers.DictField(child=serializers.FloatField(min_value=0))
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


# --- Rater flags ------------------------------------------------------------------------------


class RaterFlagSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.CharField(source="reviewed_by.full_name", default=None)

    class Meta:
        model = RaterFlag
        fields = [
            "id",
            "rater_kind",
            "rater_id",
            "score",
            "run_length",
            "first_rated_at",
            "last_rated_at",
            "detected_at",
            "status",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]


class FlagReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[FlagStatus.DISMISSED, FlagStatus.CONFIRMED])
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


# --- Activities ---------------------------------------------------------------------------------


class DeputyActivitySerializer(serializers.ModelSerializer):
    kind = ActivityKindField(read_only=True)
    deputy_name = serializers.CharField(source="deputy.name", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.full_name", read_only=True)

    class Meta:
        model = DeputyActivity
        fields = [
            "id",
            "deputy",
            "deputy_name",
            "kind",
            "date",
            "district",
            "note",
            "recorded_by",
            "created_at",
        ]


class DeputyActivityInSerializer(serializers.Serializer):
    deputy = serializers.IntegerField(
        required=False, help_text=_("Staff only; a deputy records their own.")
    )
    kind = ActivityKindField()
    date = serializers.DateField()
    district = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


# --- Survey ---------------------------------------------------------------------------------------


def _score() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=5)


class SurveyAnswerInSerializer(serializers.Serializer):
    interaction = _score()
    participation_in_city_life = _score()
    effectiveness = _score()
    engagement = _score()


class SurveyAnswerSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="round.year")

    class Meta:
        model = SurveyAnswer
        fields = [
            "id",
            "year",
            "pool",
            "interaction",
            "participation_in_city_life",
            "effectiveness",
            "engagement",
            "created_at",
        ]


class SurveyRoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyRound
        fields = ["id", "year", "opened_at", "closed_at"]


class SurveyRoundOpenSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class SurveyPoolMeansSerializer(serializers.Serializer):
    """One group's answers in a round. The means are null while the round is open and
    when the group is ``suppressed`` (fewer answers than ``min_group_answers``)."""

    n = serializers.IntegerField(help_text=_("How many answered in this group."))
    interaction = serializers.FloatField(allow_null=True)
    participation_in_city_life = serializers.FloatField(allow_null=True)
    effectiveness = serializers.FloatField(allow_null=True)
    engagement = serializers.FloatField(allow_null=True)
    suppressed = serializers.BooleanField(
        help_text=_(
            "True when the round is closed but the group has fewer answers than "
            "min_group_answers: its means are hidden (null) to protect anonymity."
        )
    )


class SurveyReportRoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    year = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    is_open = serializers.BooleanField()
    results_published = serializers.BooleanField(
        help_text=_("False while the round is open: means and gaps appear once it closes.")
    )
    respondents = serializers.IntegerField(help_text=_("How many answered the round so far."))
    pools = serializers.DictField(child=SurveyPoolMeansSerializer())
    gap = serializers.DictField(child=serializers.FloatField(allow_null=True))


# One object (an envelope), though it answers a list action.
@extend_schema_serializer(many=False)
class SurveyReportSerializer(serializers.Serializer):
    questions = serializers.ListField(child=serializers.DictField())
    min_group_answers = serializers.IntegerField(
        help_text=_("The fewest answers a group needs before its means are shown.")
    )
    rounds = SurveyReportRoundSerializer(many=True)
