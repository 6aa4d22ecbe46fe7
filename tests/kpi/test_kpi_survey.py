"""The perception survey (the research's Table 3): the seeded round reproduces the
research's pool means; staff open and close rounds; deputies and civil servants answer."""

from __future__ import annotations

import datetime
import random
from types import SimpleNamespace
from typing import Any

import pytest

from demo.context import DemoContext
from demo.kpi import RESEARCH_POOL_SIZES, answers_with_mean, research_survey_answers, seed_survey
from kpi import selectors, services
from kpi.models import SurveyAnswer, SurveyRound
from maslikhat.directory.services import read_reference_data

SURVEY = "/api/v1/kpi/survey/"
ROUNDS = "/api/v1/kpi/survey/rounds/"
ANSWER = {"interaction": 4, "participation_in_city_life": 5, "effectiveness": 3, "engagement": 4}
QUESTIONS = ("interaction", "participation_in_city_life", "effectiveness", "engagement")
MAY_2026 = datetime.date(2026, 5, 1)
#: The research's Table 3 (almaty.json, survey_table_3).
RESEARCH_MEANS = {
    "civil_servants": {
        "interaction": 2.5,
        "participation_in_city_life": 2.5,
        "effectiveness": 2.39,
        "engagement": 3.0,
    },
    "deputies": {
        "interaction": 3.0,
        "participation_in_city_life": 4.0,
        "effectiveness": 4.17,
        "engagement": 3.9,
    },
}


def demo_context(staff: Any) -> DemoContext:
    """Just what ``seed_survey`` reads: the staff account and the seed."""
    return DemoContext(directory=SimpleNamespace(staff=staff), seed=2023)  # type: ignore[arg-type]


def test_the_reference_data_holds_the_research_means() -> None:
    assert read_reference_data()["survey_table_3"]["pools"] == RESEARCH_MEANS


@pytest.mark.parametrize(("n", "mean"), [(18, 2.39), (30, 4.17), (18, 2.5), (30, 3.9), (7, 1.0)])
def test_answers_are_whole_scores_with_the_wanted_mean(n: int, mean: float) -> None:
    answers = answers_with_mean(n, mean, random.Random(1))
    assert len(answers) == n
    assert all(isinstance(a, int) and 1 <= a <= 5 for a in answers)
    assert round(sum(answers) / n, 2) == mean
    assert answers == answers_with_mean(n, mean, random.Random(1))  # deterministic


def test_means_no_whole_answers_can_give_are_refused() -> None:
    with pytest.raises(ValueError):
        answers_with_mean(10, 2.39, random.Random(1))  # 23.9 / 10 is not a mean of 10 wholes


def test_the_research_answers_hit_every_pool_mean() -> None:
    answers = research_survey_answers(RESEARCH_MEANS, random.Random(7))
    for pool, size in RESEARCH_POOL_SIZES.items():
        assert len(answers[pool]) == size
        for question in QUESTIONS:
            mean = sum(row[question] for row in answers[pool]) / size
            assert round(mean, 2) == RESEARCH_MEANS[pool][question]


def test_the_survey_report_reproduces_the_research_for_the_seeded_round(directory) -> None:
    added = seed_survey(demo_context(directory.staff), today=MAY_2026)
    assert added == 48
    report = selectors.survey_report()
    assert [entry["year"] for entry in report] == [2026, 2023]
    research = report[1]
    assert research["is_open"] is False and research["results_published"] is True
    # A closed round whose groups (18 and 30 answers) are well above the minimum of 5.
    for pool, means in RESEARCH_MEANS.items():
        assert research["pools"][pool] == {
            "n": RESEARCH_POOL_SIZES[pool],
            **means,
            "suppressed": False,
        }
    assert research["gap"] == {
        "interaction": 0.5,
        "participation_in_city_life": 1.5,
        "effectiveness": 1.78,
        "engagement": 0.9,
    }
    assert report[0]["is_open"] is True and report[0]["results_published"] is False
    assert report[0]["pools"]["deputies"]["n"] == 0
    # Seeding again adds nothing.
    assert seed_survey(demo_context(directory.staff), today=MAY_2026) == 0


def test_anyone_reads_the_survey_report(directory, api_client) -> None:
    seed_survey(demo_context(directory.staff), today=MAY_2026)
    response = api_client.get(SURVEY)
    assert response.status_code == 200
    body = response.json()
    assert [q["key"] for q in body["questions"]] == list(QUESTIONS)
    research = next(entry for entry in body["rounds"] if entry["year"] == 2023)
    assert research["pools"]["civil_servants"]["effectiveness"] == 2.39
    assert research["pools"]["deputies"]["effectiveness"] == 4.17


def test_staff_open_and_close_a_round(directory, api_as) -> None:
    staff = api_as(directory.staff)
    opened = staff.post(ROUNDS, {"year": 2026})
    assert opened.status_code == 201
    round_id = opened.json()["id"]
    assert staff.post(ROUNDS, {"year": 2027}).status_code == 409  # one open at a time
    closed = staff.post(f"{ROUNDS}{round_id}/close/")
    assert closed.status_code == 200 and closed.json()["closed_at"]
    assert staff.post(f"{ROUNDS}{round_id}/close/").status_code == 409
    assert staff.post(ROUNDS, {"year": 2026}).status_code == 409  # the year was held
    assert staff.post(ROUNDS, {"year": 1900}).status_code == 400
    assert staff.post(f"{ROUNDS}999999/close/").status_code == 400


def test_only_staff_open_and_close_rounds(directory, api_as, api_client) -> None:
    assert api_as(directory.alice.user).post(ROUNDS, {"year": 2026}).status_code == 403
    assert api_as(directory.finance_head).post(ROUNDS, {"year": 2026}).status_code == 403
    assert api_client.post(ROUNDS, {"year": 2026}).status_code == 401
    survey = services.survey_round_open(by=directory.staff, year=2026)
    assert api_as(directory.chair).post(f"{ROUNDS}{survey.pk}/close/").status_code == 403
    assert SurveyRound.objects.get().closed_at is None


def test_deputies_and_civil_servants_answer_in_their_pools_once(directory, api_as) -> None:
    services.survey_round_open(by=directory.staff, year=2026)
    deputy = api_as(directory.alice.user).post(SURVEY, ANSWER)
    assert deputy.status_code == 201
    assert deputy.json()["pool"] == "deputies" and deputy.json()["year"] == 2026
    assert api_as(directory.alice.user).post(SURVEY, ANSWER).status_code == 409
    for user in (directory.finance_exec, directory.mobility_head, directory.staff, directory.chair):
        response = api_as(user).post(SURVEY, ANSWER | {"engagement": 2})
        assert response.status_code == 201
        assert response.json()["pool"] == "civil_servants"
    # The round is open: the report counts the answers and shows no means (see
    # test_kpi_survey_privacy.py for the rules on closed rounds and small groups).
    report = selectors.survey_report()[0]
    assert report["respondents"] == 5
    assert report["pools"]["deputies"]["n"] == 1
    assert report["pools"]["civil_servants"]["n"] == 4
    assert report["pools"]["civil_servants"]["engagement"] is None
    assert report["gap"]["engagement"] is None


def test_bad_answers_and_the_wrong_people_are_refused(directory, api_as, api_client) -> None:
    assert api_as(directory.alice.user).post(SURVEY, ANSWER).status_code == 409  # none open
    services.survey_round_open(by=directory.staff, year=2026)
    alice = api_as(directory.alice.user)
    assert alice.post(SURVEY, ANSWER | {"effectiveness": 6}).status_code == 400
    assert alice.post(SURVEY, {"interaction": 3}).status_code == 400
    assert api_as(directory.admin).post(SURVEY, ANSWER).status_code == 403
    assert api_client.post(SURVEY, ANSWER).status_code == 401
    assert not SurveyAnswer.objects.exists()


def test_a_closed_round_takes_no_more_answers(directory, api_as) -> None:
    survey = services.survey_round_open(by=directory.staff, year=2026)
    services.survey_round_close(by=directory.staff, round_id=survey.pk)
    assert api_as(directory.bob.user).post(SURVEY, ANSWER).status_code == 409
