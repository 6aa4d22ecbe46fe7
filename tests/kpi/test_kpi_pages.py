"""The KPI's browser pages: rankings, a department's and a deputy's page, the methodology,
the staff pages (weights, rater flags), deputies' activities and the perception survey.

The data is the worked example of ``test_kpi_services`` (finance ranked 1, mobility with
not enough data), computed through ``kpi.services``; the pages are read through Django's
test client in English (the language cookie).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpi import services
from kpi.calculators import wilson_interval
from kpi.models import ActivityKind, DeputyActivity, KpiWeights, RaterFlag, SurveyAnswer
from kpi.models import SurveyRound as Round
from maslikhat.accounts.models import User
from tests.factories import DemoDirectory, DistrictFactory
from tests.kpi.test_kpi_services import AS_OF, Q3, D, at, bulk_requests, worked_example

pytestmark = pytest.mark.django_db

INDEX = "/kpi/"
METHODOLOGY = "/kpi/methodology/"
WEIGHTS = "/kpi/weights/"
FLAGS = "/kpi/flags/"
ACTIVITIES = "/kpi/activities/"
SURVEY = "/kpi/survey/"
MONTHS = (("2026-07", D(2026, 7, 31)), ("2026-08", D(2026, 8, 31)), ("2026-09", AS_OF))


@pytest.fixture
def as_user() -> Callable[[User | None], Client]:
    """A test client signed in as ``user`` (anonymous for None), reading English pages."""

    def make(user: User | None) -> Client:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def computed(directory: DemoDirectory) -> DemoDirectory:
    """The worked example computed for 2026-Q3 and for each of its months."""
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    for month, as_of in MONTHS:
        services.kpi_compute(as_of=as_of, period=month)
    return directory


def persona(directory: DemoDirectory, name: str) -> User | None:
    return {
        "anonymous": None,
        "deputy": directory.alice.user,
        "department": directory.finance_head,
        "staff": directory.staff,
        "chair": directory.chair,
    }[name]


def text_of(response: Any) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def json_script(response: Any, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        flags=re.S,
    )
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


def entity_order(response: Any) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-entity-id="(\d+)"', response.content.decode())]


# --- Who sees which page -------------------------------------------------------------------------

LOGIN = "login"
#: page → expected status per persona (LOGIN: redirected to the login page).
TABLE: dict[str, dict[str, int | str]] = {
    INDEX: {"anonymous": 200, "deputy": 200, "department": 200, "staff": 200, "chair": 200},
    "department-page": {
        "anonymous": 200,
        "deputy": 200,
        "department": 200,
        "staff": 200,
        "chair": 200,
    },
    "deputy-page": {"anonymous": 200, "deputy": 200, "department": 200, "staff": 200, "chair": 200},
    METHODOLOGY: {"anonymous": 200, "deputy": 200, "department": 200, "staff": 200, "chair": 200},
    SURVEY: {"anonymous": 200, "deputy": 200, "department": 200, "staff": 200, "chair": 200},
    # The chair sees everything staff see (read-only): the weights' versions and the flags.
    WEIGHTS: {"anonymous": LOGIN, "deputy": 403, "department": 403, "staff": 200, "chair": 200},
    FLAGS: {"anonymous": LOGIN, "deputy": 403, "department": 403, "staff": 200, "chair": 200},
    ACTIVITIES: {"anonymous": LOGIN, "deputy": 200, "department": 403, "staff": 200, "chair": 200},
}
CASES = [(page, who, expected) for page, row in TABLE.items() for who, expected in row.items()]


@pytest.mark.parametrize(("page", "who", "expected"), CASES)
def test_who_sees_which_kpi_page(computed, as_user, page: str, who: str, expected) -> None:
    url = {
        "department-page": f"/kpi/departments/{computed.finance.pk}/",
        "deputy-page": f"/kpi/deputies/{computed.alice.pk}/",
    }.get(page, page)
    response = as_user(persona(computed, who)).get(url)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    "url",
    ["/kpi/flags/1/review/", "/kpi/survey/rounds/", "/kpi/survey/rounds/1/close/"],
)
def test_anonymous_posts_to_staff_actions_are_sent_to_log_in(directory, as_user, url) -> None:
    response = as_user(None).post(url, {"status": "dismissed", "year": 2026})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Round.objects.exists()


def test_kpi_pages_keep_to_the_content_security_policy(computed, as_user) -> None:
    """No inline script, no style attribute, no on* handler anywhere (CSP script-src 'self')."""
    staff = as_user(computed.staff)
    pages = [
        INDEX,
        f"{INDEX}?kind=deputy&period={Q3}",
        f"/kpi/departments/{computed.finance.pk}/?period={Q3}",
        f"/kpi/deputies/{computed.alice.pk}/?period={Q3}",
        METHODOLOGY,
        WEIGHTS,
        FLAGS,
        ACTIVITIES,
        SURVEY,
    ]
    for url in pages:
        html = staff.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url


# --- /kpi/: the rankings ----------------------------------------------------------------------


def test_the_rankings_show_ranks_and_every_component(computed, as_user) -> None:
    response = as_user(None).get(INDEX, {"period": Q3})
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    assert entity_order(response) == [computed.finance.pk, computed.mobility.pk]
    assert 'data-rank="1"' in html
    assert "58.6" in text  # finance's composite, 58.63
    # Every component of the department composite is a column.
    for label in ("Timeliness", "Speed", "Quality", "Rework", "Resolution", "Discipline"):
        assert label in text
    assert "Open overdue" in text
    # Timeliness: 2 of 5 with its Wilson interval and the extension count.
    low, high = wilson_interval(2, 5)  # type: ignore[misc]
    assert f"40% ({round(100 * low)}–{round(100 * high)}%)" in text
    assert "5 answers due" in text
    assert "1 with an approved extension" in text
    # Quality: the Bayesian mean 3.6875, n = 3 ratings.
    assert "3.69" in text and "3 ratings" in text
    # Links to the entity pages keep the period.
    assert f'href="/kpi/departments/{computed.finance.pk}/?period={Q3}"' in html
    assert 'href="/kpi/methodology/"' in html


def test_not_enough_data_is_shown_instead_of_a_rank_and_explained(computed, as_user) -> None:
    response = as_user(None).get(INDEX, {"period": Q3})
    html = response.content.decode()
    row = html.split(f'<tr data-entity-id="{computed.mobility.pk}"')[1].split("</tr>")[0]
    assert "data-insufficient" in row and "not enough data" in row
    assert "data-rank" not in row
    assert "fewer than 3 rated items" in text_of(response)


def test_the_deputies_tab_lists_the_deputies(computed, as_user) -> None:
    response = as_user(None).get(INDEX, {"period": Q3, "kind": "deputy"})
    assert response.status_code == 200
    assert set(entity_order(response)) == {computed.alice.pk, computed.bob.pk}
    text = text_of(response)
    for label in ("Requests", "Request quality", "Follow-through", "Resolution", "Activity"):
        assert label in text
    assert computed.alice.name in text
    assert f'href="/kpi/deputies/{computed.alice.pk}/?period={Q3}"' in response.content.decode()


def test_the_rankings_are_sorted_on_the_server_and_the_unranked_stay_last(
    computed, as_user
) -> None:
    client = as_user(None)
    fin, mob = computed.finance.pk, computed.mobility.pk
    assert entity_order(client.get(INDEX, {"period": Q3})) == [fin, mob]
    # Mobility has too few rated items: whatever the column, it comes after the ranked
    # finance, even where its numbers would be better (fewer open overdue, timeliness 100%,
    # a composite it is not shown with).
    for sort in ("open_overdue", "-open_overdue", "-timeliness", "-composite", "composite"):
        assert entity_order(client.get(INDEX, {"period": Q3, "sort": sort})) == [fin, mob]
    # A sort key that is not a column is ignored.
    assert entity_order(client.get(INDEX, {"period": Q3, "sort": "name';--"})) == [fin, mob]
    html = client.get(INDEX, {"period": Q3}).content.decode()
    assert "sort=open_overdue" in html and "sort=-timeliness" in html


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("last-week", "Unknown period."),
        ("2026-13", "The month must be between 01 and 12."),
        ("rolling0", "A rolling period is 1 to 730 days long."),
        ("x" * 300, "Unknown period."),
    ],
)
def test_a_period_that_cannot_be_read_shows_why_and_the_default(
    computed, as_user, period: str, message: str
) -> None:
    response = as_user(None).get(INDEX, {"period": period})
    assert response.status_code == 200
    text = text_of(response)
    assert message in text
    # The default: rolling90 was not computed, so the newest computed period (2026-09).
    assert "Showing September 2026 instead." in text
    assert entity_order(response)
    entity = as_user(None).get(f"/kpi/departments/{computed.finance.pk}/", {"period": period})
    assert entity.status_code == 200
    assert message in text_of(entity)


def test_a_period_never_computed_shows_the_empty_state(computed, as_user) -> None:
    response = as_user(None).get(INDEX, {"period": "2025-01"})
    assert response.status_code == 200
    assert "KPI have not been computed for this period yet" in text_of(response)
    assert "data-empty-state" in response.content.decode()
    assert entity_order(response) == []


def test_with_no_snapshot_at_all_the_page_says_so(directory, as_user) -> None:
    response = as_user(None).get(INDEX)
    assert response.status_code == 200
    assert "KPI have not been computed for this period yet" in text_of(response)


def test_the_period_chooser_lists_the_computed_periods(computed, as_user) -> None:
    html = as_user(None).get(INDEX, {"period": Q3}).content.decode()
    assert '<option value="2026-Q3" selected>Q3 2026</option>' in html
    for month in ("2026-07", "2026-08", "2026-09"):
        assert f'<option value="{month}"' in html


def test_signed_in_users_get_a_link_to_their_own_page(computed, as_user) -> None:
    deputy = as_user(computed.alice.user).get(INDEX).content.decode()
    assert f'href="/kpi/deputies/{computed.alice.pk}/" data-own-page' in deputy
    head = as_user(computed.finance_head).get(INDEX).content.decode()
    assert f'href="/kpi/departments/{computed.finance.pk}/" data-own-page' in head
    assert "data-own-page" not in as_user(None).get(INDEX).content.decode()
    assert "data-own-page" not in as_user(computed.staff).get(INDEX).content.decode()


# --- A department's and a deputy's page ---------------------------------------------------------


def test_a_department_page_shows_its_components_trend_and_weights(computed, as_user) -> None:
    response = as_user(None).get(f"/kpi/departments/{computed.finance.pk}/", {"period": Q3})
    assert response.status_code == 200
    text = text_of(response)
    assert computed.finance.name in text
    assert 'data-rank="1"' in response.content.decode()
    assert "58.6" in text and "3 rated items" in text
    assert "1 with an approved extension" in text
    # The trend: the three months, in the json_script block and in the table.
    trend = json_script(response, "kpi-trend")
    assert trend["labels"] == ["July 2026", "August 2026", "September 2026"]
    composite = trend["datasets"][0]
    assert composite["key"] == "composite" and len(composite["data"]) == 3
    html = response.content.decode()
    assert 'data-kpi-chart="kpi-trend"' in html
    table = html.split('class="table table-sm align-middle kpi-trend-table"')[1].split("</table>")[
        0
    ]
    for label in trend["labels"]:
        assert label in table
    for value in composite["data"]:
        if value is not None:
            assert f"{value:.1f}" in table
    # The weights used: version 2 of docs/kpi.md (promises kept joined, the others × 0.9).
    assert 'data-weight="timeliness">0.315<' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/kpi.js" in html


def test_the_trend_can_be_read_by_quarter(computed, as_user) -> None:
    response = as_user(None).get(
        f"/kpi/departments/{computed.finance.pk}/", {"period": Q3, "trend": "quarter"}
    )
    assert json_script(response, "kpi-trend")["labels"] == ["Q3 2026"]


def test_a_deputy_page_shows_party_district_and_activities_but_no_private_data(
    computed, as_user
) -> None:
    alice = computed.alice
    services.deputy_activity_record(
        by=alice.user,
        deputy=alice,
        kind=ActivityKind.RECEPTION,
        date=D(2026, 8, 12),
        district=DistrictFactory.create(name_en="Bostandyk"),
        note="Иванов И. И. asked about the heating",
    )
    services.deputy_activity_record(
        by=alice.user, deputy=alice, kind=ActivityKind.FIELD_VISIT, date=D(2026, 5, 2)
    )
    services.kpi_compute(as_of=AS_OF, period=Q3)
    response = as_user(None).get(f"/kpi/deputies/{alice.pk}/", {"period": Q3})
    assert response.status_code == 200
    text = text_of(response)
    assert alice.name in text and alice.party.name in text
    assert "Reception of citizens" in text and "12.08.2026" in text and "Bostandyk" in text
    assert "02.05.2026" not in text  # outside the quarter
    assert "Иванов" not in text  # notes may name citizens: not on the public page
    assert alice.user.email not in text and alice.user.username not in text
    assert json_script(response, "kpi-trend")["labels"]


@pytest.mark.parametrize(
    "url",
    [
        "/kpi/departments/999999/",
        "/kpi/deputies/999999/",
        "/kpi/departments/99999999999999999999/",
        "/kpi/deputies/99999999999999999999/",
    ],
)
def test_an_unknown_entity_is_a_404(computed, as_user, url: str) -> None:
    assert as_user(None).get(url).status_code == 404


def test_the_deputy_id_of_a_department_is_not_a_deputy_page(computed, as_user) -> None:
    """Departments and deputies are different ids: a department's id on /deputies/ is 404."""
    missing = max(computed.alice.pk, computed.bob.pk) + 1000
    assert as_user(None).get(f"/kpi/deputies/{missing}/").status_code == 404


# --- The methodology and the weights ----------------------------------------------------------


def test_the_methodology_shows_formulas_safeguards_and_the_weights_in_force(
    directory, as_user
) -> None:
    response = as_user(None).get(METHODOLOGY)
    assert response.status_code == 200
    text = text_of(response)
    html = response.content.decode()
    assert "(C·m + Σr) / (C + n)" in text
    assert "100 × Σ wᵢ·xᵢ / Σ wᵢ" in text
    assert "Wilson" in text
    for component in ("Timeliness", "Speed", "Quality", "Rework", "Resolution", "Discipline"):
        assert component in text
    for component in ("Request quality", "Follow-through", "Activity"):
        assert component in text
    assert "written reason" in text and "frozen 7 days" in text
    assert "Fewer than 3 rated items" in text
    assert "10 or more items in a row" in text
    assert "same numbers" in text
    assert 'data-weight="timeliness">0.315<' in html
    assert 'data-weight="promises">0.10<' in html
    assert 'data-weight="request_quality">0.30<' in html


def test_staff_change_the_weights_and_the_methodology_shows_them(directory, as_user) -> None:
    staff = as_user(directory.staff)
    page = staff.get(WEIGHTS)
    assert page.status_code == 200
    assert 'name="department-timeliness"' in page.content.decode()
    response = staff.post(
        WEIGHTS,
        {
            "kind": "department",
            "department-timeliness": "0.40",
            "department-quality": "0,20",  # a Russian keyboard's decimal comma
            "department-rework": "0.15",
            "department-discipline": "0.15",
            "department-resolution": "0.05",
            "department-promises": "0.05",
            "department-note": "More weight on deadlines",
        },
    )
    assert response.status_code == 302
    current = KpiWeights.objects.get(kind="department", is_current=True)
    # Version 1 is the defaults, version 2 added promises kept (data migrations); staff put
    # version 3 in force.
    assert current.version == 3 and current.weights["timeliness"] == 0.4
    assert current.weights["quality"] == 0.2
    assert current.created_by == directory.staff
    methodology = as_user(None).get(METHODOLOGY)
    html = methodology.content.decode()
    assert 'data-weight="timeliness">0.40<' in html
    assert 'data-weight="quality">0.20<' in html
    assert "Weights in force: version 3" in text_of(methodology)
    assert "More weight on deadlines" in text_of(methodology)  # the history
    history = staff.get(WEIGHTS)
    assert 'data-current-version="3"' in history.content.decode()
    assert 'data-version="3"' in history.content.decode()
    assert 'data-version="2"' in history.content.decode()
    assert 'data-version="1"' in history.content.decode()


@pytest.mark.parametrize(
    ("timeliness", "message"),
    [
        ("0.5", "The weights must add up to 1 (they add up to 1.25)."),
        ("-0.35", "The weight of timeliness must not be negative."),
    ],
)
def test_weights_that_cannot_be_used_are_refused_with_the_services_message(
    directory, as_user, timeliness: str, message: str
) -> None:
    response = as_user(directory.staff).post(
        WEIGHTS,
        {
            "kind": "department",
            "department-timeliness": timeliness,
            "department-quality": "0.25",
            "department-rework": "0.15",
            "department-discipline": "0.15",
            "department-resolution": "0.10",
            "department-promises": "0.10",
        },
    )
    assert response.status_code == 400
    assert message in text_of(response)
    assert KpiWeights.objects.count() == 3  # the versions of the data migrations only


def test_a_weight_that_is_not_a_number_is_a_form_error(directory, as_user) -> None:
    response = as_user(directory.staff).post(
        WEIGHTS, {"kind": "deputy", "deputy-requests": "a lot"}
    )
    assert response.status_code == 400
    assert "Enter a number." in text_of(response)
    assert KpiWeights.objects.count() == 3  # the versions of the data migrations only


def test_only_staff_change_the_weights(directory, as_user) -> None:
    data = {"kind": "department", "department-timeliness": "1", "department-quality": "0"}
    assert as_user(directory.alice.user).post(WEIGHTS, data).status_code == 403
    assert as_user(directory.chair).post(WEIGHTS, data).status_code == 403
    assert as_user(None).post(WEIGHTS, data).status_code == 302
    assert KpiWeights.objects.count() == 3  # the versions of the data migrations only


# --- Rater flags --------------------------------------------------------------------------------


@pytest.fixture
def flag(directory) -> RaterFlag:
    return RaterFlag.objects.create(
        rater_kind="deputy",
        rater_id=directory.alice.pk,
        score=5,
        run_length=12,
        first_rated_at=at(D(2026, 7, 1)),
        last_rated_at=at(D(2026, 8, 1)),
        detected_at=at(D(2026, 8, 2)),
    )


def test_staff_review_a_rater_flag_with_a_note(directory, flag, as_user) -> None:
    staff = as_user(directory.staff)
    page = staff.get(FLAGS)
    text = text_of(page)
    assert directory.alice.name in text and "12" in text
    assert f'data-flag-id="{flag.pk}"' in page.content.decode()
    response = staff.post(
        f"/kpi/flags/{flag.pk}/review/?status=open",
        {"status": "dismissed", "note": "The answers were good."},
    )
    assert response.status_code == 302
    assert response["Location"] == "/kpi/flags/?status=open"
    flag.refresh_from_db()
    assert (flag.status, flag.review_note, flag.reviewed_by) == (
        "dismissed",
        "The answers were good.",
        directory.staff,
    )
    assert f'data-flag-id="{flag.pk}"' not in staff.get(FLAGS).content.decode()
    everything = staff.get(FLAGS, {"status": "all"})
    assert "The answers were good." in text_of(everything)


def test_a_review_the_service_refuses_is_reported(directory, flag, as_user) -> None:
    staff = as_user(directory.staff)
    response = staff.post(f"/kpi/flags/{flag.pk + 1}/review/", {"status": "confirmed"}, follow=True)
    assert "There is no such flag." in text_of(response)
    response = staff.post(f"/kpi/flags/{flag.pk}/review/", {"status": "deleted"}, follow=True)
    assert "Select a valid choice" in text_of(response)
    assert RaterFlag.objects.get().status == "open"


@pytest.mark.parametrize(
    "url",
    ["/kpi/flags/99999999999999999999/review/", "/kpi/survey/rounds/99999999999999999999/close/"],
)
def test_an_id_too_large_for_the_database_is_a_404_not_a_500(directory, as_user, url) -> None:
    assert as_user(directory.staff).post(url, {"status": "dismissed"}).status_code == 404


def test_only_staff_review_flags(directory, flag, as_user) -> None:
    for user in (directory.alice.user, directory.finance_head, directory.chair):
        response = as_user(user).post(f"/kpi/flags/{flag.pk}/review/", {"status": "dismissed"})
        assert response.status_code == 403
    assert RaterFlag.objects.get().status == "open"


# --- Deputies' activities -------------------------------------------------------------------------


def activity(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": ActivityKind.RECEPTION,
        "date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
        "note": "Reception in the district akimat",
        **overrides,
    }


def test_a_deputy_records_their_own_activity(directory, as_user) -> None:
    alice = as_user(directory.alice.user)
    page = alice.get(ACTIVITIES)
    html = page.content.decode()
    assert f'type="hidden" name="deputy" value="{directory.alice.pk}"' in html
    assert '<select name="deputy"' not in html
    response = alice.post(ACTIVITIES, activity(deputy=directory.alice.pk))
    assert response.status_code == 302
    recorded = DeputyActivity.objects.get()
    assert (recorded.deputy, recorded.recorded_by) == (directory.alice, directory.alice.user)
    listing = alice.get(ACTIVITIES)
    assert "Reception in the district akimat" in text_of(listing)
    assert "The activity was recorded." in text_of(listing)


def test_a_deputy_cannot_record_for_another_deputy(directory, as_user) -> None:
    response = as_user(directory.alice.user).post(ACTIVITIES, activity(deputy=directory.bob.pk))
    assert response.status_code == 403
    assert "A deputy records only their own activities." in text_of(response)
    assert not DeputyActivity.objects.exists()


def test_staff_record_an_activity_for_any_deputy(directory, as_user) -> None:
    staff = as_user(directory.staff)
    assert '<select name="deputy"' in staff.get(ACTIVITIES).content.decode()
    response = staff.post(ACTIVITIES, activity(deputy=directory.bob.pk, kind="field_visit"))
    assert response.status_code == 302
    recorded = DeputyActivity.objects.get()
    assert (recorded.deputy, recorded.recorded_by, recorded.kind) == (
        directory.bob,
        directory.staff,
        "field_visit",
    )
    assert directory.bob.name in text_of(staff.get(ACTIVITIES))
    # Bob sees it among his own; Alice does not.
    assert "Reception in the district akimat" in text_of(
        as_user(directory.bob.user).get(ACTIVITIES)
    )
    assert f'data-activity-id="{recorded.pk}"' not in (
        as_user(directory.alice.user).get(ACTIVITIES).content.decode()
    )


def test_an_activity_in_the_future_is_refused_with_the_services_message(directory, as_user) -> None:
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = as_user(directory.alice.user).post(
        ACTIVITIES, activity(deputy=directory.alice.pk, date=tomorrow)
    )
    assert response.status_code == 400
    assert "An activity is recorded once it has taken place." in text_of(response)
    assert not DeputyActivity.objects.exists()


def test_an_activity_without_a_kind_is_a_form_error(directory, as_user) -> None:
    response = as_user(directory.alice.user).post(
        ACTIVITIES, activity(deputy=directory.alice.pk, kind="")
    )
    assert response.status_code == 400
    assert "This field is required." in text_of(response)
    assert not DeputyActivity.objects.exists()


def test_the_chair_sees_activities_but_does_not_record(directory, as_user) -> None:
    chair = as_user(directory.chair)
    assert 'name="kind"' not in chair.get(ACTIVITIES).content.decode()
    assert chair.post(ACTIVITIES, activity(deputy=directory.bob.pk)).status_code == 403
    assert as_user(directory.finance_head).post(ACTIVITIES, activity()).status_code == 403
    assert not DeputyActivity.objects.exists()


def test_activity_notes_are_escaped(directory, as_user) -> None:
    as_user(directory.alice.user).post(
        ACTIVITIES, activity(deputy=directory.alice.pk, note="<script>alert(1)</script>")
    )
    html = as_user(directory.alice.user).get(ACTIVITIES).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- The perception survey ---------------------------------------------------------------------


ANSWERS = {
    "interaction": "4",
    "participation_in_city_life": "5",
    "effectiveness": "4",
    "engagement": "3",
}


def test_staff_open_a_round_a_deputy_answers_once_and_staff_close_it(directory, as_user) -> None:
    staff = as_user(directory.staff)
    assert "Open a new round" in text_of(staff.get(SURVEY))
    assert staff.post("/kpi/survey/rounds/", {"year": 2026}).status_code == 302
    survey = Round.objects.get()
    assert survey.year == 2026 and survey.is_open

    alice = as_user(directory.alice.user)
    page = alice.get(SURVEY)
    html = page.content.decode()
    for question in (
        "Interaction between the akimat and the maslikhat",
        "Effectiveness of the maslikhat",
    ):
        assert question in text_of(page)
    assert html.count('type="radio" name="interaction"') == 5
    assert alice.post(SURVEY, ANSWERS).status_code == 302
    answer = SurveyAnswer.objects.get()
    assert (answer.respondent, answer.pool, answer.interaction) == (
        directory.alice.user,
        "deputies",
        4,
    )
    after = alice.get(SURVEY)
    assert 'name="interaction"' not in after.content.decode()
    assert "You have answered the survey of 2026" in text_of(after)

    again = alice.post(SURVEY, ANSWERS)
    assert again.status_code == 409
    assert "You have already answered this survey round." in text_of(again)
    assert SurveyAnswer.objects.count() == 1

    # A civil servant answers in the other pool; while the round is open the report says
    # how many answered and shows no means (test_kpi_survey_privacy.py has the rules).
    as_user(directory.finance_head).post(SURVEY, {**ANSWERS, "interaction": "2"})
    report = as_user(None).get(SURVEY)
    round_html = report.content.decode().split('data-round="2026"')[1]
    assert 'data-respondents="2"' in round_html and "data-results-pending" in round_html
    assert 'data-pool="civil_servants"' not in round_html
    assert "kpi-survey-gaps" not in report.content.decode()

    close = staff.post(f"/kpi/survey/rounds/{survey.pk}/close/")
    assert close.status_code == 302
    survey.refresh_from_db()
    assert not survey.is_open
    assert "Open a new round" in text_of(staff.get(SURVEY))
    late = as_user(directory.bob.user).post(SURVEY, ANSWERS)
    assert late.status_code == 409
    assert "No survey round is open." in text_of(late)


def test_the_survey_report_is_public_with_the_research_round(directory, as_user) -> None:
    survey = Round.objects.create(
        year=2023, opened_at=at(D(2023, 3, 1)), closed_at=at(D(2023, 4, 1))
    )
    # A closed round with five answers in each group (the fewest that are shown).
    for pool, interaction, count in (
        ("civil_servants", 2, 3),
        ("civil_servants", 3, 2),
        ("deputies", 3, 5),
    ):
        for _ in range(count):
            SurveyAnswer.objects.create(
                round=survey,
                pool=pool,
                interaction=interaction,
                participation_in_city_life=3,
                effectiveness=3,
                engagement=3,
            )
    response = as_user(None).get(SURVEY)
    assert response.status_code == 200
    text = text_of(response)
    assert "Survey of 2023" in text
    assert "2.40" in text  # civil servants' interaction
    assert "5 answers" in text and "10 people answered" in text
    assert "hidden to protect anonymity" not in text
    table = response.content.decode().split("kpi-survey-gaps")[1].split("</table>")[0]
    assert "2023" in table and "0.60" in table
    assert 'name="interaction"' not in response.content.decode()


def test_a_survey_answer_out_of_range_is_a_form_error(directory, as_user) -> None:
    services.survey_round_open(by=directory.staff, year=2026)
    response = as_user(directory.alice.user).post(SURVEY, {**ANSWERS, "engagement": "9"})
    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)
    assert not SurveyAnswer.objects.exists()


def test_only_staff_open_and_close_rounds(directory, as_user) -> None:
    assert (
        as_user(directory.alice.user).post("/kpi/survey/rounds/", {"year": 2026}).status_code == 403
    )
    assert not Round.objects.exists()
    survey = services.survey_round_open(by=directory.staff, year=2026)
    assert (
        as_user(directory.chair).post(f"/kpi/survey/rounds/{survey.pk}/close/").status_code == 403
    )
    survey.refresh_from_db()
    assert survey.is_open
    # A second round while one is open: the service's message.
    response = as_user(directory.staff).post("/kpi/survey/rounds/", {"year": 2027})
    assert response.status_code == 409
    assert "Another survey round is open: close it first." in text_of(response)


def test_anonymous_answers_are_sent_to_log_in(directory, as_user) -> None:
    services.survey_round_open(by=directory.staff, year=2026)
    response = as_user(None).post(SURVEY, ANSWERS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not SurveyAnswer.objects.exists()


# --- Query budgets ----------------------------------------------------------------------------

#: An anonymous visitor's queries (declared budgets): the rankings page reads the computed
#: periods, the run, its snapshots and the names; an entity page also its history (and a
#: deputy's page the party, district and activities).
INDEX_BUDGET = 4
DEPARTMENT_BUDGET = 7
DEPUTY_BUDGET = 9


def page_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("who", ["anonymous", "deputy", "staff"])
def test_kpi_page_queries_do_not_grow_with_the_number_of_requests(
    directory, as_user, who: str
) -> None:
    client = as_user(persona(directory, who))
    urls = [
        f"{INDEX}?period={Q3}",
        f"{INDEX}?period={Q3}&kind=deputy&sort=-requests",
        f"/kpi/departments/{directory.finance.pk}/?period={Q3}",
        f"/kpi/deputies/{directory.alice.pk}/?period={Q3}",
    ]
    bulk_requests(directory, 10, 0)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    for url in urls:
        client.get(url)  # warm: the session, the actor
    small = [page_queries(client, url) for url in urls]
    bulk_requests(directory, 990, 10)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    large = [page_queries(client, url) for url in urls]
    assert large == small
    if who == "anonymous":
        budgets = [INDEX_BUDGET, INDEX_BUDGET, DEPARTMENT_BUDGET, DEPUTY_BUDGET]
        assert all(used <= budget for used, budget in zip(small, budgets, strict=True)), small
