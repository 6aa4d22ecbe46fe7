"""Directory endpoints: public reads, filters, pagination, retired entries for staff only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from maslikhat.directory.models import DepartmentKind, Mandate
from tests.factories import (
    CategoryFactory,
    CommissionFactory,
    DemoDirectory,
    DepartmentFactory,
    DeputyFactory,
    DistrictFactory,
    PartyFactory,
)

pytestmark = pytest.mark.django_db


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def test_departments_filter_by_kind(directory: DemoDirectory, api_client: APIClient) -> None:
    district = DistrictFactory.create(code="medeu", name_ru="Медеуский район")
    DepartmentFactory.create(code="medeu", kind=DepartmentKind.DISTRICT_AKIMAT, district=district)
    assert codes(api_client.get("/api/v1/departments/?kind=district_akimat")) == {"medeu"}
    assert codes(api_client.get("/api/v1/departments/?kind=city_department")) == {
        "finance",
        "mobility",
    }


def test_departments_search_matches_every_language(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    assert codes(api_client.get("/api/v1/departments/?search=финанс")) == {"finance"}
    assert codes(api_client.get("/api/v1/departments/?search=Mobility")) == {"mobility"}


def test_an_unknown_filter_value_is_a_400_with_the_field(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    response = api_client.get("/api/v1/departments/?kind=ministry")
    assert response.status_code == 400
    assert "kind" in response.json()
    assert api_client.get("/api/v1/departments/?district=abc").status_code == 400


def test_retired_departments_are_shown_to_staff_only(
    directory: DemoDirectory, api_client: APIClient, api_as
) -> None:
    DepartmentFactory.create(code="retired", is_active=False)
    assert "retired" not in codes(api_client.get("/api/v1/departments/"))
    assert "retired" not in codes(api_as(directory.finance_head).get("/api/v1/departments/"))
    assert "retired" in codes(api_as(directory.staff).get("/api/v1/departments/"))
    assert codes(api_as(directory.staff).get("/api/v1/departments/?is_active=false")) == {"retired"}
    assert (
        api_client.get(f"/api/v1/departments/{directory.finance.pk}/").json()["code"] == "finance"
    )


def test_a_retired_department_is_404_for_the_public(
    directory: DemoDirectory, api_client: APIClient, api_as
) -> None:
    retired = DepartmentFactory.create(code="retired", is_active=False)
    assert api_client.get(f"/api/v1/departments/{retired.pk}/").status_code == 404
    assert api_as(directory.staff).get(f"/api/v1/departments/{retired.pk}/").status_code == 200


def test_deputies_filter_by_party_mandate_district_and_commission(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    amanat = PartyFactory.create(code="amanat")
    district = DistrictFactory.create(code="almaly")
    commission = CommissionFactory.create(convocation=directory.convocation, code="economy")
    carol = DeputyFactory.create(
        convocation=directory.convocation, party=amanat, mandate=Mandate.DISTRICT, district=district
    )
    carol.commissions.add(commission)

    def ids(query: str) -> set[int]:
        response = api_client.get(f"/api/v1/deputies/?{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("party=amanat") == {carol.pk}
    assert ids("mandate=district") == {carol.pk}
    assert ids(f"district={district.pk}") == {carol.pk}
    assert ids(f"commission={commission.pk}") == {carol.pk}
    assert ids(f"convocation={directory.convocation.pk}") == {
        carol.pk,
        directory.alice.pk,
        directory.bob.pk,
    }


def test_deputy_cards_carry_no_personal_contacts(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    row = api_client.get(f"/api/v1/deputies/{directory.alice.pk}/").json()
    assert row["name"] == directory.alice.user.full_name
    assert "email" not in row and "phone" not in row and "username" not in row


def test_inactive_deputies_are_hidden_from_the_public(
    directory: DemoDirectory, api_client: APIClient, api_as
) -> None:
    directory.bob.is_active = False
    directory.bob.save()
    public_ids = {row["id"] for row in api_client.get("/api/v1/deputies/").json()["results"]}
    staff_ids = {
        row["id"] for row in api_as(directory.staff).get("/api/v1/deputies/").json()["results"]
    }
    assert directory.bob.pk not in public_ids
    assert directory.bob.pk in staff_ids


def test_lists_are_paginated_with_a_capped_page_size(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    for n in range(5):
        DistrictFactory.create(code=f"d{n}")
    body = api_client.get("/api/v1/districts/?page_size=2").json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"] and body["previous"] is None
    assert "page=2" in body["next"]
    capped = api_client.get("/api/v1/districts/?page_size=100000").json()
    assert len(capped["results"]) == 5
    assert api_client.get("/api/v1/districts/?page=99").status_code == 404


def test_names_follow_the_language_of_the_request(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    ru = api_client.get(
        f"/api/v1/departments/{directory.finance.pk}/", HTTP_ACCEPT_LANGUAGE="ru"
    ).json()
    en = api_client.get(
        f"/api/v1/departments/{directory.finance.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert ru["name"] == "Управление финансов"
    assert en["name"] == "Finance"


def test_every_directory_endpoint_lists_and_shows(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    commission = CommissionFactory.create(convocation=directory.convocation)
    district = DistrictFactory.create()
    category = CategoryFactory.create(code="roads", default_department=directory.mobility)
    objects = {
        "convocations": directory.convocation.pk,
        "commissions": commission.pk,
        "districts": district.pk,
        "departments": directory.finance.pk,
        "deputies": directory.alice.pk,
        "categories": category.pk,
    }
    for path, pk in objects.items():
        listing = api_client.get(f"/api/v1/{path}/")
        assert listing.status_code == 200, path
        assert listing.json()["count"] >= 1
        detail = api_client.get(f"/api/v1/{path}/{pk}/")
        assert detail.status_code == 200, path
        assert detail.json()["id"] == pk
    assert api_client.get("/api/v1/").status_code == 401


def test_the_api_root_lists_the_endpoints_to_a_signed_in_user(
    directory: DemoDirectory, api_as
) -> None:
    body = api_as(directory.staff).get("/api/v1/").json()
    assert {
        "departments",
        "deputies",
        "commissions",
        "districts",
        "convocations",
        "categories",
    } <= set(body)


def test_ordering_is_accepted_and_an_unknown_ordering_ignored(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    response = api_client.get("/api/v1/departments/?ordering=-code")
    assert [row["code"] for row in response.json()["results"]] == ["mobility", "finance"]
    assert api_client.get("/api/v1/departments/?ordering=password").status_code == 200


def test_directory_is_read_only(directory: DemoDirectory, api_as) -> None:
    response = api_as(directory.staff).post("/api/v1/departments/", {"code": "x"}, format="json")
    assert response.status_code == 405


def test_schema_and_offline_docs(client) -> None:
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/departments/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200


def test_ids_beyond_64_bits_in_filters_are_a_400_not_a_500(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    for query in (
        "departments/?district=9223372036854775808",
        "commissions/?convocation=-9223372036854775809",
        "deputies/?commission=99999999999999999999",
        "deputies/?district=0",
    ):
        response = api_client.get(f"/api/v1/{query}")
        assert response.status_code == 400, query
