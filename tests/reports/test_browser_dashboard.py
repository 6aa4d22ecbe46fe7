"""Browser journeys: a staff member filters the dashboard and downloads Excel; an anonymous
visitor searches the public portal and opens a published request."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from django.db import connection

from requests_app.models import DeputyRequest, RequestStatus
from tests.browser import browser_page
from tests.factories import DemoDirectory
from tests.reports_helpers import bulk_requests, places

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = RequestStatus


def collect_console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_staff_filter_the_dashboard_and_download_excel(
    live_server, directory: DemoDirectory, tmp_path: Path
) -> None:
    where = places()
    bulk_requests(directory, 60, where)
    district = where.districts[1]
    in_district = DeputyRequest.objects.exclude(status=S.DRAFT).filter(district=district).count()
    assert 0 < in_district < DeputyRequest.objects.exclude(status=S.DRAFT).count()

    with browser_page(live_server.url) as (page, blocked):
        errors = collect_console_errors(page)
        page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/")
        page.fill("input[name=username]", "staff")
        page.fill("input[name=password]", "maslikhat-demo")
        page.locator("main form [type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/dashboard/")
        # The charts are drawn from their JSON blocks (no inline script under the CSP).
        page.wait_for_selector("canvas[data-chart-ready=true]")
        assert page.locator("canvas[data-chart-ready=true]").count() >= 4

        page.select_option("#filter-district", str(district.pk))
        page.locator("[data-apply-filters]").click()
        page.wait_for_url(f"**/dashboard/?*district={district.pk}*")
        assert page.locator("#filter-district").input_value() == str(district.pk)
        rows = page.locator("table[data-table=districts] tbody tr")
        assert rows.count() == 1
        assert district.name_ru in rows.first.inner_text()  # the browser reads Russian

        with page.expect_download() as download_info:
            page.locator("a[data-export=xlsx]").first.click()
        download = download_info.value
        assert download.suggested_filename.endswith(".xlsx")
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        sheet = openpyxl.load_workbook(target, read_only=True).worksheets[0]
        data_rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert len(data_rows) == in_district
        assert all(row[4] == district.name_ru for row in data_rows)
        assert errors == [], errors
    assert blocked == []


def test_a_visitor_searches_the_public_portal_and_opens_a_published_request(
    live_server, directory: DemoDirectory
) -> None:
    where = places()
    created = bulk_requests(directory, 12, where, with_answers=True)
    published = next(r for r in created if r.is_public and r.status == S.CLOSED)
    private = next(r for r in created if not r.is_public)
    # The services keep both search documents current; rows inserted in bulk set them here.
    for item, title in (
        (published, "Пешеходный переход у гимназии"),
        (private, "Пешеходный мост закрытый"),
    ):
        DeputyRequest.objects.filter(pk=item.pk).update(
            title=title, search_document=title.lower(), published_document=title.lower()
        )

    with browser_page(live_server.url, width=390, height=844) as (page, blocked):
        errors = collect_console_errors(page)
        page.goto(f"{live_server.url}/public/")
        page.fill("#public-home-search", "Пешеходный")
        page.locator("#public-home-search").press("Enter")
        page.wait_for_url("**/public/requests/?search=*")
        results = page.locator("[data-public-request]")
        assert results.count() == 1
        assert "Пешеходный мост закрытый" not in page.content()
        results.first.locator("a").first.click()
        page.wait_for_url(f"**/public/requests/{published.pk}/")
        assert page.locator("h1").inner_text() == "Пешеходный переход у гимназии"
        assert page.locator("[data-public-answer]").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        page.goto(f"{live_server.url}/public/statistics/")
        page.wait_for_selector("canvas[data-chart-ready=true]")
        assert errors == [], errors
    assert blocked == []


def test_the_export_page_shows_progress_and_the_download_link_when_ready(
    live_server, directory: DemoDirectory, settings, tmp_path: Path
) -> None:
    from reports.models import ExportJob
    from reports.tasks import export_build

    settings.EXPORT_SYNC_LIMIT = 5
    settings.MEDIA_ROOT = tmp_path / "media"
    bulk_requests(directory, 30, places())

    with browser_page(live_server.url) as (page, blocked):
        errors = collect_console_errors(page)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "staff")
        page.fill("input[name=password]", "maslikhat-demo")
        page.locator("main form [type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/")
        # Too large to download at once: the export opens its progress page.
        page.goto(f"{live_server.url}/exports/requests/?format=csv")
        page.wait_for_url("**/exports/*/")
        assert page.locator("[data-export-download]").is_hidden()
        job = ExportJob.objects.get()
        export_build(job.pk)  # what the worker does meanwhile
        # ORM calls inside Playwright's event loop open a connection of their own (Django's
        # connections are context-local): close it, or the test database cannot be dropped.
        connection.close()
        # export.js polls the status every second and reveals the link without a reload.
        page.locator("[data-export-download]").wait_for(state="visible", timeout=10_000)
        assert page.locator("[data-export-bar]").get_attribute("value") == "100"
        with page.expect_download() as download_info:
            page.locator("[data-export-download]").click()
        target = tmp_path / "export.csv"
        download_info.value.save_as(target)
        assert target.read_bytes().startswith(b"\xef\xbb\xbf")
        assert errors == [], errors
    assert blocked == []
