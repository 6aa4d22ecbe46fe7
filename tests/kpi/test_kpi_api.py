"""``/api/v1/kpi/…``: rankings and history (public), weights, methodology, rater flags,
deputies' activities; and the demo year's KPI against the requests API."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo.context import DemoContext
from demo.directory import seed_directory
from demo.kpi import seed_kpi
from kpi import services
from kpi.models import ActivityKind, DeputyActivity, RaterFlag
from maslikhat.directory.models import Department
from tests.factories import DepartmentFactory
from tests.kpi.test_kpi_services import AS_OF, Q3, D, at, worked_example

DEPARTMENTS = "/api/v1/kpi/departments/"
DEPUTIES = "/api/v1/kpi/deputies/"
WEIGHTS = "/api/v1/kpi/weights/"
FLAGS = "/api/v1/kpi/flags/"
ACTIVITIES = "/api/v1/kpi/activities/"


@pytest.fixture
def computed(directory):
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    return directory


# --- Rankings -------------------------------------------------------------------------------


def test_anyone_reads_the_department_ranking_with_its_components(computed, api_client) -> None:
    response = api_client.get(DEPARTMENTS, {"period": "2026-q3"})
    assert response.status_code == 200
    body = response.json()
    assert (body["period"], body["as_of"], body["count"]) == (Q3, "2026-09-30", 2)
    assert body["period_start"] == "2026-07-01"
    first, second = body["results"]
    assert first["entity"] == {
        "id": computed.finance.pk,
        "code": "finance",
        "name": computed.finance.name,
    }
    assert (first["rank"], first["insufficient_data"], first["composite"]) == (1, False, 58.63)
    timeliness = first["components"]["timeliness"]
    assert (timeliness["value"], timeliness["n"], timeliness["extended"]) == (0.4, 5, 1)
    assert 0 < timeliness["low"] < 0.4 < timeliness["high"] < 1
    assert first["components"]["quality"]["score"] == pytest.approx(0.6719, abs=1e-4)
    # Version 2 (promises kept joined with 0.10, the others scaled by 0.9).
    assert first["weights"]["timeliness"] == 0.315
    assert first["computed_at"]
    assert second["entity"]["code"] == "mobility"
    assert (second["rank"], second["insufficient_data"]) == (None, True)


def test_anyone_reads_the_deputy_ranking(computed, api_client) -> None:
    response = api_client.get(DEPUTIES, {"period": Q3})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["entity"]["id"] for row in rows} == {computed.alice.pk, computed.bob.pk}
    alice = next(row for row in rows if row["entity"]["id"] == computed.alice.pk)
    assert alice["entity"]["name"] == computed.alice.name
    assert set(alice["components"]) == {
        "requests",
        "request_quality",
        "follow_through",
        "resolution",
        "activity",
    }
    assert alice["insufficient_data"] is True and alice["rank"] is None


@pytest.mark.parametrize("period", ["2026-13", "Q3-2026", "last-week", "rolling0", "x" * 40])
def test_a_period_the_api_cannot_read_is_a_400_that_says_why(computed, api_client, period) -> None:
    response = api_client.get(DEPARTMENTS, {"period": period})
    assert response.status_code == 400
    assert response.json()["period"]


def test_a_period_never_computed_is_a_404_that_says_what_to_run(directory, api_client) -> None:
    response = api_client.get(DEPUTIES, {"period": "2026-07"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "no_snapshot"
    assert "compute_kpi" in body["detail"] and "2026-07" in body["detail"]
    assert api_client.get(DEPARTMENTS).status_code == 404  # the default: rolling90


def test_the_ranking_query_count_does_not_grow_with_the_departments(computed, api_client) -> None:
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(DEPARTMENTS, {"period": Q3}).status_code == 200
    DepartmentFactory.create_batch(40)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    with CaptureQueriesContext(connection) as many:
        response = api_client.get(DEPARTMENTS, {"period": Q3})
    assert response.json()["count"] == 42
    assert len(many.captured_queries) == len(few.captured_queries) <= 4


def test_an_entitys_history_period_after_period(computed, api_client) -> None:
    for month, as_of in (("2026-07", D(2026, 7, 31)), ("2026-08", D(2026, 8, 31))):
        services.kpi_compute(as_of=as_of, period=month)
    response = api_client.get(f"{DEPARTMENTS}{computed.finance.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["entity"]["code"] == "finance"
    assert [point["period"] for point in body["points"]] == ["2026-07", "2026-08"]
    quarters = api_client.get(f"{DEPARTMENTS}{computed.finance.pk}/", {"periods": "quarter"})
    assert [point["composite"] for point in quarters.json()["points"]] == [58.63]
    deputy = api_client.get(f"{DEPUTIES}{computed.alice.pk}/", {"periods": "quarter"})
    assert deputy.status_code == 200 and len(deputy.json()["points"]) == 1
    assert api_client.get(f"{DEPARTMENTS}999999/").status_code == 404
    assert api_client.get(f"{DEPARTMENTS}finance/").status_code == 404
    assert api_client.get(f"{DEPUTIES}{computed.alice.pk}/", {"periods": "day"}).status_code == 400


# --- Weights and methodology ----------------------------------------------------------------------


GOOD_WEIGHTS = {
    "requests": 0.1,
    "request_quality": 0.4,
    "follow_through": 0.2,
    "resolution": 0.15,
    "activity": 0.15,
}


def test_anyone_reads_the_weights_in_force(directory, api_client) -> None:
    body = api_client.get(WEIGHTS).json()
    assert body["department"]["weights"]["timeliness"] == 0.315
    assert body["department"]["weights"]["promises"] == 0.10
    assert body["department"]["version"] == 2
    assert sum(body["deputy"]["weights"].values()) == pytest.approx(1)


def test_staff_post_a_new_version_of_the_weights(directory, api_as) -> None:
    response = api_as(directory.staff).post(
        WEIGHTS, {"kind": "deputy", "weights": GOOD_WEIGHTS, "note": "More weight on quality"}
    )
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["created_by"] == directory.staff.full_name
    assert api_as(directory.alice.user).get(WEIGHTS).json()["deputy"]["weights"] == GOOD_WEIGHTS


@pytest.mark.parametrize(
    "weights",
    [
        GOOD_WEIGHTS | {"requests": 0.3},  # adds up to 1.2
        GOOD_WEIGHTS | {"charisma": 0.0},
        {"requests": 1.0},
        GOOD_WEIGHTS | {"requests": -0.1, "request_quality": 0.6},
        GOOD_WEIGHTS | {"requests": "a lot"},
    ],
)
def test_weights_that_cannot_be_used_are_a_400(directory, api_as, weights) -> None:
    response = api_as(directory.staff).post(WEIGHTS, {"kind": "deputy", "weights": weights})
    assert response.status_code == 400
    assert "weights" in response.json()


def test_only_staff_change_the_weights(directory, api_as, api_client) -> None:
    body = {"kind": "deputy", "weights": GOOD_WEIGHTS}
    assert api_as(directory.alice.user).post(WEIGHTS, body).status_code == 403
    assert api_as(directory.finance_head).post(WEIGHTS, body).status_code == 403
    assert api_client.post(WEIGHTS, body).status_code == 401


def test_anyone_reads_the_methodology_with_the_weights_in_force(directory, api_client) -> None:
    body = api_client.get("/api/v1/kpi/methodology/").json()
    keys = [c["key"] for c in body["departments"]["components"]]
    assert keys == [
        "timeliness",
        "speed",
        "quality",
        "rework",
        "resolution",
        "discipline",
        "promises",
        "open_overdue",
    ]
    quality = body["departments"]["components"][2]
    assert quality["weight"] == 0.225 and quality["in_composite"] is True
    assert body["departments"]["components"][1]["in_composite"] is False
    assert body["constants"]["bayes_c"] == 5
    assert body["constants"]["min_rated_items"] == 3
    assert len(body["safeguards"]) >= 5


# --- Rater flags ---------------------------------------------------------------------------------


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


def test_staff_list_and_review_rater_flags(directory, flag, api_as) -> None:
    staff = api_as(directory.staff)
    body = staff.get(FLAGS).json()
    assert body["count"] == 1
    assert body["results"][0]["run_length"] == 12
    response = staff.post(
        f"{FLAGS}{flag.pk}/review/", {"status": "dismissed", "note": "The answers were good."}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "dismissed"
    assert response.json()["reviewed_by"] == directory.staff.full_name
    assert staff.get(FLAGS, {"status": "open"}).json()["count"] == 0
    bad = staff.post(f"{FLAGS}{flag.pk}/review/", {"status": "deleted"})
    assert bad.status_code == 400


def test_only_staff_see_rater_flags(directory, flag, api_as, api_client) -> None:
    assert api_as(directory.alice.user).get(FLAGS).status_code == 403
    assert api_as(directory.finance_head).get(FLAGS).status_code == 403
    review = api_as(directory.alice.user).post(f"{FLAGS}{flag.pk}/review/", {"status": "dismissed"})
    assert review.status_code == 403
    assert api_client.get(FLAGS).status_code == 401
    assert RaterFlag.objects.get().status == "open"


# --- Deputies' activities ---------------------------------------------------------------------


def test_a_deputy_records_and_lists_own_activities(directory, api_as) -> None:
    alice = api_as(directory.alice.user)
    response = alice.post(
        ACTIVITIES, {"kind": "reception", "date": "2026-07-03", "note": "Приём граждан"}
    )
    assert response.status_code == 201
    assert response.json()["deputy"] == directory.alice.pk
    DeputyActivity.objects.create(
        deputy=directory.bob,
        kind=ActivityKind.FIELD_VISIT,
        date=D(2026, 7, 4),
        recorded_by=directory.bob.user,
    )
    assert [row["kind"] for row in alice.get(ACTIVITIES).json()["results"]] == ["reception"]
    other = alice.post(
        ACTIVITIES, {"deputy": directory.bob.pk, "kind": "reception", "date": "2026-07-03"}
    )
    assert other.status_code == 403
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    assert alice.post(ACTIVITIES, {"kind": "reception", "date": future}).status_code == 400
    assert alice.post(ACTIVITIES, {"kind": "party", "date": "2026-07-03"}).status_code == 400


def test_staff_record_and_see_everyones_activities(directory, api_as, api_client) -> None:
    staff = api_as(directory.staff)
    response = staff.post(
        ACTIVITIES, {"deputy": directory.bob.pk, "kind": "report_to_voters", "date": "2026-07-03"}
    )
    assert response.status_code == 201
    assert response.json()["recorded_by"] == directory.staff.full_name
    api_as(directory.alice.user).post(ACTIVITIES, {"kind": "field_visit", "date": "2026-07-05"})
    assert staff.get(ACTIVITIES).json()["count"] == 2
    assert staff.get(ACTIVITIES, {"deputy": directory.bob.pk}).json()["count"] == 1
    assert staff.post(ACTIVITIES, {"kind": "reception", "date": "2026-07-03"}).status_code == 400
    assert api_as(directory.finance_head).get(ACTIVITIES).json()["count"] == 0
    assert api_client.get(ACTIVITIES).status_code == 401


# --- The demo year -------------------------------------------------------------------------------


def api_count(client: Any, **params: Any) -> int:
    response = client.get("/api/v1/requests/", {**params, "page_size": 1})
    assert response.status_code == 200
    return int(response.json()["count"])


@pytest.mark.django_db
def test_the_demo_years_kpi_agrees_with_the_requests_api(settings, api_as) -> None:
    """On the demo data: each department's open_overdue is the requests API's count of its
    overdue requests in progress, and ranks run 1..k over the entities with enough data."""
    settings.DEMO_REQUESTS_PER_YEAR = 80
    from demo.requests import seed_requests

    context = DemoContext(directory=seed_directory(seed=2023), seed=2023)
    seed_requests(context)
    assert seed_kpi(context)
    assert DeputyActivity.objects.count() > 500
    staff = api_as(context.directory.staff)
    rows = staff.get(DEPARTMENTS, {"period": "rolling90"}).json()["results"]
    assert rows and rows[0]["entity"]["code"]
    assert len(rows) == Department.objects.filter(is_active=True).count()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert staff.get(DEPARTMENTS, {"period": "rolling90"}).json()["as_of"] == yesterday.isoformat()
    total = 0
    for row in rows:
        expected = api_count(
            staff, lead_department=row["entity"]["id"], status="in_progress", is_overdue="true"
        )
        assert row["components"]["open_overdue"]["value"] == expected, row["entity"]["code"]
        total += expected
    assert total > 0, "the demo year leaves some requests overdue"
    for kind_url in (DEPARTMENTS, DEPUTIES):
        for period in (
            "rolling90",
            str(yesterday.year),
            f"conv-{context.directory.reference.convocation.number}",
        ):
            ranked = staff.get(kind_url, {"period": period}).json()["results"]
            ranks = sorted(row["rank"] for row in ranked if row["rank"] is not None)
            assert ranks == list(range(1, len(ranks) + 1))
            for row in ranked:
                enough = row["rated_items"] >= 3 and row["composite"] is not None
                assert (row["rank"] is not None) == enough
                assert row["insufficient_data"] is (not enough)
    # Seeding again adds nothing and recomputes the same numbers.
    before = staff.get(DEPARTMENTS, {"period": "rolling90"}).json()["results"]
    seed_kpi(context)
    after = staff.get(DEPARTMENTS, {"period": "rolling90"}).json()["results"]
    assert [(r["composite"], r["rank"]) for r in after] == [
        (r["composite"], r["rank"]) for r in before
    ]


def test_the_activity_list_query_count_does_not_grow_with_rows(directory, api_as) -> None:
    staff = api_as(directory.staff)

    def add(count: int) -> None:
        DeputyActivity.objects.bulk_create(
            DeputyActivity(
                deputy=directory.alice if index % 2 else directory.bob,
                kind=ActivityKind.RECEPTION,
                date=D(2026, 7, 1) + datetime.timedelta(days=index % 60),
                recorded_by=directory.staff,
            )
            for index in range(count)
        )

    add(10)
    with CaptureQueriesContext(connection) as few:
        assert staff.get(ACTIVITIES).json()["count"] == 10
    add(990)
    with CaptureQueriesContext(connection) as many:
        assert staff.get(ACTIVITIES).json()["count"] == 1000
    assert len(many.captured_queries) == len(few.captured_queries)
