"""The import page as staff: upload → preview → match → commit → progress → done; and who
may not see it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from imports.matching import DEPARTMENT
from imports.models import ImportBatch, ImportKind, ImportStatus
from imports.services import batch_progress
from imports.tasks import import_commit
from maslikhat.accounts.models import User
from requests_app.models import DeputyRequest
from tests.factories import DemoDirectory
from tests.imports.helpers import request_row, write_csv
from tests.requests_helpers import category

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")


def test_staff_upload_preview_match_commit_and_follow_the_progress(
    directory: DemoDirectory, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    category()
    author = directory.alice.user.full_name
    rows = [
        request_row("Д-1", author=author),
        request_row("Д-2", author=author, lead_department="Управление финансоф"),
    ]
    path = write_csv(tmp_path / "past.csv", ImportKind.REQUESTS, rows)
    staff = client_for(directory.staff)

    page = staff.get("/imports/")
    assert page.status_code == 200
    response = staff.post("/imports/", {"kind": "requests", "file": upload(path)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"

    page = staff.get(f"/imports/{batch.pk}/")
    text = page.content.decode()
    assert "Ремонт дороги Д-1" in text  # the preview of the first rows
    assert "Управление финансоф" in text and 'data-unknown="department"' in text
    assert "data-import-commit" not in text  # blocked until the name is matched
    assert staff.post(f"/imports/{batch.pk}/commit/").status_code == 302
    assert ImportBatch.objects.get().status == ImportStatus.UPLOADED

    field = f"name::{DEPARTMENT}::управление финансоф"
    response = staff.post(f"/imports/{batch.pk}/", {field: str(directory.finance.pk)})
    assert response.status_code == 302
    page = staff.get(f"/imports/{batch.pk}/")
    assert "data-import-commit" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=False):
        response = staff.post(f"/imports/{batch.pk}/commit/")
    assert response.status_code == 302
    assert ImportBatch.objects.get().status == ImportStatus.QUEUED
    fragment = staff.get(f"/imports/{batch.pk}/progress/")
    assert 'hx-trigger="every 1s"' in fragment.content.decode()  # polls while it runs

    import_commit(batch.pk)  # what the worker runs

    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE and batch.created_count == 2
    assert batch_progress(batch)["percent"] == 100
    done = staff.get(f"/imports/{batch.pk}/progress/").content.decode()
    assert "data-import-done" in done and "hx-trigger" not in done
    assert DeputyRequest.objects.get(number="Д-2").lead_department == directory.finance
    assert "past.csv" in staff.get("/imports/").content.decode()


def test_a_file_with_an_error_shows_the_row_and_cannot_be_committed(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    category()
    rows = [request_row("Д-1", author=directory.alice.user.full_name, status="Непонятно")]
    path = write_csv(tmp_path / "bad.csv", ImportKind.REQUESTS, rows)
    staff = client_for(directory.staff)

    staff.post("/imports/", {"kind": "requests", "file": upload(path)})
    batch = ImportBatch.objects.get()
    text = staff.get(f"/imports/{batch.pk}/").content.decode()

    assert 'data-row="2"' in text and "Непонятно" in text
    response = staff.post(f"/imports/{batch.pk}/commit/", follow=True)
    assert "nothing can be imported yet" in response.content.decode()
    assert not DeputyRequest.objects.exists()


def test_columns_named_otherwise_are_mapped_on_the_page(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    category()
    path = write_csv(
        tmp_path / "other.csv",
        ImportKind.REQUESTS,
        [request_row("Д-1", author=directory.alice.user.full_name)],
    )
    text = path.read_text(encoding="utf-8-sig").replace("Номер", "Рег. №", 1)
    path.write_text(text, encoding="utf-8-sig")
    staff = client_for(directory.staff)
    staff.post("/imports/", {"kind": "requests", "file": upload(path)})
    batch = ImportBatch.objects.get()
    assert batch.report["missing"] == ["Number"] or batch.report["missing"]

    position = batch.report["headers"].index("Рег. №")
    staff.post(f"/imports/{batch.pk}/", {f"column::{position}": "number"})

    batch.refresh_from_db()
    assert batch.columns == {"Рег. №": "number"}
    assert not batch.report["missing"] and batch.report["new"] == 1


def test_the_template_has_the_columns_and_a_sheet_explaining_them(
    directory: DemoDirectory,
) -> None:
    staff = client_for(directory.staff)

    response = staff.get("/imports/template/requests.xlsx")

    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    first, guide = workbook.worksheets
    headers = [cell.value for cell in first[1]]
    assert headers[:3] == ["Number", "Submitted", "Title"]
    assert "Answer text" in headers
    rows = list(guide.iter_rows(min_row=2, values_only=True))
    assert rows[0][0] == "number" and rows[0][2] == "Номер" and rows[0][4] == "Number"
    assert all(row[5] and row[6] and row[7] for row in rows)  # ru, kk, en explanations
    assert staff.get("/imports/template/nothing.xlsx").status_code == 404
    assert staff.get("/imports/template/instructions.xlsx").status_code == 200


def test_a_file_that_is_not_a_table_is_refused_with_a_message(directory: DemoDirectory) -> None:
    staff = client_for(directory.staff)
    junk = SimpleUploadedFile("notes.pdf", b"%PDF-1.4", content_type="application/pdf")

    response = staff.post("/imports/", {"kind": "requests", "file": junk})

    assert response.status_code == 400
    assert "Upload an Excel (.xlsx) or CSV file." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_import_whose_worker_died_can_start_again(
    directory: DemoDirectory, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime

    from django.utils import timezone

    category()
    path = write_csv(
        tmp_path / "past.csv",
        ImportKind.REQUESTS,
        [request_row("Д-1", author=directory.alice.user.full_name)],
    )
    staff = client_for(directory.staff)
    staff.post("/imports/", {"kind": "requests", "file": upload(path)})
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING,
        lease_token="dead",
        lease_until=timezone.now() - datetime.timedelta(seconds=1),
    )

    fragment = staff.get(f"/imports/{batch.pk}/progress/").content.decode()
    assert "data-import-stalled" in fragment
    with django_capture_on_commit_callbacks(execute=False):
        staff.post(f"/imports/{batch.pk}/commit/")
    assert ImportBatch.objects.get().status == ImportStatus.QUEUED
    import_commit(batch.pk)

    assert ImportBatch.objects.get().status == ImportStatus.DONE
    assert DeputyRequest.objects.count() == 1


def test_the_history_of_an_imported_request_names_the_file_and_the_importer(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    from imports.services import import_path

    category()
    path = write_csv(
        tmp_path / "register-2024.csv",
        ImportKind.REQUESTS,
        [request_row("Д-1", author=directory.alice.user.full_name)],
    )
    import_path(path, kind=ImportKind.REQUESTS, by=directory.staff)
    item = DeputyRequest.objects.get()

    page = client_for(directory.staff).get(f"/requests/{item.pk}/").content.decode()

    assert 'data-action="imported"' in page and "Imported from a file" in page
    assert "register-2024.csv" in page and directory.staff.full_name in page
