"""Browser journey at 390 px: a citizen reads the public rankings and a deputy's KPI page on
a phone. Nothing scrolls sideways, a ranked row opens to its components (mouse and keyboard),
and an entity with too few rated items shows no score."""

from __future__ import annotations

import pytest

from kpi import services
from tests.browser import browser_page
from tests.factories import DemoDirectory
from tests.kpi.test_kpi_services import AS_OF, Q3, worked_example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def test_a_citizen_reads_the_rankings_on_a_phone_without_sideways_scrolling(
    live_server, directory: DemoDirectory
) -> None:
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    with browser_page(live_server.url, width=390, height=844) as (page, blocked):
        page.goto(f"{live_server.url}/public/rankings/?period={Q3}")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        assert page.locator("#ranking-period option:checked").inner_text() == "III квартал 2026"

        ranking = page.locator('[data-table="ranking-department"]')
        finance = ranking.locator(f'[data-entity-id="{directory.finance.pk}"]')
        # Rank, name and score are all on screen, not in a table scrolled out of view.
        for part in ("[data-rank]", ".kpi-rank-name", "[data-composite]"):
            box = finance.locator(part).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert finance.locator("[data-composite]").inner_text() == "58,6"

        components = finance.locator("[data-components]")
        assert not components.is_visible()
        finance.locator("summary").click()
        assert components.is_visible()
        timeliness = components.locator('[data-component="timeliness"]')
        assert "%" in timeliness.inner_text() and "(" in timeliness.inner_text()
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        # The keyboard closes it again (a <details>: no script involved).
        finance.locator("summary").focus()
        page.keyboard.press("Enter")
        assert not components.is_visible()

        mobility = ranking.locator(f'[data-entity-id="{directory.mobility.pk}"]')
        assert "недостаточно данных" in mobility.inner_text()
        assert mobility.locator("[data-rank]").count() == 0
        assert "," not in mobility.locator("[data-composite]").inner_text()
        # Not enough data comes last.
        ids = ranking.locator(".kpi-rank-row").evaluate_all(
            "rows => rows.map(row => Number(row.dataset.entityId))"
        )
        assert ids[-1] == directory.mobility.pk
    assert blocked == []


def test_a_deputys_kpi_page_reads_on_a_phone_without_sideways_scrolling(
    live_server, directory: DemoDirectory
) -> None:
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    for month, as_of in (("2026-08", AS_OF.replace(day=31, month=8)), ("2026-09", AS_OF)):
        services.kpi_compute(as_of=as_of, period=month)
    with browser_page(live_server.url, width=390, height=844) as (page, blocked):
        page.goto(f"{live_server.url}/kpi/deputies/{directory.alice.pk}/?period={Q3}")
        assert directory.alice.name in page.locator("h1").inner_text()
        assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate(
            "document.documentElement.scrollWidth"
        )
        page.goto(f"{live_server.url}/kpi/?period={Q3}&kind=deputy")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        page.goto(f"{live_server.url}/kpi/?period={Q3}")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        # The rankings' cells stack under their labels, each within the screen.
        composite = page.locator(
            f'tr[data-entity-id="{directory.finance.pk}"] [data-component="composite"]'
        )
        box = composite.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    assert blocked == []
