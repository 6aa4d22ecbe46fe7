"""The dashboards: who may open them, what they show, and that their figures match the lists."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from maslikhat.accounts.models import Role, User
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory, UserFactory
from tests.reports_helpers import Places, bulk_requests, places

pytestmark = pytest.mark.django_db

S = RequestStatus


@pytest.fixture
def where(directory: DemoDirectory) -> Places:
    return places()


@pytest.fixture
def some_requests(directory: DemoDirectory, where: Places) -> list[DeputyRequest]:
    return bulk_requests(directory, 60, where, drafts=2)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Who may open what ------------------------------------------------------------------------

DASHBOARD_ACCESS = [
    # (url name, persona, expected status)
    ("reports:dashboard", "staff", 200),
    ("reports:dashboard", "chair", 200),
    ("reports:dashboard", "deputy", 403),
    ("reports:dashboard", "finance_head", 403),
    ("reports:dashboard", "finance_exec", 403),
    ("reports:dashboard-department", "finance_head", 200),
    ("reports:dashboard-department", "finance_exec", 200),
    ("reports:dashboard-department", "staff", 403),
    ("reports:dashboard-department", "deputy", 403),
    ("reports:dashboard-deputy", "deputy", 200),
    ("reports:dashboard-deputy", "staff", 403),
    ("reports:dashboard-deputy", "finance_head", 403),
]


def persona(directory: DemoDirectory, name: str) -> User:
    if name == "deputy":
        return directory.alice.user
    return getattr(directory, name)


@pytest.mark.parametrize(("url_name", "who", "expected"), DASHBOARD_ACCESS)
def test_dashboards_answer_by_role(
    directory: DemoDirectory, url_name: str, who: str, expected: int
) -> None:
    response = logged_in(persona(directory, who)).get(reverse(url_name))
    assert response.status_code == expected


@pytest.mark.parametrize(
    "url_name", ["reports:dashboard", "reports:dashboard-department", "reports:dashboard-deputy"]
)
def test_dashboards_send_an_anonymous_visitor_to_the_login(
    client: Client, directory: DemoDirectory, url_name: str
) -> None:
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_administrator_without_the_staff_role_gets_403(directory: DemoDirectory) -> None:
    admin = UserFactory.create(username="plain-admin", role=Role.ADMIN)
    assert logged_in(admin).get(reverse("reports:dashboard")).status_code == 403


def test_the_dashboard_appears_in_the_staff_menu(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = logged_in(directory.staff).get(reverse("reports:home"))
    assert reverse("reports:dashboard") in response.content.decode()


# --- What the staff dashboard shows -----------------------------------------------------------


def _counter(html: str, index: int) -> int:
    match = re.search(rf'data-counter="{index}">(\d+)<', html)
    assert match, f"counter {index} not found"
    return int(match.group(1))


def test_the_dashboard_counters_match_the_registry(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    client = logged_in(directory.staff)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    registered = DeputyRequest.objects.exclude(status=S.DRAFT)
    assert (
        _counter(html, 0)
        == registered.filter(status__in=[S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED]).count()
    )
    assert _counter(html, 4) == registered.filter(status=S.ANSWERED).count()
    # Every card links to the registry with the filters its number counts.
    for card in response.context["cards"]:
        listed = client.get(card["url"])
        assert listed.status_code == 200
        assert listed.context["page"].paginator.count == card["value"], card["label"]
    # Charts read JSON blocks, never inline scripts.
    assert 'id="chart-funnel" type="application/json"' in html
    assert "<script>" not in html


def test_the_dashboard_filters_narrow_every_figure(
    directory: DemoDirectory, some_requests: list[DeputyRequest], where: Places
) -> None:
    client = logged_in(directory.staff)
    district = where.districts[0]
    response = client.get(reverse("reports:dashboard"), {"district": district.pk})
    summary = response.context["summary"]
    expected = DeputyRequest.objects.exclude(status=S.DRAFT).filter(district=district).count()
    assert summary["total"] == expected
    assert [row["id"] for row in summary["by_district"]] == [district.pk]
    for row in response.context["departments"]:
        if row["url"]:
            listed = client.get(row["url"])
            assert listed.context["page"].paginator.count == row["received"]


def test_the_department_table_sorts_by_any_column(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    client = logged_in(directory.staff)
    ascending = client.get(reverse("reports:dashboard"), {"sort": "received"}).context[
        "departments"
    ]
    descending = client.get(reverse("reports:dashboard"), {"sort": "-received"}).context[
        "departments"
    ]
    assert [r["received"] for r in ascending] == sorted(r["received"] for r in ascending)
    assert [r["received"] for r in descending] == sorted(
        (r["received"] for r in descending), reverse=True
    )
    by_median = client.get(reverse("reports:dashboard"), {"sort": "-median_days"})
    assert by_median.status_code == 200


def test_bad_filter_values_are_shown_and_left_out(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = logged_in(directory.staff).get(
        reverse("reports:dashboard"), {"submitted_after": "not-a-date", "district": "x"}
    )
    assert response.status_code == 200
    assert set(response.context["errors"]) == {"submitted_after", "district"}
    assert response.context["summary"]["total"] == (
        DeputyRequest.objects.exclude(status=S.DRAFT).count()
    )


def test_the_overdue_registry_lists_the_most_overdue_first_with_links(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = logged_in(directory.staff).get(reverse("reports:dashboard"))
    rows = response.context["registry"]
    assert rows, "the data has overdue requests"
    assert [r.due_date for r in rows] == sorted(r.due_date for r in rows)
    assert all(r.status == S.IN_PROGRESS for r in rows)
    html = response.content.decode()
    assert reverse("requests:detail", args=[rows[0].pk]) in html


# --- Department and deputy dashboards ---------------------------------------------------------


def test_the_department_dashboard_counts_its_inbox_and_each_executors_load(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = logged_in(directory.finance_head).get(reverse("reports:dashboard-department"))
    assert response.status_code == 200
    finance = DeputyRequest.objects.filter(lead_department=directory.finance)
    counters = response.context["counters"]
    assert counters["in_progress"] == finance.filter(status=S.IN_PROGRESS).count()
    load = {row["user_id"]: row for row in response.context["executors"]}
    assert load[directory.finance_exec.pk]["open"] == (
        finance.filter(status=S.IN_PROGRESS, executor=directory.finance_exec).count()
    )
    assert response.context["unassigned"]["open"] == (
        finance.filter(status=S.IN_PROGRESS, executor__isnull=True).count()
    )
    # Mobility's requests are not counted anywhere on finance's dashboard.
    assert all(r.lead_department_id == directory.finance.pk for r in response.context["overdue"])


def test_the_deputy_dashboard_shows_their_requests_and_what_awaits_evaluation(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    response = logged_in(directory.alice.user).get(reverse("reports:dashboard-deputy"))
    assert response.status_code == 200
    mine = DeputyRequest.objects.filter(author=directory.alice)
    by_status = {row["status"]: row["count"] for row in response.context["by_status"]}
    for status in RequestStatus.values:
        assert by_status[status] == mine.filter(status=status).count(), status
    awaiting = response.context["awaiting_evaluation"]
    assert {r.pk for r in awaiting} <= set(
        mine.filter(status=S.ANSWERED).values_list("pk", flat=True)
    )
    assert (
        response.context["counters"]["awaiting_evaluation"]
        == mine.filter(status=S.ANSWERED).count()
    )


def test_the_home_pages_link_the_department_and_deputy_dashboards(
    directory: DemoDirectory,
) -> None:
    deputy_home = logged_in(directory.alice.user).get(reverse("reports:home")).content.decode()
    assert reverse("reports:dashboard-deputy") in deputy_home
    head_home = logged_in(directory.finance_head).get(reverse("reports:home")).content.decode()
    assert reverse("reports:dashboard-department") in head_home


# --- The quarterly PDF ------------------------------------------------------------------------


def test_the_quarterly_pdf_report_is_a_pdf_for_staff_only(
    directory: DemoDirectory, some_requests: list[DeputyRequest]
) -> None:
    url = reverse("reports:quarterly-report", args=["2026-Q3"])
    response = logged_in(directory.chair).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")
    # The font is embedded: Cyrillic and Kazakh letters are drawn, not replaced by boxes.
    assert b"DejaVuSans" in response.content
    assert logged_in(directory.alice.user).get(url).status_code == 403
    assert (
        logged_in(directory.staff)
        .get(reverse("reports:quarterly-report", args=["2026-Q9"]))
        .status_code
        == 404
    )


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_the_pdf_report_renders_in_every_language(
    directory: DemoDirectory, some_requests: list[DeputyRequest], language: str
) -> None:
    client = logged_in(directory.staff)
    client.cookies["django_language"] = language
    response = client.get(reverse("reports:quarterly-report", args=["2026"]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
