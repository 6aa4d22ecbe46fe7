"""The demo year of deputy requests (``demo.requests.seed_requests``, a seed_demo step).

A small year (``DEMO_REQUESTS_PER_YEAR`` = 60) goes through the real services: every state
is present, numbers are gap-free per year, histories and due dates are real, nothing is
e-mailed, the same seed gives the same year, a second run adds nothing, and the bulk path
of ``--scale`` continues the numbering consistently.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from demo import request_corpus
from demo.context import DemoContext
from demo.directory import seed_directory
from demo.management.commands import seed_demo
from demo.requests import seed_requests
from maslikhat.core.extensions import Extension
from maslikhat.core.notifications import Notification
from maslikhat.core.threads import AuditEvent, Message, ThreadReadMark
from requests_app import services
from requests_app.models import (
    Clarification,
    DeputyRequest,
    Evaluation,
    RegistrationCounter,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

SMALL_YEAR = 60


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The steps' summary lines are read in English (the catalogs translate them)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def small_year(settings: Any) -> None:
    settings.DEMO_REQUESTS_PER_YEAR = SMALL_YEAR


def seed_year(*, seed: int = 2023, scale: int = 1) -> str:
    directory = seed_directory(seed=seed)
    return seed_requests(DemoContext(directory=directory, seed=seed, scale=scale))


def wipe_requests() -> None:
    """Remove every trace of the demo year, as a fresh database would be."""
    for model in (
        Notification,
        AuditEvent,
        ThreadReadMark,
        Message,
        Extension,
        Evaluation,
        Clarification,
        Response,
    ):
        model.objects.all().delete()
    DeputyRequest.objects.all().delete()
    RegistrationCounter.objects.all().delete()


def picture() -> list[tuple[Any, ...]]:
    """The year as numbers, titles, states and the actions of each history."""
    actions: dict[int, list[str]] = defaultdict(list)
    for item_id, action in AuditEvent.objects.order_by("created_at", "id").values_list(
        "item_id", "action"
    ):
        actions[item_id].append(action)
    return sorted(
        (r.number or "", r.title, r.status, r.outcome, r.rating, tuple(actions[r.pk]))
        for r in DeputyRequest.objects.all()
    )


def number_parts(number: str) -> tuple[int, int]:
    _prefix, year, serial = number.split("-")
    return int(year), int(serial)


def assert_numbers_gap_free() -> None:
    by_year: dict[int, list[int]] = defaultdict(list)
    numbers = [n for n in DeputyRequest.objects.values_list("number", flat=True) if n]
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        year, serial = number_parts(number)
        by_year[year].append(serial)
    counters = dict(RegistrationCounter.objects.values_list("year", "last_number"))
    assert set(counters) == set(by_year)
    for year, serials in by_year.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), year
        assert counters[year] == len(serials), year


@pytest.mark.django_db
def test_small_year_has_every_state_real_histories_and_no_email(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    real_now = timezone.now
    with django_capture_on_commit_callbacks() as callbacks, translation.override("en"):
        summary = seed_year()

    assert summary.startswith("Requests: 60 (")
    assert timezone.now is real_now  # the simulated clock is gone
    requests = list(DeputyRequest.objects.all())
    assert len(requests) == SMALL_YEAR
    assert {r.status for r in requests} == set(RequestStatus.values)
    today = timezone.localdate()

    # Numbers: gap-free per year, given in the order of submission.
    assert_numbers_gap_free()
    assert all(r.number is None for r in requests if r.status == RequestStatus.DRAFT)
    submitted = sorted((r.submitted_at, r.number or "") for r in requests if r.submitted_at)
    serials = [number_parts(number) for _moment, number in submitted]
    assert serials == sorted(serials)

    # The year is spread over the twelve months before today.
    assert min(r.created_at for r in requests).date() < today - datetime.timedelta(days=250)
    assert max(r.created_at for r in requests).date() < today

    # Histories: every request has one, a registered request was submitted on record.
    events: dict[int, list[str]] = defaultdict(list)
    for item_id, action in AuditEvent.objects.values_list("item_id", "action"):
        events[item_id].append(action)
    for r in requests:
        assert "create" in events[r.pk], r.number
        if r.status != RequestStatus.DRAFT:
            assert "submit" in events[r.pk], r.number
        if r.routed_at is not None:
            assert "route" in events[r.pk], r.number
        if r.status == RequestStatus.CLOSED:
            assert {"accept", "auto_close"} & set(events[r.pk]), r.number

    # Due dates computed by the rule from the routing day; some overdue, some answered late.
    for r in requests:
        if r.status in (RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED) or r.routed_at:
            assert r.due_date and r.original_due_date, r.number
            assert r.due_date_basis["rule"] == "deputy_request"
            assert r.due_date > timezone.localdate(r.routed_at or r.submitted_at)
    assert any(r.status == RequestStatus.IN_PROGRESS and r.is_overdue_on(today) for r in requests)
    assert any(
        r.status == RequestStatus.IN_PROGRESS and not r.is_overdue_on(today) for r in requests
    )
    assert any(r.answered_at and r.is_overdue_on(today) for r in requests)

    # Answers: closed and answered requests have a sent final answer and an outcome.
    for r in requests:
        if r.status in (RequestStatus.ANSWERED, RequestStatus.CLOSED):
            assert r.outcome, r.number
            assert r.responses.filter(kind=ResponseKind.FINAL, status=ResponseStatus.SENT).exists()
        if r.rating is not None and r.rating <= 2:
            assert r.rating_comment, r.number
        if r.request_rating is not None and r.request_rating <= 2:
            assert r.request_rating_comment, r.number
    assert any(r.rating for r in requests)
    assert any(r.is_public for r in requests)
    assert any(r.proposed_solution for r in requests)

    # Notifications are real, but a year of history is never e-mailed.
    assert Notification.objects.exists()
    assert not Notification.objects.filter(send_email=True).exists()
    assert callbacks == []


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_year_and_another_seed_another() -> None:
    seed_year(seed=7)
    first = picture()
    wipe_requests()
    seed_year(seed=7)
    assert picture() == first

    wipe_requests()
    seed_year(seed=8)
    other = picture()
    assert len(other) == len(first)
    assert other != first


@pytest.mark.django_db
def test_a_second_run_adds_nothing() -> None:
    seed_year()
    models = (DeputyRequest, Response, Extension, AuditEvent, Notification, Message)
    before = {model.__name__: model.objects.count() for model in models}

    summary = seed_year()

    assert "already in the database" in summary
    assert {model.__name__: model.objects.count() for model in models} == before


@pytest.mark.django_db
def test_the_bulk_path_continues_the_year_consistently() -> None:
    summary = seed_year(scale=2)

    assert "Benchmark volume: 60 more requests" in summary
    requests = list(DeputyRequest.objects.all())
    assert len(requests) == 2 * SMALL_YEAR
    assert_numbers_gap_free()
    today = timezone.localdate()
    finals = set(
        Response.objects.filter(kind=ResponseKind.FINAL, status=ResponseStatus.SENT).values_list(
            "request_id", flat=True
        )
    )
    for r in requests:
        if r.status in (RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED, RequestStatus.CLOSED):
            assert r.lead_department_id and r.executor_id and r.due_date, r.number
            assert r.routed_at and r.submitted_at and r.routed_at > r.submitted_at
        if r.status in (RequestStatus.ANSWERED, RequestStatus.CLOSED):
            assert r.pk in finals and r.outcome and r.answered_at, r.number
            assert r.evaluation_due_date and r.evaluation_due_date > r.answered_at.date()
        if r.status == RequestStatus.CLOSED and r.closed_at and r.answered_at:
            assert r.closed_at > r.answered_at
        if r.status != RequestStatus.DRAFT:
            assert r.number and r.number.lower() in r.search_document
        assert r.title.lower() in r.search_document
        assert r.created_at.date() < today

    # The sequences follow the explicit keys: the next request gets a fresh one.
    deputy = seed_directory().deputies[0]
    item = services.deputy_request_create(
        by=deputy.user, title="Проверка", body="Текст", category=requests[0].category
    )
    assert item.pk > max(r.pk for r in requests)


def test_the_step_is_registered_in_seed_demo() -> None:
    assert seed_requests in seed_demo.STEPS


def test_every_problem_and_answer_formats_with_the_placeholders() -> None:
    fields = {
        "address": "мкр. Айгерим-1, ул. Бирлик, 12",
        "place": "мкр. Айгерим-1",
        "district": "Алатауский район",
        "district_gen": "Алатауского района",
        "district_loc": "Алатауском районе",
        "district_kk": "Алатау ауданы",
        "district_gen_kk": "Алатау ауданының",
        "district_loc_kk": "Алатау ауданында",
        "n": 5,
        "route": "12",
        "school": 150,
        "people": 120,
        "houses": 6,
        "year": 2027,
        "year2": 2028,
    }
    categories = set(request_corpus.CATEGORY_WEIGHTS)
    assert {p.category for p in request_corpus.PROBLEMS} == categories
    assert set(request_corpus.CATEGORY_ANSWERS) == categories | {"kk"}
    for problem in request_corpus.PROBLEMS:
        for text in (problem.title, problem.body, problem.solution, problem.done, problem.planned):
            assert text.format_map(fields), problem.title
        assert len(problem.title.format_map(fields)) <= 300
        assert all(d in request_corpus.DISTRICT_WEIGHTS for d in problem.districts), problem.title
        districts = request_corpus.DISTRICT_WEIGHTS
        assert all(d in districts for d, _address in problem.places), problem.title
        assert problem.where in ("urban", "private", "none", "city"), problem.title
    for answers in request_corpus.CATEGORY_ANSWERS.values():
        assert answers.explained and answers.refused
        for text in (answers.partial, *answers.explained, *answers.refused):
            assert text.format_map(fields)
