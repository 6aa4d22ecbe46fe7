"""Every write of the KPI: activities, weights, snapshots, rater flags, the survey.

The snapshot computation (``kpi_compute``) is the heart of it:

1. parse the period, cut it at ``as_of`` (never ``now()``: the numbers depend on the
   data and ``as_of`` only, so a past period recomputed gives the same numbers);
2. mark the run ``running`` and commit that marker;
3. in one transaction: lock the run, read the counts in SQL (``aggregates``), turn them
   into components, composites and ranks (``calculators``), replace the run's snapshot
   rows (delete and insert) and mark the run ``done``.

A worker killed in step 3 leaves the run ``running`` and its transaction rolled back;
readers only ever read ``done`` runs, and the next computation of the same
(period, as_of) takes the run over and replaces whatever it finds. Running it twice
writes the same rows again: an idempotent upsert.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import ActionForbidden, TransitionNotAllowed, ValidationFailed
from maslikhat.directory.actors import Actor, actor_for
from maslikhat.directory.models import Convocation, Deputy, District

from . import aggregates, calculators, permissions
from .calculators import DEPARTMENT, DEPUTY, DepartmentInputs, DeputyInputs, RankItem
from .models import (
    SURVEY_QUESTIONS,
    ActivityKind,
    DeputyActivity,
    FlagStatus,
    KpiRun,
    KpiSnapshot,
    KpiWeights,
    RaterFlag,
    RunStatus,
    SurveyAnswer,
    SurveyPool,
    SurveyRound,
)
from .periods import CONVOCATION, InvalidPeriod, Period, current_periods
from .selectors import weights_in_force

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 2000


# --- Deputies' activities ---------------------------------------------------------------


@transaction.atomic
def deputy_activity_record(
    *,
    by: User,
    deputy: Deputy | int,
    kind: str,
    date: datetime.date,
    district: District | int | None = None,
    note: str = "",
) -> DeputyActivity:
    """Record a reception of citizens, a report to voters or a field visit.

    A deputy records their own; maslikhat staff record anyone's. The date may not be in
    the future (an activity is recorded once it took place).
    """
    actor = actor_for(by)
    deputy_id = deputy.pk if isinstance(deputy, Deputy) else int(deputy)
    if not permissions.can_record_activity(actor, deputy_id):
        raise ActionForbidden(_("A deputy records only their own activities."))
    if kind not in ActivityKind.values:
        raise ValidationFailed(
            _("Choose a reception, a report to voters or a field visit."), field="kind"
        )
    if not isinstance(date, datetime.date):
        raise ValidationFailed(_("Give the date of the activity."), field="date")
    if date > timezone.localdate():
        raise ValidationFailed(_("An activity is recorded once it has taken place."), field="date")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed(
            _("The note is too long (at most %(limit)d characters).") % {"limit": NOTE_MAX_LENGTH},
            field="note",
        )
    if not Deputy.objects.filter(pk=deputy_id).exists():
        raise ValidationFailed(_("There is no such deputy."), field="deputy")
    district_id = district.pk if isinstance(district, District) else district
    if district_id is not None and not District.objects.filter(pk=district_id).exists():
        raise ValidationFailed(_("There is no such district."), field="district")
    return DeputyActivity.objects.create(
        deputy_id=deputy_id,
        kind=kind,
        date=date,
        district_id=district_id,
        note=note,
        recorded_by=by,
    )


# --- Weights ------------------------------------------------------------------------------

_WEIGHT_ERRORS = {
    "unknown_kind": _("Weights are set for departments or for deputies."),
    "unknown_keys": _("Unknown components: %(keys)s."),
    "missing_keys": _("Give a weight for every component; missing: %(keys)s."),
    "not_a_number": _("The weight of %(key)s must be a number."),
    "negative": _("The weight of %(key)s must not be negative."),
    "bad_sum": _("The weights must add up to 1 (they add up to %(total)s)."),
}


@transaction.atomic
def kpi_weights_set(
    *, by: User, kind: str, weights: Mapping[str, Any], note: str = ""
) -> KpiWeights:
    """Staff put a new version of the composite's weights in force.

    Versions are never edited: the new one gets the next number and becomes current,
    the previous one stays for the record. Snapshots computed from now on use it (and
    store a copy); existing snapshots keep the weights they were computed with.
    """
    if not permissions.can_edit_weights(actor_for(by)):
        raise ActionForbidden(_("Only maslikhat staff set the KPI weights."))
    try:
        clean = calculators.validate_weights(kind, weights if isinstance(weights, Mapping) else {})
    except calculators.WeightsError as exc:
        params = {k: ", ".join(v) if isinstance(v, list) else v for k, v in exc.params.items()}
        message = _WEIGHT_ERRORS[exc.code] % params if params else _WEIGHT_ERRORS[exc.code]
        raise ValidationFailed(message, field="weights") from exc
    # The lock on the kind's versions serialises two staff members saving at once: the
    # second gets the next number instead of colliding on the unique (kind, version).
    list(KpiWeights.objects.select_for_update().filter(kind=kind).values_list("pk", flat=True))
    latest = KpiWeights.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
    KpiWeights.objects.filter(kind=kind, is_current=True).update(is_current=False)
    return KpiWeights.objects.create(
        kind=kind,
        version=latest + 1,
        weights=clean,
        note=(note or "").strip()[:NOTE_MAX_LENGTH],
        created_by=by,
        is_current=True,
    )


# --- Snapshots ----------------------------------------------------------------------------


def _convocation_term(number: int) -> tuple[datetime.date, datetime.date | None]:
    convocation = Convocation.objects.filter(number=number).values("elected_on", "ends_on").first()
    if convocation is None:
        raise InvalidPeriod(_("There is no such convocation."))
    ends_on = convocation["ends_on"]
    if ends_on is None:
        # A convocation without an end date ends the day before the next one is elected.
        following = (
            Convocation.objects.filter(number__gt=number)
            .order_by("number")
            .values_list("elected_on", flat=True)
            .first()
        )
        if following is not None:
            ends_on = following - datetime.timedelta(days=1)
    return convocation["elected_on"], ends_on


def period_span(period: Period, as_of: datetime.date) -> aggregates.Span:
    """The days ``period`` counts as of ``as_of`` (a convocation's term read from the database)."""
    term = _convocation_term(period.convocation or 0) if period.kind == CONVOCATION else None
    start, end = period.bounds(as_of, term)
    return aggregates.Span(start=start, end=end, as_of=as_of)


def _run_start(period: Period, span: aggregates.Span) -> KpiRun:
    """Write the ``running`` marker (its own transaction), taking over an earlier run."""
    now = timezone.now()
    with transaction.atomic():
        run, created = KpiRun.objects.select_for_update().get_or_create(
            period=period.key,
            as_of=span.as_of,
            defaults={
                "period_start": span.start,
                "period_end": span.end,
                "status": RunStatus.RUNNING,
                "started_at": now,
            },
        )
        if not created:
            # A run left 'running' by a killed worker, a failed one or a done one being
            # recomputed: the same row is taken over, its snapshots replaced below.
            run.status = RunStatus.RUNNING
            run.attempts += 1
            run.started_at = now
            run.finished_at = None
            run.error = ""
            run.period_start, run.period_end = span.start, span.end
            run.save()
    return run


def kpi_compute(*, as_of: datetime.date, period: str) -> KpiRun:
    """Compute and store the KPI of ``period`` as of ``as_of`` for departments and deputies.

    Idempotent: computing the same (period, as_of) again replaces its snapshot rows with
    the same numbers (if the data did not change). Raises ``InvalidPeriod`` for a period
    that cannot be read or that starts after ``as_of``.
    """
    parsed = Period.parse(period)
    span = period_span(parsed, as_of)
    run = _run_start(parsed, span)
    try:
        with transaction.atomic():
            # Two computations of one (period, as_of) at once: the second waits here and
            # then replaces the first one's rows with the same numbers.
            KpiRun.objects.select_for_update().filter(pk=run.pk).values_list("pk").first()
            as_of_ordinal = aggregates.working_day_index_refresh(as_of)
            computed_at = timezone.now()
            rows = [
                *_department_snapshots(run, span, computed_at),
                *_deputy_snapshots(run, span, as_of_ordinal, computed_at),
            ]
            KpiSnapshot.objects.filter(period=parsed.key, as_of=as_of).delete()
            KpiSnapshot.objects.bulk_create(rows, batch_size=500)
            run.status = RunStatus.DONE
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at"])
    except Exception as exc:
        KpiRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000]
        )
        raise
    return run


def _merge(*sources: Mapping[int, Mapping[str, Any]], entity_id: int) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for source in sources:
        merged.update(source.get(entity_id, {}))
    return merged


def _scored(components: dict[str, Any], normalized: Mapping[str, float | None]) -> dict[str, Any]:
    """Add each composite term's normalised value (0–1) to its component as ``score``."""
    for key, value in normalized.items():
        components[key]["score"] = None if value is None else round(value, 4)
    return components


def _snapshots(
    run: KpiRun,
    kind: str,
    entries: list[tuple[int, dict[str, Any], float | None, int]],
    computed_at: datetime.datetime,
) -> list[KpiSnapshot]:
    weights = weights_in_force(kind)
    ranks = calculators.rank_entities(
        RankItem(entity_id, composite, rated) for entity_id, _c, composite, rated in entries
    )
    return [
        KpiSnapshot(
            run=run,
            period=run.period,
            as_of=run.as_of,
            kind=kind,
            entity_id=entity_id,
            components=components,
            composite=composite,
            rank=ranks[entity_id],
            insufficient_data=ranks[entity_id] is None,
            rated_items=rated,
            weights=weights.weights,
            weights_version=weights.version,
            computed_at=computed_at,
        )
        for entity_id, components, composite, rated in entries
    ]


def _department_snapshots(
    run: KpiRun, span: aggregates.Span, computed_at: datetime.datetime
) -> list[KpiSnapshot]:
    requests = aggregates.department_request_counts(span)
    ratings = aggregates.department_rating_counts(span)
    rework = aggregates.department_rework_counts(span)
    speed = aggregates.department_speed(span)
    instructions = aggregates.department_instruction_counts(span)
    promises = aggregates.department_promise_counts(span)
    prior = calculators.prior_mean(
        (row["ratings_sum"], row["ratings_n"]) for row in ratings.values()
    )
    weights = weights_in_force(DEPARTMENT).weights
    entries = []
    ids = aggregates.department_ids(
        [*requests, *ratings, *rework, *speed, *instructions, *promises]
    )
    # A loop over departments (dozens), not over requests.
    for department_id in ids:
        counts = _merge(
            requests, ratings, rework, speed, instructions, promises, entity_id=department_id
        )
        inputs = DepartmentInputs(**counts)
        components = calculators.department_components(inputs, prior=prior)
        normalized = calculators.department_normalized(components)
        entries.append(
            (
                department_id,
                _scored(components, normalized),
                calculators.composite(normalized, weights),
                inputs.ratings_n,
            )
        )
    return _snapshots(run, DEPARTMENT, entries, computed_at)


def _deputy_snapshots(
    run: KpiRun, span: aggregates.Span, as_of_ordinal: int, computed_at: datetime.datetime
) -> list[KpiSnapshot]:
    requests = aggregates.deputy_request_counts(span)
    coauthored = aggregates.deputy_coauthored_counts(span)
    follow = aggregates.deputy_follow_through_counts(span, as_of_ordinal)
    activities = aggregates.deputy_activity_counts(span)
    prior = calculators.prior_mean(
        (row["request_ratings_sum"], row["request_ratings_n"]) for row in requests.values()
    )
    weights = weights_in_force(DEPUTY).weights
    ids = aggregates.deputy_ids(span, [*requests, *coauthored, *follow, *activities])
    inputs_by_id: dict[int, DeputyInputs] = {}
    for deputy_id in ids:
        counts = _merge(requests, follow, entity_id=deputy_id)
        counts["requests_filed"] = counts.get("requests_filed", 0) + coauthored.get(deputy_id, 0)
        by_kind = activities.get(deputy_id, {})
        inputs_by_id[deputy_id] = DeputyInputs(
            **counts, activities=sum(by_kind.values()), activities_by_kind=by_kind
        )
    max_requests = max((i.requests_filed for i in inputs_by_id.values()), default=0)
    max_activity = max((i.activities for i in inputs_by_id.values()), default=0)
    entries = []
    for deputy_id, inputs in inputs_by_id.items():
        components = calculators.deputy_components(inputs, prior=prior)
        normalized = calculators.deputy_normalized(
            components, max_requests=max_requests, max_activity=max_activity
        )
        entries.append(
            (
                deputy_id,
                _scored(components, normalized),
                calculators.composite(normalized, weights),
                inputs.request_ratings_n,
            )
        )
    return _snapshots(run, DEPUTY, entries, computed_at)


def kpi_compute_nightly(*, today: datetime.date | None = None) -> list[KpiRun]:
    """The nightly run (02:00): ``kpi_compute_current`` as of yesterday."""
    return kpi_compute_current(as_of=(today or timezone.localdate()) - datetime.timedelta(days=1))


def kpi_compute_current(*, as_of: datetime.date) -> list[KpiRun]:
    """As of ``as_of``: its month, quarter and year, rolling90 and the sitting convocation;
    then the rater flags.

    Every period is tried even if one fails; the first error is raised at the end so
    the task is retried (each computation is idempotent).
    """
    current = Convocation.objects.filter(is_current=True).values_list("number", flat=True).first()
    runs: list[KpiRun] = []
    errors: list[Exception] = []
    for period in current_periods(as_of, current):
        try:
            runs.append(kpi_compute(as_of=as_of, period=period.key))
        except Exception as exc:  # re-raised below, after the other periods
            logger.exception("KPI %s as of %s failed", period.key, as_of)
            errors.append(exc)
    rater_flags_detect(as_of=as_of)
    if errors:
        raise errors[0]
    return runs


# --- Raters who give one score to everything ------------------------------------------------


@transaction.atomic
def rater_flags_detect(*, as_of: datetime.date) -> int:
    """Flag every run of 10+ equal scores in a row given by one rater up to ``as_of``.

    One flag per run (keyed by the rating that started it); a run that grew since it was
    flagged updates its length, a reviewed flag keeps its review. Returns the runs found.
    """
    upto = aggregates.Span(start=as_of, end=as_of, as_of=as_of).as_of_before
    runs = aggregates.same_score_runs(calculators.FLAG_RUN_LENGTH, upto)
    now = timezone.now()
    if runs:
        RaterFlag.objects.bulk_create(
            [RaterFlag(detected_at=now, **run) for run in runs],
            update_conflicts=True,
            unique_fields=["rater_kind", "rater_id", "first_rated_at"],
            update_fields=["score", "run_length", "last_rated_at"],
        )
    return len(runs)


@transaction.atomic
def rater_flag_review(*, by: User, flag_id: int, status: str, note: str = "") -> RaterFlag:
    """Staff record their review of a flag: the ratings stand, or they were formal."""
    if not permissions.can_review_flags(actor_for(by)):
        raise ActionForbidden(_("Only maslikhat staff review rater flags."))
    if status not in (FlagStatus.DISMISSED, FlagStatus.CONFIRMED):
        raise ValidationFailed(_("Dismiss the flag or confirm it."), field="status")
    flag = RaterFlag.objects.select_for_update().filter(pk=flag_id).first()
    if flag is None:
        raise ValidationFailed(_("There is no such flag."), field="flag")
    flag.status = status
    flag.review_note = (note or "").strip()[:NOTE_MAX_LENGTH]
    flag.reviewed_by = by
    flag.reviewed_at = timezone.now()
    flag.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    return flag


# --- Perception survey ----------------------------------------------------------------------


@transaction.atomic
def survey_round_open(*, by: User, year: int) -> SurveyRound:
    """Staff open the year's round; one round is open at a time, one round per year."""
    if not permissions.can_manage_survey_rounds(actor_for(by)):
        raise ActionForbidden(_("Only maslikhat staff open survey rounds."))
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationFailed(_("Give the year of the round."), field="year")
    if SurveyRound.objects.select_for_update().filter(closed_at__isnull=True).exists():
        raise TransitionNotAllowed(_("Another survey round is open: close it first."))
    if SurveyRound.objects.filter(year=year).exists():
        raise TransitionNotAllowed(_("The survey of this year has already been held."))
    return SurveyRound.objects.create(year=year, opened_by=by, opened_at=timezone.now())


@transaction.atomic
def survey_round_close(*, by: User, round_id: int) -> SurveyRound:
    """Staff close an open round; its answers then only feed the report."""
    if not permissions.can_manage_survey_rounds(actor_for(by)):
        raise ActionForbidden(_("Only maslikhat staff close survey rounds."))
    survey = SurveyRound.objects.select_for_update().filter(pk=round_id).first()
    if survey is None:
        raise ValidationFailed(_("There is no such survey round."), field="round")
    if survey.closed_at is not None:
        raise TransitionNotAllowed(_("This survey round is already closed."))
    survey.closed_at = timezone.now()
    survey.save(update_fields=["closed_at"])
    return survey


def survey_pool_of(actor: Actor) -> str | None:
    """Deputies answer for the deputies' pool; department officers, staff and the chair
    for the civil servants'; anyone else does not answer."""
    if actor.is_deputy:
        return SurveyPool.DEPUTIES
    if actor.is_civil_servant:
        return SurveyPool.CIVIL_SERVANTS
    return None


@transaction.atomic
def survey_answer_submit(*, by: User, **scores: Any) -> SurveyAnswer:
    """Answer the open round's four questions, 1–5 each; once per person and round."""
    actor = actor_for(by)
    pool = survey_pool_of(actor)
    if pool is None:
        raise ActionForbidden(_("The survey is answered by deputies and civil servants."))
    survey = SurveyRound.objects.filter(closed_at__isnull=True).order_by("-year").first()
    if survey is None:
        raise TransitionNotAllowed(_("No survey round is open."))
    clean: dict[str, int] = {}
    for name, _label in SURVEY_QUESTIONS:
        value = scores.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationFailed(_("Answer with a score from 1 to 5."), field=name)
        clean[name] = value
    unknown = set(scores) - {name for name, _label in SURVEY_QUESTIONS}
    if unknown:
        raise ValidationFailed(_("Unknown question."), field=sorted(unknown)[0])
    if SurveyAnswer.objects.filter(round=survey, respondent=by).exists():
        raise TransitionNotAllowed(_("You have already answered this survey round."))
    try:
        # The unique (round, respondent) constraint settles two submissions at once.
        with transaction.atomic():
            return SurveyAnswer.objects.create(round=survey, respondent=by, pool=pool, **clean)
    except IntegrityError as exc:
        raise TransitionNotAllowed(_("You have already answered this survey round.")) from exc


def kpi_compute_periods(*, as_of: datetime.date, periods: list[str]) -> list[KpiRun]:
    """Compute several periods as of one date (the command and the demo use it)."""
    return [kpi_compute(as_of=as_of, period=period) for period in periods]
