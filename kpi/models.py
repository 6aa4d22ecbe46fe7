"""The two-way KPI: its inputs, its versioned weights, its nightly snapshots and the survey.

- ``DeputyActivity``: what a deputy does outside the requests (receptions of citizens,
  reports to voters, field visits), one of the deputies' KPI inputs.
- ``KpiWeights``: the composite's weights as data, versioned; staff add a new version.
- ``KpiRun`` / ``KpiSnapshot``: one run per (period, as-of date), written by
  ``services.kpi_compute`` with a started/done marker and an idempotent replace of its rows.
- ``RaterFlag``: a rater who gave the same score to 10 or more items in a row, for staff review.
- ``WorkingDayIndex``: the working-day ordinal of every date, so SQL can count working days
  between two dates (``ordinal(b) - ordinal(a)``) without a Python loop over rows.
- ``SurveyRound`` / ``SurveyAnswer``: the yearly perception survey (the research's Table 3).

Everything is computed from the data by ``services``; the models hold fields and constraints.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maslikhat.directory.models import Deputy, District

StrOrPromise = str | Promise


class ActivityKind(models.TextChoices):
    RECEPTION = "reception", _("Reception of citizens")
    REPORT_TO_VOTERS = "report_to_voters", _("Report to voters")
    FIELD_VISIT = "field_visit", _("Field visit")


class DeputyActivity(models.Model):
    """A deputy's reception of citizens, report to voters or field visit (recorded, not rated)."""

    deputy = models.ForeignKey(
        Deputy, on_delete=models.PROTECT, related_name="activities", verbose_name=_("deputy")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    date = models.DateField(_("date"))
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deputy_activities",
        verbose_name=_("district"),
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("deputy's activity")
        verbose_name_plural = _("deputies' activities")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["date", "deputy"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActivityKind.values), name="kpi_activity_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%d.%m.%Y}"


class KpiKind(models.TextChoices):
    DEPARTMENT = "department", _("Departments")
    DEPUTY = "deputy", _("Deputies")


class KpiWeights(models.Model):
    """One version of the composite's weights for departments or for deputies.

    Versions are append-only: staff add a new one (``services.kpi_weights_set``) and it
    becomes current; the old ones stay, and every snapshot keeps a copy of the weights it used.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=KpiKind.choices)
    version = models.PositiveIntegerField(_("version"))
    weights = models.JSONField(_("weights"))
    note = models.TextField(_("why they changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)
    is_current = models.BooleanField(_("in force"), default=False)

    class Meta:
        verbose_name = _("KPI weights")
        verbose_name_plural = _("KPI weights")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="kpi_weights_version_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_current=True), name="kpi_weights_one_current"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=KpiKind.values), name="kpi_weights_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class KpiRun(models.Model):
    """The marker of one computation of a period as of a date.

    ``running`` is written (and committed) before the snapshots are computed, ``done`` in the
    same transaction as the snapshots. A run left ``running`` (a worker killed halfway) is
    never read: the next computation of the same (period, as_of) takes it over and replaces
    whatever rows it left.
    """

    period = models.CharField(_("period"), max_length=20)
    as_of = models.DateField(_("as of"))
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("KPI run")
        verbose_name_plural = _("KPI runs")
        ordering = ["-as_of", "period"]
        constraints = [
            models.UniqueConstraint(fields=["period", "as_of"], name="kpi_run_period_as_of"),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="kpi_run_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["period", "status", "-as_of"])]

    def __str__(self) -> str:
        return f"{self.period} @ {self.as_of:%d.%m.%Y} ({self.get_status_display()})"


class KpiSnapshot(models.Model):
    """One entity's KPI for a period as of a date: components, composite, rank, weights used."""

    run = models.ForeignKey(
        KpiRun,
        on_delete=models.CASCADE,  # derived data: it lives and dies with its run
        related_name="snapshots",
        verbose_name=_("run"),
    )
    period = models.CharField(_("period"), max_length=20)
    as_of = models.DateField(_("as of"))
    kind = models.CharField(_("kind"), max_length=12, choices=KpiKind.choices)
    entity_id = models.PositiveBigIntegerField(_("department or deputy"))
    components = models.JSONField(_("components"))
    composite = models.FloatField(_("composite (0–100)"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    insufficient_data = models.BooleanField(_("not enough data"), default=True)
    rated_items = models.PositiveIntegerField(_("rated items"), default=0)
    weights = models.JSONField(_("weights used"))
    weights_version = models.PositiveIntegerField(_("weights version"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        ordering = ["kind", "rank", "entity_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "as_of", "kind", "entity_id"], name="kpi_snapshot_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=KpiKind.values), name="kpi_snapshot_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(rank__isnull=True) | Q(insufficient_data=False),
                name="kpi_snapshot_rank_needs_data",
            ),
        ]
        indexes = [models.Index(fields=["kind", "entity_id", "period", "as_of"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.entity_id} {self.period} @ {self.as_of:%d.%m.%Y}"


class RaterKind(models.TextChoices):
    DEPUTY = "deputy", _("Deputy rating answers")
    DEPARTMENT = "department", _("Department rating requests")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Awaiting review")
    DISMISSED = "dismissed", _("Reviewed: the ratings stand")
    CONFIRMED = "confirmed", _("Reviewed: formal rating confirmed")


class RaterFlag(models.Model):
    """A rater who gave the same score to ``run_length`` (≥ 10) items in a row.

    One row per run of equal scores, identified by the rating that started it; a run that
    grows updates its row. Staff review the flag; the ratings themselves are not changed.
    """

    rater_kind = models.CharField(_("rater"), max_length=12, choices=RaterKind.choices)
    rater_id = models.PositiveBigIntegerField(_("deputy or department"))
    score = models.PositiveSmallIntegerField(_("score"))
    run_length = models.PositiveIntegerField(_("items in a row"))
    first_rated_at = models.DateTimeField(_("first of the run"))
    last_rated_at = models.DateTimeField(_("last of the run"))
    detected_at = models.DateTimeField(_("detected at"))
    status = models.CharField(
        _("status"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        verbose_name = _("rater flag")
        verbose_name_plural = _("rater flags")
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rater_kind", "rater_id", "first_rated_at"], name="kpi_rater_flag_run"
            ),
            models.CheckConstraint(
                condition=Q(rater_kind__in=RaterKind.values), name="kpi_rater_flag_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=FlagStatus.values), name="kpi_rater_flag_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rater_kind} #{self.rater_id}: {self.score} × {self.run_length}"


class WorkingDayIndex(models.Model):
    """``ordinal`` = working days after ``services.WORKING_DAY_EPOCH`` up to and including ``day``.

    Derived from ``WorkingCalendar`` (weekends, holidays, decreed days) and refreshed by every
    KPI computation, so that "working days from a to b" is ``ordinal(b) − ordinal(a)`` in SQL.
    """

    day = models.DateField(_("date"), primary_key=True)
    ordinal = models.PositiveIntegerField(_("working-day number"))

    class Meta:
        verbose_name = _("working-day index")
        verbose_name_plural = _("working-day index")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%d.%m.%Y}: {self.ordinal}"


class SurveyPool(models.TextChoices):
    DEPUTIES = "deputies", _("Deputies")
    CIVIL_SERVANTS = "civil_servants", _("Civil servants")


#: The four questions of the perception survey (field name, label).
SURVEY_QUESTIONS: tuple[tuple[str, StrOrPromise], ...] = (
    ("interaction", _("Interaction between the akimat and the maslikhat")),
    ("participation_in_city_life", _("Deputies' participation in the life of the city")),
    ("effectiveness", _("Effectiveness of the maslikhat")),
    ("engagement", _("Deputies' engagement")),
)


class SurveyRound(models.Model):
    """A yearly round of the perception survey, opened and closed by staff."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey round")
        verbose_name_plural = _("survey rounds")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(_("Survey %(year)s")) % {"year": self.year}

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class SurveyAnswer(models.Model):
    """One respondent's four 1–5 answers in a round; seeded answers have no respondent."""

    round = models.ForeignKey(
        SurveyRound, on_delete=models.PROTECT, related_name="answers", verbose_name=_("round")
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("respondent"),
    )
    pool = models.CharField(_("pool"), max_length=16, choices=SurveyPool.choices)
    interaction = models.PositiveSmallIntegerField(
        _("Interaction between the akimat and the maslikhat")
    )
    participation_in_city_life = models.PositiveSmallIntegerField(
        _("Deputies' participation in the life of the city")
    )
    effectiveness = models.PositiveSmallIntegerField(_("Effectiveness of the maslikhat"))
    engagement = models.PositiveSmallIntegerField(_("Deputies' engagement"))
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["round", "pool", "id"]
        constraints = [
            # NULL respondents (seeded answers) are distinct in a unique constraint.
            models.UniqueConstraint(
                fields=["round", "respondent"], name="kpi_survey_one_answer_per_user"
            ),
            models.CheckConstraint(
                condition=Q(pool__in=SurveyPool.values), name="kpi_survey_pool_valid"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                    name=f"kpi_survey_{name}_1_5",
                )
                for name, _label in SURVEY_QUESTIONS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} — {self.get_pool_display()}"
