"""Exports of the lists to Excel and CSV: the visible rows, the list's filters, background jobs."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl
import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from instructions.models import InstructionStatus
from maslikhat.accounts.models import User
from reports import services as export_services
from reports.models import ExportJob, ExportStatus
from reports.tasks import export_build
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.instruction_helpers import make_instruction, make_world
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
REQUESTS_EXPORT = "/api/v1/requests/export/"
INSTRUCTIONS_EXPORT = "/api/v1/instructions/export/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    """Export files of this module go to a temporary folder, removed after the run."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def some_requests(directory: DemoDirectory, where: Places) -> list[DeputyRequest]:
    created = bulk_requests(directory, 40, where, drafts=3)
    # Mobility co-executes one of finance's requests; bob co-authors one of alice's.
    finance_item = next(r for r in created if r.lead_department_id == directory.finance.pk)
    finance_item.co_departments.add(directory.mobility)
    alice_item = next(r for r in created if r.author_id == directory.alice.pk)
    alice_item.co_authors.add(directory.bob)
    return created


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads Cyrillic"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def numbers_of(rows: list[Any]) -> set[str]:
    return {row[0] for row in rows[1:]}


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def expected_numbers(qs: Any) -> set[str]:
    return set(qs.exclude(status=S.DRAFT).values_list("number", flat=True))


# --- What an export holds ---------------------------------------------------------------------


def test_a_staff_excel_export_holds_every_registered_request(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = api(directory.staff).get(REQUESTS_EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    rows = xlsx_rows(body(response))
    with translation.override("ru"):
        assert rows[0][0] == translation.gettext("Number")
    assert numbers_of(rows) == expected_numbers(DeputyRequest.objects.all())
    assert len(rows) - 1 == DeputyRequest.objects.exclude(status=S.DRAFT).count()


def test_a_csv_export_is_utf8_with_bom_semicolon_separated_and_dates_dd_mm_yyyy(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = api(directory.staff).get(REQUESTS_EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(body(response))
    assert numbers_of(rows) == expected_numbers(DeputyRequest.objects.all())
    submitted = [row[1] for row in rows[1:]]
    assert all(re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", value) for value in submitted)
    # Cyrillic survives the round trip.
    assert any("Запрос" in row[2] for row in rows[1:])


def test_a_deputys_export_of_their_own_scope_holds_only_their_requests(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    for fmt, reader in (("xlsx", xlsx_rows), ("csv", csv_rows)):
        response = api(directory.bob.user).get(REQUESTS_EXPORT, {"format": fmt, "scope": "mine"})
        assert response.status_code == 200
        rows = reader(body(response))
        own = DeputyRequest.objects.filter(author=directory.bob) | DeputyRequest.objects.filter(
            co_authors=directory.bob
        )
        # Their drafts (no number yet) are theirs too, as on their list.
        assert numbers_of(rows) - {None, ""} == expected_numbers(own.distinct())
        assert len(rows) - 1 == own.distinct().count()


def test_a_departments_export_holds_only_its_own_requests(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = api(directory.mobility_exec).get(REQUESTS_EXPORT, {"format": "xlsx"})
    rows = xlsx_rows(body(response))
    mine = DeputyRequest.objects.filter(lead_department=directory.mobility) | (
        DeputyRequest.objects.filter(co_departments=directory.mobility)
    )
    assert numbers_of(rows) == expected_numbers(mine.distinct())
    assert numbers_of(rows), "mobility has requests"


def test_an_export_takes_the_lists_filters(
    directory: DemoDirectory, some_requests: list[DeputyRequest], where: Places
) -> None:
    params: dict[str, Any] = {
        "format": "csv",
        "status": S.IN_PROGRESS,
        "district": where.districts[1].pk,
    }
    rows = csv_rows(body(api(directory.staff).get(REQUESTS_EXPORT, params)))
    expected = DeputyRequest.objects.filter(status=S.IN_PROGRESS, district=where.districts[1])
    assert numbers_of(rows) == expected_numbers(expected)
    listed = api(directory.staff).get(
        "/api/v1/requests/", {"status": S.IN_PROGRESS, "district": str(where.districts[1].pk)}
    )
    assert len(rows) - 1 == listed.json()["count"]


def test_text_that_looks_like_a_formula_is_exported_as_text(
    directory: DemoDirectory, where: Places
) -> None:
    (item,) = bulk_requests(directory, 1, where)
    DeputyRequest.objects.filter(pk=item.pk).update(title='=HYPERLINK("http://evil","x")')
    xlsx = api(directory.staff).get(REQUESTS_EXPORT, {"format": "xlsx"})
    workbook = openpyxl.load_workbook(io.BytesIO(body(xlsx)))
    cell = workbook.worksheets[0]["C2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("=HYPERLINK")
    rows = csv_rows(body(api(directory.staff).get(REQUESTS_EXPORT, {"format": "csv"})))
    assert rows[1][2].startswith("'=")


def test_headers_are_in_the_users_language(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    client = Client()
    client.force_login(directory.staff)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("reports:export-requests"), {"format": "csv"})
    rows = csv_rows(body(response))
    assert rows[0][:3] == ["Number", "Submitted", "Title"]


def test_invalid_format_or_filters_answer_400(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    client = api(directory.staff)
    assert client.get(REQUESTS_EXPORT, {"format": "pdf"}).status_code == 400
    response = client.get(REQUESTS_EXPORT, {"format": "xlsx", "status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.json()
    html = Client()
    html.force_login(directory.staff)
    assert html.get(reverse("reports:export-requests"), {"format": "doc"}).status_code == 400


def test_exports_need_a_login(client: Client, api_client: APIClient) -> None:
    assert api_client.get(REQUESTS_EXPORT).status_code == 401
    assert api_client.get(INSTRUCTIONS_EXPORT).status_code == 401
    response = client.get(reverse("reports:export-requests"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_export_buttons_carry_the_lists_query(directory: DemoDirectory) -> None:
    from django.template.loader import render_to_string

    html = render_to_string(
        "reports/_export_buttons.html",
        {
            "export_url": reverse("reports:export-requests"),
            "query": "status=in_progress&district=3",
        },
    )
    assert "/exports/requests/?format=xlsx&amp;status=in_progress&amp;district=3" in html
    assert "/exports/requests/?format=csv&amp;status=in_progress&amp;district=3" in html


# --- Instructions and KPI ---------------------------------------------------------------------


def test_an_instruction_export_holds_what_the_user_may_see(directory: DemoDirectory) -> None:
    world = make_world(directory)
    make_instruction(world, status=InstructionStatus.ON_CONTROL)
    make_instruction(world, status=InstructionStatus.EXECUTED, lead=world.energy, co_departments=())
    staff_rows = xlsx_rows(body(api(directory.staff).get(INSTRUCTIONS_EXPORT)))
    assert len(staff_rows) - 1 == 2
    energy_rows = csv_rows(body(api(world.energy_exec).get(INSTRUCTIONS_EXPORT, {"format": "csv"})))
    assert len(energy_rows) - 1 == 1
    finance_rows = csv_rows(
        body(api(directory.finance_exec).get(INSTRUCTIONS_EXPORT, {"format": "csv"}))
    )
    assert len(finance_rows) - 1 == 1
    filtered = xlsx_rows(
        body(api(directory.staff).get(INSTRUCTIONS_EXPORT, {"status": InstructionStatus.EXECUTED}))
    )
    assert len(filtered) - 1 == 1
    # The HTML list's "Export" link: the same file for the signed-in user.
    page = Client()
    page.force_login(world.energy_head)
    html_rows = xlsx_rows(body(page.get(reverse("reports:export-instructions"))))
    assert [row[3] for row in html_rows[1:]] == [energy_rows[1][3]]


def test_the_kpi_ranking_exports_from_its_snapshot(
    client: Client, directory: DemoDirectory
) -> None:
    from kpi import services as kpi_services
    from tests.kpi.test_kpi_services import AS_OF, Q3, worked_example

    worked_example(directory)
    kpi_services.kpi_compute(as_of=AS_OF, period=Q3)
    response = client.get(
        reverse("reports:export-kpi"), {"format": "xlsx", "period": Q3, "kind": "department"}
    )
    assert response.status_code == 200
    rows = xlsx_rows(body(response))
    assert [row[1] for row in rows[1:]] == [directory.finance.name, directory.mobility.name]
    assert rows[1][0] == 1
    missing = client.get(reverse("reports:export-kpi"), {"period": "2019-Q1"})
    assert missing.status_code == 404
    bad = client.get(reverse("reports:export-kpi"), {"period": "someday"})
    assert bad.status_code == 400


# --- Background jobs --------------------------------------------------------------------------


@pytest.fixture
def small_sync_limit(settings: Any) -> None:
    settings.EXPORT_SYNC_LIMIT = 5


def test_a_large_api_export_answers_202_with_a_job_that_the_task_builds(
    directory: DemoDirectory,
    some_requests: list[DeputyRequest],
    small_sync_limit: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api(directory.staff)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(REQUESTS_EXPORT, {"format": "xlsx", "status": S.IN_PROGRESS})
    assert response.status_code == 202
    job_data = response.json()
    assert job_data["status"] == ExportStatus.PENDING
    assert response["Location"].endswith(f"/exports/{job_data['id']}/status/")
    assert len(callbacks) == 1, "the task is enqueued after commit"
    job = ExportJob.objects.get(pk=job_data["id"])
    assert job.params["filters"] == [["status", S.IN_PROGRESS]]

    export_build(job.pk)  # what the worker runs
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    expected = DeputyRequest.objects.filter(status=S.IN_PROGRESS).count()
    assert (job.progress, job.total, job.percent) == (expected, expected, 100)

    status = client.get(job_data["status_url"]).json()
    assert status["status"] == ExportStatus.DONE
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    rows = xlsx_rows(body(download))
    assert len(rows) - 1 == expected

    # Another user gets 404 for the status and the file alike.
    other = api(directory.chair)
    assert other.get(job_data["status_url"]).status_code == 404
    assert other.get(status["download_url"]).status_code == 404
    # Running the task again (a redelivery) leaves the finished job alone.
    export_build(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE


def test_the_task_reports_progress_every_chunk(
    directory: DemoDirectory,
    some_requests: list[DeputyRequest],
    small_sync_limit: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = export_services.export_job_create(
        by=directory.staff,
        kind="requests",
        params=QueryDict(""),
        fmt="csv",
        language="ru",
    )
    seen: list[int] = []
    write = export_services.write_export

    def spy(*args: Any, **kwargs: Any) -> int:
        report = kwargs["progress"]

        def recording(rows: int) -> None:
            report(rows)
            seen.append(ExportJob.objects.get(pk=job.pk).progress)

        kwargs["progress"] = recording
        kwargs["every"] = 7
        return write(*args, **kwargs)

    monkeypatch.setattr(export_services, "write_export", spy)
    export_build(job.pk)
    total = DeputyRequest.objects.exclude(status=S.DRAFT).count()
    assert seen[:3] == [7, 14, 21]
    assert seen[-1] == total
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE


def test_a_large_html_export_opens_the_progress_page(
    directory: DemoDirectory, some_requests: list[DeputyRequest], small_sync_limit: None
) -> None:
    client = Client()
    client.force_login(directory.staff)
    response = client.get(reverse("reports:export-requests"), {"format": "csv"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("reports:export-job", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "<progress" in html and "js/export.js" in html
    assert 'class="btn btn-primary d-none"' in html, "no download link before the file exists"
    export_build(job.pk)
    ready = client.get(response["Location"]).content.decode()
    assert reverse("reports:export-job-download", args=[job.pk]) in ready
    assert "d-none" not in ready.split("data-export-download")[0].rsplit("<a", 1)[1]
    listing = client.get(reverse("reports:export-jobs")).content.decode()
    assert reverse("reports:export-job", args=[job.pk]) in listing
    download = client.get(reverse("reports:export-job-download", args=[job.pk]))
    rows = csv_rows(body(download))
    assert len(rows) - 1 == DeputyRequest.objects.exclude(status=S.DRAFT).count()
    # Someone else: 404 for the page and the file.
    other = Client()
    other.force_login(directory.chair)
    assert other.get(reverse("reports:export-job", args=[job.pk])).status_code == 404
    assert other.get(reverse("reports:export-job-download", args=[job.pk])).status_code == 404


def test_a_job_sees_what_its_owner_may_see(
    directory: DemoDirectory, some_requests: list[DeputyRequest], small_sync_limit: None
) -> None:
    response = api(directory.alice.user).get(REQUESTS_EXPORT, {"format": "csv", "scope": "mine"})
    assert response.status_code == 202
    export_build(response.json()["id"])
    download = api(directory.alice.user).get(
        reverse("reports:export-job-download", args=[response.json()["id"]])
    )
    rows = csv_rows(body(download))
    own = DeputyRequest.objects.filter(author=directory.alice) | DeputyRequest.objects.filter(
        co_authors=directory.alice
    )
    assert numbers_of(rows) - {""} == expected_numbers(own.distinct())
    assert len(rows) - 1 == own.distinct().count()


def test_a_broker_that_is_down_fails_the_job_with_a_message(
    directory: DemoDirectory,
    some_requests: list[DeputyRequest],
    small_sync_limit: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(export_build, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(directory.staff).get(REQUESTS_EXPORT, {"format": "csv"})
    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.status == ExportStatus.FAILED
    assert job.error


def test_a_job_that_fails_records_why(
    directory: DemoDirectory,
    some_requests: list[DeputyRequest],
    small_sync_limit: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = ExportJob.objects.create(
        user=directory.staff, kind="requests", format="xlsx", file_path="exports/x.xlsx"
    )

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_services, "write_export", broken)
    export_build(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "RuntimeError" in job.error
    response = api(directory.staff).get(reverse("reports:export-job-download", args=[job.pk]))
    assert response.status_code == 404
