"""The import page in a real browser: upload, match a name, import, the bar fills by itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from imports.models import ImportBatch, ImportKind, ImportStatus
from imports.tasks import import_commit
from requests_app.models import DeputyRequest
from tests.browser import axe_violations, blocking, checked_browser_page
from tests.factories import DemoDirectory
from tests.imports.helpers import request_row, write_csv
from tests.requests_helpers import category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_import_a_file_and_watch_the_progress(
    live_server: Any, directory: DemoDirectory, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    category()
    author = directory.alice.user.full_name
    rows = [
        request_row("Д-1", author=author),
        request_row("Д-2", author=author, lead_department="Управление финансоф"),
    ]
    path = write_csv(tmp_path / "past.csv", ImportKind.REQUESTS, rows)

    with checked_browser_page(live_server.url) as (page, blocked):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "staff")
        page.fill("input[name=password]", "maslikhat-demo")
        page.locator("main form [type=submit]").first.click()
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/imports/")
        page.select_option("select[name=kind]", "requests")
        page.set_input_files("input[name=file]", str(path))
        page.locator("main form[enctype] [type=submit]").click()
        page.wait_for_url("**/imports/*/")
        # The row with the unknown name waits for the match; the other is shown as stored.
        assert page.locator("#import-preview tbody tr").count() == 1
        assert page.locator("[data-import-commit]").count() == 0
        assert not blocking(axe_violations(page))

        page.locator("tr[data-unknown=department] select").select_option(str(directory.finance.pk))
        page.locator("#import-check [type=submit]").click()
        page.locator("[data-import-commit]").wait_for()
        assert page.locator("#import-preview tbody tr").count() == 2
        page.locator("[data-import-commit]").click()
        page.locator("#import-progress").wait_for()
        batch = ImportBatch.objects.get()
        assert batch.status == ImportStatus.QUEUED
        import_commit(batch.pk)  # what the worker does meanwhile
        connection.close()
        # htmx polls the progress every second and shows the result without a reload.
        page.locator("[data-import-done]").wait_for(state="visible", timeout=10_000)
        assert page.locator("#import-progress progress").get_attribute("value") == "100"
        assert errors == [], errors
    assert blocked == []
    assert DeputyRequest.objects.count() == 2
