"""The KPI in the Django admin: read-mostly views for administrators.

Weights are changed through the API (a new version, validated), not edited here; snapshots
and runs are derived data and read-only.
"""

from __future__ import annotations

from django.contrib import admin

from maslikhat.core.admin import ReadOnlyRecordAdmin

from .models import (
    DeputyActivity,
    KpiRun,
    KpiSnapshot,
    KpiWeights,
    RaterFlag,
    SurveyRound,
)

#: Shown, never added, changed or deleted here: no delete page, no bulk delete.
ReadOnlyAdmin = ReadOnlyRecordAdmin


@admin.register(DeputyActivity)
class DeputyActivityAdmin(ReadOnlyAdmin):
    """Activities are recorded through the API (with who recorded them) and count in the
    KPI: an edit or a deletion here would change a deputy's rating without a trace."""

    list_display = ["date", "deputy", "kind", "district", "recorded_by"]
    list_filter = ["kind", "district"]
    date_hierarchy = "date"
    raw_id_fields = ["deputy", "recorded_by"]


@admin.register(KpiWeights)
class KpiWeightsAdmin(ReadOnlyAdmin):
    list_display = ["kind", "version", "is_current", "created_at", "created_by"]
    list_filter = ["kind", "is_current"]


@admin.register(KpiRun)
class KpiRunAdmin(ReadOnlyAdmin):
    list_display = ["period", "as_of", "status", "attempts", "started_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["period"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["period", "as_of", "kind", "entity_id", "composite", "rank"]
    list_filter = ["kind", "insufficient_data"]
    search_fields = ["period"]


@admin.register(RaterFlag)
class RaterFlagAdmin(ReadOnlyAdmin):
    list_display = ["rater_kind", "rater_id", "score", "run_length", "status", "detected_at"]
    list_filter = ["rater_kind", "status"]


@admin.register(SurveyRound)
class SurveyRoundAdmin(ReadOnlyAdmin):
    list_display = ["year", "opened_at", "closed_at"]


# Survey answers are deliberately not in the admin: one person's answers are shown to
# nobody, administrators included; the survey page shows group means once a round is
# closed and a group is large enough (docs/roles.md, "Perception survey").
