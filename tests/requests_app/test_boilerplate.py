"""The boilerplate check: a draft answer close to an answer its department sent earlier.

The head sees the closest earlier answers (with the deputy's rating) on the draft; at or
above ``BOILERPLATE_SIMILARITY_THRESHOLD`` the approval needs a comment, and the history
keeps the similarity and the comment. The measure is Python (word 3-shingles, Jaccard),
so SQLite and PostgreSQL give the same numbers; the page costs the same queries at 3 and
at 50 earlier answers.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format
from rest_framework.test import APIClient

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.threads import AuditEvent
from requests_app import services, similarity
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.requests_helpers import draft_answer, make_request, refresh

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("threshold"),
]

S = RequestStatus

TEMPLATE = (
    "Уважаемый депутат! Управление рассмотрело ваш запрос № 17 от 02.02.2025. Вопрос будет "
    "рассмотрен при формировании бюджета на следующий год в пределах выделенных средств. "
    "О результатах будет сообщено дополнительно."
)
#: The template with another date and number: digits do not count.
COPIED = (
    "Уважаемый депутат! Управление рассмотрело ваш запрос № 45 от 12.03.2026. Вопрос будет "
    "рассмотрен при формировании бюджета на следующий год в пределах выделенных средств. "
    "О результатах будет сообщено дополнительно."
)
FRESH = (
    "Бригада заменила 40 метров трубы на улице Абая 14 ноября; давление воды в домах 12–18 "
    "восстановлено, акт приёмки подписан жителями. Фото работ приложены."
)
OTHER = [
    "Ремонт тротуара по улице Сатпаева включён в план благоустройства района.",
    "Освещение во дворе дома 5 восстановлено подрядчиком в установленный срок.",
    "Управление направило предписание управляющей компании о вывозе мусора.",
]


@pytest.fixture
def threshold(settings) -> None:
    # The suite's settings turn the check off (tests/…/settings/test.py): turn it on here.
    settings.BOILERPLATE_SIMILARITY_THRESHOLD = 0.6


def en_client(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def earlier(
    directory: DemoDirectory, texts: list[str], *, rating: int | None = None
) -> list[Response]:
    """Sent answers of finance to another request, oldest first (one a day, ending yesterday)."""
    old = make_request(directory, status=S.IN_PROGRESS, title="Прошлый запрос")
    now = timezone.now()
    rows = Response.objects.bulk_create(
        Response(
            request=old,
            department=directory.finance,
            kind=ResponseKind.FINAL,
            outcome="explained",
            text=text,
            status=ResponseStatus.SENT,
            drafted_by=directory.finance_exec,
            approved_by=directory.finance_head,
            sent_at=now - datetime.timedelta(days=len(texts) - i),
        )
        for i, text in enumerate(texts)
    )
    if rating is not None:
        for row in rows:
            Evaluation.objects.create(
                request=old,
                response=row,
                decision="rework",
                rating=rating,
                comment="Отписка.",
                by=directory.alice.user,
                at=now,
            )
    return rows


def request_with_draft(directory: DemoDirectory, text: str) -> tuple[DeputyRequest, Response]:
    item = make_request(directory, status=S.IN_PROGRESS, lead=directory.finance)
    return item, draft_answer(directory, item, text=text)


# --- The measure --------------------------------------------------------------------------


def test_words_drop_digits_and_punctuation_and_keep_kazakh_letters() -> None:
    assert similarity.words("Запрос № 45, от 12.03.2026: Өтініш қаралды!") == [
        "запрос",
        "от",
        "өтініш",
        "қаралды",
    ]


def test_the_measure_ranks_a_copied_answer_first_and_a_new_one_low(directory) -> None:
    rows = earlier(directory, [TEMPLATE, *OTHER])
    candidates = similarity.earlier_answers(directory.finance.pk)
    copied = similarity.closest(COPIED, candidates)
    assert copied.matches[0].earlier.response_id == rows[0].pk
    assert copied.score == pytest.approx(1.0)  # only the number and the date differ
    assert copied.needs_comment
    fresh = similarity.closest(FRESH, candidates)
    assert fresh.score < 0.1
    assert not fresh.needs_comment
    # A reworded half of the template: in between, and still ranked against the template.
    half = similarity.closest(TEMPLATE.split("Вопрос")[0] + "Ремонт выполнен.", candidates)
    assert half.matches[0].earlier.response_id == rows[0].pk
    assert 0.1 < half.score < 1.0


def test_candidates_are_the_departments_sent_answers_to_other_requests(directory) -> None:
    rows = earlier(directory, [TEMPLATE])
    item, draft = request_with_draft(directory, TEMPLATE)  # a draft is not a candidate
    mobility = make_request(directory, status=S.IN_PROGRESS, lead=directory.mobility)
    draft_answer(directory, mobility, text=TEMPLATE)
    got = similarity.earlier_answers(directory.finance.pk, exclude_request_id=item.pk)
    assert [e.response_id for e in got] == [rows[0].pk]
    assert (
        similarity.earlier_answers(rows[0].department_id, exclude_request_id=rows[0].request_id)
        == []
    )
    assert similarity.draft_closeness(draft).matches[0].earlier.response_id == rows[0].pk


def test_the_latest_rating_of_an_earlier_answer_is_shown(directory) -> None:
    (row,) = earlier(directory, [TEMPLATE], rating=2)
    (earlier_answer,) = similarity.earlier_answers(directory.finance.pk)
    assert earlier_answer.rating == 2
    Evaluation.objects.create(
        request=row.request,
        response=row,
        decision="accept",
        rating=4,
        by=directory.alice.user,
        at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert similarity.earlier_answers(directory.finance.pk)[0].rating == 4


def test_finding_candidates_is_one_query(directory, django_assert_num_queries) -> None:
    earlier(directory, [TEMPLATE, *OTHER] * 5, rating=3)
    with django_assert_num_queries(1):
        got = similarity.earlier_answers(directory.finance.pk)
    assert len(got) == 20


# --- Approval -----------------------------------------------------------------------------


def approval_event(item: DeputyRequest) -> AuditEvent:
    event = AuditEvent.objects.filter(action="approve_final", item_id=item.pk).last()
    assert event is not None
    return event


def test_approval_above_the_threshold_needs_a_comment(directory) -> None:
    rows = earlier(directory, [TEMPLATE, *OTHER])
    item, draft = request_with_draft(directory, COPIED)
    with pytest.raises(ValidationFailed) as failed:
        services.deputy_request_response_approve(
            pk=item.pk, response_id=draft.pk, by=directory.finance_head
        )
    assert failed.value.field == "boilerplate_comment"
    assert "100%" in str(failed.value)
    assert refresh(item).status == S.IN_PROGRESS
    assert Response.objects.get(pk=draft.pk).status == ResponseStatus.DRAFT

    services.deputy_request_response_approve(
        pk=item.pk,
        response_id=draft.pk,
        by=directory.finance_head,
        boilerplate_comment="Бюджет действительно ещё не утверждён.",
    )
    assert refresh(item).status == S.ANSWERED
    changes = approval_event(item).changes
    assert changes["similarity"] == 1.0
    assert changes["similar_response"] == rows[0].pk
    assert changes["boilerplate_comment"] == "Бюджет действительно ещё не утверждён."


def test_approval_below_the_threshold_needs_no_comment(directory) -> None:
    earlier(directory, [TEMPLATE, *OTHER])
    item, draft = request_with_draft(directory, FRESH)
    services.deputy_request_response_approve(
        pk=item.pk, response_id=draft.pk, by=directory.finance_head
    )
    assert refresh(item).status == S.ANSWERED
    changes = approval_event(item).changes
    assert changes["similarity"] < 0.1
    assert "boilerplate_comment" not in changes


def test_the_threshold_setting_decides(directory, settings) -> None:
    earlier(directory, [TEMPLATE])
    item, draft = request_with_draft(directory, COPIED)
    settings.BOILERPLATE_SIMILARITY_THRESHOLD = 1.01
    services.deputy_request_response_approve(
        pk=item.pk, response_id=draft.pk, by=directory.finance_head
    )
    assert refresh(item).status == S.ANSWERED


def test_the_html_form_asks_for_the_comment_and_keeps_nothing_lost(directory) -> None:
    earlier(directory, [TEMPLATE])
    item, draft = request_with_draft(directory, COPIED)
    client = en_client(directory.finance_head)
    url = f"/requests/{item.pk}/responses/{draft.pk}/approve/"
    page = client.post(url, {"version": refresh(item).version}, follow=True)
    html = page.content.decode()
    assert page.status_code == 200
    assert "This draft is 100% similar to an answer your department sent earlier" in html
    assert 'name="boilerplate_comment"' in html
    assert Response.objects.get(pk=draft.pk).status == ResponseStatus.DRAFT

    page = client.post(
        url,
        {"version": refresh(item).version, "boilerplate_comment": "Проверено по запросу."},
        follow=True,
    )
    assert page.status_code == 200
    assert Response.objects.get(pk=draft.pk).status == ResponseStatus.SENT
    assert approval_event(item).changes["boilerplate_comment"] == "Проверено по запросу."


def test_the_api_approve_takes_the_comment(directory) -> None:
    earlier(directory, [TEMPLATE])
    item, draft = request_with_draft(directory, COPIED)
    api = APIClient()
    api.force_authenticate(directory.finance_head)
    url = f"/api/v1/requests/{item.pk}/responses/{draft.pk}/approve/"
    refused = api.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "boilerplate_comment" in refused.json()
    sent = api.post(url, {"boilerplate_comment": "Проверено."}, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == S.ANSWERED
    assert approval_event(item).changes["boilerplate_comment"] == "Проверено."


# --- The card -----------------------------------------------------------------------------


def card(html: str) -> str:
    found = re.search(r'<div class="card mt-3 portal-boilerplate.*?</ul>', html, re.S)
    return found.group(0) if found else ""


def test_the_card_shows_the_closest_three_for_the_head_only(directory) -> None:
    partial = "Управление рассмотрело ваш запрос и сообщает: освещение восстановлено."
    rows = earlier(directory, [TEMPLATE, *OTHER, partial, TEMPLATE + " Спасибо."], rating=2)
    item, _draft = request_with_draft(directory, COPIED)
    html = en_client(directory.finance_head).get(f"/requests/{item.pk}/").content.decode()
    shown = card(html)
    assert 'data-boilerplate-percent="100"' in shown
    ids = [int(i) for i in re.findall(r'data-similar-response="(\d+)"', shown)]
    assert len(ids) == 3
    assert ids == [rows[0].pk, rows[-1].pk, rows[-2].pk]  # the unrelated ones are left out
    date = rows[0].sent_at
    assert date is not None
    with translation.override("en"):
        day = date_format(timezone.localtime(date), "SHORT_DATE_FORMAT")
    assert (
        f"This draft is 100% similar to an answer your department sent on {day} (rated 2/5)"
    ) in shown
    assert f'href="/requests/{rows[0].request_id}/"' in shown
    assert 'name="boilerplate_comment"' in html

    for user in (directory.finance_exec, directory.staff, directory.alice.user):
        other = en_client(user).get(f"/requests/{item.pk}/").content.decode()
        assert "portal-boilerplate" not in other, user.username
        assert 'name="boilerplate_comment"' not in other, user.username


def test_no_comment_field_below_the_threshold(directory) -> None:
    earlier(directory, [TEMPLATE, *OTHER])
    item, _draft = request_with_draft(directory, FRESH + " " + OTHER[0])
    html = en_client(directory.finance_head).get(f"/requests/{item.pk}/").content.decode()
    assert "portal-boilerplate" in html
    assert "Possible boilerplate answer" not in html
    assert 'name="boilerplate_comment"' not in html


def test_the_page_costs_the_same_at_3_and_50_earlier_answers(directory) -> None:
    from tests.requests_app.test_request_pages import DETAIL_QUERY_BUDGET

    earlier(directory, [TEMPLATE, *OTHER[:2]], rating=2)
    item, _draft = request_with_draft(directory, COPIED)
    client = en_client(directory.finance_head)
    url = f"/requests/{item.pk}/"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    earlier(directory, [f"{text} Вариант {n}." for n in range(16) for text in [*OTHER][:3]][:47])
    client.get(url)
    many = count()
    assert few == many, (few, many)
    assert many <= DETAIL_QUERY_BUDGET


# --- The demo -----------------------------------------------------------------------------


def test_the_demo_heads_comment_on_boilerplate_answers(settings) -> None:
    """The demo's departments reuse their answer texts: its heads write the comment."""
    from tests.demo.test_demo_requests import SMALL_YEAR, seed_year

    settings.DEMO_REQUESTS_PER_YEAR = SMALL_YEAR
    with translation.override("en"):
        seed_year()
    approvals = list(AuditEvent.objects.filter(action__in=["approve_final", "approve_interim"]))
    assert approvals
    assert all("similarity" in event.changes for event in approvals)
    above = [e for e in approvals if e.changes["similarity"] >= 0.6]
    assert above  # the retry path of demo.requests._approve ran
    assert all(e.changes.get("boilerplate_comment") for e in above)
    assert all(e.comment == e.changes["boilerplate_comment"] for e in above)
    below = [e for e in approvals if e.changes["similarity"] < 0.6]
    assert not any("boilerplate_comment" in e.changes for e in below)
