"""The working calendar and the deadline rules, kept by staff in the portal (``/calendar/``).

Staff list, add, edit and remove decreed days (every change in ``LogEntry``); a due date
computed afterwards honours them; the rules are edited the same way; everyone else is kept
out; the staff warning when the coming year has no decreed days; the legal basis in "how
computed"; bad input answered with a message in Russian, never a 500; query counts that do not
grow with the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import escape

from demo.context import DemoContext
from demo.decreed_days import seed_decreed_days
from demo.directory import seed_directory
from maslikhat.accounts.models import Role, User
from maslikhat.core.deadlines import (
    RULE_DEPUTY_REQUEST,
    CalendarDay,
    CalendarDayKind,
    DeadlineRule,
    WorkingCalendar,
    calendar_for,
    compute_due_date,
    due_explanation,
    get_rule,
    public_holidays,
)
from maslikhat.core.exceptions import ActionForbidden, ValidationFailed
from maslikhat.directory import calendar
from requests_app.models import RequestStatus
from tests.factories import DemoDirectory, UserFactory
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def as_user() -> Callable[[User | None], Client]:
    """A test client signed in as ``user`` (anonymous for None), reading English pages."""

    def make(user: User | None, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            client.force_login(user)
        return client

    return make


def next_plain_working_day(after: dt.date) -> dt.date:
    """The first weekday after ``after`` that is a working day by the usual calendar."""
    plain = WorkingCalendar.from_days([])
    day = after + dt.timedelta(days=1)
    while day.weekday() >= 5 or not plain.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_day(client: Client, **fields: Any) -> Any:
    data = {"kind": CalendarDayKind.DAY_OFF, "name_ru": "Перенос", "name_kk": "", "name_en": ""}
    data.update({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in fields.items()})
    return client.post("/calendar/", data)


# --- Decreed days: list, add, edit, remove ---------------------------------------------------


def test_staff_add_edit_and_remove_a_decreed_day_and_each_change_is_logged(
    as_user, directory: DemoDirectory
) -> None:
    client = as_user(directory.staff)
    day = dt.date(2027, 1, 8)  # a Friday
    response = add_day(
        client,
        date=day,
        name_ru="Перенос выходного дня с 9 января",
        name_kk="Демалыс күнін ауыстыру",
        name_en="Day off moved from 9 January",
    )
    assert response.status_code == 302 and response["Location"].startswith("/calendar/?year=2027")
    row = CalendarDay.objects.get(date=day)
    assert row.kind == CalendarDayKind.DAY_OFF and row.name_kk == "Демалыс күнін ауыстыру"

    page = client.get("/calendar/?year=2027").content.decode()
    assert 'data-decreed-day="2027-01-08" data-kind="day_off"' in page
    assert "Day off moved from 9 January" in page
    assert 'data-holiday="2027-01-01"' in page  # the package's holidays are listed too

    response = client.post(
        f"/calendar/days/{row.pk}/",
        {
            "date": "2027-01-09",
            "kind": CalendarDayKind.WORKING_DAY,
            "name_ru": "Рабочая суббота",
            "name_kk": "",
            "name_en": "Working Saturday",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.date, row.kind, row.name_en) == (
        dt.date(2027, 1, 9),
        CalendarDayKind.WORKING_DAY,
        "Working Saturday",
    )

    confirm = client.get(f"/calendar/days/{row.pk}/remove/")
    assert confirm.status_code == 200
    assert 'data-remove-day="2027-01-09"' in confirm.content.decode()
    assert CalendarDay.objects.filter(pk=row.pk).exists()  # asking is not removing
    assert client.post(f"/calendar/days/{row.pk}/remove/").status_code == 302
    assert not CalendarDay.objects.filter(pk=row.pk).exists()

    entries = list(LogEntry.objects.order_by("pk"))
    assert [e.action_flag for e in entries] == [ADDITION, CHANGE, DELETION]
    assert {e.user_id for e in entries} == {directory.staff.pk}
    assert "date" in entries[1].get_change_message()
    history = client.get("/calendar/?year=2027").content.decode()
    assert "09.01.2027" in history and "Working day (working Saturday or transferred)" in history


def test_a_due_date_computed_after_a_decreed_day_off_honours_it(
    as_user, directory: DemoDirectory
) -> None:
    today = timezone.localdate()
    rule = get_rule(RULE_DEPUTY_REQUEST)
    before = compute_due_date(rule=rule, start=today, calendar=calendar_for(today))
    decreed = next_plain_working_day(today)
    add_day(as_user(directory.staff), date=decreed, name_ru="Перенос", name_en="Transfer")

    item = make_request(directory, status=RequestStatus.IN_PROGRESS)

    after = compute_due_date(rule=rule, start=today)
    assert after.due > before.due
    assert item.due_date == after.due
    assert decreed in [day.date for day in after.skipped]
    with translation.override("en"):
        box = due_explanation(item)
    assert box is not None
    assert f"{decreed:%d.%m.%Y}: Transfer (day off by government decree)" in box["lines"]


def test_an_admin_may_keep_the_calendar_too(as_user, directory: DemoDirectory) -> None:
    response = add_day(as_user(directory.admin), date=dt.date(2027, 1, 8))
    assert response.status_code == 302
    assert LogEntry.objects.get().user_id == directory.admin.pk


# --- Deadline rules -------------------------------------------------------------------------


def test_staff_edit_a_deadline_rule_and_new_due_dates_follow_it(
    as_user, directory: DemoDirectory
) -> None:
    client = as_user(directory.staff)
    listing = client.get("/calendar/rules/").content.decode()
    for code in ("deputy_request", "deputy_request_evaluation", "instruction", "forwarding"):
        assert f'data-rule="{code}"' in listing
    assert '<td class="text-end text-nowrap" data-term>15 working days</td>' in listing
    assert "30 calendar days" in listing
    form = client.get("/calendar/rules/deputy_request/")
    assert (
        form.status_code == 200 and "Административный процедурный кодекс" in form.content.decode()
    )

    rule = get_rule(RULE_DEPUTY_REQUEST)
    data = {
        "name_ru": rule.name_ru,
        "name_kk": rule.name_kk,
        "name_en": rule.name_en,
        "legal_basis": "Закон о статусе депутата, ст. 10",
        "days": "10",
        "unit": "working",
        "max_extension_months": "1",
        "notice_days": "3",
        "pauses_clock": "on",
        "is_active": "on",
    }
    response = client.post("/calendar/rules/deputy_request/", data)
    assert response.status_code == 302 and response["Location"] == "/calendar/rules/"
    rule.refresh_from_db()
    assert (rule.days, rule.max_extension_months, rule.pauses_clock) == (10, 1, True)
    entry = LogEntry.objects.get()
    assert entry.action_flag == CHANGE and entry.object_id == str(rule.pk)

    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    assert item.due_date_basis["days"] == 10
    assert item.due_date_basis["legal_basis"] == "Закон о статусе депутата, ст. 10"
    changes = client.get("/calendar/").content.decode()
    assert "days: 15 → 10" in changes


def test_an_unknown_rule_is_not_found(as_user, directory: DemoDirectory) -> None:
    assert as_user(directory.staff).get("/calendar/rules/no-such-rule/").status_code == 404


# --- Who may ----------------------------------------------------------------------------------

#: Every new address, with a body for its POST.
ADDRESSES: list[tuple[str, str, dict[str, str]]] = [
    ("get", "/calendar/", {}),
    ("post", "/calendar/", {"date": "2027-01-08", "kind": "day_off", "name_ru": "x"}),
    ("get", "/calendar/days/{day}/", {}),
    ("post", "/calendar/days/{day}/", {"date": "2027-01-08", "kind": "day_off", "name_ru": "y"}),
    ("get", "/calendar/days/{day}/remove/", {}),
    ("post", "/calendar/days/{day}/remove/", {}),
    ("get", "/calendar/rules/", {}),
    ("get", "/calendar/rules/deputy_request/", {}),
    ("post", "/calendar/rules/deputy_request/", {"days": "1"}),
]


@pytest.mark.parametrize("role", ["deputy", "executor", "head", "chair", "plain_admin"])
@pytest.mark.parametrize(("method", "path", "body"), ADDRESSES)
def test_nobody_but_staff_and_administrators_opens_the_calendar_pages(
    as_user, directory: DemoDirectory, role: str, method: str, path: str, body: dict[str, str]
) -> None:
    users = {
        "deputy": directory.alice.user,
        "executor": directory.finance_exec,
        "head": directory.finance_head,
        "chair": directory.chair,
        # An administrator keeps the calendar (the admin role, no superuser rights needed).
        "plain_admin": UserFactory.create(username="plain-admin", role=Role.ADMIN),
    }
    row = CalendarDay.objects.create(date=dt.date(2027, 1, 7), kind="day_off", name_ru="Перенос")
    url = path.format(day=row.pk)
    response = getattr(as_user(users[role]), method)(url, body)
    if role == "plain_admin":
        assert response.status_code in (200, 302, 400)
    else:
        assert response.status_code == 403
        assert CalendarDay.objects.get(pk=row.pk).name_ru == "Перенос"
        assert not LogEntry.objects.exists()


@pytest.mark.parametrize(("method", "path", "body"), ADDRESSES)
def test_an_anonymous_visitor_is_sent_to_log_in(
    as_user, method: str, path: str, body: dict[str, str]
) -> None:
    response = getattr(as_user(None), method)(path.format(day=1), body)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_services_refuse_anyone_but_staff(directory: DemoDirectory) -> None:
    with pytest.raises(ActionForbidden):
        calendar.calendar_day_create(
            by=directory.chair, date=dt.date(2027, 1, 8), kind="day_off", name_ru="x"
        )
    with pytest.raises(ActionForbidden):
        calendar.deadline_rule_update(by=directory.finance_head, code="deputy_request", days=1)


def test_a_missing_decreed_day_is_not_found(as_user, directory: DemoDirectory) -> None:
    client = as_user(directory.staff)
    assert client.get("/calendar/days/999999/").status_code == 404
    assert client.get(f"/calendar/days/{2**64}/remove/").status_code == 404


# --- Bad input: a message in Russian, never a 500, what was typed kept -------------------------


def ru(msgid: str, **values: Any) -> str:
    """``msgid`` as the Russian catalog words it (escaped as the page shows it)."""
    with translation.override("ru"):
        text = translation.gettext(msgid)
    return escape(text % values if values else text)


def test_bad_dates_and_duplicates_are_explained_in_russian(
    as_user, directory: DemoDirectory
) -> None:
    client = as_user(directory.staff, "ru")
    CalendarDay.objects.create(date=dt.date(2027, 1, 8), kind="day_off", name_ru="Перенос")

    duplicate = add_day(client, date=dt.date(2027, 1, 8), name_ru="Мой текст")
    assert duplicate.status_code == 400
    html = duplicate.content.decode()
    assert (
        ru(
            "%(date)s is already in the table of decreed days: edit that entry instead.",
            date="08.01.2027",
        )
        in html
    )
    assert 'value="Мой текст"' in html  # what was typed is kept

    unreadable = add_day(client, date="2027-02-30", name_ru="Текст")
    assert unreadable.status_code == 400
    assert ru("Enter a date, e.g. 2027-01-02.") in unreadable.content.decode()

    weekday = add_day(client, date=dt.date(2027, 1, 13), kind="working_day")
    assert weekday.status_code == 400
    assert (
        ru(
            "%(date)s is a working day anyway: a decreed working day is a weekend day or a "
            "holiday made working.",
            date="13.01.2027",
        )
        in weekday.content.decode()
    )

    no_reason = add_day(client, date=dt.date(2027, 1, 13), name_ru=" ")
    assert no_reason.status_code == 400
    assert "Обязательное поле." in no_reason.content.decode()

    far = add_day(client, date=dt.date(1990, 1, 3))
    assert far.status_code == 400
    assert ru("Choose a date between %(first)d and %(last)d.", first=2000, last=2100) in (
        far.content.decode()
    )

    bad_year = client.get("/calendar/?year=abc")
    assert bad_year.status_code == 400
    assert ru(
        "Choose a year from %(first)d to %(last)d; this year is shown.", first=2000, last=2100
    ) in (bad_year.content.decode())
    assert CalendarDay.objects.count() == 1 and not LogEntry.objects.exists()


def test_a_bad_rule_is_explained_in_russian_and_nothing_changes(
    as_user, directory: DemoDirectory
) -> None:
    rule = get_rule(RULE_DEPUTY_REQUEST)
    data = {
        "name_ru": rule.name_ru,
        "legal_basis": "Своё основание",
        "days": "0",
        "unit": "working",
        "max_extension_months": "2",
        "notice_days": "3",
    }
    response = as_user(directory.staff, "ru").post("/calendar/rules/deputy_request/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Убедитесь, что это значение больше либо равно 1." in html
    assert "Своё основание" in html
    rule.refresh_from_db()
    assert rule.days == 15 and not LogEntry.objects.exists()


def test_an_edit_onto_a_taken_date_is_refused(directory: DemoDirectory) -> None:
    first = calendar.calendar_day_create(
        by=directory.staff, date=dt.date(2027, 1, 7), kind="day_off", name_ru="a"
    )
    second = calendar.calendar_day_create(
        by=directory.staff, date=dt.date(2027, 1, 8), kind="day_off", name_ru="b"
    )
    with pytest.raises(ValidationFailed) as refused:
        calendar.calendar_day_update(
            by=directory.staff, pk=second.pk, date=first.date, kind="day_off", name_ru="b"
        )
    assert refused.value.field == "date"
    # Saving a row unchanged records nothing.
    calendar.calendar_day_update(
        by=directory.staff, pk=first.pk, date=first.date, kind="day_off", name_ru="a"
    )
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == 0


# --- The warning of the staff home page ---------------------------------------------------------


def test_the_warning_appears_while_the_coming_year_is_empty_and_goes_after_an_entry(
    directory: DemoDirectory,
) -> None:
    with translation.override("en"):
        assert "entered for 2026" in (calendar.coming_year_warning(TODAY) or "")
        calendar.calendar_day_create(
            by=directory.staff, date=dt.date(2026, 1, 2), kind="day_off", name_ru="Перенос"
        )
        # November: the current year is entered, the next one is not.
        assert "2027" in (calendar.coming_year_warning(TODAY) or "")
        assert calendar.coming_year_warning(dt.date(2026, 9, 30)) is None
        html = render_to_string(
            "directory/_calendar_warning.html",
            {"calendar_warning": calendar.coming_year_warning(TODAY)},
        )
        assert 'href="/calendar/"' in html and "2027" in html
        calendar.calendar_day_create(
            by=directory.staff, date=dt.date(2027, 1, 8), kind="day_off", name_ru="Перенос"
        )
        assert calendar.coming_year_warning(TODAY) is None
        assert render_to_string("directory/_calendar_warning.html", {}).strip() == ""


def test_the_calendar_page_shows_the_warning(as_user, directory: DemoDirectory) -> None:
    page = as_user(directory.staff).get("/calendar/").content.decode()
    assert "No decreed days (transferred days off, working Saturdays) are entered for" in page


# --- "How computed" ---------------------------------------------------------------------------


def test_how_computed_shows_the_legal_basis(as_user, directory: DemoDirectory) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    html = as_user(directory.alice.user).get(f"/requests/{item.pk}/").content.decode()
    assert "Legal basis: Административный процедурный кодекс РК, ст. 76" in html


def test_a_record_from_before_the_basis_was_recorded_reads_it_from_the_rule(
    directory: DemoDirectory,
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    del item.due_date_basis["legal_basis"]
    box = due_explanation(item)
    assert box is not None
    assert box["legal_basis"].startswith("Административный процедурный кодекс")


def test_the_public_holidays_come_from_the_package_with_the_transfers_it_knows() -> None:
    with translation.override("en"):
        days = {info.date: info for info in public_holidays(2024)}
    assert days[dt.date(2024, 12, 16)].reason == "Independence Day"
    assert days[dt.date(2024, 5, 4)].is_working  # the Saturday made working
    assert days[dt.date(2024, 5, 8)].reason == "Day off transferred from 04.05.2024"


# --- Query counts -----------------------------------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_pages_cost_the_same_number_of_queries_for_few_and_many_rows(
    as_user, directory: DemoDirectory
) -> None:
    client = as_user(directory.staff)
    weekdays = [
        day
        for day in (dt.date(2027, 1, 1) + dt.timedelta(days=n) for n in range(200))
        if day.weekday() < 5
    ]
    for day in weekdays[:2]:
        calendar.calendar_day_create(by=directory.staff, date=day, kind="day_off", name_ru="a")
    client.get("/calendar/rules/")  # the default rules are created once
    few = (count_queries(client, "/calendar/?year=2027"), count_queries(client, "/calendar/rules/"))
    for day in weekdays[2:40]:
        calendar.calendar_day_create(by=directory.staff, date=day, kind="day_off", name_ru="a")
    DeadlineRule.objects.create(code="extra", days=5, unit="working", name_ru="Ещё одно")
    many = (
        count_queries(client, "/calendar/?year=2027"),
        count_queries(client, "/calendar/rules/"),
    )
    assert many == few


# --- The demo ---------------------------------------------------------------------------------


def test_the_demo_enters_the_known_transfers_once_and_stops_the_request_clock() -> None:
    directory = seed_directory(seed=2023)
    context = DemoContext(directory=directory, seed=2023)
    today = dt.date(2025, 6, 1)  # the demo years 2024, 2025 and 2026
    # A database from before the clock could stop: the rule has it off.
    DeadlineRule.objects.filter(pk=get_rule(RULE_DEPUTY_REQUEST).pk).update(pauses_clock=False)

    with translation.override("en"):
        summary = seed_decreed_days(context, today=today)

    assert summary == "Decreed days entered from the known transfers: 4."
    rows = {row.date: row for row in CalendarDay.objects.all()}
    assert {day: row.kind for day, row in rows.items()} == {
        dt.date(2024, 5, 4): CalendarDayKind.WORKING_DAY,
        dt.date(2024, 5, 8): CalendarDayKind.DAY_OFF,
        dt.date(2025, 1, 3): CalendarDayKind.DAY_OFF,
        dt.date(2025, 1, 5): CalendarDayKind.WORKING_DAY,
    }
    moved = rows[dt.date(2024, 5, 8)]
    assert moved.name_ru == (
        "Перенос выходного дня с 04.05.2024 на 08.05.2024 (постановление Правительства РК)"
    )
    assert moved.name_kk.startswith("Демалыс күнін 04.05.2024 күннен 08.05.2024 күнге")
    assert moved.name_en.startswith("Day off transferred from 04.05.2024 to 08.05.2024")
    assert get_rule(RULE_DEPUTY_REQUEST).pauses_clock is True
    logged = LogEntry.objects.count()
    assert logged == 5  # four days and the rule, each through its service

    with translation.override("en"):
        again = seed_decreed_days(context, today=today)
    assert again == "Decreed days entered from the known transfers: 0."
    assert CalendarDay.objects.count() == 4 and LogEntry.objects.count() == logged

    # A due date over the transfer says so: 7 May 2024 + 1 working day skips the decreed 8 May.
    with translation.override("en"):
        due = compute_due_date(rule=get_rule(RULE_DEPUTY_REQUEST), start=dt.date(2024, 5, 7))
        lines = due.explain()
    assert any("08.05.2024: Day off transferred from 04.05.2024" in line for line in lines)
    assert any("(day off by government decree)" in line for line in lines)
