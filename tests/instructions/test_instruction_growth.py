"""The instruction pages and API do not grow with the council's registry.

- The registry's meeting and protocol selects offer the newest rows only (with the chosen
  one, when older, in a group of its own), while any existing meeting or protocol is still
  accepted by id in the page and the API; the meeting and protocol pages link to the
  registry filtered by them.
- The meeting and protocol lists count their protocols and instructions per row shown.
- The discipline table reads the nightly instruction counts when today's build is done
  (the same rows as counted live), in the same number of queries at 10 and 1,000 rows.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from instructions import queries, selectors
from instructions.models import Instruction, InstructionStatus, Meeting, Protocol
from maslikhat.accounts.models import User
from maslikhat.directory.actors import actor_for
from reports.daily_counts import build_daily_counts
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, make_instruction, make_world
from tests.instructions.test_instructions_queries import grow, grow_meetings

pytestmark = pytest.mark.django_db

S = InstructionStatus


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def options_of(html: str, name: str) -> list[str]:
    """The option values of the select ``name`` (the empty one left out)."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None, f"no select {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(0)) if v]


def chosen_group_of(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None
    group = re.search(r"<optgroup[^>]*>(.*?)</optgroup>", select.group(0), re.S)
    return group.group(1) if group else None


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


def older_protocol(world: World, days: int) -> Protocol:
    """A meeting ``days`` ago with its protocol and one instruction on it."""
    d = world.d
    date = timezone.localdate() - datetime.timedelta(days=days)
    meeting = Meeting.objects.create(
        convocation=d.convocation,
        kind="session",
        date=date,
        title=f"Старая сессия {days}",
        created_by=d.staff,
    )
    protocol = Protocol.objects.create(meeting=meeting, number="7", date=date, created_by=d.staff)
    Instruction.objects.create(
        protocol=protocol,
        number="1",
        convocation=d.convocation,
        text="Старое поручение",
        lead_department=d.finance,
        controller_commission=world.commission,
        due_date=date,
        original_due_date=date,
        created_by=d.staff,
    )
    return protocol


# --- The registry's selects --------------------------------------------------------------------


def test_the_registry_offers_the_newest_protocols_and_meetings_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "RECENT_CHOICES", 3)
    make_instruction(world, status=S.ON_CONTROL)
    grow_meetings(world, 5, start=100)  # dated today, yesterday, … four days ago
    old = older_protocol(world, 400)
    newest = list(Protocol.objects.order_by("-date", "-id").values_list("pk", flat=True)[:3])
    newest_meetings = list(
        Meeting.objects.order_by("-date", "-id").values_list("pk", flat=True)[:3]
    )

    html = client_for(world.d.staff).get(reverse("instructions:list")).content.decode()

    assert options_of(html, "protocol") == [str(pk) for pk in newest]
    assert options_of(html, "meeting") == [str(pk) for pk in newest_meetings]
    assert str(old.pk) not in options_of(html, "protocol")
    assert chosen_group_of(html, "protocol") is None
    # The help text says where older ones are (the page speaks the default language).
    assert gettext("Meetings and protocols") in html


def test_an_older_protocol_filters_the_registry_and_is_shown_as_chosen(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "RECENT_CHOICES", 2)
    make_instruction(world, status=S.ON_CONTROL)
    grow_meetings(world, 4, start=100)
    old = older_protocol(world, 400)

    response = client_for(world.d.staff).get(reverse("instructions:list"), {"protocol": old.pk})
    html = response.content.decode()

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.protocol_id for row in rows] == [old.pk]
    values = options_of(html, "protocol")
    assert values[0] == str(old.pk) and len(values) == 3  # the chosen one, then the newest two
    group = chosen_group_of(html, "protocol")
    assert group is not None and f'value="{old.pk}" selected' in group


def test_an_older_meeting_filters_the_registry_and_the_api(
    world: World, monkeypatch: pytest.MonkeyPatch, api_as: Any
) -> None:
    monkeypatch.setattr(queries, "RECENT_CHOICES", 2)
    make_instruction(world, status=S.ON_CONTROL)
    grow_meetings(world, 4, start=100)
    old = older_protocol(world, 400)

    page = client_for(world.d.staff).get(reverse("instructions:list"), {"meeting": old.meeting_id})
    assert [row.protocol_id for row in page.context["rows"]] == [old.pk]
    assert chosen_group_of(page.content.decode(), "meeting") is not None

    for params in ({"meeting": old.meeting_id}, {"protocol": old.pk}):
        body = api_as(world.d.staff).get("/api/v1/instructions/", params).json()
        assert [row["protocol"] for row in body["results"]] == [old.pk]


def test_an_unknown_protocol_is_a_clear_error_not_a_500(world: World, api_as: Any) -> None:
    make_instruction(world, status=S.ON_CONTROL)
    missing = Protocol.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]

    page = client_for(world.d.staff).get(reverse("instructions:list"), {"protocol": missing})
    assert page.status_code == 200
    assert page.context["filter_errors"]
    api = api_as(world.d.staff).get("/api/v1/instructions/", {"protocol": missing})
    assert api.status_code == 400
    assert "protocol" in api.json()


def test_the_meeting_and_protocol_pages_link_to_their_instructions_in_the_registry(
    world: World,
) -> None:
    make_instruction(world, status=S.ON_CONTROL)
    client = client_for(world.d.staff)
    protocol_html = client.get(reverse("instructions:protocol", args=[world.protocol.pk]))
    meeting_html = client.get(reverse("instructions:meeting", args=[world.meeting.pk]))

    list_url = reverse("instructions:list")
    assert f'href="{list_url}?protocol={world.protocol.pk}"' in protocol_html.content.decode()
    assert f'href="{list_url}?meeting={world.meeting.pk}"' in meeting_html.content.decode()


# --- Meeting and protocol lists ------------------------------------------------------------------


def test_the_meeting_and_protocol_lists_count_per_row(world: World, api_as: Any) -> None:
    make_instruction(world, status=S.ON_CONTROL)
    make_instruction(world, status=S.REPORTED)
    grow_meetings(world, 2, start=100)
    client = api_as(world.d.staff)

    meetings = {row["id"]: row for row in client.get("/api/v1/meetings/").json()["results"]}
    protocols = {row["id"]: row for row in client.get("/api/v1/protocols/").json()["results"]}

    expected_protocols = {
        m.pk: Protocol.objects.filter(meeting=m).count() for m in Meeting.objects.all()
    }
    expected_instructions = {
        p.pk: Instruction.objects.filter(protocol=p).count() for p in Protocol.objects.all()
    }
    assert {pk: row["protocol_count"] for pk, row in meetings.items()} == expected_protocols
    assert {pk: row["instruction_count"] for pk, row in protocols.items()} == (
        expected_instructions
    )
    assert expected_instructions[world.protocol.pk] == 2
    # Newest first, ties by id.
    dates = [(row["date"], row["id"]) for row in meetings.values()]
    assert dates == sorted(dates, reverse=True)


# --- Executive discipline --------------------------------------------------------------------


def test_the_discipline_reads_the_daily_counts_when_todays_build_is_done(
    world: World, api_as: Any
) -> None:
    item = make_instruction(world, status=S.REPORTED)
    grow(world, item, 30, start=100)
    staff = world.d.staff
    live = list(selectors.department_discipline(actor=actor_for(staff)))

    build_daily_counts()
    with CaptureQueriesContext(connection) as captured:
        body = api_as(staff).get("/api/v1/instructions/discipline/").json()
    assert any("instructiondailycount" in q["sql"].lower() for q in captured.captured_queries)
    assert body["results"] == [
        {
            "lead_department": row["lead_department"],
            "lead_department_code": row["lead_department__code"],
            "lead_department_name": row["lead_department__name_ru"],
            **{k: row[k] for k in ("total", "on_time", "late", "open_overdue", "on_control")},
        }
        for row in live
    ]
    with CaptureQueriesContext(connection) as page_queries:
        page = client_for(staff).get(reverse("instructions:discipline"))
    assert page.status_code == 200
    assert any("instructiondailycount" in q["sql"].lower() for q in page_queries.captured_queries)
    assert sum(e["total"] for e in page.context["entries"]) == Instruction.objects.count()


def test_the_discipline_costs_the_same_queries_at_10_and_1000_instructions(
    world: World, api_as: Any
) -> None:
    item = make_instruction(world, status=S.REPORTED)
    grow(world, item, 9, start=100)
    build_daily_counts()

    def queries_of(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            if path.startswith("/api/"):
                assert api_as(world.d.staff).get(path).status_code == 200
            else:
                assert client_for(world.d.staff).get(path).status_code == 200
        return len(captured)

    paths = ("/api/v1/instructions/discipline/", reverse("instructions:discipline"))
    small = [queries_of(path) for path in paths]
    grow(world, item, 990, start=1000)
    build_daily_counts()
    assert Instruction.objects.count() == 1000
    assert [queries_of(path) for path in paths] == small


# --- The registry's query -------------------------------------------------------------------


def test_the_registry_filters_need_no_distinct_and_list_each_instruction_once(
    world: World, api_as: Any
) -> None:
    """Status and department filters read columns and EXISTS: no DISTINCT, which would sort
    every matching row before the page's LIMIT; an instruction co-executed is listed once."""
    item = make_instruction(world, status=S.ON_CONTROL)  # finance leads, mobility co-executes
    item.co_departments.add(world.energy)
    d = world.d
    params: dict[str, Any] = {"status": ["on_control", "returned"], "department": d.mobility.pk}
    with CaptureQueriesContext(connection) as captured:
        body = api_as(d.staff).get("/api/v1/instructions/", params).json()
    assert [row["id"] for row in body["results"]] == [item.pk]
    listed = [q["sql"] for q in captured.captured_queries if "requests_app_instruction" in q["sql"]]
    assert listed and not any("DISTINCT" in sql for sql in listed)

    page = client_for(d.staff).get(reverse("instructions:list"), params)
    assert [row.pk for row in page.context["rows"]] == [item.pk]
    lead = client_for(d.staff).get(reverse("instructions:list"), {"department": d.finance.pk})
    assert [row.pk for row in lead.context["rows"]] == [item.pk]


def test_the_api_filter_forms_offer_the_newest_rows_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browsable API renders the filter forms too: bounded the same way, validated whole."""
    from instructions.filters import InstructionFilter, ProtocolFilter

    monkeypatch.setattr(queries, "RECENT_CHOICES", 2)
    grow_meetings(world, 4, start=100)
    old = older_protocol(world, 400)

    empty = InstructionFilter(data={}, queryset=Instruction.objects.all())
    assert len(options_of(str(empty.form["protocol"]), "protocol")) == 2
    assert len(options_of(str(empty.form["meeting"]), "meeting")) == 2

    chosen = ProtocolFilter(data={"meeting": old.meeting_id}, queryset=Protocol.objects.all())
    assert list(chosen.qs) == [old]
    assert options_of(str(chosen.form["meeting"]), "meeting")[0] == str(old.meeting_id)
    assert len(options_of(str(chosen.form["meeting"]), "meeting")) == 3
