"""Browser journey: an instruction from the session to its execution, as people see it.

Staff record a session, its protocol and an instruction for finance; the head of
finance (on a phone, in another browser context) submits the final report; staff
return it with a comment; finance reports again; staff accept it. At every step
the status a person sees (``data-status``) is asserted, and no request ever
leaves the live server.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from instructions.models import ExecutionReport, Instruction, InstructionStatus, ReportStatus
from tests.browser import browser_page
from tests.factories import DemoDirectory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "maslikhat-demo"
STATUS = "header.portal-item-header [data-status]"


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"{base}/")


def submit(page, selector: str) -> None:
    """Click a submit button and wait for the page the post redirects to."""
    with page.expect_navigation():
        page.locator(selector).click()


def phone_page(page, base: str, blocked: list[str]):
    """A second browser context (another person), phone-sized, kept to the live server."""
    allowed = urlsplit(base).netloc

    def guard(route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == allowed or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context = page.context.browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ru-RU"
    )
    context.route("**/*", guard)
    other = context.new_page()
    other.set_default_timeout(15_000)
    return other


def test_an_instruction_goes_from_the_session_to_execution(
    live_server, directory: DemoDirectory
) -> None:
    base = live_server.url
    today = timezone.localdate()
    with browser_page(base) as (staff, blocked):
        staff.on("dialog", lambda dialog: dialog.accept())  # data-confirm on return/accept
        log_in(staff, base, "staff")

        # Staff record the session …
        staff.goto(f"{base}/instructions/meetings/")
        with staff.expect_navigation():
            staff.locator("[data-new-meeting]").click()
        staff.select_option("select[name=kind]", "session")
        staff.select_option("select[name=session_kind]", "regular")
        staff.fill("input[name=date]", today.isoformat())
        staff.fill("input[name=title]", "Очередная сессия: исполнение бюджета")
        submit(staff, "form[data-action=meeting_new] [type=submit]")
        assert re.search(r"/instructions/meetings/\d+/$", staff.url)
        assert "Очередная сессия: исполнение бюджета" in staff.content()

        # … its protocol with two items …
        staff.fill("input[name=number]", "5")
        staff.fill("textarea[name=items]", "Об исполнении бюджета\nО кредиторской задолженности")
        submit(staff, "form[data-action=protocol_new] [type=submit]")
        assert re.search(r"/instructions/protocols/\d+/$", staff.url)
        assert "О кредиторской задолженности" in staff.content()

        # … and an instruction for finance, controlled by deputy1; the rule sets the date.
        form = "form[data-action=instruction_new]"
        staff.select_option(f"{form} select[name=item]", index=2)
        staff.fill(f"{form} textarea[name=text]", "Представить план погашения задолженности.")
        staff.select_option(f"{form} select[name=lead_department]", str(directory.finance.pk))
        staff.select_option(f"{form} select[name=controller_deputy]", str(directory.alice.pk))
        submit(staff, f"{form} [type=submit]")
        row = staff.locator("tr[data-instruction-id]")
        assert row.count() == 1
        assert row.locator("[data-status]").get_attribute("data-status") == "on_control"
        pk = int(row.get_attribute("data-instruction-id") or 0)
        instruction = Instruction.objects.get(pk=pk)
        assert instruction.lead_department_id == directory.finance.pk
        assert instruction.item is not None and instruction.item.number == 2
        detail = f"{base}/instructions/{pk}/"

        # The head of finance, on a phone, finds it in the registry and reports.
        finance = phone_page(staff, base, blocked)
        finance.on("dialog", lambda dialog: dialog.accept())  # data-confirm on the final report
        log_in(finance, base, "finance-head")
        finance.goto(f"{base}/instructions/")
        listed = finance.locator(f"tr[data-instruction-id='{pk}']")
        assert listed.locator("[data-status]").get_attribute("data-status") == "on_control"
        with finance.expect_navigation():
            listed.locator(f"a[href='/instructions/{pk}/']").first.click()
        assert finance.locator(STATUS).get_attribute("data-status") == "on_control"
        finance.fill("form[data-action=report] textarea[name=text]", "План утверждён приказом.")
        submit(finance, "button[data-submit=report_final]")
        assert finance.locator(STATUS).get_attribute("data-status") == "reported"
        overflow = finance.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0

        # Staff return the report with a comment.
        staff.goto(detail)
        assert staff.locator(STATUS).get_attribute("data-status") == "reported"
        assert "План утверждён приказом." in staff.content()
        staff.fill("form[data-action=return] textarea[name=comment]", "Нет сроков по этапам.")
        submit(staff, "form[data-action=return] [type=submit]")
        assert staff.locator(STATUS).get_attribute("data-status") == "returned"

        # Finance sees why and reports again.
        finance.reload()
        assert finance.locator(STATUS).get_attribute("data-status") == "returned"
        assert "Нет сроков по этапам." in finance.content()
        finance.fill(
            "form[data-action=report] textarea[name=text]", "План с этапами: I–IV кварталы."
        )
        submit(finance, "button[data-submit=report_final]")
        assert finance.locator(STATUS).get_attribute("data-status") == "reported"

        # Staff accept: the instruction is executed, for both of them.
        staff.goto(detail)
        assert staff.locator(STATUS).get_attribute("data-status") == "reported"
        submit(staff, "form[data-action=accept] [type=submit]")
        assert staff.locator(STATUS).get_attribute("data-status") == "executed"
        assert staff.locator("form[data-action=accept]").count() == 0
        finance.reload()
        assert finance.locator(STATUS).get_attribute("data-status") == "executed"
        assert finance.locator("form[data-action=report]").count() == 0

    assert blocked == []
    instruction.refresh_from_db()
    assert instruction.status == InstructionStatus.EXECUTED
    assert [r.status for r in ExecutionReport.objects.filter(instruction=instruction)] == [
        ReportStatus.RETURNED,
        ReportStatus.ACCEPTED,
    ]
