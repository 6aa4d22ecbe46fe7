"""The control registry opens on what is still owed, the nearest due date first.

The bare address ``/instructions/`` shows the instructions on control (``on_control`` and
``returned``) sorted by due date, the most overdue first; every link of the page carries those
values, so the view can be shared; "All" still shows everything; the API keeps its own default.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from instructions import services
from instructions.models import Instruction, InstructionStatus
from tests.factories import DemoDirectory
from tests.instructions.test_instruction_pages import (
    client_for,
    make_instruction,
    make_protocol,
    report_final,
)

pytestmark = pytest.mark.django_db

S = InstructionStatus
ROW = re.compile(r'data-instruction-id="(\d+)"')


def shown(html: str) -> list[int]:
    """The rows of a registry page, in their order."""
    return [int(pk) for pk in ROW.findall(html)]


def tab_url(html: str, tab: str) -> str:
    found = re.search(rf'href="([^"]*)" data-tab="{tab}"', html)
    assert found is not None, tab
    return found.group(1).replace("&amp;", "&")


@pytest.fixture
def registry(directory: DemoDirectory) -> dict[str, Instruction]:
    """Instructions created in an order unlike their due dates, in every state."""
    today = timezone.localdate()
    protocol = make_protocol(directory, date=today - datetime.timedelta(days=90))

    def make(days: int) -> Instruction:
        return make_instruction(
            directory, protocol=protocol, due_date=today + datetime.timedelta(days=days)
        )

    items = {
        "later": make(40),
        "executed_early": make(-60),  # January's executed item: first in the old default
        "soon": make(3),
        "overdue": make(-5),
        "returned": make(10),
        "reported": make(1),
        "removed": make(-30),
    }
    for key in ("executed_early", "returned", "reported"):
        report_final(directory, items[key])
    services.instruction_accept(pk=items["executed_early"].pk, by=directory.staff)
    services.instruction_return(pk=items["returned"].pk, by=directory.staff, comment="Мало.")
    services.instruction_remove_from_control(
        pk=items["removed"].pk, by=directory.staff, reason="Утратило актуальность."
    )
    return items


def test_the_bare_registry_shows_the_instructions_on_control_nearest_due_date_first(
    directory: DemoDirectory, registry: dict[str, Instruction]
) -> None:
    response = client_for(directory.staff).get(reverse("instructions:list"))
    assert response.status_code == 200
    html = response.content.decode()
    expected = ["overdue", "soon", "returned", "later"]
    assert shown(html) == [registry[key].pk for key in expected]
    # The "On control" tab is the one shown, and due date is the active sort.
    assert re.search(r'class="nav-link active" href="[^"]*" data-tab="on_control"', html)
    assert "data-empty-state" not in html
    filtered = response.context["filter"].form.cleaned_data["status"]
    assert sorted(filtered) == sorted([S.ON_CONTROL, S.RETURNED])


def test_the_opening_is_in_every_link_so_the_view_can_be_shared(
    directory: DemoDirectory, registry: dict[str, Instruction]
) -> None:
    client = client_for(directory.staff)
    html = client.get(reverse("instructions:list")).content.decode()
    # The tab of the opening, the sort links and the export buttons carry its query.
    opening = tab_url(html, "on_control")
    assert "status=on_control" in opening and "status=returned" in opening
    assert "ordering=due_date" in opening
    assert re.search(r'data-export="csv"', html)
    export = re.search(r'href="([^"]*format=csv[^"]*)" data-export="csv"', html)
    assert export is not None
    assert "status=on_control" in export.group(1) and "ordering=due_date" in export.group(1)
    # The shared address shows the same rows as the bare one.
    shared = client.get(reverse("instructions:list") + opening).content.decode()
    assert shown(shared) == shown(html)


def test_all_is_still_one_click_away_and_shows_every_instruction(
    directory: DemoDirectory, registry: dict[str, Instruction]
) -> None:
    client = client_for(directory.staff)
    html = client.get(reverse("instructions:list")).content.decode()
    everything_url = tab_url(html, "all")
    assert everything_url != "?"  # the bare address would open on control again
    everything = client.get(reverse("instructions:list") + everything_url).content.decode()
    assert set(shown(everything)) == {item.pk for item in registry.values()}
    assert re.search(r'class="nav-link active" href="[^"]*" data-tab="all"', everything)
    # "Clear the filters" from a filtered view shows everything too, not the opening.
    filtered = client.get(reverse("instructions:list"), {"status": "reported"})
    clear_url = filtered.context["clear_url"]
    assert clear_url == "?ordering=due_date"
    cleared = client.get(reverse("instructions:list") + clear_url).content.decode()
    assert set(shown(cleared)) == {item.pk for item in registry.values()}


def test_any_query_is_a_choice_of_its_own(
    directory: DemoDirectory, registry: dict[str, Instruction]
) -> None:
    client = client_for(directory.staff)
    reported = client.get(reverse("instructions:list"), {"status": "reported"}).content.decode()
    assert shown(reported) == [registry["reported"].pk]
    newest = client.get(reverse("instructions:list"), {"ordering": "-due_date"}).content.decode()
    assert len(shown(newest)) == len(registry)
    assert shown(newest)[0] == registry["later"].pk


def test_a_department_opens_on_its_own_instructions_on_control(
    directory: DemoDirectory, registry: dict[str, Instruction]
) -> None:
    html = client_for(directory.finance_head).get(reverse("instructions:list")).content.decode()
    assert shown(html) == [registry[key].pk for key in ("overdue", "soon", "returned", "later")]


def test_the_api_list_keeps_its_default_order(
    directory: DemoDirectory, registry: dict[str, Instruction]
) -> None:
    client = client_for(directory.staff)
    rows = client.get("/api/v1/instructions/").json()["results"]
    # Every state, by due date (the model's order): the executed January item first.
    assert rows[0]["id"] == registry["executed_early"].pk
    assert {row["id"] for row in rows} == {item.pk for item in registry.values()}
