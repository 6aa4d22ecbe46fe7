"""Search sees what its caller may read, on every surface that searches requests.

A published request is public, its correspondence is not. Each search surface (the API
list, the HTML list, the public list, "similar requests" in the API and on the form, the
export) is asked for a word that lives in one place of a published request, by each
audience; whether the request comes back is derived from two declared tables — who reads
each place (``WHO_READS``) and how far each audience reads (``AUDIENCES``) — never written
per case. The rule is in ``docs/search.md``.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from instructions import services as instruction_services
from maslikhat.accounts.models import User
from maslikhat.directory.actors import actor_for
from requests_app import permissions, selectors, services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.instruction_helpers import lead_executor, make_instruction, make_world
from tests.requests_helpers import draft_answer, make_request, pdf_upload, refresh

pytestmark = pytest.mark.django_db

S = RequestStatus

# --- The declared tables -----------------------------------------------------------------------

#: How far an audience reads a published request: its public page, what a signed-in
#: reader sees on its page (the address too), or everything its participants read.
PUBLIC, READER, PARTICIPANT = 0, 1, 2

#: Where a word lives → the least an audience must read to find it by that word
#: (``None``: nobody — an unsent draft answer becomes searchable only once it is sent).
WHO_READS: dict[str, int | None] = {
    "title": PUBLIC,
    "body": PUBLIC,
    "final_answer_of_closed": PUBLIC,
    "answer_not_yet_closed": PARTICIPANT,
    "draft_answer": None,
    "thread_message": PARTICIPANT,
    "file_name": PARTICIPANT,
    "address": READER,
}

#: One distinctive word per place (the same form is searched: stemming plays no part).
WORDS = {
    "title": "титулзебра",
    "body": "текстзебра",
    "final_answer_of_closed": "ответзебра",
    "answer_not_yet_closed": "промежзебра",
    "draft_answer": "черновикзебра",
    "thread_message": "переписказебра",
    "file_name": "файлзебра",
    "address": "адресзебра",
}


@dataclass(frozen=True)
class Audience:
    persona: str | None  # an attribute of ``DemoDirectory`` (a deputy's ``.user``); None: anonymous
    reads: int | None  # how far it reads the published requests; None: does not see them


#: The requests are alice's, published, worked on by finance.
AUDIENCES: dict[str, Audience] = {
    "author deputy": Audience("alice", PARTICIPANT),
    "another deputy": Audience("bob", READER),
    "head of the request's department": Audience("finance_head", PARTICIPANT),
    "executor of the request's department": Audience("finance_exec", PARTICIPANT),
    "another department": Audience("mobility_exec", None),
    "staff": Audience("staff", PARTICIPANT),
    "the chair": Audience("chair", PARTICIPANT),
    "anonymous": Audience(None, PUBLIC),
}


@dataclass(frozen=True)
class Surface:
    find: Callable[[Any, str], set[int] | set[str]]
    signed_in: bool  # anonymous visitors are sent to the login page
    as_public: bool = False  # reads as the public, whoever looks


def expected(surface: Surface, audience: Audience, where: str) -> bool:
    least = WHO_READS[where]
    reads = PUBLIC if surface.as_public else audience.reads
    return least is not None and reads is not None and reads >= least


# --- The surfaces --------------------------------------------------------------------------------


def api_list(client: APIClient, word: str) -> set[int]:
    response = client.get("/api/v1/requests/", {"search": word, "page_size": "200"})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def html_list(client: Client, word: str) -> set[int]:
    response = client.get("/requests/", {"search": word, "scope": "all"})
    assert response.status_code == 200
    return {row.pk for row in response.context["rows"]}


def public_list(client: Client, word: str) -> set[int]:
    response = client.get("/public/requests/", {"search": word})
    assert response.status_code == 200
    return {row.pk for row in response.context["rows"]}


def similar_api(client: APIClient, word: str) -> set[int]:
    response = client.get("/api/v1/requests/similar/", {"title": word})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()}


def similar_on_the_form(client: Client, word: str) -> set[int]:
    response = client.get("/requests/similar/", {"title": word})
    assert response.status_code == 200
    return {row.pk for row in response.context["rows"]}


def export(client: APIClient, word: str) -> set[str]:
    response = client.get(
        "/api/v1/requests/export/", {"format": "csv", "search": word, "scope": "all"}
    )
    assert response.status_code == 200, response.content
    streamed: Any = response
    content = b"".join(streamed.streaming_content).decode("utf-8-sig")
    return {row[0] for row in list(csv.reader(io.StringIO(content), delimiter=";"))[1:]}


SURFACES: dict[str, Surface] = {
    "API list": Surface(api_list, signed_in=True),
    "HTML list": Surface(html_list, signed_in=True),
    "public list": Surface(public_list, signed_in=False, as_public=True),
    "similar requests (API)": Surface(similar_api, signed_in=True),
    "similar requests (the filing form)": Surface(similar_on_the_form, signed_in=True),
    "export": Surface(export, signed_in=True),
}

CASES = [
    pytest.param(surface, audience, id=f"{surface} by {audience}")
    for surface, spec in SURFACES.items()
    for audience, who in AUDIENCES.items()
    if who.persona is not None or not spec.signed_in
]


# --- The scene -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    """Files and exports of this module go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def published(directory: DemoDirectory, **fields: Any) -> DeputyRequest:
    return make_request(directory, status=S.IN_PROGRESS, is_public=True, **fields)


def send(directory: DemoDirectory, item: DeputyRequest, text: str) -> None:
    response = draft_answer(directory, item, text=text)
    services.deputy_request_response_approve(
        pk=item.pk, response_id=response.pk, by=directory.finance_head
    )


@pytest.fixture
def scene(directory: DemoDirectory) -> dict[str, DeputyRequest]:
    """One published request of alice's per place a word can live, routed to finance."""
    d, w = directory, WORDS
    closed = published(d)
    send(d, closed, f"Работы выполнены: {w['final_answer_of_closed']}.")
    services.deputy_request_evaluate(pk=closed.pk, by=d.alice.user, decision="accept", rating=4)
    answered = published(d)
    send(d, answered, f"Ответ отправлен: {w['answer_not_yet_closed']}.")
    drafted = published(d)
    draft_answer(d, drafted, text=f"Проект ответа: {w['draft_answer']}.")
    thread = published(d)
    services.deputy_request_message_post(
        pk=thread.pk, by=d.finance_exec, text=f"Уточните, пожалуйста: {w['thread_message']}?"
    )
    with_file = published(d)
    services.deputy_request_attachment_add(
        pk=with_file.pk, by=d.alice.user, upload=pdf_upload(f"{w['file_name']}.pdf")
    )
    items = {
        "title": published(d, title=f"Светофор {w['title']} у школы"),
        "body": published(d, body=f"Жители пишут: {w['body']} во дворе."),
        "final_answer_of_closed": closed,
        "answer_not_yet_closed": answered,
        "draft_answer": drafted,
        "thread_message": thread,
        "file_name": with_file,
        "address": published(d, address=f"ул. {w['address']}, 5"),
    }
    assert refresh(closed).status == S.CLOSED and refresh(answered).status == S.ANSWERED
    return {where: refresh(item) for where, item in items.items()}


def client_for(surface: Surface, user: User | None) -> Any:
    if surface.find in (api_list, similar_api, export):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        return api
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def persona(directory: DemoDirectory, name: str | None) -> User | None:
    if name is None:
        return None
    who = getattr(directory, name)
    return who if isinstance(who, User) else who.user


# --- The matrix ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("surface_name", "audience_name"), CASES)
def test_search_finds_a_word_only_where_its_caller_may_read_it(
    directory: DemoDirectory,
    scene: dict[str, DeputyRequest],
    surface_name: str,
    audience_name: str,
) -> None:
    surface, audience = SURFACES[surface_name], AUDIENCES[audience_name]
    client = client_for(surface, persona(directory, audience.persona))
    found, should_find = {}, {}
    for where, item in scene.items():
        key = item.number if surface.find is export else item.pk
        found[where] = key in surface.find(client, WORDS[where])
        should_find[where] = expected(surface, audience, where)
    assert found == should_find


def test_a_thread_word_is_no_oracle_for_another_deputy_on_the_api_list(
    directory: DemoDirectory, api_as: Any, scene: dict[str, DeputyRequest]
) -> None:
    item = scene["thread_message"]
    word = WORDS["thread_message"]
    bob = api_as(directory.bob.user)
    # Bob sees the published request and gets 404 on its thread...
    assert bob.get(f"/api/v1/requests/{item.pk}/").status_code == 200
    assert bob.get(f"/api/v1/requests/{item.pk}/messages/").status_code == 404
    # ...so searching the thread's word must not tell him it is there.
    assert item.pk in api_list(bob, "Абая")  # its title
    assert api_list(bob, word) == set()
    assert api_list(api_as(directory.alice.user), word) == {item.pk}


def test_a_word_typed_in_two_parts_of_what_a_reader_sees_is_found(
    directory: DemoDirectory, api_as: Any, scene: dict[str, DeputyRequest]
) -> None:
    words = f"{WORDS['address']} ремонт"  # the address and the title, both shown to bob
    assert api_list(api_as(directory.bob.user), words) == {scene["address"].pk}
    assert public_list(Client(), words) == set()


def test_participants_are_decided_by_the_correspondence_rule(
    directory: DemoDirectory, scene: dict[str, DeputyRequest]
) -> None:
    """The search's participants are exactly those ``can_read_correspondence`` lets in."""
    item = scene["thread_message"]
    for audience in AUDIENCES.values():
        actor = actor_for(persona(directory, audience.persona))
        by_query = DeputyRequest.objects.filter(
            selectors.deputy_request_correspondence_readable(actor), pk=item.pk
        ).exists()
        assert by_query == permissions.can_read_correspondence(actor, refresh(item))
        assert by_query == (audience.reads == PARTICIPANT)


def test_a_file_name_becomes_searchable_for_participants_when_the_file_is_attached(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = published(directory)
    alice = api_as(directory.alice.user)
    assert api_list(alice, "сканакта") == set()
    services.deputy_request_attachment_add(
        pk=item.pk, by=directory.alice.user, upload=pdf_upload("сканакта.pdf")
    )
    assert api_list(alice, "сканакта") == {item.pk}
    assert api_list(api_as(directory.bob.user), "сканакта") == set()


def test_the_final_answer_is_published_to_search_when_the_request_closes_unrated(
    directory: DemoDirectory, api_as: Any
) -> None:
    item = published(directory)
    send(directory, item, "Освещение восстановлено, автозакрытиезебра.")
    bob = api_as(directory.bob.user)
    assert api_list(bob, "автозакрытиезебра") == set()
    assert services.deputy_request_auto_close(pk=item.pk, today=datetime.date(2100, 1, 1))
    assert api_list(bob, "автозакрытиезебра") == {item.pk}
    assert public_list(Client(), "автозакрытиезебра") == {item.pk}


def test_the_migration_fills_both_documents_of_existing_requests(
    scene: dict[str, DeputyRequest],
) -> None:
    """The backfill builds the documents the services build (a request saved before them)."""
    from importlib import import_module

    migration = import_module("requests_app.migrations.0005_search_by_audience")
    built = dict(DeputyRequest.objects.values_list("pk", "search_document"))
    published_built = dict(DeputyRequest.objects.values_list("pk", "published_document"))
    DeputyRequest.objects.update(search_document="", published_document="")
    migration.backfill(apps, None)
    assert dict(DeputyRequest.objects.values_list("pk", "search_document")) == built
    assert dict(DeputyRequest.objects.values_list("pk", "published_document")) == published_built
    assert WORDS["file_name"] in built[scene["file_name"].pk]
    assert WORDS["final_answer_of_closed"] in published_built[scene["final_answer_of_closed"].pk]
    assert WORDS["address"] not in published_built[scene["address"].pk]


def test_instruction_search_reads_the_instruction_text_never_its_thread(
    directory: DemoDirectory, api_as: Any
) -> None:
    """An instruction's search reads its number and text, which everyone who sees it reads."""
    world = make_world(directory)
    item = make_instruction(world, text="Представить план, поручениезебра.")
    executor = lead_executor(world, item)
    instruction_services.instruction_message_post(
        pk=item.pk, by=executor, text="Служебная переписказебра."
    )

    def found(user: User, word: str) -> set[int]:
        response = api_as(user).get("/api/v1/instructions/", {"search": word})
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    for user in (directory.staff, executor):
        assert found(user, "поручениезебра") == {item.pk}
        assert found(user, "переписказебра") == set()


@pytest.mark.postgres
def test_searches_use_the_gin_indexes_on_postgresql(directory: DemoDirectory) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("GIN indexes are PostgreSQL's (run with DATABASE_URL=postgres://…)")
    bob = actor_for(directory.bob.user)
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, actor in (("public", actor_for(None)), ("deputy", bob)):
            # The search condition alone: which index answers it, not the visibility filter.
            qs = selectors.search_requests(DeputyRequest.objects.all(), "светофор", actor=actor)
            plans[name] = qs.explain()
    assert "request_published_vector" in plans["public"]
    assert "request_search_vector" in plans["deputy"] and "request_reader_vector" in plans["deputy"]
