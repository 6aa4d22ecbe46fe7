"""The markup behind the searchable selects and the confirmations, as the server sends it.

Without JavaScript this is the whole page: a native select with its label (so the form still
works), marked ``data-searchable`` with the widget's texts translated; and the buttons of
irreversible acts carry the question ``static/js/portal.js`` asks before posting.
"""

from __future__ import annotations

import re

import pytest
from django import forms
from django.test import Client
from django.utils import translation

from maslikhat.accounts.models import User
from maslikhat.core.forms import PortalForm
from maslikhat.directory.models import Department
from requests_app.models import RequestStatus
from tests.factories import DemoDirectory
from tests.instructions.test_instruction_pages import make_instruction
from tests.requests_helpers import draft_answer, make_request

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


class Sample(PortalForm):
    many = forms.ModelMultipleChoiceField(queryset=Department.objects.none())
    one = forms.ModelChoiceField(queryset=Department.objects.none())
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    boxes = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), widget=forms.CheckboxSelectMultiple
    )


def test_multiple_selects_and_lists_of_rows_are_marked_searchable() -> None:
    fields = Sample().fields
    assert fields["many"].widget.attrs["data-searchable"] == ""
    # A single select of rows only when it is long (the script counts its options).
    assert fields["one"].widget.attrs["data-searchable"] == "long"
    assert "data-searchable" not in fields["kind"].widget.attrs
    assert "data-searchable" not in fields["boxes"].widget.attrs
    with translation.override("en"):
        assert str(fields["many"].widget.attrs["data-search-empty"]) == "Nothing found"


def tag(html: str, element_id: str) -> str:
    found = re.search(rf'<select [^>]*id="{element_id}"[^>]*>', html)
    assert found is not None, element_id
    return found.group(0)


def test_the_request_form_keeps_native_selects_with_their_labels(
    directory: DemoDirectory,
) -> None:
    html = client_for(directory.alice.user).get("/requests/new/").content.decode()
    co_authors = tag(html, "id_co_authors")
    assert "multiple" in co_authors and 'data-searchable=""' in co_authors
    assert 'data-search-placeholder="Type to search…"' in co_authors
    assert 'data-search-empty="Nothing found"' in co_authors
    assert 'aria-describedby="id_co_authors_helptext"' in co_authors
    assert '<label class="form-label" for="id_co_authors">' in html
    suggested = tag(html, "id_suggested_departments")
    assert "multiple" in suggested and "data-searchable" in suggested
    # The vendored widget and the project's script are loaded from the portal itself.
    assert '<script src="/static/vendor/tom-select/tom-select.complete.min.js">' in html
    assert '<script src="/static/js/select.js">' in html
    assert "tom-select.bootstrap5.min.css" in html


def test_the_routing_form_offers_searchable_departments(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.SUBMITTED)
    html = client_for(directory.staff).get(f"/requests/{item.pk}/").content.decode()
    assert 'data-searchable="long"' in tag(html, "id_route_lead_department")
    assert 'data-searchable=""' in tag(html, "id_route_co_departments")


def confirm_of(html: str, marker: str) -> str:
    """The data-confirm on the element (a form or a button) carrying ``marker``."""
    found = re.search(rf"<(?:form|button)\b[^>]*{re.escape(marker)}[^>]*>", html, flags=re.S)
    assert found is not None, marker
    question = re.search(r'data-confirm="([^"]+)"', found.group(0))
    assert question is not None, found.group(0)
    return question.group(1)


def test_submitting_a_request_asks_first(directory: DemoDirectory) -> None:
    draft = make_request(directory)
    client = client_for(directory.alice.user)
    question = "Submit the request? It gets a number and can no longer be edited."
    detail = client.get(f"/requests/{draft.pk}/").content.decode()
    assert confirm_of(detail, 'data-action="submit"') == question
    form = client.get("/requests/new/").content.decode()
    assert confirm_of(form, 'name="intent" value="submit"') == question
    # Saving a draft is not irreversible: no question.
    draft_button = re.search(r'<button [^>]*value="draft"[^>]*>', form)
    assert draft_button is not None and "data-confirm" not in draft_button.group(0)


def test_sending_an_answer_asks_first(directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    draft_answer(directory, item)
    html = client_for(directory.finance_head).get(f"/requests/{item.pk}/").content.decode()
    assert confirm_of(html, 'data-action="response_approve"') == (
        "Approve this answer and send it to the deputy? A sent answer cannot be taken back."
    )


def test_the_final_report_and_the_controllers_decisions_ask_first(
    directory: DemoDirectory,
) -> None:
    item = make_instruction(directory)
    html = client_for(directory.finance_head).get(f"/instructions/{item.pk}/").content.decode()
    assert confirm_of(html, 'data-submit="report_final"') == (
        "Send the final report to the controller? It cannot be changed afterwards."
    )
    interim = re.search(r'<button [^>]*data-submit="report_interim"[^>]*>', html)
    assert interim is not None and "data-confirm" not in interim.group(0)
    staff = client_for(directory.staff).get(f"/instructions/{item.pk}/").content.decode()
    assert confirm_of(staff, 'data-action="remove"').startswith("Remove this instruction")


def test_the_question_is_in_the_readers_language(directory: DemoDirectory) -> None:
    draft = make_request(directory)
    html = client_for(directory.alice.user, "ru").get(f"/requests/{draft.pk}/").content.decode()
    with translation.override("ru"):
        expected = translation.gettext(
            "Submit the request? It gets a number and can no longer be edited."
        )
    assert confirm_of(html, 'data-action="submit"') == expected
