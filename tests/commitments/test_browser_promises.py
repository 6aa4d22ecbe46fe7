"""A promise from the head's signature to "kept", in a real Chromium, on a desktop and a phone.

The department drafts a planned answer that is a near-copy of an answer it sent earlier. The
head opens the request: the boilerplate card warns, and approving without a comment is refused
until the head says why the answer fits. The promise is made. Later the executor reports the
planned work done with a photo of the act; the deputy accepts the answer and confirms the
report on the request's page, and the promise shows as kept — then, the request being
published and closed, on the public promises page too. Every page: no sideways scroll, no
console error, no request leaving the live server; every window.confirm is accepted.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from commitments import services
from commitments.models import Commitment, CommitmentState
from requests_app.models import Outcome, RequestStatus, Response, ResponseKind, ResponseStatus
from tests.browser import axe_violations, blocking, browser_page, checked_browser_page
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory
from tests.requests_helpers import PDF_BYTES, draft_answer, make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"

EARLIER = (
    "Уважаемый депутат! Управление рассмотрело ваш запрос № 17 от 02.02.2025. Ремонт дороги "
    "включён в план работ на следующий год в пределах выделенных средств. О результатах будет "
    "сообщено дополнительно."
)
NEAR_COPY = (
    "Уважаемый депутат! Управление рассмотрело ваш запрос № 45 от 12.03.2026. Ремонт дороги "
    "включён в план работ на следующий год в пределах выделенных средств. О результатах будет "
    "сообщено дополнительно."
)
WHY = "Тот же участок дороги: ремонт уже в плане, отдельный ответ не нужен."
DONE = "Участок дороги по улице Абая отремонтирован 14 мая, акт приёмки приложен."


@pytest.fixture
def threshold(settings: Any) -> None:
    # The suite's settings turn the boilerplate check off: on here, as in its own tests.
    settings.BOILERPLATE_SIMILARITY_THRESHOLD = 0.6


def log_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "maslikhat-demo")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def no_sideways_scroll(page: Any, where: str) -> None:
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{where} scrolls sideways"


def earlier_answer(directory: DemoDirectory) -> None:
    """An answer finance sent yesterday to another request (the one the draft copies)."""
    old = make_request(directory, status=RequestStatus.IN_PROGRESS, title="Прошлый запрос")
    Response.objects.create(
        request=old,
        department=directory.finance,
        kind=ResponseKind.FINAL,
        outcome=Outcome.EXPLAINED,
        text=EARLIER,
        status=ResponseStatus.SENT,
        drafted_by=directory.finance_exec,
        approved_by=directory.finance_head,
        sent_at=timezone.now() - datetime.timedelta(days=1),
    )


def public_promises_url() -> str | None:
    try:
        return reverse("reports:public-promises")
    except NoReverseMatch:
        return None


@pytest.mark.usefixtures("threshold")
@pytest.mark.parametrize("width", [1366, 390])
def test_a_boilerplate_warning_then_a_promise_reported_confirmed_and_kept(
    live_server: Any, directory: DemoDirectory, tmp_path: Any, width: int
) -> None:
    earlier_answer(directory)
    item = make_request(
        directory, status=RequestStatus.IN_PROGRESS, lead=directory.finance, is_public=True
    )
    planned = timezone.localdate() + datetime.timedelta(days=45)
    draft_answer(directory, item, outcome=Outcome.PLANNED, text=NEAR_COPY, planned_date=planned)
    act = tmp_path / "akt-priemki.pdf"
    act.write_bytes(PDF_BYTES)
    base = live_server.url
    url = f"{base}/requests/{item.pk}/"

    with browser_page(base, width=width, height=900) as (page, blocked):
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())

        # The head: warned, refused without a comment, then approves with one.
        log_in(page, base, directory.finance_head.username)
        page.goto(url)
        warning = page.locator(".portal-boilerplate.border-danger")
        assert warning.count() == 1
        assert int(warning.get_attribute("data-boilerplate-percent") or 0) >= 60
        no_sideways_scroll(page, "the draft with the boilerplate card")
        submit(page, "form[data-action=response_approve] button[type=submit]")
        assert not Commitment.objects.exists()
        assert page.locator(".alert-danger").count() >= 1
        page.fill("form[data-action=response_approve] textarea[name=boilerplate_comment]", WHY)
        submit(page, "form[data-action=response_approve] button[type=submit]")
        commitment = Commitment.objects.get(request=item)
        assert commitment.due_date == planned
        card = page.locator(f'[data-promise="{commitment.pk}"]')
        assert card.get_attribute("data-promise-state") == "open"
        assert "working days left" in card.inner_text() or "рабоч" in card.inner_text()
        no_sideways_scroll(page, "the request with its promise")

        # Later: the executor reports the work done, with the act attached.
        log_in(page, base, directory.finance_exec.username)
        page.goto(f"{url}#promise")
        report = page.locator("form[data-action=commitment_report]")
        report.locator("textarea[name=text]").fill(DONE)
        report.locator("input[name=file]").set_input_files(str(act))
        no_sideways_scroll(page, "the report form")
        submit(page, "form[data-action=commitment_report] button[type=submit]")
        assert page.url.endswith("#promise")
        assert page.locator("[data-promise-report]").inner_text().count("Абая") == 1
        assert page.locator("[data-report-files] a").inner_text() == "akt-priemki.pdf"

        # The deputy accepts the answer and confirms the report: the promise is kept.
        log_in(page, base, directory.alice.user.username)
        page.goto(url)
        page.locator("#evaluate label", has_text="4").click()
        submit(page, "#evaluate button[name=decision][value=accept]")
        assert page.locator("[data-verdict-forms]").count() == 1
        no_sideways_scroll(page, "the verdict forms")
        submit(page, "form[data-action=commitment_confirm] button[type=submit]")
        card = page.locator(f'[data-promise="{commitment.pk}"]')
        assert card.get_attribute("data-promise-state") == "kept"
        assert page.locator("[data-promise-verdict=confirmed]").count() == 1
        no_sideways_scroll(page, "the kept promise")
        commitment.refresh_from_db()
        assert commitment.state == CommitmentState.KEPT

        # The deputy's list of promises shows it kept, linking to the card.
        page.goto(f"{base}/commitments/?state=kept")
        row = page.locator(f'[data-promise-row="{commitment.pk}"]')
        assert row.get_attribute("data-promise-state") == "kept"
        no_sideways_scroll(page, "the list of promises")
        with page.expect_navigation():
            row.locator("a").first.click()
        assert page.url.endswith(f"/requests/{item.pk}/#promise")

        # Everyone: the published, closed request's promise is kept on the public page.
        public = public_promises_url()
        if public is not None:
            page.context.clear_cookies()
            page.goto(f"{base}{public}")
            state = page.locator(f'[data-public-promise="{commitment.pk}"] [data-promise-state]')
            assert state.get_attribute("data-promise-state") == "kept"
            no_sideways_scroll(page, "the public promises")
        assert errors == [], errors
    assert blocked == []


def test_the_promise_card_and_list_have_no_serious_accessibility_violations(
    live_server: Any, directory: DemoDirectory
) -> None:
    """The card with each side's forms open (report and move the date; confirm and dispute),
    and the list of promises, checked by axe-core (WCAG 2 A and AA) at phone width."""
    commitment = make_commitment(directory)
    other = make_commitment(directory)
    services.commitment_report(pk=other.pk, by=directory.finance_exec, text=DONE)
    base = live_server.url
    found: list[str] = []
    with checked_browser_page(base, width=390, height=844) as (page, blocked):
        for username, paths in (
            (directory.finance_exec.username, [f"/requests/{commitment.request_id}/"]),
            (directory.alice.user.username, [f"/requests/{other.request_id}/", "/commitments/"]),
            (directory.staff.username, ["/commitments/?state=open"]),
        ):
            log_in(page, base, username)
            for path in paths:
                page.goto(f"{base}{path}")
                for details in page.locator("#promise details").all():
                    details.evaluate("element => element.open = true")
                no_sideways_scroll(page, path)
                found += [
                    f"{path}: {v['id']} ({v['impact']}) {v['targets'][:3]}"
                    for v in blocking(axe_violations(page))
                ]
    assert found == [], "\n".join(found)
    assert blocked == []
