"""Perception survey privacy: nobody, staff included, can read one person's answers.

The rules (docs/roles.md, "Perception survey"): a round's results appear only after it
closes, and only for groups with at least ``KPI_SURVEY_MIN_GROUP_ANSWERS`` answers (5);
a smaller group is suppressed (the page says so; the API says ``suppressed: true`` with
null means). How many answered is shown, for open rounds too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from rest_framework.test import APIClient

from kpi import selectors, services
from kpi.models import SURVEY_QUESTIONS, SurveyAnswer, SurveyRound
from maslikhat.accounts.models import Role, User
from tests.factories import DemoDirectory, DeputyFactory, UserFactory

pytestmark = pytest.mark.django_db

SURVEY_PAGE = "/kpi/survey/"
SURVEY_API = "/api/v1/kpi/survey/"
QUESTIONS = [name for name, _label in SURVEY_QUESTIONS]
HIDDEN = "Deputies: fewer than 5 answers — hidden to protect anonymity."
#: Each deputy's answers differ, so a mean that equals one of them would show.
SCORES = [
    {"interaction": 1, "participation_in_city_life": 2, "effectiveness": 3, "engagement": 4},
    {"interaction": 5, "participation_in_city_life": 4, "effectiveness": 2, "engagement": 1},
    {"interaction": 3, "participation_in_city_life": 3, "effectiveness": 5, "engagement": 2},
    {"interaction": 2, "participation_in_city_life": 5, "effectiveness": 1, "engagement": 5},
    {"interaction": 4, "participation_in_city_life": 1, "effectiveness": 4, "engagement": 3},
]


def deputies(directory: DemoDirectory, n: int) -> list[User]:
    """``n`` deputies' accounts: alice and bob first, then new deputies of the convocation."""
    users = [directory.alice.user, directory.bob.user]
    while len(users) < n:
        deputy = DeputyFactory.create(
            user=UserFactory.create(role=Role.DEPUTY), convocation=directory.convocation
        )
        users.append(deputy.user)
    return users[:n]


def answered_round(directory: DemoDirectory, n: int, *, closed: bool) -> SurveyRound:
    """A 2026 round where ``n`` deputies answered through the service, closed if asked."""
    survey = services.survey_round_open(by=directory.staff, year=2026)
    for user, scores in zip(deputies(directory, n), SCORES, strict=False):
        services.survey_answer_submit(by=user, **scores)
    if closed:
        services.survey_round_close(by=directory.staff, round_id=survey.pk)
    return survey


def expected_means(n: int) -> dict[str, float]:
    return {q: round(sum(s[q] for s in SCORES[:n]) / n, 2) for q in QUESTIONS}


def viewer(directory: DemoDirectory, who: str) -> User | None:
    return {"anonymous": None, "deputy": directory.bob.user, "staff": directory.staff}[who]


def page_as(user: User | None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def api_as(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def text_of(response: Any) -> str:
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def round_html(response: Any, year: int = 2026) -> str:
    return response.content.decode().split(f'data-round="{year}"')[1]


def deputies_pool(body: dict[str, Any], year: int = 2026) -> dict[str, Any]:
    return next(r for r in body["rounds"] if r["year"] == year)["pools"]["deputies"]


VIEWERS = ("anonymous", "deputy", "staff")


# --- The attack the rule closes -------------------------------------------------------------


def test_an_open_rounds_report_cannot_be_subtracted_to_reveal_an_answer(directory) -> None:
    """After one answer the means were that person's answers; after the next, subtracting
    gave the second person's. An open round now shows counts only."""
    services.survey_round_open(by=directory.staff, year=2026)
    alice, bob = directory.alice.user, directory.bob.user
    services.survey_answer_submit(by=alice, **SCORES[0])
    after_one = deputies_pool(api_as(None).get(SURVEY_API).json())
    services.survey_answer_submit(by=bob, **SCORES[1])
    after_two = deputies_pool(api_as(directory.staff).get(SURVEY_API).json())
    assert (after_one["n"], after_two["n"]) == (1, 2)
    for question in QUESTIONS:
        assert after_one[question] is None and after_two[question] is None
    # Nor through the page, for anyone.
    for user in (None, bob, directory.staff):
        html = round_html(page_as(user).get(SURVEY_PAGE))
        assert "data-results-pending" in html
        assert 'data-pool="deputies"' not in html


# --- Open and closed rounds of 1, 2, 4 and 5 answers, page and API, anyone ------------------


@pytest.mark.parametrize("who", VIEWERS)
@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_an_open_round_shows_how_many_answered_and_no_means(directory, n: int, who: str) -> None:
    answered_round(directory, n, closed=False)
    user = viewer(directory, who)
    body = api_as(user).get(SURVEY_API).json()
    entry = next(r for r in body["rounds"] if r["year"] == 2026)
    assert entry["is_open"] is True and entry["results_published"] is False
    assert entry["respondents"] == n
    assert entry["pools"]["deputies"] == {"n": n, **dict.fromkeys(QUESTIONS), "suppressed": False}
    assert set(entry["gap"].values()) == {None}
    page = page_as(user).get(SURVEY_PAGE)
    html = round_html(page)
    assert f'data-respondents="{n}"' in html
    assert "The results appear once the round is closed." in text_of(page)
    assert 'data-pool="deputies"' not in html
    assert "kpi-survey-gaps" not in page.content.decode()  # no chart of an open round


@pytest.mark.parametrize("who", VIEWERS)
@pytest.mark.parametrize("n", [1, 2, 4])
def test_a_closed_round_hides_a_group_of_fewer_than_five(directory, n: int, who: str) -> None:
    answered_round(directory, n, closed=True)
    user = viewer(directory, who)
    body = api_as(user).get(SURVEY_API).json()
    assert body["min_group_answers"] == 5
    entry = next(r for r in body["rounds"] if r["year"] == 2026)
    assert entry["results_published"] is True and entry["respondents"] == n
    assert entry["pools"]["deputies"] == {"n": n, **dict.fromkeys(QUESTIONS), "suppressed": True}
    assert set(entry["gap"].values()) == {None}
    page = page_as(user).get(SURVEY_PAGE)
    assert HIDDEN in text_of(page)
    html = round_html(page)
    means = [f">{value:.2f}<" for value in expected_means(n).values()]
    assert not any(mean in html for mean in means)
    assert html.count('data-pool="deputies"><span class="text-body-secondary" data-hidden>') == 4


@pytest.mark.parametrize("who", VIEWERS)
def test_a_closed_round_shows_the_means_of_a_group_of_five(directory, who: str) -> None:
    answered_round(directory, 5, closed=True)
    user = viewer(directory, who)
    entry = next(r for r in api_as(user).get(SURVEY_API).json()["rounds"] if r["year"] == 2026)
    assert entry["pools"]["deputies"] == {"n": 5, **expected_means(5), "suppressed": False}
    # The other group has no answers at all: hidden too, and so is the gap.
    assert entry["pools"]["civil_servants"]["suppressed"] is True
    assert set(entry["gap"].values()) == {None}
    page = page_as(user).get(SURVEY_PAGE)
    html = round_html(page)
    for value in expected_means(5).values():
        assert f'<td class="text-end" data-pool="deputies">{value:.2f}</td>' in html
    assert HIDDEN not in text_of(page)
    assert "Civil servants: fewer than 5 answers — hidden to protect anonymity." in text_of(page)


def test_the_gap_and_chart_appear_when_both_groups_of_a_closed_round_are_large_enough(
    directory,
) -> None:
    survey = answered_round(directory, 5, closed=False)
    for scores in SCORES:
        SurveyAnswer.objects.create(round=survey, pool="civil_servants", **scores)
    services.survey_round_close(by=directory.staff, round_id=survey.pk)
    entry = selectors.survey_report()[0]
    assert entry["gap"] == dict.fromkeys(QUESTIONS, 0.0)
    page = page_as(None).get(SURVEY_PAGE)
    assert "kpi-survey-gaps" in page.content.decode()
    assert "hidden to protect anonymity" not in text_of(page)


def test_the_minimum_group_size_is_a_setting(directory, settings: Any) -> None:
    settings.KPI_SURVEY_MIN_GROUP_ANSWERS = 2
    answered_round(directory, 2, closed=True)
    body = api_as(None).get(SURVEY_API).json()
    assert body["min_group_answers"] == 2
    assert deputies_pool(body) == {"n": 2, **expected_means(2), "suppressed": False}


# --- No other way to one person's answers ----------------------------------------------------


def test_survey_answers_are_not_in_the_django_admin(directory) -> None:
    answered_round(directory, 1, closed=True)
    assert not admin.site.is_registered(SurveyAnswer)
    client = page_as(directory.admin)
    assert client.get("/admin/kpi/surveyanswer/").status_code == 404
    assert client.get("/admin/kpi/").status_code == 200


@pytest.mark.parametrize("who", ["staff", "admin", "chair", "deputy"])
def test_the_api_offers_no_list_of_answers(directory, who: str) -> None:
    answered_round(directory, 2, closed=True)
    user: User = {
        "staff": directory.staff,
        "admin": directory.admin,
        "chair": directory.chair,
        "deputy": directory.alice.user,
    }[who]
    client = api_as(user)
    for path in (f"{SURVEY_API}1/", f"{SURVEY_API}answers/", f"{SURVEY_API}rounds/"):
        response = client.get(path)
        assert response.status_code in (404, 405), (path, response.status_code)
        assert "interaction" not in response.content.decode()


def test_a_respondent_sees_only_that_they_answered(directory) -> None:
    services.survey_round_open(by=directory.staff, year=2026)
    services.survey_answer_submit(by=directory.alice.user, **SCORES[0])
    page = page_as(directory.alice.user).get(SURVEY_PAGE)
    assert "You have answered the survey of 2026" in text_of(page)
    assert 'data-pool="deputies"' not in round_html(page)
