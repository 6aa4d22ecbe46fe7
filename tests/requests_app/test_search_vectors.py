"""Search on the stored word vectors (``docs/search.md``, migration ``0013``).

On PostgreSQL each request's documents are kept parsed in ``tsvector`` columns by a
trigger; the planner's estimate of a term decides whether a list walks its order checking
the term on each row (a common word) or is first narrowed to the term's indexed requests (a
rare one). Both ways find exactly what the caller may read. A registration number is one
exact match on the number as stored (in capitals).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from maslikhat.directory.actors import Actor, actor_for
from requests_app import selectors, services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

S = RequestStatus
PUBLIC = Actor(user=None, role="anonymous")


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("stored word vectors are PostgreSQL's (run with DATABASE_URL=postgres://…)")


def searched(text: str, actor: Actor) -> set[int]:
    visible = selectors.deputy_request_visible(actor)
    qs = selectors.search_requests(visible, text, actor=actor)
    return set(qs.values_list("pk", flat=True))


@pytest.mark.postgres
@pytest.mark.parametrize("way", ["common", "rare"])
def test_both_ways_find_exactly_what_each_caller_may_read(
    directory: DemoDirectory, monkeypatch: Any, way: str
) -> None:
    """A word of a private thread is never found by whoever may not read the thread,
    whether the list walks its order or is narrowed to the indexed requests first."""
    needs_postgresql()
    # Every term common, or none: the two ways, whatever the planner estimates.
    monkeypatch.setattr(selectors, "COMMON_SHARE", 0.0 if way == "common" else 2.0)
    d = directory
    item = make_request(
        d,
        status=S.IN_PROGRESS,
        is_public=True,
        title="Открытоезебра у школы",
        address="ул. Зебровая, 7",
    )
    services.deputy_request_message_post(pk=item.pk, by=d.finance_exec, text="Закрытоезебра.")
    other = make_request(d, status=S.SUBMITTED, title="Открытоезебра у парка")
    author, reader, staff = (actor_for(u) for u in (d.alice.user, d.bob.user, d.staff))

    assert searched("открытоезебра", staff) == {item.pk, other.pk}
    assert searched("открытоезебра", reader) == {item.pk}
    assert searched("открытоезебра", PUBLIC) == {item.pk}
    assert searched("закрытоезебра", author) == {item.pk}
    assert searched("закрытоезебра", staff) == {item.pk}
    assert searched("закрытоезебра", reader) == set()
    assert searched("закрытоезебра", PUBLIC) == set()
    # The address: signed-in readers of the page, never the public.
    assert searched("зебровая", reader) == {item.pk}
    assert searched("зебровая", PUBLIC) == set()

    sql = str(selectors.search_requests(DeputyRequest.objects.all(), "x", actor=reader).query)
    assert (str(selectors.SEARCH_FENCE) in sql) is (way == "rare")
    assert "to_tsvector" not in sql  # no document is parsed at search time


@pytest.mark.postgres
def test_the_planner_tells_a_common_word_from_a_rare_one(directory: DemoDirectory) -> None:
    needs_postgresql()
    for n in range(30):
        make_request(directory, status=S.SUBMITTED, title=f"Частоезебра номер {n}")
    for n in range(30):
        make_request(directory, status=S.SUBMITTED, title=f"Другое обращение {n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_app_deputyrequest")

    def common(text: str, parse: str = "websearch_to_tsquery") -> bool:
        return selectors._common("search_vector", [(text, parse)])

    assert common("частоезебра")
    assert not common("отсутствующеезебра")
    assert common("'частоезебр':*", "to_tsquery")  # a word's beginning (similar requests)


@pytest.mark.postgres
def test_the_vectors_follow_the_documents_and_the_address(directory: DemoDirectory) -> None:
    """Whatever writes a document or the address rebuilds its vector (the trigger)."""
    needs_postgresql()
    d = directory
    item = make_request(d, status=S.IN_PROGRESS, is_public=True, title="Первоезебра")
    staff, reader = actor_for(d.staff), actor_for(d.bob.user)
    DeputyRequest.objects.filter(pk=item.pk).update(
        search_document="новоезебра", published_document="публичноезебра"
    )
    assert searched("новоезебра", staff) == {item.pk}
    assert searched("первоезебра", staff) == set()
    assert searched("публичноезебра", PUBLIC) == {item.pk}
    DeputyRequest.objects.filter(pk=item.pk).update(address="пр. Зебровый, 1")
    assert searched("зебровый", reader) == {item.pk}
    assert searched("зебровый", PUBLIC) == set()
    # A write that touches no document keeps the vectors as they are.
    DeputyRequest.objects.filter(pk=item.pk).update(status=S.ANSWERED)
    assert searched("новоезебра", staff) == {item.pk}


def test_a_search_inside_a_subquery_reads_its_own_rows(directory: DemoDirectory) -> None:
    """The stored vector is named beside the row's own table alias (``U0`` in a subquery)."""
    item = make_request(directory, status=S.SUBMITTED, title="Вложенноезебра")
    make_request(directory, status=S.SUBMITTED, title="Другое")
    staff = actor_for(directory.staff)
    inner = selectors.search_requests(DeputyRequest.objects.all(), "вложенноезебра", actor=staff)
    outer = DeputyRequest.objects.filter(pk__in=inner.values("pk"))
    assert set(outer.values_list("pk", flat=True)) == {item.pk}


def test_a_number_is_one_exact_match_on_the_number_in_capitals(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.SUBMITTED, title="Запрос")
    assert item.number and item.number == item.number.upper()
    staff = actor_for(directory.staff)
    qs = selectors.search_requests(
        DeputyRequest.objects.all(), f" {item.number.lower()} ", actor=staff
    )
    assert set(qs.values_list("pk", flat=True)) == {item.pk}
    sql = str(qs.query)
    assert f'"number" = {item.number}' in sql
    assert "UPPER" not in sql and "LIKE" not in sql
