"""The public promises page: promises of published, closed requests only, with the kept share.

Hand computation of the fixture ``book`` (today = the day the test runs):

- finance: A kept on time (reported before its date), B kept late (its date was ten days
  ago, reported today), C open with a date ahead, D overdue (open, five days late), E
  broken — due: A, B, D, E (C's date has not come) = 4; kept on time: A = 1; share 1/4;
- mobility: F rescheduled (its new date ahead: not due), G kept on time — due 1, kept 1;
- never public: H (mobility, an unpublished request, kept) and I (finance, published but
  not closed: its answer is not public yet).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Commitment, CommitmentState
from commitments.services import commitment_confirm
from reports.public_promises import public_commitment_page, public_commitments
from tests.factories import DemoDirectory
from tests.reports.promise_data import (
    break_,
    bulk_promises,
    keep,
    move_due,
    promised,
    report,
    reschedule,
)
from tests.reports_helpers import Places, bulk_requests, places
from tests.requests_helpers import refresh

pytestmark = pytest.mark.django_db

URL = "/public/promises/"
#: No session for a visitor: the daily counts' latest build (without today's, the figures
#: are counted live), the figures, the figures per department, the page of promises
#: (request, district and department read with them; its count is the figures' total), the
#: filter's two lists. With today's build the figures are the stored ones and the live
#: days' (``test_public_counts``).
BUDGET = 6


def budget() -> int:
    return BUDGET


@dataclass
class Book:
    a: Commitment
    b: Commitment
    c: Commitment
    d: Commitment
    e: Commitment
    f: Commitment
    g: Commitment
    h: Commitment
    i: Commitment


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def book(directory: DemoDirectory, where: Places) -> Book:
    today = timezone.localdate()
    almaly, medeu = where.districts
    finance, mobility = directory.finance, directory.mobility
    a = keep(directory, promised(directory, lead=finance, district=almaly))
    b = promised(directory, lead=finance, district=almaly)
    report(directory, b)
    b = move_due(b, today - datetime.timedelta(days=10))
    b = commitment_confirm(pk=b.pk, by=refresh(b.request).author.user)
    c = promised(directory, lead=finance, district=medeu)
    d = move_due(promised(directory, lead=finance), today - datetime.timedelta(days=5))
    e = break_(directory, promised(directory, lead=finance, district=medeu))
    f = reschedule(directory, promised(directory, lead=mobility, district=medeu))
    g = keep(directory, promised(directory, lead=mobility, district=almaly))
    h = keep(directory, promised(directory, lead=mobility, district=almaly, public=False))
    i = promised(directory, lead=finance, district=almaly, close=False)
    return Book(a, b, c, d, e, f, g, h, i)


def shown(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-public-promise="(\d+)"', html)}


def test_only_promises_of_published_closed_requests_are_public(book: Book) -> None:
    assert set(public_commitments().values_list("pk", flat=True)) == {
        book.a.pk,
        book.b.pk,
        book.c.pk,
        book.d.pk,
        book.e.pk,
        book.f.pk,
        book.g.pk,
    }


def test_the_page_lists_them_with_their_state_and_request(book: Book) -> None:
    response = Client().get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert shown(html) == {
        book.a.pk,
        book.b.pk,
        book.c.pk,
        book.d.pk,
        book.e.pk,
        book.f.pk,
        book.g.pk,
    }
    assert str(book.h.request.number) not in html and str(book.i.request.number) not in html
    # Each promise names its request (number, link to its public page) and its state.
    assert str(book.a.request.number) in html
    assert f'href="/public/requests/{book.a.request_id}/"' in html
    states = dict(
        re.findall(r'data-public-promise="(\d+)".*?data-promise-state="(\w+)"', html, re.S)
    )
    assert states == {
        str(book.a.pk): "kept",
        str(book.b.pk): "kept",
        str(book.c.pk): "open",
        str(book.d.pk): "overdue",
        str(book.e.pk): "broken",
        str(book.f.pk): "rescheduled",
        str(book.g.pk): "kept",
    }
    # A rescheduled promise shows its old and new dates.
    f = Commitment.objects.get(pk=book.f.pk)
    assert f"{f.original_due_date:%d.%m.%Y}" in html and f"{f.due_date:%d.%m.%Y}" in html


def test_the_state_reads_kept_in_the_visitors_language(book: Book) -> None:
    client = Client()
    assert 'data-promise-state="kept">Выполнено<' in client.get(URL).content.decode()
    client.cookies["django_language"] = "en"
    assert 'data-promise-state="kept">Kept<' in client.get(URL).content.decode()


def test_kept_share_per_department_against_a_hand_computation(book: Book) -> None:
    data = public_commitment_page({})
    by_code = {row["code"]: row for row in data["by_department"]}
    assert set(by_code) == {"finance", "mobility"}
    finance, mobility = by_code["finance"], by_code["mobility"]
    assert (finance["due"], finance["kept_on_time"], finance["kept_share"]) == (4, 1, 0.25)
    assert (finance["kept"], finance["broken"], finance["open"], finance["overdue"]) == (2, 1, 1, 1)
    assert (mobility["due"], mobility["kept_on_time"], mobility["kept_share"]) == (1, 1, 1.0)
    assert (mobility["kept"], mobility["rescheduled"]) == (1, 1)  # H is not counted
    assert data["totals"]["total"] == 7
    assert (data["totals"]["due"], data["totals"]["kept_on_time"]) == (5, 2)
    html = Client().get(URL).content.decode()
    assert '<td class="text-end">1 / 4</td>' in html and "25%" in html


def test_filters_by_department_and_district_never_show_an_unpublished_promise(
    book: Book, where: Places
) -> None:
    html = Client().get(URL, {"department": "mobility"}).content.decode()
    assert shown(html) == {book.f.pk, book.g.pk}
    assert 'data-figure="total">2<' in html
    data = public_commitment_page({"department": "mobility"})
    assert data["totals"]["kept"] == 1  # G only: H's request is not published
    html = Client().get(URL, {"district": where.districts[0].code}).content.decode()
    assert shown(html) == {book.a.pk, book.b.pk, book.g.pk}
    # An unknown code shows nothing rather than everything.
    html = Client().get(URL, {"department": "nope"}).content.decode()
    assert shown(html) == set() and "data-filter-errors" in html


def test_an_unpublished_request_hides_its_promise_everywhere(
    directory: DemoDirectory, where: Places
) -> None:
    hidden = keep(directory, promised(directory, lead=directory.mobility, public=False))
    for params in ({}, {"department": "mobility"}):
        data = public_commitment_page(params)
        assert data["totals"]["total"] == 0 and data["by_department"] == []
        assert not data["rows"].exists()
    assert hidden.state == CommitmentState.KEPT
    html = Client().get(URL).content.decode()
    assert shown(html) == set() and str(hidden.request.number) not in html


def test_the_portal_navigation_links_the_page(book: Book) -> None:
    html = Client().get("/public/").content.decode()
    assert f'href="{URL}"' in html


def count(url: str, params: dict | None = None) -> int:
    client = Client()
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_query_count_is_the_same_at_10_and_1000_promises(
    directory: DemoDirectory, where: Places
) -> None:
    # A third of the requests have a sent answer: 30 requests make 10 promises, 3,000 make
    # 1,000 (a sixth of the requests are published and closed: their promises are public).
    bulk_promises(bulk_requests(directory, 30, where, with_answers=True))
    assert Commitment.objects.count() == 10
    at_10 = count(URL)
    filtered_10 = count(URL, {"department": "finance", "district": "almaly"})
    bulk_promises(bulk_requests(directory, 2970, where, with_answers=True))
    assert Commitment.objects.count() == 1000
    assert public_commitments().count() > 100
    assert count(URL) == at_10 <= budget()
    assert count(URL, {"department": "finance", "district": "almaly"}) == filtered_10
