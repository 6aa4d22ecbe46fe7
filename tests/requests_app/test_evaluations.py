"""Every evaluation is kept: a return for rework with its rating stays beside the answer it
judged after the next answer is accepted — in the service's rows, the history, the request
page, ``/api/v1/requests/{id}/evaluations/``, the detail, the exports; a failed evaluation
form keeps what was chosen; reading them costs the same at few and at many evaluations."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.threads import AuditEvent
from reports.exports import export_spec, rows_of
from requests_app import services
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.requests_helpers import answer, make_request, refresh

pytestmark = pytest.mark.django_db

S = RequestStatus
FORMAL = "Это отписка: не указаны сроки ремонта."


def rework(directory: DemoDirectory, item: DeputyRequest, rating: int | None = 2) -> None:
    """The author returns the answer for rework (with ``rating``), the department answers
    again (a new final answer, sent by the head)."""
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="rework", rating=rating, comment=FORMAL
    )
    answer(directory, item)


def returned_then_accepted(directory: DemoDirectory, returns: int = 1) -> DeputyRequest:
    """Alice's request answered, returned ``returns`` times with a 2, then accepted with a 4."""
    item = make_request(directory, status=S.ANSWERED)
    for _ in range(returns):
        rework(directory, item)
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="accept", rating=4, comment="Теперь ясно."
    )
    return refresh(item)


def finals(item: DeputyRequest) -> list[Response]:
    return list(
        Response.objects.filter(
            request=item, kind=ResponseKind.FINAL, status=ResponseStatus.SENT
        ).order_by("sent_at", "id")
    )


def english(user: Any) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- The service writes one row per evaluation ---------------------------------------------------


def test_accepting_writes_one_evaluation_beside_the_answer(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.ANSWERED)
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="accept", rating=5, comment="Спасибо"
    )
    row = Evaluation.objects.get(request=item)
    (final,) = finals(item)
    assert (row.response_id, row.decision, row.rating, row.comment, row.by) == (
        final.pk,
        "accept",
        5,
        "Спасибо",
        directory.alice.user,
    )
    assert row.at == refresh(item).rated_at


def test_returning_writes_one_evaluation_with_its_rating(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.ANSWERED)
    services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="rework", rating=2, comment=FORMAL
    )
    row = Evaluation.objects.get(request=item)
    assert (row.decision, row.rating, row.comment) == ("rework", 2, FORMAL)
    assert row.response_id == finals(item)[0].pk
    assert refresh(item).status == S.IN_PROGRESS


def test_a_return_then_an_acceptance_keeps_both_evaluations(directory: DemoDirectory) -> None:
    item = returned_then_accepted(directory)
    first, second = finals(item)
    rows = list(Evaluation.objects.filter(request=item).order_by("at", "id"))
    assert [(e.response_id, e.decision, e.rating, e.comment) for e in rows] == [
        (first.pk, "rework", 2, FORMAL),
        (second.pk, "accept", 4, "Теперь ясно."),
    ]
    assert (item.rating, item.rework_count) == (4, 1)
    # The history has both, each with its rating, its comment and the evaluation's row.
    events = {
        e.action: e
        for e in AuditEvent.objects.for_item(item).filter(action__in=("rework", "accept"))
    }
    assert events["rework"].changes["rating"] == 2
    assert events["rework"].comment == FORMAL
    assert events["rework"].changes["evaluation"] == rows[0].pk
    assert events["accept"].changes["rating"] == 4
    assert events["accept"].changes["response"] == second.pk


def test_a_refused_evaluation_writes_no_row(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.ANSWERED)
    with pytest.raises(ValidationFailed):
        services.deputy_request_evaluate(
            pk=item.pk, by=directory.alice.user, decision="accept", rating=2
        )
    assert not Evaluation.objects.exists()


# --- The request page ----------------------------------------------------------------------------


def answer_cards(html: str) -> dict[int, str]:
    """Each sent answer's card on the page, by the answer's id."""
    pattern = r'<article class="card mb-3 portal-answer" data-response-id="(\d+)"(.*?)</article>'
    cards = re.findall(pattern, html, re.S)
    return {int(pk): body for pk, body in cards}


def test_the_page_shows_each_evaluation_beside_the_answer_it_judged(
    directory: DemoDirectory,
) -> None:
    item = returned_then_accepted(directory)
    first, second = finals(item)
    for user in (directory.alice.user, directory.finance_head, directory.staff):
        html = english(user).get(f"/requests/{item.pk}/").content.decode()
        cards = answer_cards(html)
        assert 'data-decision="rework" data-rating="2"' in cards[first.pk]
        assert "Rating 2 of 5" in cards[first.pk] and FORMAL in cards[first.pk]
        assert "Returned for rework" in cards[first.pk]
        assert 'data-decision="accept" data-rating="4"' in cards[second.pk]
        assert "Rating 4 of 5" in cards[second.pk] and "Теперь ясно." in cards[second.pk]
        assert 'data-decision="accept"' not in cards[first.pk]
        assert 'data-decision="rework"' not in cards[second.pk]
        # Who and when.
        assert directory.alice.user.full_name in cards[first.pk]
    history = english(directory.alice.user).get(f"/requests/{item.pk}/").content.decode()
    history = history.split('id="history"', 1)[1]
    rework_entry = history.split('data-action="rework"', 1)[1].split("</li>", 1)[0]
    accept_entry = history.split('data-action="accept"', 1)[1].split("</li>", 1)[0]
    assert "Rating 2 of 5" in rework_entry and FORMAL in rework_entry
    assert "Rating 4 of 5" in accept_entry


# --- The API -------------------------------------------------------------------------------------


def test_the_api_lists_every_evaluation_in_order(directory: DemoDirectory) -> None:
    item = returned_then_accepted(directory)
    first, second = finals(item)
    result = api(directory.alice.user).get(f"/api/v1/requests/{item.pk}/evaluations/")
    assert result.status_code == 200
    body = result.json()
    assert [
        (e["response"], e["decision"], e["rating"], e["comment"], e["by"], e["by_name"])
        for e in body
    ] == [
        (first.pk, "rework", 2, FORMAL, directory.alice.user.pk, directory.alice.user.full_name),
        (second.pk, "accept", 4, "Теперь ясно.", directory.alice.user.pk,
         directory.alice.user.full_name),
    ]  # fmt: skip
    assert all(e["at"] for e in body)
    detail = api(directory.finance_exec).get(f"/api/v1/requests/{item.pk}/").json()
    assert [(e["decision"], e["rating"]) for e in detail["evaluations"]] == [
        ("rework", 2),
        ("accept", 4),
    ]
    # Each answer carries its own, read from the rows.
    answers = api(directory.alice.user).get(f"/api/v1/requests/{item.pk}/responses/").json()
    by_id = {a["id"]: a for a in answers}
    assert (by_id[first.pk]["evaluation"], by_id[first.pk]["evaluation_rating"]) == ("rework", 2)
    assert by_id[first.pk]["evaluation_comment"] == FORMAL
    assert [e["rating"] for e in by_id[first.pk]["evaluations"]] == [2]
    assert (by_id[second.pk]["evaluation"], by_id[second.pk]["evaluation_rating"]) == ("accept", 4)


def test_evaluations_are_hidden_from_whoever_may_not_see_the_request(
    directory: DemoDirectory,
) -> None:
    item = returned_then_accepted(directory)
    path = f"/api/v1/requests/{item.pk}/evaluations/"
    for outsider in (directory.bob.user, directory.mobility_head, directory.mobility_exec):
        assert api(outsider).get(path).status_code == 404
    assert APIClient().get(path).status_code == 401
    for insider in (directory.finance_exec, directory.staff, directory.chair):
        assert len(api(insider).get(path).json()) == 2
    assert api(directory.staff).get("/api/v1/requests/999999/evaluations/").status_code == 404


def test_the_evaluations_endpoint_is_documented(directory: DemoDirectory) -> None:
    schema = api(directory.staff).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/requests/{id}/evaluations/"]["get"]
    answer_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer_schema["type"] == "array"
    component = answer_schema["items"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][component]["properties"]
    assert {"response", "decision", "rating", "comment", "by", "by_name", "at"} <= set(fields)
    detail = schema["components"]["schemas"]["DeputyRequestDetail"]["properties"]
    assert "evaluations" in detail


# --- The exports ---------------------------------------------------------------------------------


def test_the_export_carries_both_ratings(directory: DemoDirectory) -> None:
    item = returned_then_accepted(directory)
    for fmt in ("csv", "xlsx"):
        result: Any = api(directory.staff).get("/api/v1/requests/export/", {"format": fmt})
        assert result.status_code == 200
        content = b"".join(result.streaming_content) if result.streaming else result.content
        if fmt == "csv":
            text = content.decode("utf-8-sig")
            rows: list[Any] = list(csv.reader(io.StringIO(text), delimiter=";"))
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
            rows = [
                ["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)
            ]
        row = next(r for r in rows[1:] if r[0] == item.number)
        # Returned once; the evaluations in order; every rating; the last; the accepted one.
        assert row[15] == "1", fmt
        assert "2 (" in row[16] and "; 4 (" in row[16], fmt
        assert (row[17], row[18], row[19]) == ("2 → 4", "4", "4"), fmt


def test_the_export_reads_every_rating_in_constant_queries(directory: DemoDirectory) -> None:
    from maslikhat.directory.actors import actor_for

    returned_then_accepted(directory)

    def queries() -> tuple[int, list[list[Any]]]:
        spec = export_spec(
            kind="requests", actor=actor_for(directory.staff), params={}, language="en"
        )
        with CaptureQueriesContext(connection) as captured:
            rows = list(rows_of(spec))
        return len(captured), rows

    few, _rows = queries()
    returned_then_accepted(directory, returns=4)
    many, rows = queries()
    assert many == few
    assert sorted(row[17] for row in rows) == ["2 → 2 → 2 → 2 → 4", "2 → 4"]


# --- A failed form keeps what was chosen ---------------------------------------------------------


def checked_rating(html: str) -> str | None:
    form = html.split('id="evaluate"', 1)[1].split("</form>", 1)[0]
    match = re.search(r'<input[^>]*name="rating"[^>]*value="(\d)"[^>]*checked', form)
    return match.group(1) if match else None


def test_a_failed_evaluation_keeps_the_rating_decision_comment_and_outcome(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=S.ANSWERED)
    client = english(directory.alice.user)
    url = f"/requests/{item.pk}/evaluate/"
    # A 2 without a comment: refused, and the 2, the decision and the outcome stay chosen.
    result = client.post(
        url,
        {"version": item.version, "decision": "accept", "rating": "2", "outcome": "not_resolved"},
    )
    assert result.status_code == 400
    html = result.content.decode()
    assert checked_rating(html) == "2"
    assert 'data-chosen-decision="accept"' in html
    assert re.search(r'<option value="not_resolved"[^>]*selected', html)
    assert "A rating of 1 or 2 needs a comment." in html
    assert not Evaluation.objects.exists()
    # A return without a comment: the 3 chosen and the decision stay.
    result = client.post(url, {"version": item.version, "decision": "rework", "rating": "3"})
    assert result.status_code == 400
    html = result.content.decode()
    assert checked_rating(html) == "3"
    assert 'data-chosen-decision="rework"' in html
    # A rating out of range with a comment: the comment is kept.
    result = client.post(
        url, {"version": item.version, "decision": "accept", "rating": "9", "comment": "Слабо"}
    )
    assert result.status_code == 400
    assert "Слабо" in result.content.decode()
    assert refresh(item).status == S.ANSWERED
    # An untouched page shows nothing chosen.
    html = client.get(f"/requests/{item.pk}/").content.decode()
    assert checked_rating(html) is None and "data-chosen-decision" not in html


# --- Reading them costs the same at few and at many ----------------------------------------------


def test_reading_evaluations_costs_the_same_at_few_and_at_many(directory: DemoDirectory) -> None:
    few = returned_then_accepted(directory)
    many = returned_then_accepted(directory, returns=5)
    assert Evaluation.objects.filter(request=many).count() == 6

    def counted(client: Any, path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    page = english(directory.alice.user)
    rest = api(directory.alice.user)
    for path_of, client in (
        (lambda pk: f"/requests/{pk}/", page),
        (lambda pk: f"/api/v1/requests/{pk}/evaluations/", rest),
        (lambda pk: f"/api/v1/requests/{pk}/", rest),
        (lambda pk: f"/api/v1/requests/{pk}/responses/", rest),
    ):
        counted(client, path_of(few.pk))  # warm caches (session, language, calendar)
        assert counted(client, path_of(many.pk)) == counted(client, path_of(few.pk)), path_of(0)


def test_a_failed_rating_of_the_request_keeps_the_rating_chosen(directory: DemoDirectory) -> None:
    item = make_request(directory, status=S.IN_PROGRESS)
    result = english(directory.finance_exec).post(
        f"/requests/{item.pk}/rate-request/", {"version": item.version, "rating": "1"}
    )
    assert result.status_code == 400
    form = result.content.decode().split('data-action="rate_request"', 1)[1].split("</form>")[0]
    assert re.search(r'<input[^>]*name="rating"[^>]*value="1"[^>]*checked', form)
    assert "A rating of 1 or 2 needs a comment." in form
    assert refresh(item).request_rating is None
