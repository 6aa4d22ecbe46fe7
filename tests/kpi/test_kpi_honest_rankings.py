"""Honest rankings: an entity with too few rated items gets no score anywhere (the public
page, the KPI pages, the API, the export), only how many items were rated and "not enough
data", and comes last; a ranked row opens to its components; periods read as words; the
methodology speaks the reader's language.

The data is the worked example of ``test_kpi_services``: finance ranked 1 (58.6), mobility
with one rated item, whose stored composite (75.4) would otherwise top the ranking.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from kpi import services
from kpi.models import KpiSnapshot, KpiWeights
from tests.factories import DemoDirectory
from tests.kpi.test_kpi_services import AS_OF, Q3, worked_example

pytestmark = pytest.mark.django_db

RANKINGS = "reports:public-rankings"


@pytest.fixture
def computed(directory: DemoDirectory) -> DemoDirectory:
    worked_example(directory)
    services.kpi_compute(as_of=AS_OF, period=Q3)
    return directory


def reader(language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def public_rows(html: str, kind: str) -> list[str]:
    """The rows of one public ranking (``<li class="kpi-rank-row…">`` … ``</li>``)."""
    section = html.split(f'data-table="ranking-{kind}"')[1].split("</ol>")[0]
    return re.findall(r'<li class="kpi-rank-row.*?</li>', section, flags=re.S)


def test_the_stored_composite_of_mobility_is_what_would_mislead(computed: DemoDirectory) -> None:
    # The precondition of every test below: the snapshot holds a score for mobility.
    snapshot = KpiSnapshot.objects.get(kind="department", entity_id=computed.mobility.pk, period=Q3)
    assert snapshot.insufficient_data and snapshot.composite is not None
    assert snapshot.composite > 58.6


def test_the_public_ranking_shows_no_score_for_not_enough_data_and_puts_it_last(
    computed: DemoDirectory,
) -> None:
    response = reader("ru").get(reverse(RANKINGS), {"period": Q3})
    assert response.status_code == 200
    rows = public_rows(response.content.decode(), "department")
    assert [re.search(r'data-entity-id="(\d+)"', row)[1] for row in rows] == [  # type: ignore[index]
        str(computed.finance.pk),
        str(computed.mobility.pk),
    ]
    finance, mobility = rows
    assert "58,6" in finance and 'data-rank="1"' in finance
    assert "недостаточно данных" in mobility and "data-insufficient" in mobility
    assert 'data-rated-items="1">1 оценка<' in mobility
    stored = KpiSnapshot.objects.get(entity_id=computed.mobility.pk, kind="department", period=Q3)
    for spelling in (f"{stored.composite:.1f}", f"{stored.composite:.1f}".replace(".", ",")):
        assert spelling not in mobility
    assert "<details" not in mobility and "data-rank" not in mobility


def test_a_ranked_public_row_opens_to_its_components_with_intervals_and_n(
    computed: DemoDirectory,
) -> None:
    html = reader("en").get(reverse(RANKINGS), {"period": Q3}).content.decode()
    finance = public_rows(html, "department")[0]
    assert "<details" in finance and "<summary" in finance
    components = finance.split("data-components")[1]
    for key in ("timeliness", "quality", "rework", "discipline", "resolution"):
        assert f'data-component="{key}"' in components
    timeliness = components.split('data-component="timeliness"')[1].split("</div>")[0]
    assert re.search(r"\d+% \(\d+–\d+%\)", timeliness)  # the 95% interval in brackets
    assert "answers due" in timeliness  # and what its n counts


def test_the_public_rankings_name_their_periods_in_words(computed: DemoDirectory) -> None:
    html = reader("ru").get(reverse(RANKINGS), {"period": Q3}).content.decode()
    assert f'<option value="{Q3}" selected>III квартал 2026</option>' in html
    assert ">2026-Q3<" not in html
    english = reader("en").get(reverse(RANKINGS), {"period": Q3}).content.decode()
    assert f'<option value="{Q3}" selected>Q3 2026</option>' in english


def test_the_kpi_rankings_page_shows_n_instead_of_a_score_for_not_enough_data(
    computed: DemoDirectory,
) -> None:
    html = reader("en").get("/kpi/", {"period": Q3, "sort": "-composite"}).content.decode()
    rows = re.findall(r'<tr data-entity-id="(\d+)".*?</tr>', html, flags=re.S)
    assert rows == [str(computed.finance.pk), str(computed.mobility.pk)]
    mobility = html.split(f'<tr data-entity-id="{computed.mobility.pk}"')[1].split("</tr>")[0]
    composite = mobility.split('data-component="composite"')[1].split("</td>")[0]
    assert "1 rated item" in composite
    assert not re.search(r"\d+\.\d", composite)


def test_the_api_gives_null_composites_for_not_enough_data_and_a_period_label(
    computed: DemoDirectory,
) -> None:
    response = reader("ru").get(
        "/api/v1/kpi/departments/", {"period": Q3}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["period"] == Q3 and data["period_label"] == "III квартал 2026"
    by_id = {row["entity"]["id"]: row for row in data["results"]}
    mobility = by_id[computed.mobility.pk]
    assert mobility["insufficient_data"] is True
    assert mobility["composite"] is None and mobility["rank"] is None
    assert mobility["rated_items"] == 1
    assert by_id[computed.finance.pk]["composite"] == pytest.approx(58.6, abs=0.05)
    assert [row["entity"]["id"] for row in data["results"]][-1] == computed.mobility.pk


def test_the_api_history_carries_no_score_for_not_enough_data(computed: DemoDirectory) -> None:
    services.kpi_compute(as_of=AS_OF, period="2026-09")
    response = reader("en").get(
        f"/api/v1/kpi/departments/{computed.mobility.pk}/", {"periods": "quarter"}
    )
    assert response.status_code == 200
    points = response.json()["points"]
    assert points and all(p["composite"] is None for p in points if p["insufficient_data"])
    assert [p["period_label"] for p in points] == ["Q3 2026"]


def test_the_export_leaves_the_composite_empty_for_not_enough_data(
    computed: DemoDirectory,
) -> None:
    response = reader("en").get(
        reverse("reports:export-kpi"), {"format": "csv", "period": Q3, "kind": "department"}
    )
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    header, *lines = rows
    composite, enough = header.index("Composite (0–100)"), header.index("Not enough data")
    by_name = {line[1]: line for line in lines}
    assert by_name[computed.mobility.name][composite] == ""
    assert by_name[computed.mobility.name][enough] == "yes"
    assert by_name[computed.finance.name][composite] == "58.6"
    assert lines[-1][1] == computed.mobility.name


@pytest.mark.parametrize("path", ["/kpi/methodology/", "/public/methodology/"])
def test_the_methodology_never_shows_the_defaults_note_or_its_source(
    computed: DemoDirectory, path: str
) -> None:
    KpiWeights.objects.filter(version=1).update(note="The default weights of the methodology.")
    response = reader("ru").get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "kpi.md" not in html and "Defaults of the methodology" not in html
    if path.startswith("/kpi/"):
        assert "Веса по умолчанию согласно методике." in html


def test_the_public_methodology_names_its_periods_in_words(computed: DemoDirectory) -> None:
    html = reader("ru").get("/public/methodology/").content.decode()
    assert "III квартал 2026" in html and "VIII созыв" in html
    assert "conv-8" not in html and "rolling90" not in html


def test_the_pdf_report_prints_no_score_for_not_enough_data(
    computed: DemoDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports import pdf

    tables: list[list[list[Any]]] = []
    original = pdf._table

    def spy(header: list[str], rows: list[list[Any]], *args: Any) -> Any:
        tables.append([header, *rows])
        return original(header, rows, *args)

    monkeypatch.setattr(pdf, "_table", spy)
    client = Client()
    client.force_login(computed.chair)
    response = client.get(reverse("reports:quarterly-report", args=[Q3]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    ranking = next(table for table in tables if "0–100" in str(table[0]))  # the departments
    by_name = {row[1]: row for row in ranking[1:]}
    assert by_name[computed.finance.name][2] == "58,6"
    mobility = by_name[computed.mobility.name]
    assert mobility[2] == "—" and mobility[3] == 1
    assert [row[1] for row in ranking[1:]][-1] == computed.mobility.name
