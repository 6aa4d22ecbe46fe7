"""The promise in the browser: the card on the request's page, its actions, the list page.

The card shows what was promised, by when, the state, the report, the verdict, the
resolution and the moves of the date; each action posts to ``/commitments/<id>/<action>/``
and calls the same service as the API. A refused or invalid post keeps what was typed and
says why in the person's language; it is never a 500. Both pages cost the same queries at
10 and at 1,000 promises in the database.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from commitments import services
from commitments.models import Commitment, CommitmentState, Verdict
from maslikhat.accounts.models import User
from maslikhat.core.threads import Attachment, AuditEvent
from requests_app.models import DeputyRequest, Response
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory
from tests.requests_app.test_request_pages import DETAIL_QUERY_BUDGET
from tests.requests_helpers import PDF_BYTES

pytestmark = pytest.mark.django_db

Maker = Callable[..., Client]


@pytest.fixture
def as_user() -> Callable[[User | None], Client]:
    def make(user: User | None, language: str = "en") -> Client:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        if user is not None:
            client.force_login(user)
        return client

    return make


def page(client: Client, commitment: Commitment) -> str:
    response = client.get(f"/requests/{commitment.request_id}/")
    assert response.status_code == 200
    return response.content.decode()


def card(html: str) -> str:
    match = re.search(r'<section class="mb-4" id="promise".*?</section>', html, re.S)
    assert match, "no promise card"
    return match.group(0)


def forms_in(html: str) -> set[str]:
    return set(re.findall(r'data-action="(commitment_\w+)"', html))


# --- The card ------------------------------------------------------------------------------------


def test_the_card_shows_the_promise_with_its_date_and_the_days_left(as_user, directory) -> None:
    planned = timezone.localdate() + datetime.timedelta(days=60)
    commitment = make_commitment(directory, planned=planned)
    html = card(page(as_user(directory.alice.user), commitment))
    assert 'data-promise-state="open"' in html
    assert "Ремонт включён в план на 2027 год." in html
    assert f'data-promise-due="{planned.isoformat()}"' in html
    assert re.search(r"\d+ working days left", html)
    assert "Finance" in html  # the department that promised


def test_an_overdue_promise_says_so(as_user, directory) -> None:
    commitment = make_commitment(directory)
    past = timezone.localdate() - datetime.timedelta(days=15)
    Commitment.objects.filter(pk=commitment.pk).update(due_date=past)
    html = card(page(as_user(directory.finance_head), commitment))
    assert 'data-promise-state="overdue"' in html
    assert re.search(r"Overdue by \d+ working days", html)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("alice", set()),  # nothing reported yet: nothing to confirm
        ("finance_exec", {"commitment_report", "commitment_reschedule"}),
        ("finance_head", {"commitment_report", "commitment_reschedule"}),
        ("staff", set()),
        ("chair", set()),
    ],
)
def test_each_person_is_offered_the_actions_they_may_take(
    as_user, directory, persona: str, expected: set[str]
) -> None:
    commitment = make_commitment(directory)
    user = getattr(directory, persona)
    html = card(page(as_user(user if isinstance(user, User) else user.user), commitment))
    assert forms_in(html) == expected


def test_the_author_confirms_a_report_and_staff_resolve_a_dispute(as_user, directory) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Отремонтировано.")
    html = card(page(as_user(directory.alice.user), commitment))
    assert forms_in(html) == {"commitment_confirm", "commitment_dispute"}
    assert "Отремонтировано." in html and "Reported" in html
    services.commitment_dispute(pk=commitment.pk, by=directory.alice.user, comment="Нет.")
    assert forms_in(card(page(as_user(directory.staff), commitment))) == {"commitment_resolve"}
    assert forms_in(card(page(as_user(directory.alice.user), commitment))) == set()


def test_a_request_without_a_promise_has_no_card(as_user, directory) -> None:
    commitment = make_commitment(directory)
    Commitment.objects.all().delete()
    AuditEvent.objects.filter(action__startswith="commitment_").delete()
    assert 'id="promise"' not in page(as_user(directory.alice.user), commitment)


def test_another_deputy_reading_a_published_request_sees_no_card(as_user, directory) -> None:
    commitment = make_commitment(directory)
    DeputyRequest.objects.filter(pk=commitment.request_id).update(is_public=True)
    html = page(as_user(directory.bob.user), commitment)
    assert 'id="promise"' not in html


# --- The actions ---------------------------------------------------------------------------------


def test_the_department_reports_with_files_attached_to_the_request(as_user, directory) -> None:
    commitment = make_commitment(directory)
    client = as_user(directory.finance_exec)
    photo = SimpleUploadedFile("akt.pdf", PDF_BYTES, content_type="application/pdf")
    response = client.post(
        f"/commitments/{commitment.pk}/report/", {"text": "Дорога отремонтирована.", "file": photo}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{commitment.request_id}/#promise"
    commitment.refresh_from_db()
    assert commitment.reported_text == "Дорога отремонтирована."
    attachment = Attachment.objects.get(item_id=commitment.request_id)
    assert attachment.original_name == "akt.pdf"
    event = AuditEvent.objects.get(action="commitment_reported")
    assert event.changes["files"] == [{"id": attachment.pk, "name": "akt.pdf"}]
    html = client.get(response["Location"]).content.decode()
    assert "The report was saved" in html
    assert f'href="/attachments/{attachment.pk}/"' in card(html)
    # The deputy opens the file: a download checked against the request's visibility.
    assert as_user(directory.alice.user).get(f"/attachments/{attachment.pk}/").status_code == 200
    assert as_user(directory.bob.user).get(f"/attachments/{attachment.pk}/").status_code == 404


def test_a_file_of_a_forbidden_type_keeps_the_report_text(as_user, directory) -> None:
    commitment = make_commitment(directory)
    bad = SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = as_user(directory.finance_exec).post(
        f"/commitments/{commitment.pk}/report/", {"text": "Сделано частично.", "file": bad}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Files of this type cannot be attached" in html
    assert "Сделано частично." in html
    commitment.refresh_from_db()
    assert commitment.reported_at is None
    assert not Attachment.objects.exists()


def test_the_author_confirms_on_the_page_and_the_promise_is_kept(as_user, directory) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    client = as_user(directory.alice.user)
    response = client.post(f"/commitments/{commitment.pk}/confirm/", {"comment": "Спасибо."})
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert (commitment.state, commitment.verdict) == (CommitmentState.KEPT, Verdict.CONFIRMED)
    html = client.get(response["Location"]).content.decode()
    assert "the promise is kept" in html
    assert 'data-promise-state="kept"' in card(html)
    assert "Спасибо." in card(html)
    # The request's history names the promise's events.
    assert "Promise made" in html and "Promise: the author confirmed the report" in html
    assert "commitment_" not in html.split('id="promise"')[0].split("<main")[-1]


def test_a_dispute_needs_a_comment_and_says_so_in_russian(as_user, directory) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    client = as_user(directory.alice.user, "ru")
    response = client.post(f"/commitments/{commitment.pk}/dispute/", {"comment": "  "})
    # Nothing typed: back to the card, with the reason.
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.verdict == Verdict.NONE
    followed = client.get(response["Location"])
    assert "Обязательное поле." in followed.content.decode()


def test_a_refused_dispute_keeps_the_typed_comment(as_user, directory) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_confirm(pk=commitment.pk, by=directory.alice.user)
    response = as_user(directory.alice.user).post(
        f"/commitments/{commitment.pk}/dispute/", {"comment": "Ничего не сделано!"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "This promise is already settled." in html
    assert "Ничего не сделано!" in html  # kept, to copy


@pytest.mark.parametrize(
    ("new_due_date", "message"),
    [
        ("31.02.2027", "Enter a valid date."),
        ("2999-01-01", "The new date may be at most"),
        ((timezone.localdate() - datetime.timedelta(days=3)).isoformat(), "cannot be in the past"),
    ],
)
def test_a_bad_date_is_a_clear_message_with_the_reason_kept(
    as_user, directory, new_due_date: str, message: str
) -> None:
    commitment = make_commitment(directory)
    response = as_user(directory.finance_exec).post(
        f"/commitments/{commitment.pk}/reschedule/",
        {"new_due_date": new_due_date, "reason": "Подрядчик сорвал поставку."},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Подрядчик сорвал поставку." in html
    commitment.refresh_from_db()
    assert commitment.reschedule_count == 0


def test_a_bad_date_in_kazakh_is_told_in_kazakh(as_user, directory) -> None:
    commitment = make_commitment(directory)
    response = as_user(directory.finance_exec, "kk").post(
        f"/commitments/{commitment.pk}/reschedule/",
        {"new_due_date": "2999-01-01", "reason": "Себеп."},
    )
    assert response.status_code == 400
    assert "Жаңа күн" in response.content.decode()


def test_the_department_moves_the_date_and_the_card_shows_both_dates(as_user, directory) -> None:
    commitment = make_commitment(directory)
    old = commitment.due_date
    new = old + datetime.timedelta(days=20)
    client = as_user(directory.finance_head)
    html = card(page(client, commitment))
    limit = services.reschedule_limit(commitment)
    assert f'data-reschedule-limit="{limit.isoformat()}"' in html
    response = client.post(
        f"/commitments/{commitment.pk}/reschedule/",
        {"new_due_date": new.isoformat(), "reason": "Погода."},
    )
    assert response.status_code == 302
    html = card(client.get(response["Location"]).content.decode())
    assert 'data-promise-state="rescheduled"' in html
    assert old.strftime("%m/%d/%Y") in html or old.strftime("%d.%m.%Y") in html
    assert "Погода." in html


def test_staff_resolve_a_dispute_as_broken(as_user, directory) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_dispute(pk=commitment.pk, by=directory.alice.user, comment="Нет.")
    client = as_user(directory.staff)
    response = client.post(
        f"/commitments/{commitment.pk}/resolve/", {"kept": "no", "comment": "Работы не начаты."}
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.BROKEN
    html = card(client.get(response["Location"]).content.decode())
    assert 'data-promise-state="broken"' in html and "Работы не начаты." in html


def test_an_action_on_an_unseen_promise_is_a_404(as_user, directory) -> None:
    commitment = make_commitment(directory)
    for user in (directory.bob.user, directory.mobility_exec):
        response = as_user(user).post(f"/commitments/{commitment.pk}/report/", {"text": "x"})
        assert response.status_code == 404
    assert as_user(directory.alice.user).post("/commitments/999999/confirm/").status_code == 404


def test_an_action_the_person_may_not_take_is_refused_with_a_message(as_user, directory) -> None:
    commitment = make_commitment(directory)
    client = as_user(directory.alice.user)
    response = client.post(f"/commitments/{commitment.pk}/report/", {"text": "Сделал сам."})
    assert response.status_code == 403
    assert "Сделал сам." in response.content.decode()
    commitment.refresh_from_db()
    assert commitment.reported_at is None


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_each_persona_their_promises_nearest_first(as_user, directory) -> None:
    today = timezone.localdate()
    later = make_commitment(directory, planned=today + datetime.timedelta(days=90))
    sooner = make_commitment(directory, planned=today + datetime.timedelta(days=30))
    for persona, sees in (
        ("alice", True),
        ("bob", False),
        ("finance_exec", True),
        ("mobility_head", False),
        ("staff", True),
        ("chair", True),
    ):
        user = getattr(directory, persona)
        response = as_user(user if isinstance(user, User) else user.user).get("/commitments/")
        assert response.status_code == 200
        rows = [
            int(pk) for pk in re.findall(r'data-promise-row="(\d+)"', response.content.decode())
        ]
        assert rows == ([sooner.pk, later.pk] if sees else []), persona
    html = as_user(directory.staff).get("/commitments/").content.decode()
    assert f'href="/requests/{sooner.request_id}/#promise"' in html


def test_the_list_filters_by_state_department_and_date(as_user, directory) -> None:
    today = timezone.localdate()
    first = make_commitment(directory, planned=today + datetime.timedelta(days=30))
    second = make_commitment(directory, planned=today + datetime.timedelta(days=90))
    Commitment.objects.filter(pk=first.pk).update(due_date=today - datetime.timedelta(days=5))
    client = as_user(directory.staff)

    def rows(query: str) -> list[int]:
        html = client.get("/commitments/" + query).content.decode()
        return [int(pk) for pk in re.findall(r'data-promise-row="(\d+)"', html)]

    assert rows("?state=overdue") == [first.pk]
    assert rows("?state=open") == [first.pk, second.pk]
    assert rows("?state=kept") == []
    assert rows(f"?department={directory.finance.pk}") == [first.pk, second.pk]
    assert rows(f"?department={directory.mobility.pk}") == []
    assert rows(f"?due_before={(today + datetime.timedelta(days=60)).isoformat()}") == [first.pk]
    # What does not parse is said, never a 500.
    html = client.get("/commitments/?due_before=not-a-date&department=x").content.decode()
    assert "data-filter-errors" in html
    # A department sees no department choice.
    assert (
        'name="department"'
        not in as_user(directory.finance_head).get("/commitments/").content.decode()
    )


def test_the_state_tabs_say_the_states_as_the_badges_do(as_user, directory) -> None:
    html = as_user(directory.staff, "ru").get("/commitments/").content.decode()
    with translation.override("ru"):
        for state in CommitmentState:
            if state.value in ("open", "rescheduled", "kept", "broken"):
                label = str(state.label)
                assert re.search(rf'data-tab="{state.value}"[^>]*>{label}</a>', html), label


def test_the_list_asks_for_a_login(client) -> None:
    response = client.get("/commitments/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Query counts --------------------------------------------------------------------------------


def bulk_commitments(commitment: Commitment, n: int) -> None:
    """``n`` more promises of the same answer's department, on other (copied) answers."""
    response = Response.objects.get(pk=commitment.response_id)
    fields = [f.attname for f in Response._meta.concrete_fields if f.attname != "id"]
    answers = [Response(**{name: getattr(response, name) for name in fields}) for _i in range(n)]
    created = Response.objects.bulk_create(answers, batch_size=500)
    Commitment.objects.bulk_create(
        [
            Commitment(
                request_id=commitment.request_id,
                response_id=answer.pk,
                department_id=commitment.department_id,
                text=f"Обещание {i}",
                original_due_date=commitment.due_date,
                due_date=commitment.due_date + datetime.timedelta(days=i % 40),
                state=(CommitmentState.OPEN, CommitmentState.KEPT)[i % 2],
            )
            for i, answer in enumerate(created)
        ],
        batch_size=500,
    )


def other_request_commitments(directory: DemoDirectory, n: int) -> None:
    """``n`` promises on other requests (copies of one made through the services)."""
    base = make_commitment(directory)
    bulk_commitments(base, n - 1)


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("persona", ["alice", "finance_head", "staff"])
def test_the_request_page_costs_the_same_at_10_and_1000_promises(
    as_user, directory, persona: str
) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    user = getattr(directory, persona)
    client = as_user(user if isinstance(user, User) else user.user)
    url = f"/requests/{commitment.request_id}/"
    other_request_commitments(directory, 9)
    client.get(url)
    few = count_queries(client, url)
    other_request_commitments(directory, 990)
    assert Commitment.objects.count() == 1000
    client.get(url)
    many = count_queries(client, url)
    assert few == many, (few, many)
    # The card fits in the request page's own budget (measured 21–24 with a reported promise).
    assert many <= DETAIL_QUERY_BUDGET, many


@pytest.mark.parametrize("persona", ["alice", "finance_head", "staff"])
def test_the_list_costs_the_same_at_10_and_1000_promises(as_user, directory, persona: str) -> None:
    user = getattr(directory, persona)
    client = as_user(user if isinstance(user, User) else user.user)
    other_request_commitments(directory, 10)
    client.get("/commitments/")
    few = count_queries(client, "/commitments/")
    other_request_commitments(directory, 990)
    assert Commitment.objects.count() == 1000
    many = count_queries(client, "/commitments/")
    assert few == many, (few, many)
    assert many <= LIST_QUERY_BUDGET, many


#: The list page (measured 10): session, user, the actor, the notification count, the count
#: and the page of rows (request, author, department read with them), the departments (staff).
LIST_QUERY_BUDGET = 12
