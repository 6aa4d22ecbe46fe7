"""Promises kept, a component of the departments' KPI: a hand computation with its Wilson
interval, the minimum of promises due, reschedules and the snapshot moment, disputes
resolved by staff, imported requests, the weights version that added it, the pages, the
API and the export that show it, and a query count that does not grow with promises."""

from __future__ import annotations

import datetime
import importlib
import itertools
import math

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from commitments import services as commitment_services
from commitments.models import Commitment, CommitmentState, Verdict
from imports.models import ImportBatch, ImportedItem, ImportKind, ImportStatus
from kpi import aggregates, calculators, presenters, services
from kpi.calculators import DEPARTMENT
from kpi.models import KpiSnapshot, KpiWeights
from kpi.selectors import methodology_page, weights_in_force
from kpi.templatetags.kpi_tags import PROMISES_WEIGHTS_NOTE, kpi_weight, kpi_weights_note
from maslikhat.directory.models import Department
from reports.exports import kpi_export
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    EvaluationDecision,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import CategoryFactory, DemoDirectory
from tests.kpi.test_kpi_services import AS_OF, Q3, Rows, at, worked_example

D = datetime.date
_numbers = itertools.count(1)
V1_DEPARTMENT = {
    "timeliness": 0.35,
    "quality": 0.25,
    "rework": 0.15,
    "discipline": 0.15,
    "resolution": 0.10,
}


def promise(
    directory: DemoDirectory,
    due: datetime.date,
    *,
    department: Department | None = None,
    moved_to: datetime.date | None = None,
    reported: datetime.date | None = None,
    confirmed: datetime.date | None = None,
    disputed: datetime.date | None = None,
    resolved: datetime.date | None = None,
    resolved_kept: bool = True,
    state: str | None = None,
) -> Commitment:
    """A promise of a planned answer sent in June (before the quarter, so the answer
    counts in no other component), with the dates the test chooses."""
    department = department or directory.finance
    # Due and answered in June: the request counts in no component of the quarter.
    item = Rows(directory).request(
        lead=department, status=RequestStatus.ANSWERED, routed=D(2026, 5, 20),
        original_due=D(2026, 6, 15), answered=D(2026, 6, 10),
    )  # fmt: skip
    answer = Response.objects.create(
        request=item,
        department=department,
        kind=ResponseKind.FINAL,
        text="Ремонт включён в план",
        outcome=Outcome.PLANNED,
        planned_date=due,
        status=ResponseStatus.SENT,
        drafted_by=directory.finance_exec,
        approved_by=directory.finance_head,
        sent_at=at(D(2026, 6, 10)),
    )
    if state is None:
        state = CommitmentState.RESCHEDULED if moved_to else CommitmentState.OPEN
        if confirmed or (resolved and resolved_kept):
            state = CommitmentState.KEPT
        elif resolved:
            state = CommitmentState.BROKEN
    verdict_day = confirmed or disputed
    return Commitment.objects.create(
        request=item,
        response=answer,
        department=department,
        text=answer.text,
        original_due_date=due,
        due_date=moved_to or due,
        state=state,
        reported_text="Сделано" if reported else "",
        reported_at=at(reported) if reported else None,
        reported_by=directory.finance_head if reported else None,
        verdict=Verdict.CONFIRMED if confirmed else Verdict.DISPUTED if disputed else "",
        verdict_at=at(verdict_day) if verdict_day else None,
        verdict_by=item.author.user if verdict_day else None,
        resolved_at=at(resolved) if resolved else None,
        resolved_by=directory.staff if resolved else None,
        reschedule_count=1 if moved_to else 0,
    )


def seven_promises(directory: DemoDirectory) -> dict[str, Commitment]:
    """Finance, 2026-Q3, as of 30.09: seven promises due.

    1–4 kept on time: reported by their date (the 4th confirmed only after its date: the
        report's day counts, not the verdict's);
    5   kept late: due 01.09, reported 05.09, confirmed 06.09;
    6   disputed: due 10.09, reported 08.09, disputed 12.09, not resolved;
    7   open and overdue: due 15.09, nothing reported.
    """
    kept = {  # due, reported, confirmed
        "on_time_1": (D(2026, 7, 10), D(2026, 7, 9), D(2026, 7, 11)),
        "on_time_2": (D(2026, 7, 20), D(2026, 7, 20), D(2026, 7, 21)),
        "on_time_3": (D(2026, 8, 5), D(2026, 8, 1), D(2026, 8, 3)),
        "on_time_4": (D(2026, 8, 25), D(2026, 8, 24), D(2026, 9, 2)),
        "late": (D(2026, 9, 1), D(2026, 9, 5), D(2026, 9, 6)),
    }
    made = {
        name: promise(directory, due, reported=reported, confirmed=confirmed)
        for name, (due, reported, confirmed) in kept.items()
    }
    made["disputed"] = promise(
        directory, D(2026, 9, 10), reported=D(2026, 9, 8), disputed=D(2026, 9, 12)
    )
    made["open"] = promise(directory, D(2026, 9, 15))
    return made


def department_snapshot(department: Department, as_of: datetime.date = AS_OF) -> KpiSnapshot:
    return KpiSnapshot.objects.get(kind=DEPARTMENT, entity_id=department.pk, period=Q3, as_of=as_of)


def hand_wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson bounds written out: centre ± half over 1 + z²/n."""
    z = 1.959963984540054
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return centre - half, centre + half


def test_four_of_seven_promises_kept_on_time_by_hand(directory) -> None:
    """4 kept on time of 7 due → 4/7 = 0.5714.

    Wilson, z = 1.96, n = 7: z² = 3.8415, 1 + z²/n = 1.5488,
    centre = (0.5714 + 3.8415/14) / 1.5488 = 0.8458 / 1.5488 = 0.5461,
    half = 1.96 · √(0.2449/7 + 3.8415/196) / 1.5488 = 1.96 · 0.2336 / 1.5488 = 0.2957,
    so [0.2505, 0.8418]. Alone in the composite (no other data this quarter): 57.14.
    """
    seven_promises(directory)
    # Not due this quarter: another department's, one due in October, a withdrawn one,
    # one whose answer was returned for rework in August (superseded by the next answer).
    promise(directory, D(2026, 8, 10), department=directory.mobility)
    promise(directory, D(2026, 10, 5))
    promise(directory, D(2026, 8, 12), state="withdrawn")
    returned = promise(directory, D(2026, 8, 20))
    Evaluation.objects.create(
        request=returned.request,
        response=returned.response,
        decision=EvaluationDecision.REWORK,
        rating=None,  # no rating: the return is not in the quality component either
        comment="Срок не обоснован",
        by=returned.request.author.user,
        at=at(D(2026, 8, 1)),
    )
    services.kpi_compute(as_of=AS_OF, period=Q3)
    finance = department_snapshot(directory.finance)
    component = finance.components["promises"]
    assert (component["n"], component["successes"]) == (7, 4)
    assert (component["kept_late"], component["disputed"]) == (1, 1)
    assert component["value"] == 0.5714
    low, high = hand_wilson(4, 7)
    assert (round(low, 4), round(high, 4)) == (0.2505, 0.8418)
    assert (component["low"], component["high"]) == (0.2505, 0.8418)
    assert component["insufficient_data"] is False and component["min_n"] == 5
    assert component["score"] == 0.5714
    assert finance.composite == 57.14
    assert finance.weights_version == weights_in_force(DEPARTMENT).version
    mobility_component = department_snapshot(directory.mobility).components["promises"]
    assert (mobility_component["n"], mobility_component["value"]) == (1, None)


def test_below_five_promises_due_is_not_enough_data_and_its_weight_goes_elsewhere(
    directory,
) -> None:
    worked_example(directory)
    for day in (3, 4, 5, 6):  # four promises due, none kept
        promise(directory, D(2026, 8, day))
    services.kpi_compute(as_of=AS_OF, period=Q3)
    finance = department_snapshot(directory.finance)
    component = finance.components["promises"]
    assert (component["n"], component["successes"]) == (4, 0)
    assert component["insufficient_data"] is True
    assert (component["value"], component["low"], component["high"]) == (None, None, None)
    assert component["score"] is None
    # Left out and renormalised: the composite of the worked example without promises.
    assert finance.composite == 58.63
    cell = presenters.component_cell(DEPARTMENT, "promises", component)
    assert cell.text == "—" and not cell.has_data
    assert "5" in cell.extra and cell.n_text
    # The fifth promise due makes it count: 0 of 5 pulls the composite down.
    promise(directory, D(2026, 8, 7))
    services.kpi_compute(as_of=AS_OF, period=Q3)
    finance = department_snapshot(directory.finance)
    assert finance.components["promises"]["value"] == 0.0
    assert finance.composite == pytest.approx(100 * 0.9 * 0.5863021, abs=0.01)


def test_a_promise_is_held_to_its_first_date_and_seen_as_of_the_snapshot(directory) -> None:
    seven_promises(directory)
    # Moved from 10.08 to 20.10 and kept by the new date: still due in Q3 and late.
    promise(directory, D(2026, 8, 10), moved_to=D(2026, 10, 20), reported=D(2026, 9, 28),
            confirmed=D(2026, 9, 29))  # fmt: skip
    # Moved earlier, from 20.10 to 15.09, reported 14.09: due in Q3, kept on time.
    promise(directory, D(2026, 10, 20), moved_to=D(2026, 9, 15), reported=D(2026, 9, 14),
            confirmed=D(2026, 9, 16))  # fmt: skip
    # Reported on time, but confirmed only after the snapshot's date: not kept as of 30.09.
    promise(directory, D(2026, 9, 20), reported=D(2026, 9, 19), confirmed=D(2026, 10, 2))
    counts = aggregates.department_promise_counts(
        aggregates.Span(start=D(2026, 7, 1), end=AS_OF, as_of=AS_OF)
    )[directory.finance.pk]
    assert counts == {
        "promises_due": 10,
        "promises_kept_on_time": 5,
        "promises_kept_late": 2,
        "promises_disputed": 1,
    }
    # A month later the late confirmation is seen: six on time.
    later = aggregates.department_promise_counts(
        aggregates.Span(start=D(2026, 7, 1), end=D(2026, 9, 30), as_of=D(2026, 10, 31))
    )[directory.finance.pk]
    assert later["promises_kept_on_time"] == 6


def test_a_dispute_resolved_as_kept_by_staff_counts_from_the_day_of_the_report(
    directory,
) -> None:
    made = seven_promises(directory)
    services.kpi_compute(as_of=D(2026, 9, 24), period=Q3)
    before = department_snapshot(directory.finance, D(2026, 9, 24)).components["promises"]
    assert (before["successes"], before["disputed"]) == (4, 1)
    with time_machine.travel(at(D(2026, 9, 25)), tick=False):
        commitment_services.commitment_resolve(
            pk=made["disputed"].pk, by=directory.staff, kept=True, comment="Акт приёмки есть"
        )
    services.kpi_compute(as_of=D(2026, 9, 26), period=Q3)
    after = department_snapshot(directory.finance, D(2026, 9, 26)).components["promises"]
    assert (after["n"], after["successes"], after["disputed"]) == (7, 5, 0)
    assert after["value"] == round(5 / 7, 4)
    # The snapshot before the resolution is recomputed with the same numbers.
    services.kpi_compute(as_of=D(2026, 9, 24), period=Q3)
    again = department_snapshot(directory.finance, D(2026, 9, 24)).components["promises"]
    assert again == before


def test_a_dispute_resolved_as_broken_stays_not_kept(directory) -> None:
    made = seven_promises(directory)
    with time_machine.travel(at(D(2026, 9, 25)), tick=False):
        commitment_services.commitment_resolve(
            pk=made["disputed"].pk, by=directory.staff, kept=False, comment="Не сделано"
        )
    services.kpi_compute(as_of=AS_OF, period=Q3)
    component = department_snapshot(directory.finance).components["promises"]
    assert (component["successes"], component["disputed"]) == (4, 0)


def test_promises_of_imported_requests_count_only_with_the_setting(directory, settings) -> None:
    seven_promises(directory)
    imported = promise(directory, D(2026, 8, 14), reported=D(2026, 8, 13), confirmed=D(2026, 8, 15))
    batch = ImportBatch.objects.create(
        user=directory.staff,
        kind=ImportKind.REQUESTS,
        file_name="archive.xlsx",
        sha256="0" * 64,
        status=ImportStatus.DONE,
    )
    ImportedItem.objects.create(
        batch=batch, item_type=DeputyRequest.ITEM_TYPE, item_id=imported.request_id,
        original_number="123/2026", row=2,
    )  # fmt: skip
    span = aggregates.Span(start=D(2026, 7, 1), end=AS_OF, as_of=AS_OF)
    counts = aggregates.department_promise_counts(span)[directory.finance.pk]
    assert (counts["promises_due"], counts["promises_kept_on_time"]) == (7, 4)
    settings.KPI_COUNT_IMPORTED = True
    counts = aggregates.department_promise_counts(span)[directory.finance.pk]
    assert (counts["promises_due"], counts["promises_kept_on_time"]) == (8, 5)


def test_the_weights_version_that_adds_promises_and_snapshots_keep_theirs(directory) -> None:
    # Migration 0004 put version 2 in force: promises 0.10, the others of version 1 × 0.9.
    current = weights_in_force(DEPARTMENT)
    assert current.version == 2
    scaled = {key: pytest.approx(0.9 * value) for key, value in V1_DEPARTMENT.items()}
    assert current.weights == scaled | {"promises": 0.10}
    assert math.isclose(sum(current.weights.values()), 1.0)
    assert calculators.validate_weights(DEPARTMENT, current.weights)
    assert calculators.DEFAULT_WEIGHTS[DEPARTMENT] == pytest.approx(current.weights)
    first = KpiWeights.objects.get(kind=DEPARTMENT, version=1)
    assert first.weights == V1_DEPARTMENT and not first.is_current
    assert KpiWeights.objects.get(kind="deputy", is_current=True).version == 1
    with translation.override("en"):
        assert kpi_weights_note(PROMISES_WEIGHTS_NOTE) == (
            "Promises kept joins the composite with 0.10; the other weights are scaled by 0.9."
        )

    # Before the migration (version 1 in force) a snapshot is computed …
    seven_promises(directory)
    KpiWeights.objects.filter(kind=DEPARTMENT, version=2).delete()
    KpiWeights.objects.filter(pk=first.pk).update(is_current=True)
    services.kpi_compute(as_of=D(2026, 9, 29), period=Q3)
    old = department_snapshot(directory.finance, D(2026, 9, 29))
    assert (old.weights_version, old.weights) == (1, V1_DEPARTMENT)
    # … its promises are shown, not weighed: no other component has data, so no composite.
    assert old.components["promises"]["value"] == 0.5714 and old.composite is None

    # … then the migration adds version 2; the old snapshot keeps version 1.
    migration = importlib.import_module("kpi.migrations.0004_promises_kept_weight")
    migration.add_promises_weight(django_apps, None)
    migration.add_promises_weight(django_apps, None)  # a second run adds nothing
    assert list(
        KpiWeights.objects.filter(kind=DEPARTMENT).values_list("version", "is_current")
    ) == [(2, True), (1, False)]
    services.kpi_compute(as_of=AS_OF, period=Q3)
    new = department_snapshot(directory.finance)
    assert new.weights_version == 2 and new.weights["promises"] == 0.10
    assert new.composite == 57.14
    old.refresh_from_db()
    assert (old.weights_version, old.weights) == (1, V1_DEPARTMENT)
    # Undone, version 1 is in force again.
    migration.remove_promises_weight(django_apps, None)
    assert weights_in_force(DEPARTMENT).version == 1


def test_weights_are_shown_with_their_third_decimal_and_history_columns_line_up(
    directory,
) -> None:
    assert kpi_weight(0.315) == "0,315" or kpi_weight(0.315) == "0.315"
    assert kpi_weight(0.35) in ("0,35", "0.35")
    assert kpi_weight(None) == "—"
    page = methodology_page()
    rows = presenters.history_rows(DEPARTMENT, page.history[DEPARTMENT])
    headers = presenters.weights_headers(DEPARTMENT)
    assert [len(row["weights"]) for row in rows] == [len(headers), len(headers)]
    with translation.override("en"):
        promises_column = [str(h) for h in headers].index("Promises kept")
    assert [row["weights"][promises_column] for row in rows] == [0.10, None]
    note = presenters.promises_note(page)
    assert note == {"min_due": 5, "weight": 0.10, "version": 2, "since_version": 2}


def test_the_pages_api_and_export_show_promises_kept(directory, client, settings) -> None:
    seven_promises(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    methodology = client.get(reverse("kpi:methodology"))
    html = methodology.content.decode()
    assert methodology.status_code == 200
    assert 'data-rule="promises"' in html
    assert 'data-component="promises"' in html
    assert 'data-promises-weight="0.1"' in html
    assert "version 2 of the departments" in html
    assert "Fewer than 5 due" in html  # the component's definition in the table

    rankings = client.get(reverse("kpi:index"), {"period": Q3, "kind": DEPARTMENT})
    assert rankings.status_code == 200
    assert "Promises kept" in rankings.content.decode()
    assert 'data-component="promises"' in rankings.content.decode()
    entity = client.get(
        reverse("kpi:department", args=[directory.finance.pk]), {"period": Q3}
    ).content.decode()
    assert 'data-component="promises"' in entity
    assert "57%" in entity  # 4/7 with its interval, 57% (25–84%)

    api = client.get("/api/v1/kpi/departments/", {"period": Q3})
    assert api.status_code == 200
    rows = {row["entity"]["id"]: row for row in api.json()["results"]}
    component = rows[directory.finance.pk]["components"]["promises"]
    assert (component["value"], component["n"], component["low"], component["high"]) == (
        0.5714, 7, 0.2505, 0.8418,
    )  # fmt: skip
    assert rows[directory.finance.pk]["weights"]["promises"] == 0.10
    methodology_api = client.get("/api/v1/kpi/methodology/").json()
    assert methodology_api["constants"]["promises_min_due"] == 5
    keys = [c["key"] for c in methodology_api["departments"]["components"]]
    assert "promises" in keys

    spec = kpi_export(params={"kind": DEPARTMENT, "period": Q3}, language="en")
    column = spec.headers.index("Promises kept")
    finance_row = next(row for row in spec.rows if row[1] == directory.finance.name)
    assert finance_row[column] == 0.5714


def many_promises(directory: DemoDirectory, count: int, start: int) -> None:
    """``count`` promises of finance due in Q3, written in bulk (half kept on time)."""
    category = CategoryFactory.create(code="roads")
    requests = DeputyRequest.objects.bulk_create(
        DeputyRequest(
            category=category,
            number=f"DZ-2026-{90000 + start + i:05d}",
            convocation=directory.convocation,
            author=directory.alice,
            title="Ремонт",
            body="Текст",
            status=RequestStatus.ANSWERED,
            lead_department=directory.finance,
            original_due_date=D(2026, 6, 15),
            due_date=D(2026, 6, 15),
            answered_at=at(D(2026, 6, 10)),
        )
        for i in range(count)
    )
    answers = Response.objects.bulk_create(
        Response(
            request=item,
            department=directory.finance,
            kind=ResponseKind.FINAL,
            text="План",
            outcome=Outcome.PLANNED,
            planned_date=D(2026, 8, 1),
            status=ResponseStatus.SENT,
            drafted_by=directory.finance_exec,
            approved_by=directory.finance_head,
            sent_at=at(D(2026, 6, 10)),
        )
        for item in requests
    )
    Commitment.objects.bulk_create(
        Commitment(
            request=item,
            response=answer,
            department=directory.finance,
            text="План",
            original_due_date=D(2026, 8, 1) + datetime.timedelta(days=i % 50),
            due_date=D(2026, 8, 1) + datetime.timedelta(days=i % 50),
            state=CommitmentState.KEPT if i % 2 else CommitmentState.OPEN,
            reported_at=at(D(2026, 7, 30)) if i % 2 else None,
            verdict=Verdict.CONFIRMED if i % 2 else "",
            verdict_at=at(D(2026, 7, 31)) if i % 2 else None,
        )
        for i, (item, answer) in enumerate(zip(requests, answers, strict=True))
    )


def test_kpi_compute_queries_do_not_grow_with_promises(directory) -> None:
    many_promises(directory, 10, 0)
    services.kpi_compute(as_of=AS_OF, period=Q3)  # the working-day index is now built
    with CaptureQueriesContext(connection) as small:
        services.kpi_compute(as_of=AS_OF, period=Q3)
    assert department_snapshot(directory.finance).components["promises"]["n"] == 10
    many_promises(directory, 90, 10)
    with CaptureQueriesContext(connection) as large:
        services.kpi_compute(as_of=AS_OF, period=Q3)
    assert len(large.captured_queries) == len(small.captured_queries)
    component = department_snapshot(directory.finance).components["promises"]
    assert (component["n"], component["successes"]) == (100, 50)
    promise_queries = [
        q["sql"] for q in large.captured_queries if Commitment._meta.db_table in q["sql"]
    ]
    assert len(promise_queries) == 1  # one grouped query for every department


def test_the_component_without_any_promise_has_no_data() -> None:
    component = calculators.promises_component(0, 0)
    assert component["value"] is None and component["n"] == 0
    assert component["insufficient_data"] is True
    exact = calculators.promises_component(5, 5)
    assert exact["value"] == 1.0 and exact["insufficient_data"] is False
    assert (exact["low"], exact["high"]) == tuple(round(b, 4) for b in hand_wilson(5, 5))
    normalized = calculators.department_normalized(
        calculators.department_components(calculators.DepartmentInputs(), prior=None)
    )
    assert normalized["promises"] is None
    assert calculators.composite(normalized, calculators.DEFAULT_WEIGHTS[DEPARTMENT]) is None
