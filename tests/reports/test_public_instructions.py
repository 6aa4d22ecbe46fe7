"""Protocol instructions on the public portal: what the maslikhat ordered and whether it was done.

The list and the page show instructions of sessions and commission meetings (never a hearing's),
with their executors, dates, public status and approved extensions. Execution reports, and the
controller's returns written on them, stay internal until staff publish one; the publication is
staff-only and recorded in the instruction's history. The Atom feed has the list's filters.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from instructions import services
from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
)
from maslikhat.core.threads import AuditEvent
from tests.browser import browser_page
from tests.factories import DemoDirectory, DepartmentFactory
from tests.instruction_helpers import World, make_instruction, make_world, report_final

pytestmark = pytest.mark.django_db

S = InstructionStatus
ATOM = "{http://www.w3.org/2005/Atom}"
LIST_URL = "/public/instructions/"
FEED_URL = "/public/feeds/instructions.atom"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"

#: Declared budgets. No session for an anonymous visitor: every query is the page's own.
BUDGETS = {
    # Bounded count, the page, its co-executors; the filter's departments and meetings.
    "list": 5,
    # The same, and the chosen department read once to check the filter.
    "search": 6,
    # The instruction, its co-executors, approved extensions, published reports.
    "detail": 4,
    # The instructions and their co-executors.
    "feed": 2,
}


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


def hearing_instruction(world: World) -> Instruction:
    """An instruction of a hearing of a department's report: not on the public list."""
    hearing = services.meeting_create(
        by=world.d.staff,
        kind=MeetingKind.HEARING,
        date=timezone.localdate(),
        title="Заслушивание отчёта управления",
        department=world.d.finance,
    )
    protocol = services.protocol_create(
        by=world.d.staff, meeting=hearing, number="3", date=timezone.localdate()
    )
    return make_instruction(world, protocol=protocol, text="Поручение заслушивания про мосты.")


def commission_meeting(world: World) -> Meeting:
    return services.meeting_create(
        by=world.d.staff,
        kind=MeetingKind.COMMISSION,
        date=timezone.localdate(),
        title="Заседание комиссии по инфраструктуре",
        commission=world.commission,
    )


def listed_ids(client: Client, query: str = "") -> set[int]:
    response = client.get(LIST_URL + query)
    assert response.status_code == 200
    return {row.pk for row in response.context["rows"]}


def feed_ids(client: Client, query: str = "") -> set[int]:
    response = client.get(FEED_URL + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    ids = set()
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        assert link is not None
        ids.add(int(link.attrib["href"].rstrip("/").rsplit("/", 1)[1]))
    return ids


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_instructions_of_sessions_and_commissions_in_every_public_status(
    client: Client, world: World
) -> None:
    on_control = make_instruction(world, status=S.ON_CONTROL)
    reported = make_instruction(world, status=S.REPORTED)
    returned = make_instruction(world, status=S.RETURNED)
    executed = make_instruction(world, status=S.EXECUTED)
    removed = make_instruction(world, status=S.REMOVED_FROM_CONTROL)
    protocol = services.protocol_create(
        by=world.d.staff, meeting=commission_meeting(world), number="5", date=timezone.localdate()
    )
    of_commission = make_instruction(world, protocol=protocol)
    of_hearing = hearing_instruction(world)

    response = client.get(LIST_URL)
    shown = {row.pk: row.public_status for row in response.context["rows"]}
    assert shown == {
        on_control.pk: "on_control",
        # The work between the department and its controller reads "on control".
        reported.pk: "on_control",
        returned.pk: "on_control",
        executed.pk: "executed",
        removed.pk: "removed",
        of_commission.pk: "on_control",
    }
    assert of_hearing.pk not in shown
    html = response.content.decode()
    assert "Снято с контроля" in html or "Removed from control" in html
    assert reverse("reports:public-instruction", args=[executed.pk]) in html


def test_the_public_menu_links_to_the_instructions(client: Client, world: World) -> None:
    html = client.get("/public/").content.decode()
    assert f'href="{LIST_URL}"' in html


def test_the_list_is_filtered_by_department_meeting_status_and_search(
    client: Client, world: World
) -> None:
    roads = make_instruction(world, text="Отремонтировать дороги Алатауского района.")
    bridges = make_instruction(
        world,
        lead=world.energy,
        co_departments=[],
        status=S.EXECUTED,
        text="Осветить мосты через реку Есентай.",
    )
    protocol = services.protocol_create(
        by=world.d.staff, meeting=commission_meeting(world), number="5", date=timezone.localdate()
    )
    parks = make_instruction(
        world, protocol=protocol, lead=world.d.mobility, co_departments=[world.energy]
    )

    # A department's instructions are those it leads and those it co-executes.
    assert listed_ids(client, f"?department={world.energy.pk}") == {bridges.pk, parks.pk}
    assert listed_ids(client, f"?department={world.d.mobility.pk}") == {roads.pk, parks.pk}
    assert listed_ids(client, f"?meeting={protocol.meeting_id}") == {parks.pk}
    assert listed_ids(client, f"?meeting={world.meeting.pk}") == {roads.pk, bridges.pk}
    assert listed_ids(client, "?status=executed") == {bridges.pk}
    assert listed_ids(client, "?status=on_control") == {roads.pk, parks.pk}
    assert listed_ids(client, "?search=мосты") == {bridges.pk}
    # The instruction number finds it too (numbers are per protocol: both protocols' "1").
    assert listed_ids(client, f"?search={roads.number}&meeting={world.meeting.pk}") == {roads.pk}


def test_an_unknown_filter_value_is_explained_not_an_error(client: Client, world: World) -> None:
    make_instruction(world)
    response = client.get(LIST_URL + "?department=999999&status=nonsense")
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "data-filter-errors" in response.content.decode()


def test_the_list_is_paginated(client: Client, world: World) -> None:
    for n in range(22):
        make_instruction(world, text=f"Поручение номер {n}.")
    first = client.get(LIST_URL)
    second = client.get(LIST_URL + "?page=2")
    assert len(first.context["rows"]) == 20
    assert len(second.context["rows"]) == 2
    assert not {r.pk for r in first.context["rows"]} & {r.pk for r in second.context["rows"]}


def meeting_options(client: Client, query: str = "") -> list[str]:
    response = client.get(LIST_URL + query)
    assert response.status_code == 200
    html = str(response.context["filter"].form["meeting"])
    return re.findall(r'<option value="(\d+)"', html)


def test_the_meeting_select_offers_the_latest_meetings_and_the_chosen_one(
    client: Client, world: World
) -> None:
    from reports.public import MEETING_CHOICES

    today = timezone.localdate()
    older = Meeting.objects.bulk_create(
        Meeting(
            convocation=world.d.convocation,
            kind=MeetingKind.SESSION,
            date=today - datetime.timedelta(days=10 + i),
            title=f"Сессия {i}",
            created_by=world.d.staff,
        )
        for i in range(MEETING_CHOICES + 5)
    )
    hearing = hearing_instruction(world).protocol.meeting
    oldest = older[-1]
    protocol = services.protocol_create(
        by=world.d.staff, meeting=oldest, number="1", date=oldest.date
    )
    old_instruction = make_instruction(world, protocol=protocol)

    shown = meeting_options(client)
    # The newest first, as many as the select holds; a hearing is never offered.
    assert len(shown) == MEETING_CHOICES
    assert shown[0] == str(world.meeting.pk)
    assert str(hearing.pk) not in shown and str(oldest.pk) not in shown
    # A meeting past the select's reach is still a valid choice, and shown once chosen.
    chosen = meeting_options(client, f"?meeting={oldest.pk}")
    assert str(oldest.pk) in chosen and len(chosen) == MEETING_CHOICES + 1
    assert listed_ids(client, f"?meeting={oldest.pk}") == {old_instruction.pk}
    # A hearing or a meeting that does not exist is explained, not an error.
    for unknown in (hearing.pk, 10**12, "x"):
        response = client.get(LIST_URL + f"?meeting={unknown}")
        assert response.status_code == 200
        assert response.context["rows"] == []
        assert "data-filter-errors" in response.content.decode()


# --- The page of an instruction ------------------------------------------------------------------


def test_the_page_shows_executors_dates_extensions_and_acceptance(
    client: Client, world: World
) -> None:
    item = make_instruction(world)
    new_due = item.due_date + datetime.timedelta(days=14)
    extension = services.instruction_extension_ask(
        pk=item.pk, by=world.d.finance_head, new_due_date=new_due, reason="Нужна экспертиза."
    )
    services.instruction_extension_decide(
        pk=item.pk, extension_id=extension.pk, by=world.d.staff, approve=True
    )
    report_final(world, item, text="Дороги отремонтированы.")
    services.instruction_accept(pk=item.pk, by=world.d.staff)
    item.refresh_from_db()

    response = client.get(reverse("reports:public-instruction", args=[item.pk]))
    html = response.content.decode()
    assert response.context["public_status"] == "executed"
    assert world.d.finance.name_ru in html and world.d.mobility.name_ru in html
    assert f"{new_due:%d.%m.%Y}" in html
    assert f"{item.original_due_date:%d.%m.%Y}" in html
    assert "Нужна экспертиза." in html
    assert [e.pk for e in response.context["extensions"]] == [extension.pk]
    assert item.executed_at is not None
    assert f"{timezone.localdate(item.executed_at):%d.%m.%Y}" in html


def test_a_hearing_instruction_has_no_public_page(client: Client, world: World) -> None:
    item = hearing_instruction(world)
    assert client.get(reverse("reports:public-instruction", args=[item.pk])).status_code == 404


def test_reports_and_returns_stay_internal_until_staff_publish_them(
    client: Client, world: World
) -> None:
    item = make_instruction(world, status=S.RETURNED)
    report = ExecutionReport.objects.get(instruction=item)
    services.instruction_message_post(pk=item.pk, by=world.d.finance_exec, text="Тайная переписка")
    url = reverse("reports:public-instruction", args=[item.pk])

    html = client.get(url).content.decode()
    assert "Выполнено." not in html
    assert "Нет сроков работ." not in html
    assert "Тайная переписка" not in html

    services.instruction_report_publish(pk=item.pk, report_id=report.pk, by=world.d.staff)
    html = client.get(url).content.decode()
    assert f'data-public-report="{report.pk}"' in html
    assert "Выполнено." in html
    assert "Нет сроков работ." in html
    # Never the thread, nor the names of the officers who wrote or decided.
    assert "Тайная переписка" not in html
    assert world.d.finance_exec.last_name not in html

    services.instruction_report_publish(
        pk=item.pk, report_id=report.pk, by=world.d.staff, public=False
    )
    assert "Выполнено." not in client.get(url).content.decode()


# --- Publishing a report: staff only, in the history ---------------------------------------------


def publish_url(item: Instruction, report: ExecutionReport) -> str:
    return f"/api/v1/instructions/{item.pk}/reports/{report.pk}/publish/"


def test_staff_publish_a_report_through_the_api_and_the_history_records_it(
    api_as, world: World
) -> None:
    item = make_instruction(world, status=S.REPORTED)
    report = ExecutionReport.objects.get(instruction=item)
    response = api_as(world.d.staff).post(
        publish_url(item, report), {"public": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"id": report.pk, "is_public": True}
    report.refresh_from_db()
    assert report.is_public
    event = AuditEvent.objects.filter(item_type=item.ITEM_TYPE, item_id=item.pk).latest("pk")
    assert event.action == "publish_report"
    assert event.actor == world.d.staff
    assert event.changes == {"report": report.pk, "is_public": True}

    response = api_as(world.d.staff).post(
        publish_url(item, report), {"public": False}, format="json"
    )
    assert response.json()["is_public"] is False
    event = AuditEvent.objects.filter(item_type=item.ITEM_TYPE, item_id=item.pk).latest("pk")
    assert event.action == "unpublish_report"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("finance_exec", 403),  # the lead department sees it, may not publish
        ("alice", 403),  # the controlling deputy
        ("chair", 403),
        ("bob", 404),  # a deputy who does not see the instruction
        ("energy_exec", 404),  # a department it does not concern
    ],
)
def test_only_staff_may_publish_a_report(api_as, world: World, persona: str, expected: int) -> None:
    item = make_instruction(world, status=S.REPORTED)
    report = ExecutionReport.objects.get(instruction=item)
    events = AuditEvent.objects.filter(item_type=item.ITEM_TYPE, item_id=item.pk).count()
    response = api_as(world.user(persona)).post(publish_url(item, report), {}, format="json")
    assert response.status_code == expected
    report.refresh_from_db()
    assert not report.is_public
    assert AuditEvent.objects.filter(item_type=item.ITEM_TYPE, item_id=item.pk).count() == events


def test_an_anonymous_caller_cannot_publish(api_client, world: World) -> None:
    item = make_instruction(world, status=S.REPORTED)
    report = ExecutionReport.objects.get(instruction=item)
    response = api_client.post(publish_url(item, report), {}, format="json")
    assert response.status_code in (401, 403)
    report.refresh_from_db()
    assert not report.is_public


def test_a_report_of_another_instruction_is_not_found(api_as, world: World) -> None:
    item = make_instruction(world, status=S.REPORTED)
    other = make_instruction(world, status=S.REPORTED)
    report = ExecutionReport.objects.get(instruction=other)
    response = api_as(world.d.staff).post(publish_url(item, report), {}, format="json")
    assert response.status_code == 404
    report.refresh_from_db()
    assert not report.is_public
    beyond = f"/api/v1/instructions/{item.pk}/reports/{10**20}/publish/"
    assert api_as(world.d.staff).post(beyond, {}, format="json").status_code == 404


def test_staff_publish_from_the_instruction_page(client: Client, world: World) -> None:
    item = make_instruction(world, status=S.EXECUTED)
    report = ExecutionReport.objects.get(instruction=item)
    url = reverse("instructions:report_publish", args=[item.pk, report.pk])
    detail = reverse("instructions:detail", args=[item.pk])

    client.force_login(world.d.finance_exec)
    assert "data-report-publish" not in client.get(detail).content.decode()
    client.post(url, {"public": "on"})
    report.refresh_from_db()
    assert not report.is_public

    client.force_login(world.d.staff)
    assert "data-report-publish" in client.get(detail).content.decode()
    response = client.post(url, {"public": "on"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.is_public
    page = client.get(detail).content.decode()
    assert "data-report-public" in page

    client.post(url, {})
    report.refresh_from_db()
    assert not report.is_public


# --- The feed ------------------------------------------------------------------------------------


def test_the_feed_lists_public_instructions_with_the_lists_filters(
    client: Client, world: World
) -> None:
    roads = make_instruction(world, text="Отремонтировать дороги.")
    bridges = make_instruction(
        world, lead=world.energy, co_departments=[], status=S.EXECUTED, text="Осветить мосты."
    )
    hearing = hearing_instruction(world)

    everything = feed_ids(client)
    assert everything == {roads.pk, bridges.pk}
    assert hearing.pk not in everything
    assert feed_ids(client, "?status=executed") == {bridges.pk}
    assert feed_ids(client, f"?department={world.energy.pk}") == {bridges.pk}
    assert feed_ids(client, "?search=дороги") == {roads.pk}
    assert feed_ids(client, f"?meeting={world.meeting.pk}") == {roads.pk, bridges.pk}
    response = client.get(FEED_URL)
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    # Reports are never in the feed, published or not.
    report_final(world, roads, text="Секретный отчёт департамента.")
    assert "Секретный отчёт" not in client.get(FEED_URL).content.decode()


def test_the_feed_answers_400_to_an_unknown_filter(client: Client, world: World) -> None:
    response = client.get(FEED_URL + "?department=nope")
    assert response.status_code == 400


def test_the_list_links_its_feed_with_the_same_filters(client: Client, world: World) -> None:
    make_instruction(world)
    html = client.get(LIST_URL + "?status=executed").content.decode()
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert f'href="{FEED_URL}?status=executed"' in html
    assert "data-feed-link" in html


# --- Query budgets -------------------------------------------------------------------------------


def bulk_instructions(world: World, n: int) -> None:
    """``n`` instructions of the session (rows only: the services are tested above)."""
    today = timezone.localdate()
    start = Instruction.objects.count()
    rows = Instruction.objects.bulk_create(
        Instruction(
            protocol=world.protocol,
            number=str(1000 + start + i),
            convocation=world.d.convocation,
            text=f"Поручение {i}",
            lead_department=world.d.finance,
            controller_commission=world.commission,
            due_date=today,
            original_due_date=today,
            created_by=world.d.staff,
        )
        for i in range(n)
    )
    through = Instruction.co_departments.through
    through.objects.bulk_create(
        through(instruction_id=row.pk, department_id=world.d.mobility.pk) for row in rows
    )


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("page", list(BUDGETS))
def test_public_instruction_pages_query_count_does_not_grow(
    client: Client, world: World, page: str
) -> None:
    first = make_instruction(world, status=S.EXECUTED)
    services.instruction_report_publish(
        pk=first.pk,
        report_id=ExecutionReport.objects.get(instruction=first).pk,
        by=world.d.staff,
    )
    urls = {
        "list": LIST_URL,
        "search": LIST_URL + "?search=Поручение&department=" + str(world.d.mobility.pk),
        "detail": reverse("reports:public-instruction", args=[first.pk]),
        "feed": FEED_URL,
    }
    bulk_instructions(world, 9)
    small = count_queries(client, urls[page])
    bulk_instructions(world, 90)
    DepartmentFactory.create(code="extra", name_ru="Ещё одно управление")
    large = count_queries(client, urls[page])
    # PostgreSQL asks the planner for its estimate of a list's size before counting it.
    estimate = 1 if page in {"list", "search"} and connection.vendor == "postgresql" else 0
    assert small == large <= BUDGETS[page] + estimate


# --- On a phone ----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_citizen_reads_instructions_on_a_phone_without_sideways_scrolling(
    live_server, directory: DemoDirectory
) -> None:
    world = make_world(directory)
    long_word = "Реконструкция" * 8
    item = make_instruction(
        world, status=S.EXECUTED, text=f"{long_word} дорог и мостов Алатауского района."
    )
    services.instruction_report_publish(
        pk=item.pk,
        report_id=ExecutionReport.objects.get(instruction=item).pk,
        by=world.d.staff,
    )
    with browser_page(live_server.url, width=390, height=844) as (page, blocked):
        page.goto(f"{live_server.url}{LIST_URL}")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        row = page.locator(f'[data-public-instruction="{item.pk}"]')
        assert row.is_visible()
        row.locator("a").first.click()
        page.wait_for_url(f"**/public/instructions/{item.pk}/")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        assert page.locator("[data-public-report]").count() == 1
        assert page.locator("[data-lead-department]").inner_text() == world.d.finance.name_ru
    assert blocked == []
