"""The KPI of the demo year: ``seed_kpi``, a step of ``manage.py seed_demo`` after the
requests and the instructions.

1. A year of deputies' activities (receptions of citizens, reports to voters, field
   visits), each deputy with their own zeal, drawn from ``context.rng("kpi")`` only; how
   many a year and their notes are data (``demo/data/kpi.json``).
2. The perception survey of the research's year (2023), closed, whose pool means are
   exactly those of Table 3 (``survey_table_3`` in the reference data), and this year's
   round, open, so the demo accounts can answer it.
3. The snapshots of the demo year: every month, quarter and year it touches as of its
   last day (or yesterday), rolling90 and the sitting convocation as of yesterday — the
   same service the nightly task calls — and the rater flags.

Idempotent: activities and survey answers are added only when there are none yet;
the snapshots are an idempotent upsert anyway.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kpi import services
from kpi.models import (
    SURVEY_QUESTIONS,
    ActivityKind,
    DeputyActivity,
    KpiSnapshot,
    SurveyAnswer,
    SurveyPool,
    SurveyRound,
)
from kpi.periods import Period
from maslikhat.directory.models import Convocation, District
from maslikhat.directory.services import read_reference_data

from .context import DemoContext
from .data import load, strings

_DATA = load("kpi")
DEMO_DAYS = 365
#: The research's survey: its year and how many answers stand for each pool (its means,
#: such as 2.39 and 4.17, cannot come from 10 whole-number answers; 18 and 30 can).
RESEARCH_SURVEY_YEAR = 2023
RESEARCH_POOL_SIZES: dict[str, int] = {
    SurveyPool(pool): size for pool, size in _DATA["research_pool_sizes"].items()
}
#: Activities a year of an average deputy; each deputy's zeal scales them (0.2–1.8).
ACTIVITIES_PER_YEAR: dict[str, int] = {
    ActivityKind(kind): count for kind, count in _DATA["activities_per_year"].items()
}
ACTIVITY_NOTES: dict[str, tuple[str, ...]] = {
    ActivityKind(kind): strings(notes) for kind, notes in _DATA["activity_notes"].items()
}


# --- Survey answers with the research's means ------------------------------------------------


def answers_with_mean(n: int, mean: float, rng: random.Random) -> list[int]:
    """``n`` whole answers 1–5 whose mean rounds (2 decimals) to ``mean``, with some spread.

    The total is ``round(mean·n)``; it starts evenly spread, then random pairs move one
    point from one answer to another (the total, hence the mean, does not change).
    """
    total = round(mean * n)
    if round(total / n, 2) != round(mean, 2) or not n <= total <= 5 * n:
        raise ValueError(f"no {n} answers 1–5 have the mean {mean}")
    base, extra = divmod(total, n)
    answers = [base + 1] * extra + [base] * (n - extra)
    for _step in range(2 * n):
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j and answers[i] < 5 and answers[j] > 1:
            answers[i] += 1
            answers[j] -= 1
    rng.shuffle(answers)
    return answers


def research_survey_answers(
    pools: Mapping[str, Mapping[str, float]], rng: random.Random
) -> dict[str, list[dict[str, int]]]:
    """Per pool, one dict of four answers per respondent, hitting the research's means."""
    answers: dict[str, list[dict[str, int]]] = {}
    for pool, size in RESEARCH_POOL_SIZES.items():
        columns = {
            name: answers_with_mean(size, pools[pool][name], rng)
            for name, _label in SURVEY_QUESTIONS
        }
        answers[pool] = [{name: columns[name][index] for name in columns} for index in range(size)]
    return answers


def seed_survey(context: DemoContext, today: datetime.date) -> int:
    """The research's round (closed) and this year's (open); returns the answers added."""
    if SurveyRound.objects.exists():
        return 0
    staff = context.directory.staff
    research = SurveyRound.objects.create(
        year=RESEARCH_SURVEY_YEAR,
        opened_by=staff,
        opened_at=datetime.datetime(2023, 11, 1, 10, tzinfo=datetime.UTC),
        closed_at=datetime.datetime(2023, 12, 15, 10, tzinfo=datetime.UTC),
    )
    pools = read_reference_data()["survey_table_3"]["pools"]
    rows = [
        SurveyAnswer(round=research, respondent=None, pool=pool, **scores)
        for pool, respondents in research_survey_answers(pools, context.rng("kpi-survey")).items()
        for scores in respondents
    ]
    SurveyAnswer.objects.bulk_create(rows)
    if today.year != RESEARCH_SURVEY_YEAR:
        SurveyRound.objects.create(year=today.year, opened_by=staff, opened_at=timezone.now())
    return len(rows)


# --- Activities ----------------------------------------------------------------------------


def plan_activities(
    deputies: Sequence[tuple[int, int | None, int]],
    district_ids: Sequence[int],
    start: datetime.date,
    days: int,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """Activities for (deputy id, district id, user id) over ``days`` from ``start``."""
    plan: list[dict[str, Any]] = []
    for deputy_id, district_id, user_id in deputies:
        zeal = rng.uniform(0.2, 1.8)
        for kind, per_year in ACTIVITIES_PER_YEAR.items():
            count = max(0, round(per_year * zeal * days / 365 + rng.uniform(-1, 1)))
            for _index in range(count):
                day = start + datetime.timedelta(days=rng.randrange(days))
                if day.weekday() == 6:  # nobody holds receptions on Sundays
                    day -= datetime.timedelta(days=1)
                plan.append(
                    {
                        "deputy_id": deputy_id,
                        "kind": kind,
                        "date": max(day, start),
                        "district_id": district_id
                        if district_id and rng.random() < 0.8
                        else rng.choice(district_ids)
                        if district_ids
                        else None,
                        "note": rng.choice(ACTIVITY_NOTES[kind]),
                        "recorded_by_id": user_id,
                    }
                )
    return plan


def seed_activities(context: DemoContext, start: datetime.date, days: int) -> int:
    if DeputyActivity.objects.exists():
        return 0
    deputies = [(d.pk, d.district_id, d.user_id) for d in context.directory.deputies]
    district_ids = list(District.objects.order_by("pk").values_list("pk", flat=True))
    plan = plan_activities(deputies, district_ids, start, days, context.rng("kpi"))
    staff_id = context.directory.staff.pk
    rng = context.rng("kpi-recorder")
    rows = [
        # A few are entered by council staff on the deputy's behalf.
        DeputyActivity(
            **{**row, "recorded_by_id": staff_id if rng.random() < 0.15 else row["recorded_by_id"]}
        )
        for row in plan
    ]
    DeputyActivity.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- Snapshots -------------------------------------------------------------------------------


def demo_periods(start: datetime.date, as_of: datetime.date) -> list[tuple[str, datetime.date]]:
    """(period, as_of) for every month, quarter and year from ``start`` to ``as_of``, each as
    of its last day (or ``as_of``), then rolling90 and the sitting convocation."""
    keys: list[str] = []
    day = start.replace(day=1)
    while day <= as_of:
        quarter = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        for key in (f"{day:%Y-%m}", quarter, str(day.year)):
            if key not in keys:
                keys.append(key)
        day = datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    pairs = []
    for key in keys:
        _start, end = Period.parse(key).natural_bounds(as_of)
        pairs.append((key, min(end, as_of)))
    pairs.append(("rolling90", as_of))
    current = Convocation.objects.filter(is_current=True).values_list("number", flat=True).first()
    if current is not None:
        pairs.append((f"conv-{current}", as_of))
    return pairs


def seed_kpi(context: DemoContext) -> str:
    """Activities, the survey, then the demo year's snapshots (see the module docstring)."""
    started = time.monotonic()
    today = timezone.localdate()
    as_of = today - datetime.timedelta(days=1)
    start = today - datetime.timedelta(days=DEMO_DAYS)
    activities = seed_activities(context, start, DEMO_DAYS)
    answers = seed_survey(context, today)
    pairs = demo_periods(start, as_of)
    for key, period_as_of in pairs:
        services.kpi_compute(as_of=period_as_of, period=key)
    services.rater_flags_detect(as_of=as_of)
    snapshots = KpiSnapshot.objects.filter(
        Q(as_of__gte=start) | Q(period__startswith="conv-")
    ).count()
    return _(
        "KPI: %(activities)d activities of deputies, %(answers)d survey answers, "
        "%(snapshots)d snapshots in %(periods)d periods (%(seconds).1f s)."
    ) % {
        "activities": activities,
        "answers": answers,
        "snapshots": snapshots,
        "periods": len(pairs),
        "seconds": time.monotonic() - started,
    }
