"""Browser journey: an anonymous visitor reads the KPI rankings, switches the period and
opens a department's page with its trend chart and the table of its numbers."""

from __future__ import annotations

import pytest

from kpi import services
from tests.browser import browser_page
from tests.factories import DemoDirectory
from tests.kpi.test_kpi_services import AS_OF, Q3, D, worked_example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_a_visitor_reads_the_rankings_and_a_departments_trend(
    live_server, directory: DemoDirectory, width: int
) -> None:
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    for month, as_of in (("2026-08", D(2026, 8, 31)), ("2026-09", AS_OF)):
        services.kpi_compute(as_of=as_of, period=month)

    with browser_page(live_server.url, width=width, height=844) as (page, blocked):
        console_errors: list[str] = []
        page.on(
            "console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None
        )
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.goto(f"{live_server.url}/kpi/")
        # The newest computed period is shown by default (rolling90 was not computed).
        assert page.locator("#kpi-period").input_value() == "2026-09"
        assert page.locator("table.kpi-ranking").is_visible()

        # Switching the period submits the chooser (kpi.js): no button to find on a phone.
        with page.expect_navigation():
            page.select_option("#kpi-period", Q3)
        assert f"period={Q3}" in page.url
        assert page.locator("#kpi-period").input_value() == Q3
        finance_row = page.locator(f'tr[data-entity-id="{directory.finance.pk}"]')
        assert finance_row.locator("[data-rank]").inner_text() == "1"
        mobility_row = page.locator(f'tr[data-entity-id="{directory.mobility.pk}"]')
        assert mobility_row.locator("[data-insufficient]").is_visible()
        # The wide table scrolls inside its box; the page itself does not scroll sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0

        finance_row.locator("a").first.click()
        page.wait_for_url(f"**/kpi/departments/{directory.finance.pk}/?period={Q3}")
        assert directory.finance.name_ru in page.locator("h1").inner_text()
        canvas = page.locator("canvas#kpi-trend-chart")
        assert canvas.is_visible()
        # Chart.js drew on the canvas (it registers a chart for it).
        assert page.evaluate(
            "Boolean(window.Chart && window.Chart.getChart(document.getElementById"
            "('kpi-trend-chart')))"
        )
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
        table = page.locator("table.kpi-trend-table")
        assert table.is_visible()
        assert table.locator("tbody tr").count() == 2  # August and September
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert not console_errors, console_errors
    assert blocked == []
