"""Exports that open: CSV for a Russian Excel, the columns a council reads, the list's rows.

An export holds exactly the rows ``/api/v1/requests/`` (``/api/v1/instructions/``) lists with
the same query, for every role and filter, in xlsx and in both CSVs, at once and as a job.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Sequence
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from instructions.models import InstructionStatus
from maslikhat.accounts.models import User
from maslikhat.core.extensions import Extension, ExtensionStatus
from reports.exports import export_spec, rows_of
from reports.models import ExportKind
from reports.tasks import export_build
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.instruction_helpers import World, make_instruction, make_world
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus
REQUESTS = "/api/v1/requests/"
INSTRUCTIONS = "/api/v1/instructions/"
#: The request's own columns (21) and its promise's (3: date, state, report date).
REQUEST_COLUMNS = 24
INSTRUCTION_COLUMNS = 18


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    """Export files of this module go to a temporary folder, removed after the run."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "ru"


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def some_requests(directory: DemoDirectory, where: Places) -> list[DeputyRequest]:
    created = bulk_requests(directory, 36, where, drafts=2)
    finance_item = next(r for r in created if r.lead_department_id == directory.finance.pk)
    finance_item.co_departments.add(directory.mobility)
    alice_item = next(r for r in created if r.author_id == directory.alice.pk)
    alice_item.co_authors.add(directory.bob)
    return created


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def semicolon_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def comma_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=","))


def xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


Reader = Callable[[bytes], Sequence[Sequence[Any]]]
READERS: dict[str, Reader] = {"csv": semicolon_rows, "csv-comma": comma_rows, "xlsx": xlsx_rows}


def listed(client: APIClient, url: str, query: dict[str, str]) -> int:
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return int(response.json()["count"])


def exported(client: APIClient, url: str, query: dict[str, str], fmt: str) -> int:
    response = client.get(f"{url}export/", {**query, "format": fmt})
    assert response.status_code == 200, response.content
    rows = READERS[fmt](body(response))
    return len(rows) - 1


def assert_same_rows(user: User, url: str, queries: list[dict[str, str]]) -> list[int]:
    client = api(user)
    counts = []
    for query in queries:
        expected = listed(client, url, query)
        for fmt in READERS:
            got = exported(client, url, query, fmt)
            assert got == expected, f"{user.username} {query} {fmt}: {got} rows, list {expected}"
        counts.append(expected)
    return counts


def test_a_request_export_holds_the_lists_rows_for_every_role_and_filter(
    directory: DemoDirectory, some_requests: list[DeputyRequest], where: Places
) -> None:
    queries: list[dict[str, str]] = [
        {},
        {"status": S.IN_PROGRESS},
        {"search": "Запрос"},
        {"district": str(where.districts[0].pk)},
        {"is_overdue": "true"},
        {"status": S.CLOSED, "is_overdue": "false"},
    ]
    roles = [
        directory.alice.user,
        directory.finance_exec,
        directory.finance_head,
        directory.staff,
        directory.chair,
    ]
    totals = {user.username: assert_same_rows(user, REQUESTS, queries)[0] for user in roles}
    # The deputy's empty query is every request visible to them, others' published ones too.
    own = DeputyRequest.objects.filter(author=directory.alice).count()
    assert totals["deputy1"] > own
    # And the narrower scope narrows both alike.
    mine = assert_same_rows(directory.alice.user, REQUESTS, [{"scope": "mine"}])[0]
    assert mine == own
    assert totals["staff"] == DeputyRequest.objects.exclude(status=S.DRAFT).count()


def test_an_instruction_export_holds_the_lists_rows_for_every_role_and_filter(
    directory: DemoDirectory,
) -> None:
    past = timezone.localdate() - datetime.timedelta(days=3)
    world = make_world(directory, protocol_date=past - datetime.timedelta(days=7))
    make_instruction(world)
    make_instruction(world, lead=directory.mobility, co_departments=[])
    make_instruction(world, status=InstructionStatus.EXECUTED, text="Отчёт о парках Медеу.")
    make_instruction(world, lead=world.energy, co_departments=[], due_date=past)
    queries: list[dict[str, str]] = [
        {},
        {"status": InstructionStatus.ON_CONTROL},
        {"search": "парк"},
        {"is_overdue": "true"},
        {"department": str(directory.mobility.pk)},
    ]
    users = [
        directory.alice.user,
        directory.mobility_exec,
        directory.finance_head,
        world.energy_exec,
        directory.staff,
        directory.chair,
    ]
    counts = {user.username: assert_same_rows(user, INSTRUCTIONS, queries) for user in users}
    assert counts["staff"][0] == 4
    assert counts["staff"][3] == 1  # the overdue one


def test_the_csv_for_excel_has_a_bom_and_opens_as_columns(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = api(directory.staff).get(f"{REQUESTS}export/", {"format": "csv"})
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    header, *rows = semicolon_rows(content)
    assert len(header) == REQUEST_COLUMNS
    assert header[0] == "Номер"
    assert all(len(row) == REQUEST_COLUMNS for row in rows)
    assert response["Content-Disposition"].endswith('.csv"')


def test_the_comma_csv_is_standard_and_named_csv_too(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = api(directory.staff).get(f"{REQUESTS}export/", {"format": "csv-comma"})
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    header = comma_rows(content)[0]
    assert len(header) == REQUEST_COLUMNS
    assert ";" not in content.decode("utf-8-sig").splitlines()[0]
    assert response["Content-Disposition"].endswith('.csv"')


def test_a_formula_stays_text_in_both_csvs(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    DeputyRequest.objects.filter(pk=some_requests[0].pk).update(title="=HYPERLINK(1;2)")
    for fmt in ("csv", "csv-comma"):
        response = api(directory.staff).get(f"{REQUESTS}export/", {"format": fmt})
        rows = READERS[fmt](body(response))
        titles = [row[2] for row in rows[1:]]
        assert "'=HYPERLINK(1;2)" in titles, fmt


def test_the_page_buttons_name_both_csvs(directory: DemoDirectory, client: Client) -> None:
    client.force_login(directory.staff)
    html = client.get(reverse("requests:list")).content.decode()
    assert 'data-export="csv"' in html and 'data-export="csv-comma"' in html
    assert "CSV для Excel" in html or "CSV for Excel" in html


def answer(item: DeputyRequest, by: User, evaluation: str, rating: int | None, day: int) -> None:
    moment = timezone.now() - datetime.timedelta(days=10 - day)
    response = Response.objects.create(
        request=item,
        department=item.lead_department,  # type: ignore[misc]
        kind=ResponseKind.FINAL,
        text="Ответ",
        outcome=Outcome.RESOLVED,
        status=ResponseStatus.SENT,
        drafted_by=by,
        sent_at=moment,
        evaluation=evaluation,
        evaluation_rating=rating,
        evaluation_comment="",
        evaluated_at=moment,
    )
    Evaluation.objects.create(
        request=item,
        response=response,
        decision=evaluation,
        rating=rating,
        by=item.author.user,
        at=moment,
    )


def test_a_request_row_carries_co_executors_rework_every_evaluation_and_both_ratings(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    item = next(
        r for r in some_requests if r.status == S.CLOSED and r.lead_department == directory.finance
    )
    item.co_departments.add(directory.mobility)
    answer(item, directory.finance_exec, "rework", 2, 1)
    answer(item, directory.finance_exec, "accept", 4, 2)
    DeputyRequest.objects.filter(pk=item.pk).update(rework_count=1, rating=4, request_rating=5)
    response = api(directory.staff).get(f"{REQUESTS}export/", {"format": "xlsx"})
    header, *rows = xlsx_rows(body(response))
    assert len(header) == REQUEST_COLUMNS
    row = next(r for r in rows if r[0] == item.number)
    with translation.override("ru"):
        evaluations = f"2 ({gettext('returned for rework')}); 4 ({gettext('accepted')})"
    # Co-executors, rework count, every evaluation, every rating in order and the last one,
    # the deputy's and the department's rating.
    assert row[7] == "Управление мобильности"
    assert row[15:21] == (1, evaluations, "2 → 4", 4, 4, 5)


def test_an_instruction_row_carries_co_executors_extensions_and_reports(
    directory: DemoDirectory,
) -> None:
    world: World = make_world(directory)
    item = make_instruction(world, status=InstructionStatus.EXECUTED)
    new_due = timezone.localdate() + datetime.timedelta(days=40)
    for status, day in ((ExtensionStatus.APPROVED, 20), (ExtensionStatus.APPROVED, 40)):
        Extension.objects.create(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            requested_by=directory.finance_exec,
            previous_due_date=timezone.localdate(),
            new_due_date=timezone.localdate() + datetime.timedelta(days=day),
            reason="Нужны торги.",
            status=status,
        )
    response = api(directory.staff).get(f"{INSTRUCTIONS}export/", {"format": "csv"})
    header, *rows = semicolon_rows(body(response))
    assert len(header) == INSTRUCTION_COLUMNS
    row = rows[0]
    today = timezone.localdate().strftime("%d.%m.%Y")
    # Co-executors; approved extensions and the latest new date; reports and the last one.
    assert row[5] == "Управление мобильности"
    assert row[14:] == ["2", new_due.strftime("%d.%m.%Y"), str(item.reports.count()), today]
    assert item.reports.count() >= 1


def queries_of(kind: str, user: User) -> int:
    spec = export_spec(kind=kind, actor=_actor(user), params={}, language="ru")
    with CaptureQueriesContext(connection) as captured:
        list(rows_of(spec))
    return len(captured)


def _actor(user: User) -> Any:
    from maslikhat.directory.actors import actor_for

    return actor_for(user)


def test_the_query_count_of_an_export_does_not_grow_with_its_rows(
    directory: DemoDirectory, where: Places
) -> None:
    bulk_requests(directory, 5, where)
    few = queries_of(ExportKind.REQUESTS, directory.staff)
    more = bulk_requests(directory, 30, where)
    for item in more[:10]:
        item.co_departments.add(directory.mobility)
    assert queries_of(ExportKind.REQUESTS, directory.staff) == few
    world = make_world(directory)
    make_instruction(world)
    few = queries_of(ExportKind.INSTRUCTIONS, directory.staff)
    for _ in range(4):
        make_instruction(world, status=InstructionStatus.EXECUTED)
    assert queries_of(ExportKind.INSTRUCTIONS, directory.staff) == few


def test_a_deputys_page_export_holds_the_rows_of_their_page(
    directory: DemoDirectory, some_requests: list[DeputyRequest], client: Client
) -> None:
    client.force_login(directory.alice.user)
    response = client.get(reverse("reports:export-requests"), {"format": "csv"})
    rows = semicolon_rows(body(response))
    mine = listed(api(directory.alice.user), REQUESTS, {"scope": "mine"})
    assert len(rows) - 1 == mine
    page = client.get(reverse("requests:list"))
    assert page.context["page"].paginator.count == mine
    everything = client.get(reverse("reports:export-requests"), {"format": "csv", "scope": "all"})
    assert len(semicolon_rows(body(everything))) - 1 == listed(
        api(directory.alice.user), REQUESTS, {}
    )


def test_a_background_export_job_holds_the_lists_rows(
    directory: DemoDirectory, some_requests: list[DeputyRequest], settings: Any
) -> None:
    settings.EXPORT_SYNC_LIMIT = 3
    client = api(directory.alice.user)
    response = client.get(f"{REQUESTS}export/", {"format": "csv"})
    assert response.status_code == 202
    export_build(response.json()["id"])
    download = client.get(reverse("reports:export-job-download", args=[response.json()["id"]]))
    assert len(semicolon_rows(body(download))) - 1 == listed(client, REQUESTS, {})
