"""Full-text search of deputy requests (``?search=``) and the "similar requests" lookup.

Search reads the request, its sent answers and its thread, across all convocations,
only among the requests the user may see. A registration number matches exactly.
PostgreSQL uses the Russian configuration (stemming); SQLite matches every word.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from maslikhat.accounts.models import Role
from requests_app import services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import ConvocationFactory, DemoDirectory, DeputyFactory, UserFactory
from tests.requests_helpers import draft_answer, make_request, refresh

pytestmark = pytest.mark.django_db

S = RequestStatus
ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def found(client: Any, query: str, extra: str = "") -> set[int]:
    result = client.get("/api/v1/requests/", {"search": query, "page_size": 200} | parse(extra))
    assert result.status_code == 200, result.content
    return {row["id"] for row in result.json()["results"]}


def parse(extra: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in extra.split("&") if pair)


@pytest.fixture
def corpus(directory: DemoDirectory) -> dict[str, DeputyRequest]:
    """Requests whose distinctive words sit in different places."""
    d = directory
    in_title = make_request(d, status=S.SUBMITTED, title="установить светофор у школы")
    in_body = make_request(
        d, status=S.IN_PROGRESS, title="запрос о трубах", body="течёт канализация во дворе"
    )
    in_answer = make_request(d, status=S.IN_PROGRESS, title="запрос о дворе")
    response = draft_answer(d, in_answer, text="асфальтирование запланировано на май")
    services.deputy_request_response_approve(
        pk=in_answer.pk, response_id=response.pk, by=d.finance_head
    )
    in_message = make_request(d, status=S.IN_PROGRESS, title="запрос о пешеходах")
    services.deputy_request_message_post(
        pk=in_message.pk, by=d.finance_exec, text="тротуар расширят летом"
    )
    unsent = make_request(d, status=S.IN_PROGRESS, title="запрос о деревьях")
    draft_answer(d, unsent, text="секретныйчерновик ещё не отправлен")
    return {
        "in_title": refresh(in_title),
        "in_body": refresh(in_body),
        "in_answer": refresh(in_answer),
        "in_message": refresh(in_message),
        "unsent": refresh(unsent),
    }


@pytest.mark.parametrize(
    ("word", "where"),
    [
        ("светофор", "in_title"),
        ("канализация", "in_body"),
        ("асфальтирование", "in_answer"),
        ("тротуар", "in_message"),
    ],
)
def test_search_finds_words_in_the_title_body_sent_answer_and_thread(
    directory: DemoDirectory,
    api_as: Any,
    corpus: dict[str, DeputyRequest],
    word: str,
    where: str,
) -> None:
    assert found(api_as(directory.staff), word) == {corpus[where].pk}
    assert found(api_as(directory.alice.user), word) == {corpus[where].pk}


def test_search_does_not_read_unsent_draft_answers(
    directory: DemoDirectory, api_as: Any, corpus: dict[str, DeputyRequest]
) -> None:
    assert found(api_as(directory.alice.user), "секретныйчерновик") == set()
    assert found(api_as(directory.staff), "секретныйчерновик") == set()


def test_every_word_must_match(
    directory: DemoDirectory, api_as: Any, corpus: dict[str, DeputyRequest]
) -> None:
    client = api_as(directory.staff)
    assert found(client, "светофор школы") == {corpus["in_title"].pk}
    assert found(client, "светофор канализация") == set()


def test_search_spans_convocations_and_the_convocation_filter_narrows_it(
    directory: DemoDirectory, api_as: Any
) -> None:
    seventh = ConvocationFactory.create(
        number=7, elected_on=datetime.date(2021, 1, 10), is_current=False
    )
    veteran = DeputyFactory.create(
        user=UserFactory.create(username="veteran", role=Role.DEPUTY), convocation=seventh
    )
    old = make_request(
        directory, status=S.SUBMITTED, author=veteran, body="ливневая канализация на Сатпаева"
    )
    new = make_request(directory, status=S.SUBMITTED, body="канализация снова течёт")
    assert (old.convocation_id, new.convocation_id) == (seventh.pk, directory.convocation.pk)
    client = api_as(directory.staff)
    assert found(client, "канализация") == {old.pk, new.pk}
    assert found(client, "канализация", f"convocation={seventh.pk}") == {old.pk}


def test_a_registration_number_matches_exactly(
    directory: DemoDirectory, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(datetime.datetime(2026, 4, 13, 10, 0, tzinfo=datetime.UTC))
    items = [make_request(directory, status=S.SUBMITTED, title=f"Запрос {n}") for n in range(11)]
    assert items[0].number == "DZ-2026-00001" and items[10].number == "DZ-2026-00011"
    client = api_as(directory.staff)
    assert found(client, "DZ-2026-00001") == {items[0].pk}
    assert found(client, "dz-2026-00011") == {items[10].pk}
    assert found(client, " DZ-2026-00001 ") == {items[0].pk}
    assert found(client, "DZ-2026-0000") == set()


def test_search_respects_visibility(
    directory: DemoDirectory, api_as: Any, corpus: dict[str, DeputyRequest]
) -> None:
    bob = api_as(directory.bob.user)
    assert found(bob, "светофор") == set()
    assert found(bob, "DZ") == set()
    assert found(bob, corpus["in_title"].number or "") == set()
    assert found(api_as(directory.mobility_exec), "канализация") == set()
    assert found(api_as(directory.finance_exec), "канализация") == {corpus["in_body"].pk}
    services.deputy_request_set_public(
        pk=corpus["in_title"].pk, by=directory.alice.user, is_public=True
    )
    assert found(bob, "светофор") == {corpus["in_title"].pk}


def test_a_draft_is_found_by_its_author_only(directory: DemoDirectory, api_as: Any) -> None:
    draft = make_request(directory, status=S.DRAFT, title="черновик про фонтаны")
    assert found(api_as(directory.alice.user), "фонтаны") == {draft.pk}
    assert found(api_as(directory.staff), "фонтаны") == set()


def test_search_ignores_the_case_of_cyrillic_words(directory: DemoDirectory, api_as: Any) -> None:
    item = make_request(directory, status=S.SUBMITTED, title="Ремонт Дороги на Абая")
    client = api_as(directory.staff)
    assert found(client, "ремонт") == {item.pk}
    assert found(client, "РЕМОНТ") == {item.pk}


def test_a_blank_or_very_long_search_is_harmless(
    directory: DemoDirectory, api_as: Any, corpus: dict[str, DeputyRequest]
) -> None:
    client = api_as(directory.staff)
    assert len(found(client, "   ")) == len(corpus)
    result = client.get("/api/v1/requests/", {"search": "дорога " * 500 + "'\"%_\\"})
    assert result.status_code == 200


@pytest.mark.postgres
def test_russian_stemming_finds_other_forms_of_a_word_on_postgresql(
    directory: DemoDirectory, api_as: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Russian stemming is PostgreSQL full-text search; SQLite matches words as "
            "written (run with DATABASE_URL=postgres://…)"
        )
    item = make_request(directory, status=S.SUBMITTED, title="ремонт дороги на улице Абая")
    client = api_as(directory.staff)
    assert found(client, "дорога") == {item.pk}
    assert found(client, "дорогу") == {item.pk}
    assert found(client, "ремонты") == {item.pk}


# --- Similar requests -----------------------------------------------------------------------


def similar(client: Any, **params: Any) -> list[int]:
    result = client.get("/api/v1/requests/similar/", params)
    assert result.status_code == 200, result.content
    return [row["id"] for row in result.json()]


def test_similar_returns_an_earlier_request_at_the_same_address(
    directory: DemoDirectory, api_as: Any
) -> None:
    earlier = make_request(directory, status=S.CLOSED, address="ул. Абая, 10", title="Яма")
    make_request(directory, status=S.CLOSED, address="ул. Сатпаева, 5", title="Другое")
    client = api_as(directory.alice.user)
    assert similar(client, address="ул. Абая, 10") == [earlier.pk]
    assert similar(client, address="ул. Абая, 10", exclude=earlier.pk) == []


def test_similar_excludes_drafts_and_requests_the_user_may_not_see(
    directory: DemoDirectory, api_as: Any
) -> None:
    address = "пр. Достык, 1"
    own_draft = make_request(directory, status=S.DRAFT, address=address)
    bobs_private = make_request(
        directory, status=S.IN_PROGRESS, author=directory.bob, address=address
    )
    bobs_public = make_request(
        directory, status=S.SUBMITTED, author=directory.bob, address=address, is_public=True
    )
    alice = api_as(directory.alice.user)
    assert similar(alice, address=address) == [bobs_public.pk]
    assert own_draft.pk not in similar(api_as(directory.alice.user), address=address)
    staff_sees = set(similar(api_as(directory.staff), address=address))
    assert staff_sees == {bobs_private.pk, bobs_public.pk}
    assert set(similar(api_as(directory.finance_exec), address=address)) == {bobs_private.pk}
    assert similar(api_as(directory.mobility_exec), address=address) == []


def test_similar_matches_title_words_within_the_district(
    directory: DemoDirectory, api_as: Any
) -> None:
    from tests.factories import DistrictFactory

    medeu = DistrictFactory.create(code="medeu")
    almaly = DistrictFactory.create(code="almaly")
    same = make_request(directory, status=S.CLOSED, title="освещение парка", district=medeu)
    make_request(directory, status=S.CLOSED, title="освещение парка", district=almaly)
    rows = similar(
        api_as(directory.staff), title="Освещение в парке не работает", district=medeu.pk
    )
    assert rows == [same.pk]


def test_similar_with_nothing_to_compare_returns_nothing_and_bad_input_is_400(
    directory: DemoDirectory, api_as: Any
) -> None:
    make_request(directory, status=S.CLOSED, address="ул. Абая, 10")
    client = api_as(directory.staff)
    assert similar(client) == []
    assert client.get("/api/v1/requests/similar/", {"district": "abc"}).status_code == 400
    assert client.get("/api/v1/requests/similar/", {"exclude": "-1"}).status_code == 400


def test_an_answer_becomes_searchable_when_it_is_sent(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    client = api_as(directory.staff)
    draft = draft_answer(directory, item, text="бордюры заменены")
    assert found(client, "бордюры") == set()
    services.deputy_request_response_approve(
        pk=item.pk, response_id=draft.pk, by=directory.finance_head
    )
    assert found(client, "бордюры") == {item.pk}
