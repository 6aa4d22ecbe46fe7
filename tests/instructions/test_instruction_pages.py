"""The browser pages of protocol instructions: registry, instruction page, actions, creation.

Instructions are made through the services (``meeting_create`` → ``protocol_create`` →
``instruction_create``) by staff, and driven with the personas of
``tests.factories.make_directory``: finance leads, mobility co-executes (where a test
says so), alice (deputy1) controls, bob (deputy2) is an uninvolved deputy.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from instructions import services
from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ReportStatus,
)
from maslikhat.accounts.models import User
from maslikhat.core.exceptions import StaleVersion
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.threads import Attachment, Message
from maslikhat.directory.models import Commission, Department, Deputy
from tests.factories import CommissionFactory, DemoDirectory
from tests.requests_helpers import pdf_upload

pytestmark = pytest.mark.django_db

S = InstructionStatus
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# --- Helpers ------------------------------------------------------------------------------------


def make_protocol(
    directory: DemoDirectory,
    *,
    date: datetime.date | None = None,
    number: str = "1",
    items: Sequence[str] = ("О бюджете города", "О ремонте дорог"),
    title: str = "Очередная сессия маслихата",
) -> Protocol:
    date = date or timezone.localdate()
    meeting = services.meeting_create(
        by=directory.staff, kind=MeetingKind.SESSION, date=date, title=title
    )
    return services.protocol_create(
        by=directory.staff, meeting=meeting, number=number, date=date, items=items
    )


def make_instruction(
    directory: DemoDirectory,
    *,
    protocol: Protocol | None = None,
    text: str = "Представить план погашения кредиторской задолженности.",
    lead: Department | None = None,
    co: Iterable[Department] = (),
    controller_deputy: Deputy | None = None,
    controller_commission: Commission | None = None,
    due_date: datetime.date | None = None,
    report_period: str = "none",
) -> Instruction:
    protocol = protocol or make_protocol(directory)
    if controller_deputy is None and controller_commission is None:
        controller_deputy = directory.alice
    return services.instruction_create(
        by=directory.staff,
        protocol=protocol,
        text=text,
        lead_department=lead or directory.finance,
        co_departments=list(co),
        controller_deputy=controller_deputy,
        controller_commission=controller_commission,
        due_date=due_date,
        report_period=report_period,
    )


def refresh(item: Instruction) -> Instruction:
    return Instruction.objects.get(pk=item.pk)


def report_final(directory: DemoDirectory, item: Instruction, text: str = "Исполнено.") -> None:
    services.instruction_report(pk=item.pk, by=directory.finance_head, text=text, final=True)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def as_user(directory: DemoDirectory, persona: str) -> User:
    value = getattr(directory, persona)
    return value if isinstance(value, User) else value.user


def row_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-instruction-id="(\d+)"', html)}


def statuses_shown(html: str) -> list[str]:
    return re.findall(r'data-status="([a-z_]+)"', html)


def detail_url(item: Instruction) -> str:
    return reverse("instructions:detail", args=[item.pk])


def stale_message() -> str:
    with translation.override("ru"):
        return str(StaleVersion().message)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- The registry -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get(reverse("instructions:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("persona", ["staff", "chair", "admin", "finance_head", "finance_exec"])
def test_the_registry_shows_the_instruction_to_those_who_may_see_it(
    directory: DemoDirectory, persona: str
) -> None:
    item = make_instruction(directory)
    response = client_for(as_user(directory, persona)).get(reverse("instructions:list"))
    assert response.status_code == 200
    assert row_ids(response.content.decode()) == {item.pk}


def test_the_controlling_deputy_sees_their_instructions_in_the_registry(
    directory: DemoDirectory,
) -> None:
    item = make_instruction(directory, controller_deputy=directory.alice)
    response = client_for(directory.alice.user).get(reverse("instructions:list"))
    assert row_ids(response.content.decode()) == {item.pk}


def test_the_chair_of_the_controlling_commission_sees_its_instructions(
    directory: DemoDirectory,
) -> None:
    commission = CommissionFactory.create(convocation=directory.convocation, chair=directory.bob)
    item = make_instruction(directory, controller_commission=commission)
    response = client_for(directory.bob.user).get(reverse("instructions:list"))
    assert row_ids(response.content.decode()) == {item.pk}


@pytest.mark.parametrize("persona", ["bob", "mobility_head", "mobility_exec"])
def test_an_uninvolved_user_sees_an_empty_registry(directory: DemoDirectory, persona: str) -> None:
    make_instruction(directory, controller_deputy=directory.alice)
    response = client_for(as_user(directory, persona)).get(reverse("instructions:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert row_ids(html) == set()
    assert "data-empty-state" in html


def test_a_co_executor_department_sees_the_instruction(directory: DemoDirectory) -> None:
    item = make_instruction(directory, co=[directory.mobility])
    response = client_for(directory.mobility_exec).get(reverse("instructions:list"))
    assert row_ids(response.content.decode()) == {item.pk}


def test_the_registry_row_shows_the_columns(directory: DemoDirectory) -> None:
    commission = CommissionFactory.create(
        convocation=directory.convocation, name_ru="Комиссия по бюджету"
    )
    item = make_instruction(
        directory,
        text="Первая строка поручения\nВторая строка, которой нет в реестре",
        co=[directory.mobility],
        controller_commission=commission,
        controller_deputy=directory.alice,
        due_date=timezone.localdate() + datetime.timedelta(days=40),
    )
    html = client_for(directory.staff).get(reverse("instructions:list")).content.decode()
    assert "Первая строка поручения" in html
    assert "Вторая строка" not in html
    assert "Управление финансов" in html
    assert "Комиссия по бюджету" in html
    assert directory.alice.user.last_name in html
    assert item.due_date.strftime("%d.%m.%Y") in html
    assert 'data-status="on_control"' in html
    assert "data-working-days=" in html  # the "N working days left" badge
    assert str(item.protocol) in html


def test_an_overdue_instruction_carries_the_overdue_badge(directory: DemoDirectory) -> None:
    today = timezone.localdate()
    protocol = make_protocol(directory, date=today - datetime.timedelta(days=60))
    make_instruction(directory, protocol=protocol, due_date=today - datetime.timedelta(days=20))
    html = client_for(directory.staff).get(reverse("instructions:list")).content.decode()
    assert re.search(r'class="badge badge-overdue" data-working-days="-\d+"', html)


@pytest.fixture
def in_every_state(directory: DemoDirectory) -> dict[str, Instruction]:
    """One instruction per tab: on control (later), due today, overdue, returned, reported,
    executed, removed from control."""
    today = timezone.localdate()
    old = make_protocol(directory, date=today - datetime.timedelta(days=90), number="7")
    later = today + datetime.timedelta(days=60)
    items = {
        "later": make_instruction(directory, protocol=old, due_date=later),
        "today": make_instruction(directory, protocol=old, due_date=today),
        "overdue": make_instruction(
            directory, protocol=old, due_date=today - datetime.timedelta(days=10)
        ),
        "returned": make_instruction(directory, protocol=old, due_date=later),
        "reported": make_instruction(directory, protocol=old, due_date=later),
        "executed": make_instruction(directory, protocol=old, due_date=later),
        "removed": make_instruction(directory, protocol=old, due_date=later),
    }
    for key in ("returned", "reported", "executed"):
        report_final(directory, items[key])
    services.instruction_return(pk=items["returned"].pk, by=directory.staff, comment="Мало.")
    services.instruction_accept(pk=items["executed"].pk, by=directory.staff)
    services.instruction_remove_from_control(
        pk=items["removed"].pk, by=directory.staff, reason="Утратило актуальность."
    )
    return items


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("on_control", {"later", "today", "overdue", "returned"}),
        ("week", {"today"}),
        ("overdue", {"overdue"}),
        ("reported", {"reported"}),
        ("all", {"later", "today", "overdue", "returned", "reported", "executed", "removed"}),
    ],
)
def test_each_tab_shows_its_instructions(
    directory: DemoDirectory, in_every_state: dict[str, Instruction], tab: str, expected: set[str]
) -> None:
    client = client_for(directory.staff)
    html = client.get(reverse("instructions:list")).content.decode()
    url = re.search(rf'href="([^"]*)" data-tab="{tab}"', html)
    assert url is not None
    response = client.get(reverse("instructions:list") + url.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    page = response.content.decode()
    assert row_ids(page) == {in_every_state[key].pk for key in expected}
    assert re.search(rf'class="nav-link active" href="[^"]*" data-tab="{tab}"', page)


def test_the_reported_tab_shows_the_reported_status(
    directory: DemoDirectory, in_every_state: dict[str, Instruction]
) -> None:
    html = (
        client_for(directory.staff)
        .get(reverse("instructions:list"), {"status": "reported"})
        .content.decode()
    )
    assert statuses_shown(html) == ["reported"]


def test_filters_narrow_the_registry(directory: DemoDirectory) -> None:
    commission = CommissionFactory.create(convocation=directory.convocation)
    first = make_protocol(directory, number="1")
    second = make_protocol(directory, number="2")
    finance_item = make_instruction(
        directory, protocol=first, text="Отчёт о бюджете", controller_commission=commission
    )
    mobility_item = make_instruction(
        directory,
        protocol=second,
        text="Схема движения автобусов",
        lead=directory.mobility,
        controller_deputy=directory.bob,
    )
    shared_item = make_instruction(
        directory, protocol=second, text="Совместный план", co=[directory.mobility]
    )
    client = client_for(directory.staff)
    url = reverse("instructions:list")

    def shown(**params: Any) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        assert "data-filter-errors" not in response.content.decode()
        return row_ids(response.content.decode())

    assert shown(department=directory.mobility.pk) == {mobility_item.pk, shared_item.pk}
    assert shown(lead_department=directory.mobility.pk) == {mobility_item.pk}
    assert shown(controller_commission=commission.pk) == {finance_item.pk}
    assert shown(controller_deputy=directory.bob.pk) == {mobility_item.pk}
    assert shown(protocol=first.pk) == {finance_item.pk}
    assert shown(search="автобусов") == {mobility_item.pk}
    assert shown(status="on_control") == {finance_item.pk, mobility_item.pk, shared_item.pk}
    assert shown(status="executed") == set()


def test_ordering_sorts_the_registry(directory: DemoDirectory) -> None:
    today = timezone.localdate()
    protocol = make_protocol(directory)
    late = make_instruction(directory, protocol=protocol, due_date=today + datetime.timedelta(30))
    soon = make_instruction(directory, protocol=protocol, due_date=today + datetime.timedelta(5))
    client = client_for(directory.staff)
    ascending = client.get(reverse("instructions:list"), {"ordering": "due_date"})
    descending = client.get(reverse("instructions:list"), {"ordering": "-due_date"})
    order = re.compile(r'data-instruction-id="(\d+)"')
    assert [int(pk) for pk in order.findall(ascending.content.decode())] == [soon.pk, late.pk]
    assert [int(pk) for pk in order.findall(descending.content.decode())] == [late.pk, soon.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"department": "not-a-number"},
        {"ordering": "password"},
        {"due_before": "31.02.2026x"},
        {"status": "lost"},
        {"protocol": "999999"},
        {"is_overdue": "maybe", "page": "-3"},
    ],
)
def test_an_invalid_filter_shows_what_was_not_understood(
    directory: DemoDirectory, params: dict[str, str]
) -> None:
    item = make_instruction(directory)
    response = client_for(directory.staff).get(reverse("instructions:list"), params)
    assert response.status_code == 200
    html = response.content.decode()
    if params.get("is_overdue") == "maybe":
        # An unknown yes/no is "either": nothing to complain about, nothing filtered.
        assert item.pk in row_ids(html)
    else:
        assert "data-filter-errors" in html


def test_the_registry_paginates_by_25(directory: DemoDirectory) -> None:
    protocol = make_protocol(directory)
    for n in range(27):
        make_instruction(directory, protocol=protocol, text=f"Поручение {n}")
    client = client_for(directory.staff)
    first = client.get(reverse("instructions:list"))
    second = client.get(reverse("instructions:list"), {"page": 2})
    assert len(row_ids(first.content.decode())) == 25
    assert len(row_ids(second.content.decode())) == 2


# --- The instruction page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["staff", "chair", "admin", "finance_head", "finance_exec", "alice"]
)
def test_the_instruction_page_renders_for_those_involved(
    directory: DemoDirectory, persona: str
) -> None:
    item = make_instruction(directory, controller_deputy=directory.alice)
    response = client_for(as_user(directory, persona)).get(detail_url(item))
    assert response.status_code == 200
    html = response.content.decode()
    assert item.text in html
    assert str(item.protocol) in html
    assert 'data-status="on_control"' in html


@pytest.mark.parametrize("persona", ["bob", "mobility_head", "mobility_exec"])
def test_the_instruction_page_is_404_for_an_uninvolved_user(
    directory: DemoDirectory, persona: str
) -> None:
    item = make_instruction(directory, controller_deputy=directory.alice)
    client = client_for(as_user(directory, persona))
    assert client.get(detail_url(item)).status_code == 404
    assert client.get(reverse("instructions:detail", args=[999999])).status_code == 404


def test_an_uninvolved_department_cannot_act_on_the_instruction(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    response = client_for(directory.mobility_head).post(
        reverse("instructions:report", args=[item.pk]), {"text": "Чужой отчёт", "final": "true"}
    )
    assert response.status_code == 404
    assert not ExecutionReport.objects.exists()


def test_the_page_shows_the_computed_due_date_and_periodic_reports(
    directory: DemoDirectory,
) -> None:
    item = make_instruction(directory, report_period="monthly")
    html = client_for(directory.staff).get(detail_url(item)).content.decode()
    assert item.due_date.strftime("%d.%m.%Y") in html
    assert item.protocol.date.strftime("%d.%m.%Y") in html  # "30 calendar days from …"
    assert "portal-due-basis" in html
    assert "Monthly" in html or "Ежемесячно" in html


def test_the_page_shows_the_original_due_date_of_an_extended_instruction(
    directory: DemoDirectory,
) -> None:
    item = make_instruction(directory)
    original = item.due_date
    new_due = original + datetime.timedelta(days=14)
    extension = services.instruction_extension_ask(
        pk=item.pk, by=directory.finance_head, new_due_date=new_due, reason="Ждём данные."
    )
    services.instruction_extension_decide(
        pk=item.pk, extension_id=extension.pk, by=directory.staff, approve=True
    )
    html = client_for(directory.finance_exec).get(detail_url(item)).content.decode()
    assert new_due.strftime("%d.%m.%Y") in html
    assert original.strftime("%d.%m.%Y") in html
    assert 'data-extension-status="approved"' in html


def _forms_on(html: str) -> set[str]:
    return set(re.findall(r'<form [^>]*data-action="([a-z_]+)"', html)) - {"message", "attachment"}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("finance_head", {"report", "extension_ask"}),
        ("finance_exec", {"report", "extension_ask"}),
        ("staff", {"remove"}),
        ("chair", set()),
        ("alice", set()),
    ],
)
def test_only_the_actions_available_now_are_offered(
    directory: DemoDirectory, persona: str, expected: set[str]
) -> None:
    item = make_instruction(directory)
    html = client_for(as_user(directory, persona)).get(detail_url(item)).content.decode()
    assert _forms_on(html) == expected


def test_the_controller_is_offered_accept_and_return_of_a_final_report(
    directory: DemoDirectory,
) -> None:
    item = make_instruction(directory, controller_deputy=directory.alice)
    report_final(directory, item)
    html = client_for(directory.alice.user).get(detail_url(item)).content.decode()
    assert _forms_on(html) == {"accept", "return"}
    # The report decided on is quoted right beside the decision (phones show actions first).
    assert re.search(r"data-pending-report>.*Исполнено\.", html, re.S)
    # Returning and accepting ask for a confirmation first (static/js/portal.js).
    assert re.search(r'data-action="return" data-confirm="[^"]+"', html)
    assert re.search(r'data-action="accept" data-confirm="[^"]+"', html)


def test_a_co_executor_may_only_send_interim_reports(directory: DemoDirectory) -> None:
    item = make_instruction(directory, co=[directory.mobility])
    html = client_for(directory.mobility_exec).get(detail_url(item)).content.decode()
    assert 'data-submit="report_interim"' in html
    assert 'data-submit="report_final"' not in html


def test_remove_from_control_asks_for_a_confirmation(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    html = client_for(directory.staff).get(detail_url(item)).content.decode()
    assert re.search(r'data-action="remove" data-confirm="[^"]+"', html)


def test_the_chair_reads_the_thread_but_cannot_write(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    services.instruction_message_post(pk=item.pk, by=directory.staff, text="Прошу ускорить.")
    html = client_for(directory.chair).get(detail_url(item)).content.decode()
    assert "Прошу ускорить." in html
    assert 'data-action="message"' not in html
    assert 'data-action="attachment"' not in html


# --- Actions ------------------------------------------------------------------------------------


def post(client: Client, name: str, item: Instruction, data: dict[str, Any], **kwargs: Any) -> Any:
    args = [item.pk, *kwargs.pop("extra_args", [])]
    return client.post(reverse(f"instructions:{name}", args=args), data, **kwargs)


def test_the_lead_department_submits_the_final_report(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    client = client_for(directory.finance_exec)
    response = post(
        client,
        "report",
        item,
        {"text": "План утверждён.", "final": "true", "version": item.version},
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(detail_url(item))
    assert refresh(item).status == S.REPORTED
    report = ExecutionReport.objects.get()
    assert report.is_final and report.text == "План утверждён."
    html = response.content.decode()
    assert 'data-status="reported"' in html
    assert "План утверждён." in html


def test_an_interim_report_leaves_the_instruction_on_control(directory: DemoDirectory) -> None:
    item = make_instruction(directory, co=[directory.mobility])
    response = post(
        client_for(directory.mobility_exec),
        "report",
        item,
        {"text": "Наша часть выполнена.", "final": "false", "version": item.version},
    )
    assert response.status_code == 302
    assert refresh(item).status == S.ON_CONTROL
    assert ExecutionReport.objects.get().is_final is False


def test_the_controller_accepts_the_report(directory: DemoDirectory) -> None:
    item = make_instruction(directory, controller_deputy=directory.alice)
    report_final(directory, item)
    item = refresh(item)
    response = post(
        client_for(directory.alice.user),
        "accept",
        item,
        {"comment": "Спасибо.", "version": item.version},
    )
    assert response.status_code == 302
    assert refresh(item).status == S.EXECUTED
    assert ExecutionReport.objects.get().status == ReportStatus.ACCEPTED


def test_staff_return_the_report_with_a_comment(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    report_final(directory, item)
    item = refresh(item)
    response = post(
        client_for(directory.staff),
        "return",
        item,
        {"comment": "Нет сроков.", "version": item.version},
        follow=True,
    )
    assert refresh(item).status == S.RETURNED
    report = ExecutionReport.objects.get()
    assert report.status == ReportStatus.RETURNED and report.comment == "Нет сроков."
    assert 'data-status="returned"' in response.content.decode()
    # The department reads the comment right above its report form.
    html = client_for(directory.finance_head).get(detail_url(item)).content.decode()
    assert re.search(r"data-returned-comment>.*Нет сроков\.", html, re.S)


def test_the_department_asks_and_staff_decide_an_extension(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    new_due = item.due_date + datetime.timedelta(days=10)
    response = post(
        client_for(directory.finance_head),
        "extension_ask",
        item,
        {"new_due_date": new_due.isoformat(), "reason": "Ждём данные.", "version": item.version},
    )
    assert response.status_code == 302
    extension = Extension.objects.get()
    assert extension.status == ExtensionStatus.PENDING

    item = refresh(item)
    html = client_for(directory.staff).get(detail_url(item)).content.decode()
    assert 'data-action="extension_decide"' in html
    response = post(
        client_for(directory.staff),
        "extension_decide",
        item,
        {"approve": "yes", "comment": "", "version": item.version},
        extra_args=[extension.pk],
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert refresh(item).due_date == new_due


def test_the_chair_rejects_an_extension_with_a_comment(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    extension = services.instruction_extension_ask(
        pk=item.pk,
        by=directory.finance_head,
        new_due_date=item.due_date + datetime.timedelta(days=5),
        reason="Нет данных.",
    )
    item = refresh(item)
    response = post(
        client_for(directory.chair),
        "extension_decide",
        item,
        {"approve": "no", "comment": "Срок достаточный.", "version": item.version},
        extra_args=[extension.pk],
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REJECTED


def test_staff_remove_the_instruction_from_control(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    response = post(
        client_for(directory.staff),
        "remove",
        item,
        {"reason": "Утратило актуальность.", "version": item.version},
        follow=True,
    )
    item = refresh(item)
    assert item.status == S.REMOVED_FROM_CONTROL
    assert item.removal_reason == "Утратило актуальность."
    html = response.content.decode()
    assert 'data-status="removed_from_control"' in html
    assert "Утратило актуальность." in html


def test_a_message_is_posted_in_the_thread(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    response = post(
        client_for(directory.finance_exec), "message", item, {"text": "Когда заслушивание?"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#thread")
    assert Message.objects.get().text == "Когда заслушивание?"
    html = client_for(directory.staff).get(detail_url(item)).content.decode()
    assert "Когда заслушивание?" in html


def test_a_file_is_attached_and_downloaded_only_by_those_who_see_the_item(
    directory: DemoDirectory, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    item = make_instruction(directory)
    response = post(
        client_for(directory.finance_head), "attachment", item, {"file": pdf_upload("plan.pdf")}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    html = client_for(directory.staff).get(detail_url(item)).content.decode()
    download = reverse("core:attachment-download", args=[attachment.pk])
    assert download in html and "plan.pdf" in html
    assert client_for(directory.staff).get(download).status_code == 200
    assert client_for(directory.mobility_head).get(download).status_code == 404


def test_a_refused_upload_says_why_and_keeps_nothing(
    directory: DemoDirectory, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    item = make_instruction(directory)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("evil.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    client = client_for(directory.finance_head)
    response = post(client, "attachment", item, {"file": upload})
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    page = client.get(response["Location"])
    assert any(messages_of(page))


def test_the_action_addresses_answer_only_posts(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    response = client_for(directory.staff).get(reverse("instructions:accept", args=[item.pk]))
    assert response.status_code == 405


def test_a_stale_page_is_told_and_the_typed_text_is_kept(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    stale_version = item.version
    services.instruction_message_post(pk=item.pk, by=directory.staff, text="Напоминание.")
    services.instruction_report(
        pk=item.pk, by=directory.finance_exec, text="Промежуточный.", final=False
    )
    current = refresh(item).version
    assert current != stale_version
    response = post(
        client_for(directory.finance_head),
        "report",
        item,
        {"text": "Мой длинный итоговый отчёт", "final": "true", "version": stale_version},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Мой длинный итоговый отчёт" in html
    assert stale_message() in messages_of(response)
    # The form now carries the current version: sending again is a deliberate decision.
    assert f'name="version" value="{current}"' in html
    assert refresh(item).status == S.ON_CONTROL
    assert ExecutionReport.objects.filter(is_final=True).count() == 0


def test_a_stale_action_without_text_redirects_with_the_message(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    report_final(directory, item)
    response = post(client_for(directory.staff), "accept", item, {"version": 1}, follow=True)
    assert response.status_code == 200
    assert refresh(item).status == S.REPORTED
    assert stale_message() in messages_of(response)


def test_text_typed_for_an_action_no_longer_possible_is_shown_to_copy(
    directory: DemoDirectory,
) -> None:
    item = make_instruction(directory)
    report_final(directory, item)
    services.instruction_accept(pk=item.pk, by=directory.staff)
    response = post(
        client_for(directory.alice.user),
        "return",
        item,
        {"comment": "Верните, пожалуйста, с расчётами", "version": refresh(item).version},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "data-unsent-text" in html
    assert "Верните, пожалуйста, с расчётами" in html
    assert refresh(item).status == S.EXECUTED


def test_an_invalid_form_keeps_the_typed_text(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    response = post(
        client_for(directory.finance_head),
        "extension_ask",
        item,
        {"new_due_date": "not a date", "reason": "Причина, которую жалко терять", "version": 1},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Причина, которую жалко терять" in html
    assert not Extension.objects.exists()


def test_a_business_rule_error_is_shown_beside_the_field(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    too_late = item.original_due_date + datetime.timedelta(days=400)
    response = post(
        client_for(directory.finance_head),
        "extension_ask",
        item,
        {"new_due_date": too_late.isoformat(), "reason": "Очень долго", "version": item.version},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Очень долго" in html
    assert "invalid-feedback" in html


def test_a_forbidden_action_is_403_and_changes_nothing(directory: DemoDirectory) -> None:
    item = make_instruction(directory)
    response = post(
        client_for(directory.chair),
        "remove",
        item,
        {"reason": "Председатель решил", "version": item.version},
    )
    assert response.status_code == 403
    assert refresh(item).status == S.ON_CONTROL
    assert "Председатель решил" in response.content.decode()


# --- Escaping -----------------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere(directory: DemoDirectory) -> None:
    protocol = make_protocol(directory, items=[XSS], title=XSS)
    item = make_instruction(directory, protocol=protocol, text=XSS)
    services.instruction_report(pk=item.pk, by=directory.finance_head, text=XSS, final=True)
    services.instruction_return(pk=item.pk, by=directory.staff, comment=XSS)
    services.instruction_message_post(pk=item.pk, by=directory.finance_exec, text=XSS)
    client = client_for(directory.staff)
    pages = [
        detail_url(item),
        reverse("instructions:list"),
        reverse("instructions:protocol", args=[protocol.pk]),
        reverse("instructions:meeting", args=[protocol.meeting_id]),
        reverse("instructions:meetings"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


# --- Query budgets ------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm: read marks, sessions
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _add_instructions(directory: DemoDirectory, protocol: Protocol, n: int, start: int) -> None:
    commission = CommissionFactory.create(convocation=directory.convocation)
    today = timezone.localdate()
    for k in range(start, start + n):
        make_instruction(
            directory,
            protocol=protocol,
            text=f"Поручение {k}",
            lead=directory.finance if k % 2 else directory.mobility,
            co=[directory.mobility] if k % 3 == 0 else [],
            controller_deputy=directory.alice if k % 2 else directory.bob,
            controller_commission=commission if k % 4 == 0 else None,
            due_date=today + datetime.timedelta(days=k % 20),
        )


@pytest.mark.parametrize("persona", ["staff", "finance_head"])
def test_the_registry_and_the_instruction_page_cost_the_same_at_3_and_30_rows(
    directory: DemoDirectory, persona: str
) -> None:
    protocol = make_protocol(directory, date=timezone.localdate() - datetime.timedelta(days=3))
    _add_instructions(directory, protocol, 3, 0)
    target = Instruction.objects.filter(lead_department=directory.finance).first()
    assert target is not None
    report_final(directory, target, "Первый отчёт")
    services.instruction_return(pk=target.pk, by=directory.staff, comment="Без сроков")
    report_final(directory, target, "Второй отчёт")
    services.instruction_message_post(pk=target.pk, by=directory.staff, text="Вопрос")
    client = client_for(as_user(directory, persona))
    # "All" (the bare address opens on the instructions on control: none for finance here).
    list_url = reverse("instructions:list") + "?ordering=due_date"
    small = (_queries(client, list_url), _queries(client, detail_url(target)))

    _add_instructions(directory, protocol, 27, 3)
    services.instruction_return(pk=target.pk, by=directory.staff, comment="Ещё раз")
    report_final(directory, target, "Третий отчёт")
    for n in range(5):
        services.instruction_message_post(pk=target.pk, by=directory.finance_exec, text=f"{n}")
    large = (_queries(client, list_url), _queries(client, detail_url(target)))
    assert small == large, (small, large)
    # The declared budgets (see the report: sessions, actor, menu, filters — the newest
    # meetings and protocols one query each —, page, calendar).
    assert large[0] <= 18
    assert large[1] <= 22


# --- Meetings, protocols and creation -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff", "chair", "finance_exec", "alice", "bob"])
def test_everyone_signed_in_reads_meetings_and_protocols(
    directory: DemoDirectory, persona: str
) -> None:
    protocol = make_protocol(directory, title="Сессия о бюджете")
    client = client_for(as_user(directory, persona))
    meetings = client.get(reverse("instructions:meetings"))
    assert meetings.status_code == 200
    assert "Сессия о бюджете" in meetings.content.decode()
    assert str(protocol) in meetings.content.decode()
    meeting = client.get(reverse("instructions:meeting", args=[protocol.meeting_id]))
    assert meeting.status_code == 200
    page = client.get(reverse("instructions:protocol", args=[protocol.pk]))
    assert page.status_code == 200
    assert "О ремонте дорог" in page.content.decode()
    creates = persona == "staff"
    assert ("data-new-meeting" in meetings.content.decode()) is creates
    assert ('data-action="protocol_new"' in meeting.content.decode()) is creates
    assert ('data-action="instruction_new"' in page.content.decode()) is creates


def test_the_meetings_list_filters_by_kind(directory: DemoDirectory) -> None:
    commission = CommissionFactory.create(convocation=directory.convocation)
    services.meeting_create(
        by=directory.staff,
        kind=MeetingKind.SESSION,
        date=timezone.localdate(),
        title="Большая сессия",
    )
    services.meeting_create(
        by=directory.staff,
        kind=MeetingKind.COMMISSION,
        date=timezone.localdate(),
        title="Выезд комиссии на ул. Абая",
        commission=commission,
    )
    client = client_for(directory.staff)
    html = client.get(reverse("instructions:meetings"), {"kind": "commission"}).content.decode()
    assert "Выезд комиссии на ул. Абая" in html and "Большая сессия" not in html
    bad = client.get(reverse("instructions:meetings"), {"kind": "party"})
    assert bad.status_code == 200 and "data-filter-errors" in bad.content.decode()


def test_meetings_are_listed_newest_first(directory: DemoDirectory) -> None:
    today = timezone.localdate()
    for days, title in ((30, "Старая"), (0, "Новая"), (10, "Средняя")):
        services.meeting_create(
            by=directory.staff,
            kind=MeetingKind.SESSION,
            date=today - datetime.timedelta(days=days),
            title=title,
        )
    html = client_for(directory.chair).get(reverse("instructions:meetings")).content.decode()
    assert html.index("Новая") < html.index("Средняя") < html.index("Старая")


def test_the_protocol_page_lists_only_the_instructions_the_user_may_see(
    directory: DemoDirectory,
) -> None:
    protocol = make_protocol(directory)
    finance_only = make_instruction(directory, protocol=protocol)
    shared = make_instruction(directory, protocol=protocol, co=[directory.mobility])
    url = reverse("instructions:protocol", args=[protocol.pk])
    assert row_ids(client_for(directory.staff).get(url).content.decode()) == {
        finance_only.pk,
        shared.pk,
    }
    assert row_ids(client_for(directory.mobility_exec).get(url).content.decode()) == {shared.pk}
    assert row_ids(client_for(directory.bob.user).get(url).content.decode()) == set()


def test_missing_meetings_and_protocols_are_404(directory: DemoDirectory) -> None:
    client = client_for(directory.staff)
    assert client.get(reverse("instructions:meeting", args=[999999])).status_code == 404
    assert client.get(reverse("instructions:protocol", args=[999999])).status_code == 404


def test_staff_create_a_meeting_its_protocol_and_an_instruction(directory: DemoDirectory) -> None:
    client = client_for(directory.staff)
    assert client.get(reverse("instructions:meeting_new")).status_code == 200
    today = timezone.localdate()
    response = client.post(
        reverse("instructions:meeting_new"),
        {
            "kind": "session",
            "session_kind": "extraordinary",
            "date": today.isoformat(),
            "title": "Внеочередная сессия",
            "agenda": "Бюджет",
            "location": "Здание маслихата",
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("instructions:meeting", args=[meeting.pk])
    assert meeting.session_kind == "extraordinary"

    response = client.post(
        reverse("instructions:meeting", args=[meeting.pk]),
        {"number": "12", "date": today.isoformat(), "items": "Первый вопрос\n\nВторой вопрос\n"},
    )
    protocol = Protocol.objects.get()
    assert response["Location"] == reverse("instructions:protocol", args=[protocol.pk])
    assert [i.title for i in protocol.items.all()] == ["Первый вопрос", "Второй вопрос"]

    due = today + datetime.timedelta(days=20)
    response = client.post(
        reverse("instructions:protocol", args=[protocol.pk]),
        {
            "item": protocol.items.first().pk,  # type: ignore[union-attr]
            "text": "Подготовить отчёт",
            "lead_department": directory.finance.pk,
            "co_departments": [directory.mobility.pk],
            "controller_deputy": directory.alice.pk,
            "due_date": due.isoformat(),
            "report_period": "monthly",
        },
        follow=True,
    )
    instruction = Instruction.objects.get()
    assert instruction.due_date == due and instruction.report_period == "monthly"
    assert list(instruction.co_departments.all()) == [directory.mobility]
    assert instruction.pk in row_ids(response.content.decode())


def test_an_instruction_without_a_due_date_gets_the_rules_date(directory: DemoDirectory) -> None:
    protocol = make_protocol(directory)
    response = client_for(directory.staff).post(
        reverse("instructions:protocol", args=[protocol.pk]),
        {
            "text": "Подготовить отчёт",
            "lead_department": directory.finance.pk,
            "controller_deputy": directory.alice.pk,
            "due_date": "",
            "report_period": "none",
        },
    )
    assert response.status_code == 302
    instruction = Instruction.objects.get()
    assert instruction.due_date > protocol.date
    assert instruction.due_date_basis.get("rule") == "instruction"


def test_a_creation_error_keeps_the_form(directory: DemoDirectory) -> None:
    protocol = make_protocol(directory)
    response = client_for(directory.staff).post(
        reverse("instructions:protocol", args=[protocol.pk]),
        {
            "text": "Поручение без контролёра",
            "lead_department": directory.finance.pk,
            "report_period": "none",
        },
    )
    assert response.status_code == 400
    assert "Поручение без контролёра" in response.content.decode()
    assert not Instruction.objects.exists()

    response = client_for(directory.staff).post(
        reverse("instructions:meeting_new"),
        {"kind": "commission", "date": timezone.localdate().isoformat(), "title": "Без комиссии"},
    )
    assert response.status_code == 400
    assert "Без комиссии" in response.content.decode()
    assert Meeting.objects.count() == 1

    response = client_for(directory.staff).post(
        reverse("instructions:meeting", args=[protocol.meeting_id]),
        {"number": protocol.number, "date": protocol.date.isoformat(), "items": "Повтор"},
    )
    assert response.status_code == 400
    assert Protocol.objects.count() == 1


@pytest.mark.parametrize("persona", ["chair", "finance_head", "finance_exec", "alice", "admin"])
def test_only_staff_may_create_meetings_protocols_and_instructions(
    directory: DemoDirectory, persona: str
) -> None:
    protocol = make_protocol(directory)
    client = client_for(as_user(directory, persona))
    today = timezone.localdate().isoformat()
    assert client.get(reverse("instructions:meeting_new")).status_code == 403
    meeting_post = client.post(
        reverse("instructions:meeting_new"), {"kind": "session", "date": today, "title": "X"}
    )
    protocol_post = client.post(
        reverse("instructions:meeting", args=[protocol.meeting_id]),
        {"number": "99", "date": today, "items": "Y"},
    )
    instruction_post = client.post(
        reverse("instructions:protocol", args=[protocol.pk]),
        {
            "text": "Z",
            "lead_department": directory.finance.pk,
            "controller_deputy": directory.alice.pk,
            "report_period": "none",
        },
    )
    assert (meeting_post.status_code, protocol_post.status_code, instruction_post.status_code) == (
        403,
        403,
        403,
    )
    assert Meeting.objects.count() == 1
    assert Protocol.objects.count() == 1
    assert not Instruction.objects.exists()


# --- Executive discipline -------------------------------------------------------------------------


def test_discipline_lists_departments_by_open_overdue(
    directory: DemoDirectory, in_every_state: dict[str, Instruction]
) -> None:
    today = timezone.localdate()
    old = make_protocol(directory, date=today - datetime.timedelta(days=90), number="8")
    for _ in range(2):
        make_instruction(
            directory,
            protocol=old,
            lead=directory.mobility,
            due_date=today - datetime.timedelta(days=5),
        )
    response = client_for(directory.staff).get(reverse("instructions:discipline"))
    assert response.status_code == 200
    html = response.content.decode()
    order = [int(pk) for pk in re.findall(r'data-department-id="(\d+)"', html)]
    assert order == [directory.mobility.pk, directory.finance.pk]
    assert 'data-open-overdue="2"' in html and 'data-open-overdue="1"' in html
    link = reverse("instructions:list") + f"?lead_department={directory.mobility.pk}"
    assert f'href="{link}"' in html
    assert "Управление мобильности" in html


def test_discipline_shows_department_names_in_the_current_language(
    directory: DemoDirectory,
) -> None:
    make_instruction(directory)
    client = client_for(directory.staff)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("instructions:discipline")).content.decode()
    assert ">Finance<" in html


def test_a_department_sees_only_its_own_discipline(directory: DemoDirectory) -> None:
    make_instruction(directory, co=[directory.mobility])
    make_instruction(directory, lead=directory.mobility)
    html = (
        client_for(directory.mobility_head).get(reverse("instructions:discipline")).content.decode()
    )
    assert re.findall(r'data-department-id="(\d+)"', html) == [str(directory.mobility.pk)]


def test_discipline_has_an_empty_state(directory: DemoDirectory) -> None:
    response = client_for(directory.bob.user).get(reverse("instructions:discipline"))
    assert response.status_code == 200
    assert "data-empty-state" in response.content.decode()
