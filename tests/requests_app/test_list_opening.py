"""What the request list opens on, by who opens it.

A department's inbox opens on its requests in work, the nearest due date first; staff's registry
opens on the routing queue, the longest waiting first; a deputy's "My requests" and the chair's
registry still open on everything, newest first. Every link carries the opening's query.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from maslikhat.accounts.models import User
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import category, make_request

pytestmark = pytest.mark.django_db

S = RequestStatus
ROW = re.compile(r'data-request-id="(\d+)"')


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(html: str) -> list[int]:
    """The rows of the list, in order, each once."""
    return list(dict.fromkeys(int(pk) for pk in ROW.findall(html)))


def active_tab(html: str) -> str | None:
    found = re.search(r'data-tab="(\w+)" aria-current="page"', html)
    return found.group(1) if found else None


@pytest.fixture
def requests(directory: DemoDirectory) -> dict[str, DeputyRequest]:
    """Requests in several states; due dates in an order unlike their filing."""
    roads = category()
    today = timezone.localdate()
    items = {
        "closed": make_request(directory, status=S.CLOSED, category_obj=roads),
        "late": make_request(directory, status=S.IN_PROGRESS, category_obj=roads),
        "queued_first": make_request(directory, status=S.SUBMITTED, category_obj=roads),
        "later": make_request(directory, status=S.IN_PROGRESS, category_obj=roads),
        "soon": make_request(directory, status=S.IN_PROGRESS, category_obj=roads),
        "answered": make_request(directory, status=S.ANSWERED, category_obj=roads),
        "queued_second": make_request(directory, status=S.SUBMITTED, category_obj=roads),
    }
    dues = {"late": -4, "later": 20, "soon": 2}
    for key, days in dues.items():
        DeputyRequest.objects.filter(pk=items[key].pk).update(
            due_date=today + datetime.timedelta(days=days)
        )
    # Filed one after another: the first queued one waits longest.
    start = timezone.now() - datetime.timedelta(days=10)
    for n, item in enumerate(items.values()):
        DeputyRequest.objects.filter(pk=item.pk).update(
            submitted_at=start + datetime.timedelta(hours=n)
        )
    return items


def test_a_departments_inbox_opens_on_its_requests_in_work_by_due_date(
    directory: DemoDirectory, requests: dict[str, DeputyRequest]
) -> None:
    html = client_for(directory.finance_head).get("/requests/").content.decode()
    assert shown(html) == [requests[key].pk for key in ("late", "soon", "later")]
    assert active_tab(html) == "in_progress"
    # "All" is one click away and shows the answered and closed ones too.
    everything = re.search(r'href="([^"]*)" data-tab="all"', html)
    assert everything is not None
    url = everything.group(1).replace("&amp;", "&")
    assert url != "?"
    listed = client_for(directory.finance_head).get(f"/requests/{url}").content.decode()
    assert {requests["closed"].pk, requests["answered"].pk} <= set(shown(listed))
    assert active_tab(listed) == "all"


def test_staffs_registry_opens_on_the_routing_queue_longest_waiting_first(
    directory: DemoDirectory, requests: dict[str, DeputyRequest]
) -> None:
    response = client_for(directory.staff).get("/requests/")
    html = response.content.decode()
    assert shown(html) == [requests["queued_first"].pk, requests["queued_second"].pk]
    assert active_tab(html) == "queue"
    # The page's links carry the opening: a shared address shows the same.
    assert response.context["list_query"] == "status=submitted&ordering=submitted_at"
    shared = client_for(directory.staff).get("/requests/?" + response.context["list_query"])
    assert shown(shared.content.decode()) == shown(html)


@pytest.mark.parametrize("persona", ["chair", "alice"])
def test_the_chair_and_a_deputy_still_open_on_everything_newest_first(
    directory: DemoDirectory, requests: dict[str, DeputyRequest], persona: str
) -> None:
    user = directory.chair if persona == "chair" else directory.alice.user
    html = client_for(user).get("/requests/").content.decode()
    rows = shown(html)
    assert set(rows) == {item.pk for item in requests.values()}
    assert rows[0] == requests["queued_second"].pk  # the newest submission
    assert active_tab(html) == "all"
