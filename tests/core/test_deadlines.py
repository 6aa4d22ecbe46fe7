"""Deadlines as data: the Kazakhstan working-day calendar, due dates and the default rules."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import translation

from maslikhat.core.deadlines import (
    DEFAULT_RULES,
    RULE_DEPUTY_REQUEST,
    RULE_FORWARDING,
    CalendarDay,
    CalendarDayKind,
    DayUnit,
    DeadlineRule,
    DueDate,
    WorkingCalendar,
    add_months,
    calendar_for,
    compute_due_date,
    deadline_rules_ensure_defaults,
    due_explanation,
    get_rule,
    max_extension_date,
    year_working_day_counts,
)

# No decreed days: weekends and the public holidays of the ``holidays`` package only.
PLAIN = WorkingCalendar.from_days([])


def decreed_transfer() -> list[CalendarDay]:
    """A transfer as the government decrees it: Saturday 6 June 2026 is worked instead of
    Friday 12 June 2026."""
    reason = "Перенос выходного дня с 6 июня на 12 июня (постановление Правительства)"
    return [
        CalendarDay(date=date(2026, 6, 6), kind=CalendarDayKind.WORKING_DAY, name_ru=reason),
        CalendarDay(date=date(2026, 6, 12), kind=CalendarDayKind.DAY_OFF, name_ru=reason),
    ]


def working_rule(days: int) -> DeadlineRule:
    return DeadlineRule(code="test", days=days, unit=DayUnit.WORKING, name_ru="Тест")


def test_it_skips_weekends() -> None:
    # Friday 5 June 2026 + 1 working day: Saturday and Sunday skipped, due Monday.
    result = PLAIN.add_working_days(date(2026, 6, 5), 1)
    assert result.due == date(2026, 6, 8)
    assert [info.date for info in result.skipped] == [date(2026, 6, 6), date(2026, 6, 7)]


def test_it_starts_counting_the_day_after_routing() -> None:
    # Routed on Monday 1 June 2026 with 1 working day: due Tuesday.
    assert PLAIN.add_working_days(date(2026, 6, 1), 1).due == date(2026, 6, 2)
    assert PLAIN.add_working_days(date(2026, 6, 1), 1).skipped == []


def test_kz_holidays_2026_give_five_days_off_for_nauryz() -> None:
    # Nauryz is 21–23 March; 21 and 22 fall on the weekend, so 24 and 25 are days off too.
    days = [date(2026, 3, 20) + timedelta(n) for n in range(7)]
    assert [PLAIN.is_working_day(d) for d in days] == [
        True,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_it_skips_nauryz_2026() -> None:
    # Routed Wednesday 18 March 2026, 15 working days:
    # 19, 20 March (1–2); skipped Sat 21, Sun 22, Mon 23 (Nauryz), Tue 24, Wed 25 (Nauryz,
    # transferred); 26, 27 (3–4); skipped 28, 29; 30, 31 March, 1–3 April (5–9); skipped 4, 5;
    # 6–10 April (10–14); skipped 11, 12; Monday 13 April is the 15th working day.
    result = PLAIN.add_working_days(date(2026, 3, 18), 15)
    assert result.due == date(2026, 4, 13)
    assert [info.date for info in result.skipped] == [
        date(2026, 3, 21),
        date(2026, 3, 22),
        date(2026, 3, 23),
        date(2026, 3, 24),
        date(2026, 3, 25),
        date(2026, 3, 28),
        date(2026, 3, 29),
        date(2026, 4, 4),
        date(2026, 4, 5),
        date(2026, 4, 11),
        date(2026, 4, 12),
    ]
    assert all(not info.is_working for info in result.skipped)


def test_it_skips_independence_day() -> None:
    # Routed Monday 14 December 2026, 3 working days: Tue 15 (1), Wed 16 Independence Day
    # skipped, Thu 17 (2), Fri 18 (3).
    result = PLAIN.add_working_days(date(2026, 12, 14), 3)
    assert result.due == date(2026, 12, 18)
    assert [info.date for info in result.skipped] == [date(2026, 12, 16)]
    with translation.override("en"):
        assert PLAIN.day_info(date(2026, 12, 16)).reason == "Independence Day"


def test_a_decreed_working_saturday_counts_as_a_working_day() -> None:
    cal = WorkingCalendar.from_days(decreed_transfer())
    # Routed Wednesday 3 June 2026, 3 working days: Thu 4 (1), Fri 5 (2), Sat 6 worked (3).
    # Without the decree the due date would be Monday 8 June.
    assert PLAIN.add_working_days(date(2026, 6, 3), 3).due == date(2026, 6, 8)
    result = cal.add_working_days(date(2026, 6, 3), 3)
    assert result.due == date(2026, 6, 6)
    assert result.skipped == []


def test_a_decreed_day_off_on_a_weekday_moves_the_due_date() -> None:
    cal = WorkingCalendar.from_days(decreed_transfer())
    # Routed Monday 8 June 2026, 15 working days: without the decree Monday 29 June; with
    # Friday 12 June off, Tuesday 30 June.
    assert PLAIN.add_working_days(date(2026, 6, 8), 15).due == date(2026, 6, 29)
    result = cal.add_working_days(date(2026, 6, 8), 15)
    assert result.due == date(2026, 6, 30)
    assert result.skipped[0].date == date(2026, 6, 12)
    assert result.skipped[0].reason.startswith("Перенос выходного дня с 6 июня")


@pytest.mark.django_db
def test_it_reads_decreed_days_from_the_database() -> None:
    for row in decreed_transfer():
        row.save()
    assert calendar_for(date(2026, 6, 8)).add_working_days(date(2026, 6, 8), 15).due == date(
        2026, 6, 30
    )


def test_a_decreed_day_overrides_a_public_holiday() -> None:
    # Say Kurban Ait falls elsewhere than the package estimates: staff make the estimated day
    # a working day.
    estimated = date(2026, 5, 27)
    assert not PLAIN.is_working_day(estimated)
    cal = WorkingCalendar.from_days(
        [
            CalendarDay(
                date=estimated, kind=CalendarDayKind.WORKING_DAY, name_ru="Курбан айт перенесён"
            )
        ]
    )
    assert cal.day_info(estimated).is_working
    assert cal.day_info(estimated).reason == "Курбан айт перенесён"


def test_a_calendar_day_deadline_on_a_sunday_moves_to_monday() -> None:
    # Friday 8 May 2026 + 30 calendar days = Sunday 7 June 2026, so due Monday 8 June.
    result = PLAIN.add_days(date(2026, 5, 8), 30, DayUnit.CALENDAR)
    assert result.due == date(2026, 6, 8)
    assert [info.date for info in result.skipped] == [date(2026, 6, 7)]
    assert result.unit == DayUnit.CALENDAR


def test_a_calendar_day_deadline_on_nauryz_moves_past_all_its_days_off() -> None:
    # Thursday 19 February 2026 + 30 calendar days = Saturday 21 March 2026; 21–25 March are
    # days off, so due Thursday 26 March.
    result = PLAIN.add_days(date(2026, 2, 19), 30, DayUnit.CALENDAR)
    assert result.due == date(2026, 3, 26)
    assert len(result.skipped) == 5


def test_a_calendar_day_deadline_on_a_working_day_stays() -> None:
    result = PLAIN.add_days(date(2026, 6, 1), 30, DayUnit.CALENDAR)
    assert result.due == date(2026, 7, 1)
    assert result.skipped == []


def test_add_days_dispatches_working_units() -> None:
    assert PLAIN.add_days(date(2026, 6, 5), 1, DayUnit.WORKING).due == date(2026, 6, 8)
    with pytest.raises(ValueError):
        PLAIN.add_days(date(2026, 6, 5), 1, "fortnights")


def test_working_days_between_counts_forward_and_backward() -> None:
    friday, monday = date(2026, 6, 5), date(2026, 6, 8)
    assert PLAIN.working_days_between(friday, monday) == 1
    assert PLAIN.working_days_between(friday, friday) == 0
    assert PLAIN.working_days_between(monday, friday) == -1
    # Friday 20 to Thursday 26 March 2026: only the 26th is worked (Nauryz in between).
    assert PLAIN.working_days_between(date(2026, 3, 20), date(2026, 3, 26)) == 1
    # A due date and the answer after it: overdue by that many working days.
    due = PLAIN.add_working_days(date(2026, 3, 18), 15).due
    assert PLAIN.working_days_between(date(2026, 3, 18), due) == 15
    assert PLAIN.working_days_between(due, date(2026, 3, 18)) == -15


def walked(calendar: WorkingCalendar, a: date, b: date) -> int:
    """``working_days_between`` by its definition: a walk over every day after ``a``."""
    if b < a:
        return -walked(calendar, b, a)
    return sum(calendar.is_working_day(a + timedelta(days=n)) for n in range(1, (b - a).days + 1))


@pytest.mark.django_db
def test_working_days_between_agrees_with_a_walk_across_years_and_decrees() -> None:
    CalendarDay.objects.create(
        date=date(2025, 12, 29), kind=CalendarDayKind.DAY_OFF, name_ru="Перенос"
    )
    CalendarDay.objects.create(
        date=date(2026, 1, 3), kind=CalendarDayKind.WORKING_DAY, name_ru="Суббота"
    )
    first, last = date(2024, 11, 20), date(2027, 2, 10)
    calendar = WorkingCalendar.load(first, last)
    assert not calendar.is_working_day(date(2025, 12, 29))
    assert calendar.is_working_day(date(2026, 1, 3))
    days = [first + timedelta(days=n) for n in range(0, (last - first).days + 1, 3)]
    for a in days[::7]:
        for b in days:
            assert calendar.working_days_between(a, b) == walked(calendar, a, b), (a, b)
    # The day off and the working Saturday cancel out over a span holding both; a span
    # holding only the day off counts one day fewer.
    assert calendar.working_days_between(date(2025, 12, 20), date(2026, 1, 10)) == walked(
        PLAIN, date(2025, 12, 20), date(2026, 1, 10)
    )
    assert (
        calendar.working_days_between(date(2025, 12, 28), date(2025, 12, 31))
        == walked(PLAIN, date(2025, 12, 28), date(2025, 12, 31)) - 1
    )


@pytest.mark.django_db
def test_a_year_is_counted_once_per_state_of_its_decreed_days(
    django_assert_num_queries: Any,
) -> None:
    friday, thursday = date(2026, 12, 11), date(2026, 12, 17)
    year_working_day_counts.cache_clear()
    assert calendar_for(friday, thursday).working_days_between(friday, thursday) == 3
    with django_assert_num_queries(1):  # the decreed days; the year from the process's cache
        assert calendar_for(friday, thursday).working_days_between(thursday, friday) == -3
    assert year_working_day_counts.cache_info().misses == 1
    assert year_working_day_counts.cache_info().hits == 1
    # A decreed day is another state of the year: counted afresh, at once.
    CalendarDay.objects.create(date=date(2026, 12, 14), kind=CalendarDayKind.DAY_OFF, name_ru="—")
    assert calendar_for(friday, thursday).working_days_between(friday, thursday) == 2
    assert year_working_day_counts.cache_info().misses == 2


def test_the_explanation_lists_the_skipped_days_with_reasons() -> None:
    # Reasons are worded in the language active when the due date is computed.
    with translation.override("en"):
        result = compute_due_date(rule=working_rule(15), start=date(2026, 3, 18), calendar=PLAIN)
        lines = result.explain()
    assert lines[0] == "15 working days counted from the day after 18.03.2026."
    assert "21.03.2026: Nowruz Holiday (day off)" in lines
    assert "24.03.2026: Nowruz Holiday, transferred (day off)" in lines
    assert "28.03.2026: Saturday (day off)" in lines
    assert "29.03.2026: Sunday (day off)" in lines
    assert lines[-1] == "Due date: 13.04.2026."
    assert len(lines) == 2 + 11


def test_the_record_is_json_serialisable() -> None:
    with translation.override("en"):
        result = compute_due_date(rule=working_rule(3), start=date(2026, 12, 14), calendar=PLAIN)
        record = result.as_dict()
    assert json.loads(json.dumps(record)) == {
        "due": "2026-12-18",
        "start": "2026-12-14",
        "days": 3,
        "unit": "working",
        "rule": "test",
        "legal_basis": "",
        "skipped": [{"date": "2026-12-16", "reason": "Independence Day", "source": "holiday"}],
    }


def test_the_stored_record_reads_back_as_the_same_computation() -> None:
    with translation.override("en"):
        result = compute_due_date(rule=working_rule(15), start=date(2026, 3, 18), calendar=PLAIN)
        record = json.loads(json.dumps(result.as_dict()))
        restored = DueDate.from_dict(record)
        assert restored is not None
        assert restored.as_dict() == result.as_dict()
        assert restored.explain() == result.explain()


@pytest.mark.parametrize(
    "record",
    [None, {}, {"due": "2026-05-04", "set_by_staff": True}, {"due": "soon", "start": 1, "days": 3}],
)
def test_a_record_that_is_not_a_computation_reads_back_as_none(record: dict | None) -> None:
    assert DueDate.from_dict(record) is None


class _Item:
    def __init__(self, basis: dict, due_date: date | None) -> None:
        self.due_date_basis = basis
        self.due_date = due_date


def test_the_how_computed_box_words_the_record_and_notices_an_extension() -> None:
    with translation.override("en"):
        record = compute_due_date(
            rule=working_rule(3), start=date(2026, 12, 14), calendar=PLAIN
        ).as_dict()
        box = due_explanation(_Item(record, date(2026, 12, 18)))
        moved = due_explanation(_Item(record, date(2026, 12, 25)))
    assert box is not None and moved is not None
    assert box["set_by_staff"] is False
    assert box["lines"][-1] == "Due date: 18.12.2026."
    assert "16.12.2026: Independence Day (day off)" in box["lines"]
    assert box["extended"] is False
    assert moved["extended"] is True


def test_the_how_computed_box_says_when_staff_set_the_date_and_is_empty_without_a_record() -> None:
    staff = due_explanation(_Item({"due": "2026-05-04", "set_by_staff": True}, date(2026, 5, 4)))
    assert staff == {"set_by_staff": True, "lines": [], "extended": False}
    assert due_explanation(_Item({}, None)) is None


def test_max_extension_date_clamps_to_the_end_of_the_month() -> None:
    one_month = DeadlineRule(max_extension_months=1)
    assert max_extension_date(rule=one_month, original_due=date(2026, 1, 31)) == date(2026, 2, 28)
    assert max_extension_date(rule=one_month, original_due=date(2028, 1, 31)) == date(2028, 2, 29)
    two_months = DeadlineRule(max_extension_months=2)
    assert max_extension_date(rule=two_months, original_due=date(2026, 12, 31)) == date(2027, 2, 28)
    assert max_extension_date(rule=two_months, original_due=date(2026, 3, 31)) == date(2026, 5, 31)
    assert add_months(date(2026, 4, 15), 0) == date(2026, 4, 15)


@pytest.mark.django_db
def test_defaults_are_ensured_idempotently() -> None:
    assert deadline_rules_ensure_defaults() == len(DEFAULT_RULES) == 4
    assert deadline_rules_ensure_defaults() == 0
    rule = DeadlineRule.objects.get(code=RULE_DEPUTY_REQUEST)
    assert (rule.days, rule.unit, rule.max_extension_months, rule.notice_days) == (
        15,
        DayUnit.WORKING,
        2,
        3,
    )
    assert "ст. 76" in rule.legal_basis
    assert DeadlineRule.objects.get(code="instruction").unit == DayUnit.CALENDAR


@pytest.mark.django_db
def test_defaults_never_overwrite_a_rule_staff_edited() -> None:
    deadline_rules_ensure_defaults()
    DeadlineRule.objects.filter(code=RULE_DEPUTY_REQUEST).update(days=20, legal_basis="Регламент")
    DeadlineRule.objects.filter(code=RULE_FORWARDING).delete()
    assert deadline_rules_ensure_defaults() == 1
    rule = DeadlineRule.objects.get(code=RULE_DEPUTY_REQUEST)
    assert (rule.days, rule.legal_basis) == (20, "Регламент")


@pytest.mark.django_db
def test_get_rule_seeds_a_fresh_database() -> None:
    assert not DeadlineRule.objects.exists()
    rule = get_rule(RULE_DEPUTY_REQUEST)
    assert rule.days == 15
    assert DeadlineRule.objects.count() == 4
    with pytest.raises(DeadlineRule.DoesNotExist):
        get_rule("no_such_rule")


@pytest.mark.django_db
def test_compute_due_date_uses_the_stored_rule() -> None:
    rule = get_rule(RULE_DEPUTY_REQUEST)
    result = compute_due_date(rule=rule, start=date(2026, 3, 18))
    assert result.due == date(2026, 4, 13)
    assert result.rule_code == RULE_DEPUTY_REQUEST


@pytest.mark.django_db
def test_a_calendar_issues_a_bounded_number_of_queries(django_assert_max_num_queries) -> None:
    for row in decreed_transfer():
        row.save()
    rule = working_rule(15)
    start = date(2026, 1, 5)
    with django_assert_max_num_queries(1):
        cal = calendar_for(start, start + timedelta(days=199))
        dues = [
            compute_due_date(rule=rule, start=start + timedelta(days=n), calendar=cal).due
            for n in range(200)
        ]
    assert len(dues) == 200
    # A year outside the loaded range is read once, on first use.
    with django_assert_max_num_queries(1):
        for n in range(200):
            cal.add_working_days(date(2029, 1, 1) + timedelta(days=n), 15)
