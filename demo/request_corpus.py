"""What the demo deputies write and the departments answer, and the shape of the demo year.

The texts are data: ``demo/data/requests.json`` (problems, answers by category, phrases,
in Russian and Kazakh), ``demo/data/places.json`` (addresses and microdistricts by
district) and ``demo/data/request_shares.json`` (weights of categories, districts, months,
outcomes and ratings; how fast each department answers). Placeholders in the texts:
{address} {place} {district} {district_gen} {district_loc} {district_kk} {district_gen_kk}
{district_loc_kk} {n} {route} {school} {people} {houses} {year} {year2}.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from maslikhat.directory.models import Department
from requests_app.models import Outcome

from .data import load, pairs, strings

#: Requests in one demo year (``figures_2023``). Tests make a smaller year with the
#: ``DEMO_REQUESTS_PER_YEAR`` setting (or by monkeypatching this constant).
REQUESTS_PER_YEAR = 500
#: Rows per ``bulk_create`` round of the benchmark path (``--scale`` > 1).
BULK_BATCH_SIZE = 5_000
#: Distinct texts the benchmark path draws its rows from.
BULK_TEXT_POOL = 2_000

DAYS_IN_YEAR = 365
DRAFTS_WITHIN_DAYS = 30  # unsubmitted drafts are recent ones


def requests_per_year() -> int:
    return int(getattr(settings, "DEMO_REQUESTS_PER_YEAR", REQUESTS_PER_YEAR))


# --- Content --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    category: str
    title: str
    body: str
    solution: str
    done: str
    planned: str
    language: str = "ru"
    where: str = "urban"
    districts: tuple[str, ...] = ()
    places: tuple[tuple[str, str], ...] = ()
    months: tuple[int, ...] = ()
    department: str = ""
    co: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True)
class CategoryAnswers:
    """What a department writes when it only partly solved, explained or refused."""

    partial: str
    explained: tuple[str, ...]
    refused: tuple[str, ...]


def _problem(data: Mapping[str, Any]) -> Problem:
    return Problem(
        category=data["category"],
        title=data["title"],
        body=data["body"],
        solution=data["solution"],
        done=data["done"],
        planned=data["planned"],
        language=data["language"],
        where=data["where"],
        districts=strings(data["districts"]),
        places=pairs(data["places"]),
        months=tuple(data["months"]),
        department=data["department"],
        co=strings(data["co"]),
        weight=data["weight"],
    )


def _tuples(data: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Lists of strings by key (a language, a district) as tuples."""
    return {language: strings(values) for language, values in data.items()}


def _by_outcome(data: Mapping[str, Any]) -> dict[Outcome, Any]:
    return {Outcome(outcome): value for outcome, value in data.items()}


_TEXTS = load("requests")
PROBLEMS = tuple(_problem(problem) for problem in _TEXTS["problems"])
CATEGORY_ANSWERS = {
    category: CategoryAnswers(
        partial=answers["partial"],
        explained=strings(answers["explained"]),
        refused=strings(answers["refused"]),
    )
    for category, answers in _TEXTS["category_answers"].items()
}
# By language: "ru", "kk".
OPENERS = _tuples(_TEXTS["openers"])
CLOSERS = _tuples(_TEXTS["closers"])
ANSWER_INTRO: dict[str, str] = _TEXTS["answer_intro"]
RESOLVED_INTRO: dict[str, str] = _TEXTS["resolved_intro"]
PARTIAL_INTRO: dict[str, str] = _TEXTS["partial_intro"]
# The answer to a request the deputy returned for rework.
ANSWER_INTRO_AGAIN: dict[str, str] = _TEXTS["answer_intro_again"]
PLANNED_INTRO: dict[str, str] = _TEXTS["planned_intro"]
PLANNED_DEADLINE: dict[str, str] = _TEXTS["planned_deadline"]
SIGNATURE: dict[str, str] = _TEXTS["signature"]
INTERIM: dict[str, str] = _TEXTS["interim"]
INTERIM_PROGRESS = _tuples(_TEXTS["interim_progress"])
DECLINE_REASONS = strings(_TEXTS["decline_reasons"])
WITHDRAW_REASONS = strings(_TEXTS["withdraw_reasons"])
REDIRECT_REASONS = strings(_TEXTS["redirect_reasons"])
EXTENSION_REASONS = strings(_TEXTS["extension_reasons"])
EXTENSION_REJECTIONS = strings(_TEXTS["extension_rejections"])
EXTENSION_APPROVALS = strings(_TEXTS["extension_approvals"])
HEAD_RETURNS = strings(_TEXTS["head_returns"])
REWORK_COMMENTS = strings(_TEXTS["rework_comments"])
LOW_RATING_COMMENTS = strings(_TEXTS["low_rating_comments"])
MIDDLE_RATING_COMMENTS = strings(_TEXTS["middle_rating_comments"])
HIGH_RATING_COMMENTS = strings(_TEXTS["high_rating_comments"])
REQUEST_RATING_LOW = strings(_TEXTS["request_rating_low"])
REQUEST_RATING_GOOD = strings(_TEXTS["request_rating_good"])
DEPUTY_MESSAGES = strings(_TEXTS["deputy_messages"])
OFFICER_MESSAGES = strings(_TEXTS["officer_messages"])

# --- Places --------------------------------------------------------------------------------

_PLACES = load("places")
# Apartment-block addresses by district: "{h}" a house in a microdistrict, "{b}" a street
# number, "{k}" the number of a microdistrict of the series.
URBAN_ADDRESSES = _tuples(_PLACES["urban_addresses"])
# Private-house microdistricts (частный сектор) by district.
PRIVATE_PLACES = _tuples(_PLACES["private_places"])
SMALL_STREETS = strings(_PLACES["small_streets"])
BUS_ROUTES = strings(_PLACES["bus_routes"])
MICRODISTRICT_SERIES = 4

# --- Shares of the demo year ---------------------------------------------------------------

_SHARES = load("request_shares")
CATEGORY_WEIGHTS: dict[str, int] = _SHARES["category_weights"]
DISTRICT_WEIGHTS: dict[str, float] = _SHARES["district_weights"]  # roughly by population
# Fewer in the New Year days and in the summer recess.
MONTH_WEIGHTS = {int(month): weight for month, weight in _SHARES["month_weights"].items()}
KAZAKH_SHARE = 0.2  # of the requests of a category that has Kazakh problems
SOLUTION_SHARE = 0.78
PUBLIC_SHARE = 0.3
CO_AUTHOR_SHARE = 0.12
CO_EXECUTOR_SHARE = 0.3  # of the problems that name plausible co-executors
SUGGESTED_SHARE = 0.35
OWN_DISTRICT_SHARE = 0.75  # a single-mandate deputy writes mostly about their district

# Fates, as shares of the year.
DRAFT_SHARE = 0.025
DECLINE_SHARE = 0.03
DECLINE_SHARE_OTHER = 0.45  # "other": often not a matter for the local executive
WITHDRAW_SHARE = 0.03
MISROUTE_SHARE = 0.03
# Not from a draft: ``deputy_request_withdraw`` allows it, but a withdrawn draft has no
# number and the ``request_number_once_submitted`` constraint rejects it (reported).
WITHDRAW_STAGES = tuple((stage, share) for stage, share in _SHARES["withdraw_stages"])

# Departments: how fast they answer, in working days from routing to the approved answer
# (mean, spread). The KPI of the demo year shows the difference.
SLOW_DEPARTMENTS = frozenset(_SHARES["slow_departments"])
FAST_DEPARTMENTS = frozenset(_SHARES["fast_departments"])
PACE = {pace: (mean, spread) for pace, (mean, spread) in _SHARES["pace"].items()}
# Shares of the requests a department sits on for months (stalled), by pace.
STALLED_SHARE: dict[str, float] = _SHARES["stalled_share"]
STALLED_DELAY = tuple(_SHARES["stalled_delay"])  # working days
# Departments known for formal replies (отписки): more "explained" and "refused".
FORMAL_DEPARTMENTS = frozenset(_SHARES["formal_departments"])
OUTCOME_WEIGHTS = _by_outcome(_SHARES["outcome_weights"])
FORMAL_TILT = _by_outcome(_SHARES["formal_tilt"])
FAST_TILT = _by_outcome(_SHARES["fast_tilt"])
REWORK_ROUND_TILT = _by_outcome(_SHARES["rework_round_tilt"])
# The deputy's 1–5 rating by the outcome the department claimed (weights of 1, 2, 3, 4, 5).
RATING_WEIGHTS = {
    outcome: tuple(weights) for outcome, weights in _by_outcome(_SHARES["rating_weights"]).items()
}
REWORK_SHARE = _by_outcome(_SHARES["rework_share"])
UNEVALUATED_SHARE = 0.14
EVALUATION_DAYS_MEAN = 4.0  # calendar days the deputy takes to evaluate
EXTENSION_SHARE_IF_LATE = 0.5
EXTENSION_SHARE = 0.03
EXTENSION_APPROVED_SHARE = 0.7
INTERIM_SHARE_IF_SLOW = 0.55
INTERIM_SHARE = 0.08
HEAD_RETURNS_SHARE = 0.08
REQUEST_RATED_SHARE = 0.45
THREAD_SHARE = 0.33


def pace_of(department: Department) -> str:
    if department.code in SLOW_DEPARTMENTS:
        return "slow"
    return "fast" if department.code in FAST_DEPARTMENTS else "average"


def weighted(rng: random.Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def genitive(name: str) -> str:
    """«Алатауский район» → «Алатауского района»."""
    return name.removesuffix("ий район") + "ого района" if name.endswith("ий район") else name


def locative(name: str) -> str:
    """«Алатауский район» → «Алатауском районе»."""
    return name.removesuffix("ий район") + "ом районе" if name.endswith("ий район") else name


def kk_genitive(name: str) -> str:
    return f"{name}ның" if name.endswith("ауданы") else name


def kk_locative(name: str) -> str:
    return f"{name}нда" if name.endswith("ауданы") else name
