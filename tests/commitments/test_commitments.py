"""Promises of planned answers: created once, reported, confirmed or disputed, rescheduled."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments import services
from commitments.models import Commitment, CommitmentState, Verdict
from maslikhat.core.deadlines import add_months
from maslikhat.core.exceptions import ActionForbidden, TransitionNotAllowed, ValidationFailed
from maslikhat.core.threads import AuditEvent
from requests_app import services as request_services
from requests_app.models import Outcome, RequestStatus, Response
from tests.commitments.helpers import make_commitment, planned_request
from tests.requests_helpers import answer, draft_answer, lead_officers, make_request

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def events(commitment: Commitment) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            item_type="request", item_id=commitment.request_id, changes__commitment=commitment.pk
        )
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


def test_a_planned_answer_creates_exactly_one_promise(directory):
    planned = TODAY() + datetime.timedelta(days=60)
    item = planned_request(directory, planned=planned)

    commitment = Commitment.objects.get(request=item)
    response = Response.objects.get(request=item)
    assert commitment.response_id == response.pk
    assert commitment.department_id == directory.finance.pk
    assert commitment.due_date == commitment.original_due_date == planned
    assert commitment.text == "Ремонт включён в план на 2027 год."
    assert commitment.state == CommitmentState.OPEN
    assert events(commitment) == ["commitment_created"]

    # Approving the answer again is refused (it is sent) and creates nothing.
    head, _exec = lead_officers(directory, item)
    with pytest.raises(TransitionNotAllowed):
        request_services.deputy_request_response_approve(
            pk=item.pk, response_id=response.pk, by=head
        )
    # The create function itself is idempotent: the one promise of the answer.
    assert services.commitment_create_for_answer(response=response, by=head) == commitment
    assert Commitment.objects.filter(request=item).count() == 1


@pytest.mark.parametrize("outcome", [Outcome.RESOLVED, Outcome.EXPLAINED, Outcome.REFUSED])
def test_other_outcomes_create_no_promise(directory, outcome):
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    answer(directory, item, outcome=outcome)

    assert not Commitment.objects.filter(request=item).exists()


def test_an_interim_answer_creates_no_promise(directory):
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    response = draft_answer(directory, item, kind="interim", outcome=None)
    head, _exec = lead_officers(directory, item)
    request_services.deputy_request_response_approve(pk=item.pk, response_id=response.pk, by=head)

    assert not Commitment.objects.exists()
    assert services.commitment_create_for_answer(response=response, by=head) is None


def test_report_then_confirm_keeps_the_promise(directory):
    commitment = make_commitment(directory)

    with pytest.raises(TransitionNotAllowed):
        services.commitment_confirm(pk=commitment.pk, by=directory.alice.user)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    kept = services.commitment_confirm(pk=commitment.pk, by=directory.alice.user, comment="Да")

    assert kept.state == CommitmentState.KEPT
    assert kept.verdict == Verdict.CONFIRMED
    assert kept.reported_by == directory.finance_exec
    assert events(commitment) == [
        "commitment_created",
        "commitment_reported",
        "commitment_confirmed",
    ]
    # Settled: no more reports, verdicts or new dates.
    with pytest.raises(TransitionNotAllowed):
        services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Ещё")


def test_a_dispute_needs_a_comment_and_staff_resolve_it(directory):
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_head, text="Сделано.")

    with pytest.raises(ValidationFailed):
        services.commitment_dispute(pk=commitment.pk, by=directory.alice.user, comment="  ")
    disputed = services.commitment_dispute(
        pk=commitment.pk, by=directory.alice.user, comment="Ремонта нет."
    )
    assert disputed.verdict == Verdict.DISPUTED
    assert disputed.state == CommitmentState.OPEN
    with pytest.raises(TransitionNotAllowed):
        services.commitment_confirm(pk=commitment.pk, by=directory.alice.user)
    with pytest.raises(ActionForbidden):
        services.commitment_resolve(pk=commitment.pk, by=directory.finance_head, kept=True)

    broken = services.commitment_resolve(
        pk=commitment.pk, by=directory.staff, kept=False, comment="Не выполнено."
    )
    assert broken.state == CommitmentState.BROKEN
    assert events(commitment)[-2:] == ["commitment_disputed", "commitment_resolved"]


def test_staff_resolve_only_a_disputed_promise(directory):
    commitment = make_commitment(directory)
    with pytest.raises(TransitionNotAllowed):
        services.commitment_resolve(pk=commitment.pk, by=directory.staff, kept=True)


def test_only_the_author_and_the_department_act(directory):
    commitment = make_commitment(directory)
    with pytest.raises(ActionForbidden):
        services.commitment_report(pk=commitment.pk, by=directory.mobility_head, text="x")
    with pytest.raises(ActionForbidden):
        services.commitment_report(pk=commitment.pk, by=directory.alice.user, text="x")
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    with pytest.raises(ActionForbidden):
        services.commitment_confirm(pk=commitment.pk, by=directory.bob.user)
    with pytest.raises(ActionForbidden):
        services.commitment_confirm(pk=commitment.pk, by=directory.finance_head)


def test_reschedule_moves_the_date_within_the_rule_and_is_recorded(directory):
    planned = TODAY() + datetime.timedelta(days=10)
    commitment = make_commitment(directory, planned=planned)
    limit = add_months(planned, 2)  # the request rule's max_extension_months

    with pytest.raises(ValidationFailed) as too_late:
        services.commitment_reschedule(
            pk=commitment.pk,
            by=directory.finance_head,
            new_due_date=limit + datetime.timedelta(days=1),
            reason="Подрядчик",
        )
    assert too_late.value.field == "new_due_date"
    with pytest.raises(ValidationFailed):
        services.commitment_reschedule(
            pk=commitment.pk, by=directory.finance_head, new_due_date=limit, reason=""
        )
    with pytest.raises(ValidationFailed):
        services.commitment_reschedule(
            pk=commitment.pk,
            by=directory.finance_head,
            new_due_date=TODAY() - datetime.timedelta(days=1),
            reason="Подрядчик",
        )
    with pytest.raises(ActionForbidden):
        services.commitment_reschedule(
            pk=commitment.pk, by=directory.alice.user, new_due_date=limit, reason="x"
        )

    moved = services.commitment_reschedule(
        pk=commitment.pk, by=directory.finance_head, new_due_date=limit, reason="Подрядчик"
    )

    assert moved.state == CommitmentState.RESCHEDULED
    assert moved.due_date == limit
    assert moved.original_due_date == planned
    assert moved.reschedule_count == 1
    event = AuditEvent.objects.get(action="commitment_rescheduled")
    assert event.changes == {
        "commitment": commitment.pk,
        "state": ["open", "rescheduled"],
        "due_date": [planned.isoformat(), limit.isoformat()],
    }
    assert event.comment == "Подрядчик"
    # The request's own status is unchanged by its promise's events.
    assert event.from_status == event.to_status == RequestStatus.ANSWERED


def test_overdue_is_derived_from_the_date_and_state(directory):
    from commitments.selectors import with_overdue

    past = make_commitment(directory, planned=TODAY() - datetime.timedelta(days=1))
    future = make_commitment(directory, planned=TODAY() + datetime.timedelta(days=5))

    overdue = dict(with_overdue(Commitment.objects.all()).values_list("pk", "overdue"))  # type: ignore[misc]
    assert overdue == {past.pk: True, future.pk: False}

    services.commitment_report(pk=past.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_confirm(pk=past.pk, by=directory.alice.user)
    overdue = dict(with_overdue(Commitment.objects.all()).values_list("pk", "overdue"))  # type: ignore[misc]
    assert overdue[past.pk] is False


# --- The API ---------------------------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_list_filters_by_department_state_and_due_date(directory, api_as):
    finance_past = make_commitment(directory, planned=TODAY() - datetime.timedelta(days=3))
    finance_later = make_commitment(directory, planned=TODAY() + datetime.timedelta(days=30))
    mobility = make_commitment(
        directory, planned=TODAY() + datetime.timedelta(days=5), lead=directory.mobility
    )
    services.commitment_reschedule(
        pk=finance_later.pk,
        by=directory.finance_head,
        new_due_date=TODAY() + datetime.timedelta(days=40),
        reason="Подрядчик",
    )
    client = api_as(directory.staff)
    url = "/api/v1/commitments/"

    assert ids(client.get(url)) == {finance_past.pk, finance_later.pk, mobility.pk}
    assert ids(client.get(url, {"department": directory.mobility.pk})) == {mobility.pk}
    assert ids(client.get(url, {"state": "overdue"})) == {finance_past.pk}
    assert ids(client.get(url, {"state": "rescheduled"})) == {finance_later.pk}
    assert ids(client.get(url, {"state": "open"})) == {finance_past.pk, mobility.pk}
    due = (TODAY() + datetime.timedelta(days=5)).isoformat()
    assert ids(client.get(url, {"due_before": due})) == {finance_past.pk, mobility.pk}
    assert client.get(url, {"state": "lost"}).status_code == 400
    assert client.get(url, {"due_before": "tomorrow"}).status_code == 400

    row = next(r for r in client.get(url).json()["results"] if r["id"] == finance_past.pk)
    assert row["overdue"] is True and row["state"] == "open"


def test_visibility_deputy_department_staff(directory, api_as):
    own = make_commitment(directory)
    other = make_commitment(directory, author=directory.bob, lead=directory.mobility)
    url = "/api/v1/commitments/"

    assert ids(api_as(directory.alice.user).get(url)) == {own.pk}
    assert ids(api_as(directory.bob.user).get(url)) == {other.pk}
    assert ids(api_as(directory.finance_exec).get(url)) == {own.pk}
    assert ids(api_as(directory.mobility_head).get(url)) == {other.pk}
    assert ids(api_as(directory.chair).get(url)) == {own.pk, other.pk}
    assert api_as(directory.bob.user).get(f"{url}{own.pk}/").status_code == 404
    assert api_as(directory.mobility_exec).get(f"{url}{own.pk}/").status_code == 404
    assert api_as(directory.staff).get(f"{url}nope/").status_code == 404


def test_the_api_round_trip_and_history(directory, api_as):
    commitment = make_commitment(directory)
    url = f"/api/v1/commitments/{commitment.pk}/"
    new_date = (TODAY() + datetime.timedelta(days=100)).isoformat()

    moved = api_as(directory.finance_head).post(
        url + "reschedule/", {"new_due_date": new_date, "reason": "Погода"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["state"] == "rescheduled" and moved.json()["due_date"] == new_date
    bad = api_as(directory.finance_head).post(
        url + "reschedule/", {"new_due_date": "2099-01-01", "reason": "Погода"}, format="json"
    )
    assert bad.status_code == 400
    reported = api_as(directory.finance_exec).post(
        url + "report/", {"text": "Выполнено."}, format="json"
    )
    assert reported.json()["reported_text"] == "Выполнено."
    assert api_as(directory.alice.user).post(url + "dispute/", {}, format="json").status_code == 400
    disputed = api_as(directory.alice.user).post(
        url + "dispute/", {"comment": "Не сделано."}, format="json"
    )
    assert disputed.json()["verdict"] == "disputed"
    resolved = api_as(directory.staff).post(url + "resolve/", {"kept": True}, format="json")
    assert resolved.json()["state"] == "kept"
    confirm = api_as(directory.alice.user).post(url + "confirm/", {}, format="json")
    assert confirm.status_code == 409

    history = api_as(directory.alice.user).get(url).json()["history"]
    assert [event["action"] for event in history] == [
        "commitment_created",
        "commitment_rescheduled",
        "commitment_reported",
        "commitment_disputed",
        "commitment_resolved",
    ]


def test_confirm_through_the_api(directory, api_as):
    commitment = make_commitment(directory)
    url = f"/api/v1/commitments/{commitment.pk}/"
    api_as(directory.finance_exec).post(url + "report/", {"text": "Выполнено."}, format="json")

    confirmed = api_as(directory.alice.user).post(url + "confirm/", {}, format="json")

    assert confirmed.status_code == 200
    assert confirmed.json()["state"] == "kept"


@pytest.mark.parametrize("persona", ["staff", "alice", "finance_head"])
def test_the_list_query_count_does_not_grow_with_rows(directory, api_as, persona):
    user = directory.alice.user if persona == "alice" else getattr(directory, persona)
    client = api_as(user)
    make_commitment(directory)

    def count_for(rows: int) -> int:
        make_more(directory, rows)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/commitments/", {"page_size": 1000})
        assert response.status_code == 200
        assert response.json()["count"] == rows
        return len(ctx.captured_queries)

    assert count_for(10) == count_for(1000)


def make_more(directory, total: int) -> None:
    """Top up to ``total`` promises: copies of the first, each for its own answer."""
    first = Commitment.objects.select_related("response").first()
    assert first is not None
    have = Commitment.objects.count()
    template = first.response
    responses = Response.objects.bulk_create(
        [
            Response(
                request_id=template.request_id,
                department_id=template.department_id,
                kind=template.kind,
                text=template.text,
                outcome=template.outcome,
                planned_date=template.planned_date,
                status=template.status,
                drafted_by_id=template.drafted_by_id,
            )
            for _ in range(total - have)
        ]
    )
    if any(response.pk is None for response in responses):  # a backend without RETURNING
        responses = list(Response.objects.order_by("-id")[: total - have])
    Commitment.objects.bulk_create(
        [
            Commitment(
                request_id=first.request_id,
                response_id=response.pk,
                department_id=first.department_id,
                text=first.text,
                original_due_date=first.due_date,
                due_date=first.due_date,
            )
            for response in responses
        ]
    )


def test_the_sweep_makes_the_missing_promises_once(directory):
    from io import StringIO

    from django.core.management import call_command

    first = planned_request(directory)
    second = planned_request(directory, planned=TODAY() - datetime.timedelta(days=2))
    kept = Commitment.objects.get(request=second)
    # As if the first answer had been sent before promises existed.
    Commitment.objects.filter(request=first).delete()
    AuditEvent.objects.filter(item_id=first.pk, action="commitment_created").delete()

    out = StringIO()
    call_command("create_commitments", stdout=out)

    assert out.getvalue().strip() == "Promises created: 1"
    made = Commitment.objects.get(request=first)
    assert made.state == CommitmentState.OPEN
    assert made.response_id == Response.objects.get(request=first).pk
    assert Commitment.objects.get(request=second) == kept
    event = AuditEvent.objects.get(item_id=first.pk, action="commitment_created")
    assert event.changes["commitment"] == made.pk and event.actor is None
    assert event.from_status == event.to_status == RequestStatus.ANSWERED
    assert services.commitments_create_missing() == 0
    assert AuditEvent.objects.filter(action="commitment_created").count() == 2
