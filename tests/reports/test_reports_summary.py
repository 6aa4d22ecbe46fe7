"""``/api/v1/reports/summary/``: the same filters and visibility as ``/api/v1/requests/``.

Every count of the summary must equal the count the request list gives for the same
filters (plus the one the figure stands for): that is what makes a dashboard trustworthy.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from maslikhat.accounts.models import User
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
SUMMARY = "/api/v1/reports/summary/"
LIST = "/api/v1/requests/"


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def requests_mix(directory: DemoDirectory, where: Places) -> list[DeputyRequest]:
    created = bulk_requests(directory, 90, where, drafts=4)
    # Bob co-authors some of alice's requests and alice some of bob's.
    through = DeputyRequest.co_authors.through
    through.objects.bulk_create(
        [
            through(deputyrequest_id=item.pk, deputy_id=directory.alice.pk)
            for item in created[:30]
            if item.author_id == directory.bob.pk
        ]
    )
    return created


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def list_count(client: APIClient, params: dict[str, Any]) -> int:
    """The list's exact count. A page as large as the list (these lists hold under 200
    rows) is short, and a short page's count is exact: on PostgreSQL a one-row page may
    show the planner's estimate instead, which the rows earlier tests wrote and rolled back
    can inflate past the limit above which the list trusts it (``core.pagination``)."""
    response = client.get(LIST, {**params, "page_size": 200})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None and not body.get("count_is_estimate"), body["count"]
    return body["count"]


def summary(client: APIClient, params: dict[str, Any]) -> dict[str, Any]:
    response = client.get(SUMMARY, params)
    assert response.status_code == 200, response.content
    return response.json()


def assert_summary_matches_list(client: APIClient, params: dict[str, Any]) -> dict[str, Any]:
    data = summary(client, params)
    assert data["total"] == list_count(client, params)
    for status, count in data["by_status"].items():
        if "status" in params and status not in params["status"]:
            assert count == 0
            continue
        assert count == list_count(client, {**params, "status": status}), status
    assert data["overdue"] == list_count(client, {**params, "is_overdue": "true"})
    for row in data["by_department"]:
        if row["id"] is not None and "lead_department" not in params:
            expected = list_count(client, {**params, "lead_department": row["id"]})
            assert row["received"] == expected, row
    for row in data["by_district"]:
        if row["id"] is not None and "district" not in params:
            assert row["received"] == list_count(client, {**params, "district": row["id"]})
    for row in data["by_category"]:
        if "category" not in params:
            assert row["received"] == list_count(client, {**params, "category": row["id"]})
    assert sum(row["received"] for row in data["by_department"]) == data["total"]
    assert sum(row["received"] for row in data["by_district"]) == data["total"]
    assert sum(data["by_status"].values()) == data["total"]
    return data


FILTER_COMBINATIONS = [
    {},
    {"status": S.IN_PROGRESS},
    {"status": [S.ANSWERED, S.CLOSED]},
    {"is_overdue": "true"},
    {"due_before": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()},
    {"submitted_after": (timezone.localdate() - datetime.timedelta(days=60)).isoformat()},
    {"search": "номер"},
]


@pytest.mark.parametrize("params", FILTER_COMBINATIONS, ids=lambda p: ",".join(p) or "none")
def test_the_summary_counts_equal_the_filtered_lists_counts(
    directory: DemoDirectory, requests_mix: list[DeputyRequest], params: dict[str, Any]
) -> None:
    data = assert_summary_matches_list(client_for(directory.staff), params)
    assert data["total"] > 0


def test_the_summary_matches_the_list_filtered_by_place_and_department(
    directory: DemoDirectory, requests_mix: list[DeputyRequest], where: Places
) -> None:
    client = client_for(directory.staff)
    assert_summary_matches_list(
        client, {"district": where.districts[0].pk, "category": where.categories[1].pk}
    )
    assert_summary_matches_list(
        client, {"lead_department": directory.finance.pk, "convocation": directory.convocation.pk}
    )


def test_a_departments_summary_counts_only_its_own_requests(
    directory: DemoDirectory, requests_mix: list[DeputyRequest]
) -> None:
    client = client_for(directory.finance_head)
    data = assert_summary_matches_list(client, {})
    expected = DeputyRequest.objects.filter(lead_department=directory.finance).count()
    assert data["total"] == expected
    assert {row["id"] for row in data["by_department"]} == {directory.finance.pk}


def test_a_deputys_summary_counts_only_their_requests(
    directory: DemoDirectory, requests_mix: list[DeputyRequest]
) -> None:
    client = client_for(directory.alice.user)
    mine = summary(client, {})
    # The list (which also shows others' published requests), narrowed to alice's own rows.
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(LIST, {"page_size": 200, "page": page}).json()
        rows += response["results"]
        if not response["next"]:
            break
        page += 1
    own = [
        r
        for r in rows
        if r["author"] == directory.alice.pk or directory.alice.pk in r["co_authors"]
    ]
    assert mine["total"] == len(own)
    assert mine["by_status"][S.DRAFT] == sum(1 for r in own if r["status"] == S.DRAFT)
    assert mine["total"] < len(rows), "others' published requests are not in the deputy's summary"
    # scope=all counts what the deputy's list shows.
    assert_summary_matches_list(client, {"scope": "all"})


def test_the_median_answer_days_is_the_median_from_routing_to_the_answer(
    directory: DemoDirectory, where: Places
) -> None:
    created = bulk_requests(directory, 4, where, states=[S.CLOSED])
    now = timezone.now()
    for item, days in zip(created, [2, 4, 10, 30], strict=True):
        DeputyRequest.objects.filter(pk=item.pk).update(
            routed_at=now - datetime.timedelta(days=60),
            answered_at=now - datetime.timedelta(days=60 - days),
        )
    data = summary(client_for(directory.staff), {})
    assert data["median_answer_days"] == pytest.approx(7.0, abs=0.05)
    finance = [row for row in data["by_department"] if row["id"] == directory.finance.pk]
    assert finance[0]["median_days"] is not None


def test_invalid_filters_answer_400_with_the_fields(
    directory: DemoDirectory, requests_mix: list[DeputyRequest]
) -> None:
    response = client_for(directory.staff).get(
        SUMMARY, {"status": "nonsense", "submitted_after": "yesterday", "lead_department": "999999"}
    )
    assert response.status_code == 400
    assert {"status", "submitted_after", "lead_department"} <= set(response.json())


def test_the_summary_needs_a_login(api_client: APIClient) -> None:
    assert api_client.get(SUMMARY).status_code == 401


def test_the_summary_of_an_empty_registry_is_zero(directory: DemoDirectory) -> None:
    data = summary(client_for(directory.staff), {})
    assert data["total"] == 0
    assert data["median_answer_days"] is None
    assert data["by_month"] == []
