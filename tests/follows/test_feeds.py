"""The Atom feed of published requests: valid XML, published requests only, the list's filters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client

from requests_app.models import RequestStatus
from tests.factories import DemoDirectory, DistrictFactory
from tests.requests_helpers import category, make_request

pytestmark = pytest.mark.django_db

S = RequestStatus
ATOM = "{http://www.w3.org/2005/Atom}"
FEED_URL = "/public/feeds/requests.atom"


@pytest.fixture
def requests(directory: DemoDirectory) -> dict[str, int]:
    almaly = DistrictFactory.create(code="almaly", name_ru="Алмалинский")
    medeu = DistrictFactory.create(code="medeu", name_ru="Медеуский")
    roads = category("roads")
    parks = category("parks", name_ru="Парки")
    made = {
        "roads_almaly": make_request(
            directory,
            status=S.IN_PROGRESS,
            title="Дорога в Алмалинском",
            district=almaly,
            category_obj=roads,
            is_public=True,
        ),
        "parks_medeu_bob": make_request(
            directory,
            status=S.CLOSED,
            author=directory.bob,
            title="Парк в Медеуском",
            district=medeu,
            category_obj=parks,
            lead=directory.mobility,
            is_public=True,
        ),
        "private": make_request(
            directory,
            status=S.CLOSED,
            title="Закрытый конфиденциально",
            district=almaly,
            category_obj=roads,
            is_public=False,
        ),
        "draft": make_request(
            directory, status=S.DRAFT, title="Черновик публичный", district=almaly, is_public=True
        ),
    }
    ids = {key: item.pk for key, item in made.items()}
    ids.update(almaly=almaly.pk, medeu=medeu.pk, roads=roads.pk, parks=parks.pk)
    return ids


def titles(client: Client, query: dict[str, Any] | None = None) -> list[str]:
    response = client.get(FEED_URL, query or {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return sorted(entry.findtext(f"{ATOM}title") or "" for entry in root.iter(f"{ATOM}entry"))


def test_the_feed_parses_and_lists_only_published_requests(
    client: Client, requests: dict[str, int]
) -> None:
    found = titles(client)
    assert len(found) == 2
    assert any("Дорога в Алмалинском" in t for t in found)
    assert any("Парк в Медеуском" in t for t in found)
    body = client.get(FEED_URL).content.decode()
    assert "конфиденциально" not in body
    assert "Черновик" not in body


def test_the_feed_applies_the_public_lists_filters(
    client: Client, directory: DemoDirectory, requests: dict[str, int]
) -> None:
    cases = {
        "district": (requests["medeu"], "Парк в Медеуском"),
        "category": (requests["roads"], "Дорога в Алмалинском"),
        "author": (directory.bob.pk, "Парк в Медеуском"),
        "department": (directory.mobility.pk, "Парк в Медеуском"),
    }
    for name, (value, expected) in cases.items():
        found = titles(client, {name: value})
        assert len(found) == 1, name
        assert expected in found[0], name


def test_a_department_filter_shows_only_what_the_department_has_answered(
    client: Client, directory: DemoDirectory, requests: dict[str, int]
) -> None:
    # The road request is routed to finance but still open: the public pages do not say
    # which department works on it, so neither the feed nor the list may reveal it.
    assert titles(client, {"department": directory.finance.pk}) == []
    listed = client.get("/public/requests/", {"department": directory.finance.pk})
    assert listed.status_code == 200
    assert "Дорога в Алмалинском" not in listed.content.decode()
    answered = client.get("/public/requests/", {"department": directory.mobility.pk})
    assert "Парк в Медеуском" in answered.content.decode()
    assert "Дорога в Алмалинском" not in answered.content.decode()


def test_a_feed_with_an_unknown_filter_value_answers_400_not_500(
    client: Client, requests: dict[str, int]
) -> None:
    for query in ({"district": "999999"}, {"department": "abc"}, {"category": "x"}):
        assert client.get(FEED_URL, query).status_code == 400


def test_the_public_list_links_its_feed_with_the_same_filters(
    client: Client, requests: dict[str, int]
) -> None:
    html = client.get("/public/requests/", {"district": requests["almaly"]}).content.decode()
    feed = f"{FEED_URL}?district={requests['almaly']}"
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert f'href="{feed}"' in html
    assert "data-feed-link" in html
