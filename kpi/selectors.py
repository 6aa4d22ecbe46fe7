"""Reads of the KPI, for the API and for the pages built on top of it.

The pages (``/kpi/``, the methodology, a department's and a deputy's page, the survey)
need only these functions:

- ``kpi_rankings(kind, period)`` → ``Rankings``: the latest finished snapshot of a period,
  one ``RankingRow`` per department or deputy, ranked entities first. Raises
  ``NoSnapshot`` (404) when the period has never been computed.
- ``kpi_entity_history(kind, entity_id, periods="month")`` → ``EntityHistory``: the entity's
  composite, rank and components period after period, for the trend chart.
- ``kpi_periods()``: the period keys that have a finished snapshot (for a period chooser).
- ``weights_in_force(kind)`` → ``WeightsVersion``; ``weights_history(kind)``.
- ``methodology()``: the formulas, the constants and the weights in force, as plain data.
- ``survey_report()``: each round's pool means side by side and the gap between them, only
  for closed rounds and groups large enough to keep answers anonymous.

Each page reads through one call at the end of this module (``kpi_rankings_page``,
``kpi_entity_page``, ``methodology_page``, ``weights_pages``, ``survey_page``), so the
views in ``kpi/views/`` hold no ORM; ``kpi/presenters.py`` turns the results into words.

Everything here reads snapshots and small tables: the cost does not grow with requests.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import PortalError
from maslikhat.directory import selectors as directory_selectors
from maslikhat.directory.actors import Actor
from maslikhat.directory.models import Department, Deputy

from . import calculators
from .calculators import DEFAULT_WEIGHTS, DEPARTMENT, DEPUTY
from .models import (
    SURVEY_QUESTIONS,
    DeputyActivity,
    KpiRun,
    KpiSnapshot,
    KpiWeights,
    RaterFlag,
    RunStatus,
    SurveyAnswer,
    SurveyPool,
    SurveyRound,
)
from .periods import InvalidPeriod, Period

KINDS = (DEPARTMENT, DEPUTY)


class NoSnapshot(PortalError):
    """The period has not been computed yet (the nightly run or ``compute_kpi`` does it)."""

    code = "no_snapshot"
    status_code = 404
    default_message = _("There is no KPI snapshot for this period yet; run compute_kpi.")


class UnknownKind(PortalError):
    code = "unknown_kind"
    status_code = 404
    default_message = _("KPI are computed for departments and for deputies.")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UnknownKind


# --- Weights ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightsVersion:
    kind: str
    version: int  # 0: the defaults, no version stored yet
    weights: dict[str, float]
    created_at: datetime.datetime | None = None
    created_by: str | None = None
    note: str = ""


def _weights_version(row: KpiWeights) -> WeightsVersion:
    return WeightsVersion(
        kind=row.kind,
        version=row.version,
        weights={key: float(value) for key, value in row.weights.items()},
        created_at=row.created_at,
        created_by=row.created_by.full_name if row.created_by else None,
        note=row.note,
    )


def weights_in_force(kind: str) -> WeightsVersion:
    """The current weights of ``kind`` (the methodology's defaults while none is stored)."""
    _check_kind(kind)
    row = KpiWeights.objects.filter(kind=kind, is_current=True).select_related("created_by").first()
    if row is None:
        return WeightsVersion(kind=kind, version=0, weights=dict(DEFAULT_WEIGHTS[kind]))
    return _weights_version(row)


def weights_history(kind: str) -> list[WeightsVersion]:
    """Every stored version of ``kind``'s weights, newest first."""
    _check_kind(kind)
    rows = KpiWeights.objects.filter(kind=kind).select_related("created_by").order_by("-version")
    return [_weights_version(row) for row in rows]


# --- Rankings and history -----------------------------------------------------------------


@dataclass(frozen=True)
class RankingRow:
    entity: dict[str, Any]  # {"id", "name"} (+ "code" for departments)
    components: dict[str, Any]
    composite: float | None
    rank: int | None
    insufficient_data: bool
    rated_items: int
    weights: dict[str, float]
    weights_version: int
    computed_at: datetime.datetime


@dataclass(frozen=True)
class Rankings:
    kind: str
    period: str
    as_of: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    computed_at: datetime.datetime | None
    rows: list[RankingRow] = field(default_factory=list)


def entity_labels(kind: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """``{id: {"id", "name"[, "code"]}}`` for departments or deputies, in one query."""
    # Ids beyond a 64-bit integer exist nowhere (and overflow SQLite's driver).
    ids = [i for i in ids if 0 < i < 2**63]
    if kind == DEPARTMENT:
        departments = Department.objects.filter(pk__in=ids).only(
            "pk", "code", "name_ru", "name_kk", "name_en"
        )
        return {d.pk: {"id": d.pk, "code": d.code, "name": d.name} for d in departments}
    deputies = Deputy.objects.filter(pk__in=ids).select_related("user")
    return {d.pk: {"id": d.pk, "name": d.name} for d in deputies}


def latest_done_run(period: str | Period, as_of: datetime.date | None = None) -> KpiRun | None:
    """The latest finished run of ``period`` (as of ``as_of`` exactly, when given)."""
    key = period.key if isinstance(period, Period) else Period.parse(period).key
    runs = KpiRun.objects.filter(period=key, status=RunStatus.DONE)
    if as_of is not None:
        runs = runs.filter(as_of=as_of)
    return runs.order_by("-as_of").first()


def kpi_rankings(kind: str, period: str | Period, as_of: datetime.date | None = None) -> Rankings:
    """The ranking of ``kind`` for ``period`` from its latest finished snapshot.

    Rows come ranked first (rank 1..k), then the entities with not enough data (their
    composite is None: too few rated items make no score). Raises ``InvalidPeriod`` (400)
    for a period that cannot be read and ``NoSnapshot`` (404) when it was never computed.
    """
    _check_kind(kind)
    run = latest_done_run(period, as_of)
    if run is None:
        key = period.key if isinstance(period, Period) else Period.parse(period).key
        raise NoSnapshot(
            _(
                "There is no KPI snapshot for %(period)s yet; run "
                "manage.py compute_kpi --period %(period)s."
            )
            % {"period": key}
        )
    snapshots = list(
        KpiSnapshot.objects.filter(run=run, kind=kind).order_by(
            F("rank").asc(nulls_last=True), F("composite").desc(nulls_last=True), "entity_id"
        )
    )
    labels = entity_labels(kind, [s.entity_id for s in snapshots])
    rows = [
        RankingRow(
            entity=labels.get(s.entity_id, {"id": s.entity_id, "name": ""}),
            components=s.components,
            # Too few rated items: no score is shown anywhere (page, API, export, PDF),
            # only how many items there were and "not enough data".
            composite=None if s.insufficient_data else s.composite,
            rank=s.rank,
            insufficient_data=s.insufficient_data,
            rated_items=s.rated_items,
            weights=s.weights,
            weights_version=s.weights_version,
            computed_at=s.computed_at,
        )
        for s in snapshots
    ]
    return Rankings(
        kind=kind,
        period=run.period,
        as_of=run.as_of,
        period_start=run.period_start,
        period_end=run.period_end,
        computed_at=run.finished_at,
        rows=rows,
    )


@dataclass(frozen=True)
class HistoryPoint:
    period: str
    as_of: datetime.date
    composite: float | None
    rank: int | None
    insufficient_data: bool
    components: dict[str, Any]


@dataclass(frozen=True)
class EntityHistory:
    kind: str
    entity: dict[str, Any]
    points: list[HistoryPoint]


HISTORY_PERIODS = {
    "month": r"^\d{4}-\d{2}$",
    "quarter": r"^\d{4}-Q[1-4]$",
    "year": r"^\d{4}$",
}


def kpi_entity(kind: str, entity_id: int) -> dict[str, Any] | None:
    """``{"id", "name"[, "code"]}`` of a department or deputy, or None."""
    _check_kind(kind)
    return entity_labels(kind, [entity_id]).get(entity_id)


def kpi_entity_history(kind: str, entity_id: int, periods: str = "month") -> EntityHistory:
    """One entity's snapshots period after period (oldest first), for a trend chart.

    ``periods`` is ``month``, ``quarter`` or ``year``; for each period the latest finished
    snapshot counts. Raises ``UnknownKind`` (404) for an unknown kind or entity.
    """
    entity = kpi_entity(kind, entity_id)
    if entity is None or periods not in HISTORY_PERIODS:
        raise UnknownKind(_("There is no such department or deputy."))
    snapshots = (
        KpiSnapshot.objects.filter(
            kind=kind,
            entity_id=entity_id,
            run__status=RunStatus.DONE,
            period__regex=HISTORY_PERIODS[periods],
        )
        .order_by("period", "-as_of")
        .values("period", "as_of", "composite", "rank", "insufficient_data", "components")
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in snapshots:  # one entity's snapshots: a few dozen at most
        latest.setdefault(row["period"], dict(row))
    for point in latest.values():  # too few rated items: no score, as in the rankings
        if point["insufficient_data"]:
            point["composite"] = None
    points = [HistoryPoint(**point) for point in latest.values()]
    return EntityHistory(kind=kind, entity=entity, points=points)


def kpi_periods() -> list[str]:
    """Period keys with a finished snapshot, newest first within each kind of period."""
    keys = KpiRun.objects.filter(status=RunStatus.DONE).values_list("period", flat=True).distinct()
    return sorted(set(keys), key=lambda key: (_period_order(key), key), reverse=True)


def _period_order(key: str) -> int:
    for order, pattern in enumerate(HISTORY_PERIODS.values()):
        if re.match(pattern, key):
            return 10 - order
    return 0


# --- Methodology ------------------------------------------------------------------------------


def _promises_definition() -> str:
    """Promises kept's definition, with the minimum of promises due in the active language."""
    return gettext(
        "Promises of planned answers kept on time / promises due in the period. A "
        "promise is held to the earlier of the date first promised and the date in "
        "force, so moving it later does not buy time. Kept: the author confirmed the "
        "department's report, or staff resolved a dispute as kept; it counts from the "
        "day of the report. A disputed promise is not kept until staff resolve it, an "
        "open one past its date is not kept; withdrawn promises and those whose answer "
        "was returned for rework are left out. Fewer than %(min)d due: not enough data, "
        "and its weight goes to the other components."
    ) % {"min": calculators.PROMISES_MIN_DUE}


_DEPARTMENT_COMPONENTS = (
    (
        "timeliness",
        _("Timeliness"),
        _(
            "Answers given by the original due date / answers due in the period. Only final "
            "answers count; an approved extension does not move the due date and is shown "
            "separately."
        ),
        _("x = on time / due"),
    ),
    (
        "speed",
        _("Speed"),
        _("Median working days from routing to the final answer (not in the composite)."),
        _("median(working days)"),
    ),
    (
        "quality",
        _("Quality"),
        _(
            "Bayesian mean of the deputies' 1–5 ratings of the department's answers given in "
            "the period, (C·m + Σr) / (C + n), m the mean over all departments, C = 5: a few "
            "ratings cannot put a department at the top. Every evaluation with a rating "
            "counts: an answer returned for rework keeps its rating after the next answer is "
            "accepted (a 2, then a 4, is two ratings, mean 3)."
        ),
        "x = (q − 1) / 4",
    ),
    (
        "rework",
        _("Rework"),
        _(
            "Share of the final answers sent in the period that the deputy returned for "
            "rework; each return is kept, with its rating, beside the answer it judged."
        ),
        _("x = 1 − share"),
    ),
    (
        "resolution",
        _("Resolution"),
        _("(Resolved + ½ · partially resolved) / closed requests."),
        _("x = share"),
    ),
    (
        "discipline",
        _("Discipline"),
        _("Instructions executed by their deadline / instructions due in the period."),
        _("x = share"),
    ),
    (
        "promises",
        _("Promises kept"),
        lazy(_promises_definition, str)(),
        _("x = share"),
    ),
    (
        "open_overdue",
        _("Open overdue"),
        _(
            "Requests in progress past their due date at the snapshot moment "
            "(not in the composite)."
        ),
        _("count"),
    ),
)
_DEPUTY_COMPONENTS = (
    (
        "requests",
        _("Requests"),
        _("Requests filed in the period, authored or co-authored."),
        _("x = n / max over deputies"),
    ),
    (
        "request_quality",
        _("Request quality"),
        _(
            "Bayesian mean of the departments' 1–5 ratings of the deputy's requests (clear "
            "problem, facts, a proposed solution, within competence), C = 5."
        ),
        "x = (q − 1) / 4",
    ),
    (
        "follow_through",
        _("Follow-through"),
        _("Share of final answers the deputy evaluated within 10 working days."),
        _("x = share"),
    ),
    (
        "resolution",
        _("Resolution"),
        _("Share of the deputy's closed requests that were resolved or partially resolved."),
        _("x = share"),
    ),
    (
        "activity",
        _("Activity"),
        _("Receptions of citizens, reports to voters and field visits recorded in the period."),
        _("x = n / max over deputies"),
    ),
)
_SAFEGUARDS = (
    _("A rating of 1 or 2 needs a written reason; ratings are frozen 7 days after they are given."),
    _("Fewer than 3 rated items: the entity shows “not enough data” instead of a rank."),
    _("Shares are shown with their 95% Wilson interval, so 4 requests do not read like 400."),
    _("A rater who gives the same score to 10 or more items in a row is flagged for staff review."),
    _(
        "Every evaluation is kept: a formal reply returned for rework keeps its low rating "
        "in the department's record after the next answer is accepted, and the return "
        "counts in the rework share."
    ),
    _(
        "A component without data in the period is left out of the composite and the other "
        "weights are renormalised to add up to 1."
    ),
    _(
        "Snapshots depend only on the data and their date: a past period recomputed gives "
        "the same numbers."
    ),
)


def methodology() -> dict[str, Any]:
    """The methodology page's content: components, formulas, weights in force, safeguards."""

    def section(kind: str, components: tuple[tuple[str, Any, Any, Any], ...]) -> dict[str, Any]:
        weights = weights_in_force(kind)
        return {
            "composite": "100 × Σ wᵢ·xᵢ / Σ wᵢ",
            "weights": weights.weights,
            "weights_version": weights.version,
            "weights_set_at": weights.created_at,
            "components": [
                {
                    "key": key,
                    "label": str(label),
                    "definition": str(definition),
                    "normalisation": str(normalisation),
                    "weight": weights.weights.get(key),
                    "in_composite": key in weights.weights,
                }
                for key, label, definition, normalisation in components
            ],
        }

    return {
        "departments": section(DEPARTMENT, _DEPARTMENT_COMPONENTS),
        "deputies": section(DEPUTY, _DEPUTY_COMPONENTS),
        "constants": {
            "bayes_c": calculators.BAYES_C,
            "min_rated_items": calculators.MIN_RATED_ITEMS,
            "flag_run_length": calculators.FLAG_RUN_LENGTH,
            "follow_through_working_days": calculators.FOLLOW_THROUGH_WORKING_DAYS,
            "promises_min_due": calculators.PROMISES_MIN_DUE,
            "rating_freeze_days": 7,
            "wilson_confidence": 0.95,
        },
        "periods": ["2026-07", "2026-Q3", "2026", "rolling90", "conv-8"],
        "safeguards": [str(text) for text in _SAFEGUARDS],
    }


# --- Survey -------------------------------------------------------------------------------------


def survey_open_round() -> SurveyRound | None:
    return SurveyRound.objects.filter(closed_at__isnull=True).order_by("-year").first()


def survey_min_group_answers() -> int:
    """The fewest answers a group needs before its means are shown (a setting, at least 1)."""
    return max(1, int(settings.KPI_SURVEY_MIN_GROUP_ANSWERS))


def survey_report() -> list[dict[str, Any]]:
    """Per round (newest first): each pool's answer count and mean per question (2 decimals)
    and the gap, deputies' mean minus civil servants' mean, per question.

    Anonymity (``docs/roles.md``, "Perception survey"): means are read only for closed
    rounds (the database never even averages an open round's answers, so watching the
    means move after each answer reveals nothing), and a pool with fewer than
    ``survey_min_group_answers()`` answers is ``suppressed``: its means and the gap stay
    ``None``. Counts are always shown: how many answered is no one's answer. Nobody,
    staff included, gets means any other way.
    """
    questions = [name for name, _label in SURVEY_QUESTIONS]
    minimum = survey_min_group_answers()
    closed = Q(round__closed_at__isnull=False)
    rows = (
        SurveyAnswer.objects.values("round_id", "pool")
        .annotate(n=Count("pk"), **{name: Avg(name, filter=closed) for name in questions})
        .order_by()
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    means: dict[int, dict[str, dict[str, float | None]]] = defaultdict(dict)
    for group in rows:  # one row per round and pool
        row: dict[str, Any] = dict(group)
        counts[row["round_id"]][row["pool"]] = row["n"]
        means[row["round_id"]][row["pool"]] = {
            name: None if row[name] is None else round(float(row[name]), 2) for name in questions
        }
    report = []
    for survey in SurveyRound.objects.order_by("-year"):
        published = not survey.is_open
        pools: dict[str, dict[str, Any]] = {}
        for pool in SurveyPool.values:
            n = counts[survey.pk].get(pool, 0)
            suppressed = published and n < minimum
            shown = published and not suppressed
            pool_means = means[survey.pk].get(pool, {})
            pools[pool] = {
                "n": n,
                **{name: pool_means.get(name) if shown else None for name in questions},
                "suppressed": suppressed,
            }
        deputies, servants = pools[SurveyPool.DEPUTIES], pools[SurveyPool.CIVIL_SERVANTS]
        gap = {
            name: None
            if deputies[name] is None or servants[name] is None
            else round(deputies[name] - servants[name], 2)
            for name in questions
        }
        report.append(
            {
                "id": survey.pk,
                "year": survey.year,
                "opened_at": survey.opened_at,
                "closed_at": survey.closed_at,
                "is_open": survey.is_open,
                "results_published": published,
                "respondents": sum(counts[survey.pk].values()),
                "pools": pools,
                "gap": gap,
            }
        )
    return report


def survey_questions() -> list[dict[str, str]]:
    return [{"key": name, "label": str(label)} for name, label in SURVEY_QUESTIONS]


# --- Activities and flags -----------------------------------------------------------------


def activity_list(*, actor: Actor) -> QuerySet[DeputyActivity]:
    """A deputy sees their own activities; staff, the chair and administrators see all
    (the same rule as ``permissions.can_see_activity``)."""
    qs = DeputyActivity.objects.select_related("deputy__user", "district", "recorded_by")
    if actor.sees_everything:
        return qs
    if actor.deputy_id is not None:
        return qs.filter(deputy_id=actor.deputy_id)
    return qs.none()


def rater_flag_list(*, status: str | None = None) -> QuerySet[RaterFlag]:
    """Rater flags, newest first (``permissions.can_see_flags``: pages and the API check)."""
    qs = RaterFlag.objects.select_related("reviewed_by")
    if status:
        qs = qs.filter(status=status)
    return qs


# --- What each KPI page reads, in one call ---------------------------------------------------

#: The period the pages open on when none is asked for (while it has been computed).
DEFAULT_PERIOD = "rolling90"


def default_period(computed: list[str]) -> str:
    """The rolling 90 days when they were computed (or nothing was), else the newest period
    that was (``computed`` comes newest first, from ``kpi_periods``)."""
    return DEFAULT_PERIOD if DEFAULT_PERIOD in computed or not computed else computed[0]


def kpi_rankings_or_none(kind: str, period: str) -> Rankings | None:
    """``kpi_rankings``, or None for a period never computed (the page's empty state)."""
    try:
        return kpi_rankings(kind, period)
    except (NoSnapshot, InvalidPeriod):
        return None


@dataclass(frozen=True)
class RankingsPage:
    periods: list[str]  # every computed period, for the chooser
    period: str  # the one shown: the asked one, else the default
    rankings: Rankings | None


def kpi_rankings_page(kind: str, *, period: str | None) -> RankingsPage:
    """The rankings of ``kind`` for ``period`` (the default one when None)."""
    periods = kpi_periods()
    key = period or default_period(periods)
    return RankingsPage(periods=periods, period=key, rankings=kpi_rankings_or_none(kind, key))


@dataclass(frozen=True)
class EntityPage:
    kind: str
    entity: dict[str, Any]
    periods: list[str]
    period: str
    rankings: Rankings | None
    row: RankingRow | None  # the entity's row in the period's ranking, if it has one
    history: EntityHistory
    weights: dict[str, float]  # those of its row's snapshot, else those in force
    weights_version: int | None
    profile: Deputy | None = None  # deputies only: party and district
    activities: list[DeputyActivity] = field(default_factory=list)  # deputies, in the period


def kpi_entity_page(
    kind: str, entity_id: int, *, period: str | None, trend: str, user: User | AnonymousUser
) -> EntityPage | None:
    """A department's or a deputy's page: the period's ranking row, the trend by ``trend``
    (``month``, ``quarter``, ``year``), the weights; None for an unknown entity."""
    entity = kpi_entity(kind, entity_id)
    if entity is None:
        return None
    page = kpi_rankings_page(kind, period=period)
    rankings = page.rankings
    row = None
    if rankings is not None:
        row = next((r for r in rankings.rows if r.entity["id"] == entity_id), None)
    history = kpi_entity_history(kind, entity_id, periods=trend)
    if row is not None:
        weights, version = row.weights, row.weights_version
    else:
        in_force = weights_in_force(kind)
        weights, version = in_force.weights, in_force.version
    extras: dict[str, Any] = {}
    if kind == DEPUTY:
        extras = _deputy_public_profile(entity_id, rankings, user=user)
    return EntityPage(
        kind=kind,
        entity=entity,
        periods=page.periods,
        period=page.period,
        rankings=rankings,
        row=row,
        history=history,
        weights=weights,
        weights_version=version,
        **extras,
    )


def _deputy_public_profile(
    deputy_id: int, rankings: Rankings | None, *, user: User | AnonymousUser
) -> dict[str, Any]:
    """The deputy's party and district, and their activities in the period.

    Only what is public about a deputy: name, party, district; the activities without
    their notes (a note may name the citizens who came).
    """
    # Its commissions are not shown on the KPI page: no need for the list's prefetch.
    profile = (
        directory_selectors.deputy_list(user=user)
        .prefetch_related(None)
        .filter(pk=deputy_id)
        .first()
    )
    activities: list[DeputyActivity] = []
    if rankings is not None:
        # One indexed read bounded by the period (``activity_list`` is scoped to the
        # signed-in deputy or staff; these are the public ones of one deputy).
        activities = list(
            DeputyActivity.objects.filter(
                deputy_id=deputy_id, date__range=(rankings.period_start, rankings.period_end)
            ).select_related("district")[:200]
        )
    return {"profile": profile, "activities": activities}


@dataclass(frozen=True)
class SurveyPage:
    questions: list[dict[str, str]]
    report: list[dict[str, Any]]
    open_round: SurveyRound | None
    answered: bool  # whether this person already answered the open round
    min_group_answers: int


def survey_page(*, user: User | AnonymousUser, pool: str | None) -> SurveyPage:
    """The survey report, the open round, and whether ``user`` (answering for ``pool``)
    already answered it."""
    questions = survey_questions()
    report = survey_report()
    open_round = survey_open_round()
    answered = False
    if open_round is not None and user.is_authenticated and pool is not None:
        # One indexed EXISTS on the unique (round, respondent).
        answered = SurveyAnswer.objects.filter(round=open_round, respondent=user).exists()
    return SurveyPage(
        questions=questions,
        report=report,
        open_round=open_round,
        answered=answered,
        min_group_answers=survey_min_group_answers(),
    )


def rater_names(flags: list[RaterFlag]) -> dict[str, dict[int, dict[str, Any]]]:
    """The raters' names of a page of flags, per kind: one query per kind present."""
    return {
        kind: entity_labels(kind, [flag.rater_id for flag in flags if flag.rater_kind == kind])
        for kind in KINDS
        if any(flag.rater_kind == kind for flag in flags)
    }


@dataclass(frozen=True)
class MethodologyPage:
    data: dict[str, Any]  # ``methodology()``
    history: dict[str, list[WeightsVersion]]  # every version of the weights, per kind


def methodology_page() -> MethodologyPage:
    """The methodology and, per kind, the history of the weights."""
    data = methodology()
    return MethodologyPage(data=data, history={kind: weights_history(kind) for kind in KINDS})


@dataclass(frozen=True)
class WeightsPage:
    current: WeightsVersion
    history: list[WeightsVersion]


def weights_pages() -> dict[str, WeightsPage]:
    """Per kind, the weights in force and every version (the staff's weights page)."""
    return {
        kind: WeightsPage(current=weights_in_force(kind), history=weights_history(kind))
        for kind in KINDS
    }
