"""The working calendar and the deadline rules as staff maintain them in the portal.

Selectors and services behind the pages ``/calendar/`` (the public holidays of the ``holidays``
package and the decreed days of a year) and ``/calendar/rules/`` (the deadline rules). The
models live in ``maslikhat.core.deadlines``; they are edited here because the pages need the
roles (``accounts``) and the core may not import them.

Every change goes through one service of this module (``calendar_day_create``,
``calendar_day_update``, ``calendar_day_remove``, ``deadline_rule_update``), which checks who
acts, validates, writes the row and records the change in Django's ``LogEntry`` (the admin's
history: who, when, which fields, from what to what) in the same transaction.

A change takes effect for due dates computed afterwards: due dates already set on items are
not recomputed (an item keeps the computation it was given, ``due_date_basis``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, models, transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core.deadlines import (
    CalendarDay,
    CalendarDayKind,
    DayInfo,
    DayUnit,
    DeadlineRule,
    deadline_rules_ensure_defaults,
    get_rule,
    public_holidays,
)
from maslikhat.core.exceptions import ActionForbidden, ValidationFailed

from .actors import actor_for

# From this day of the year on, the next year's decreed days are expected to be entered
# (the government usually publishes the transfers for the next year in the autumn).
WARN_FROM_MONTH = 10
WARN_FROM_DAY = 1

#: The years the calendar pages accept (the ``holidays`` package knows Kazakhstan's from 1991).
MIN_YEAR = 2000
MAX_YEAR = 2100

#: Limits of a deadline rule's figures (sanity: a typo of 150 for 15 is refused).
MAX_RULE_DAYS = 365
MAX_EXTENSION_MONTHS = 24
MAX_NOTICE_DAYS = 60

REASON_MAX = 300  # the length of ``TranslatedName.name_*``

#: The fields of a deadline rule staff edit (``code`` is fixed: the code refers to it).
RULE_FIELDS = (
    "name_ru",
    "name_kk",
    "name_en",
    "legal_basis",
    "days",
    "unit",
    "max_extension_months",
    "notice_days",
    "pauses_clock",
    "is_active",
)
DAY_FIELDS = ("date", "kind", "name_ru", "name_kk", "name_en")


# --- Who may --------------------------------------------------------------------------------


def can_manage_calendar(user: Any) -> bool:
    """Council staff and administrators (``accounts/roles.py``) keep the calendar and rules."""
    actor = actor_for(user)
    return actor.is_staff or actor.is_admin


def _require_manager(by: User) -> None:
    if not can_manage_calendar(by):
        raise ActionForbidden(_("Only the maslikhat staff keep the calendar and deadline rules."))


# --- The warning on the staff home page ------------------------------------------------------


def year_has_decreed_days(year: int) -> bool:
    return CalendarDay.objects.filter(
        date__gte=date(year, 1, 1), date__lt=date(year + 1, 1, 1)
    ).exists()


def coming_year(today: date) -> int | None:
    """The year whose decreed days are missing and should be entered now, or ``None``.

    The current year when it has no entries; from 1 October on, the next year when it has
    none.
    """
    if not year_has_decreed_days(today.year):
        return today.year
    if (today.month, today.day) >= (WARN_FROM_MONTH, WARN_FROM_DAY) and not (
        year_has_decreed_days(today.year + 1)
    ):
        return today.year + 1
    return None


def coming_year_warning(today: date) -> str | None:
    """A warning for staff when the coming year has no decreed days entered; else ``None``."""
    year = coming_year(today)
    if year is None:
        return None
    return gettext(
        "No decreed days (transferred days off, working Saturdays) are entered for %(year)s: "
        "due dates in %(year)s count only weekends and public holidays."
    ) % {"year": year}


# --- Reads ------------------------------------------------------------------------------------


def parse_year(raw: str | None, today: date) -> int | None:
    """The year asked for in the address: ``today``'s when absent; ``None`` when unreadable."""
    if raw is None or raw == "":
        return today.year
    try:
        year = int(raw)
    except ValueError:
        return None
    return year if MIN_YEAR <= year <= MAX_YEAR else None


@dataclass(frozen=True)
class CalendarYear:
    """What the calendar page shows for one year."""

    year: int
    holidays: list[DayInfo]  # from the ``holidays`` package, never a query
    decreed: list[CalendarDay]  # the table staff keep
    changes: list[dict[str, Any]]  # the latest changes of the calendar and the rules


def calendar_year(year: int) -> CalendarYear:
    """The public holidays and the decreed days of ``year``, with the latest changes."""
    decreed = list(
        CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lt=date(year + 1, 1, 1))
    )
    return CalendarYear(
        year=year, holidays=public_holidays(year), decreed=decreed, changes=recent_changes()
    )


def decreed_dates(dates: list[date]) -> set[date]:
    """Which of ``dates`` already have a decreed day (one query)."""
    return set(CalendarDay.objects.filter(date__in=dates).values_list("date", flat=True))


def calendar_day(pk: int) -> CalendarDay:
    """A decreed day; ``CalendarDay.DoesNotExist`` when there is none."""
    return CalendarDay.objects.get(pk=pk)


def deadline_rules() -> list[dict[str, Any]]:
    """Every deadline rule with its term worded ("15 working days"); the defaults the code
    relies on are created first when missing."""
    deadline_rules_ensure_defaults()
    return [{"rule": rule, "term": rule_term(rule)} for rule in DeadlineRule.objects.all()]


def rule_term(rule: DeadlineRule) -> str:
    """ "15 working days", "30 calendar days", in the reader's language."""
    if rule.unit == DayUnit.CALENDAR:
        text = ngettext("%(count)d calendar day", "%(count)d calendar days", rule.days)
    else:
        text = ngettext("%(count)d working day", "%(count)d working days", rule.days)
    return text % {"count": rule.days}


def deadline_rule(code: str) -> DeadlineRule:
    """The rule with ``code`` (a missing default is created); ``DoesNotExist`` otherwise."""
    return get_rule(code)


def _content_types() -> dict[int, type[models.Model]]:
    types = ContentType.objects.get_for_models(CalendarDay, DeadlineRule)
    return {types[CalendarDay].pk: CalendarDay, types[DeadlineRule].pk: DeadlineRule}


def recent_changes(limit: int = 15) -> list[dict[str, Any]]:
    """The latest changes of decreed days and deadline rules, newest first, one query."""
    types = _content_types()
    entries = (
        LogEntry.objects.filter(content_type_id__in=list(types))
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )
    rows = []
    for entry in entries:
        model = types.get(entry.content_type_id or 0, CalendarDay)
        rows.append(
            {
                "at": entry.action_time,
                "by": entry.user.full_name or entry.user.username,
                "what": "day" if model is CalendarDay else "rule",
                "object": entry.object_repr,
                "action": entry.action_flag,
                "action_label": _ACTION_LABELS.get(entry.action_flag, ""),
                "details": _change_details(model, entry.change_message),
            }
        )
    return rows


_ACTION_LABELS = {
    ADDITION: pgettext_lazy("calendar change", "added"),
    CHANGE: pgettext_lazy("calendar change", "changed"),
    DELETION: pgettext_lazy("calendar change", "removed"),
}


def _change_details(model: type[models.Model], message: str) -> list[str]:
    """ "field: before → after" lines of a change recorded by these services (in the reader's
    language); an entry written otherwise (in the admin) has none."""
    try:
        records = json.loads(message)
    except ValueError:
        return []
    lines = []
    for record in records if isinstance(records, list) else []:
        values = record.get("values") if isinstance(record, dict) else None
        if not isinstance(values, dict):
            continue
        for name, pair in values.items():
            try:
                label = getattr(model._meta.get_field(name), "verbose_name", name)
                before, after = pair
            except (FieldDoesNotExist, TypeError, ValueError):
                continue
            if before in (None, "") and after in (None, ""):
                continue  # an optional field left empty on adding or removing
            lines.append(f"{label}: {_shown(name, before)} → {_shown(name, after)}")
    return lines


def _shown(field: str, value: Any) -> str:
    """A recorded value as the reader sees it: labels of choices, yes or no, dates."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None or value == "":
        return "—"
    if field == "kind" and value in CalendarDayKind.values:
        return str(CalendarDayKind(value).label)
    if field == "unit" and value in DayUnit.values:
        return str(DayUnit(value).label)
    if field == "date":
        try:
            return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


# --- Writes -----------------------------------------------------------------------------------


def _recorded(value: Any) -> Any:
    """A value as JSON keeps it: a date as ``YYYY-MM-DD``, a choice as its code."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int) or value is None:
        return value
    return str(value)


def _log(
    *, by: User, obj: models.Model, flag: int, changes: dict[str, tuple[Any, Any]] | None = None
) -> None:
    """One ``LogEntry`` in the admin's format (``[{"changed": {"fields": [...]}}]``), plus the
    values before and after, so the history reads in the admin and on the calendar page."""
    with translation.override(None):
        labels = {
            name: str(getattr(obj._meta.get_field(name), "verbose_name", name))
            for name in changes or {}
        }
    record: dict[str, Any]
    if flag == ADDITION:
        record = {"added": {}}
    elif flag == DELETION:
        record = {"deleted": {}}
    else:
        record = {"changed": {"fields": list(labels.values())}}
    if changes:
        record["values"] = {
            name: [_recorded(before), _recorded(after)] for name, (before, after) in changes.items()
        }
    LogEntry.objects.create(
        user_id=by.pk,
        content_type_id=ContentType.objects.get_for_model(type(obj)).pk,
        object_id=str(obj.pk),
        object_repr=str(_repr(obj))[:200],
        action_flag=flag,
        change_message=json.dumps([record], ensure_ascii=False),
    )


def _repr(obj: models.Model) -> str:
    if isinstance(obj, CalendarDay):
        return f"{obj.date.isoformat()} · {obj.name_ru}"
    if isinstance(obj, DeadlineRule):
        return f"{obj.code} · {obj.name_ru}"
    return str(obj)


def _clean_reason(name_ru: str, name_kk: str, name_en: str) -> tuple[str, str, str]:
    names = tuple((value or "").strip() for value in (name_ru, name_kk, name_en))
    if not names[0]:
        raise ValidationFailed(_("Give the reason in Russian."), field="name_ru")
    for field, value in zip(("name_ru", "name_kk", "name_en"), names, strict=True):
        if len(value) > REASON_MAX:
            raise ValidationFailed(
                _("The reason is too long (at most %(max)d characters).") % {"max": REASON_MAX},
                field=field,
            )
    return names[0], names[1], names[2]


def _check_day(day: date, kind: str, *, exclude_pk: int | None = None) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationFailed(
            _("Choose a date between %(first)d and %(last)d.")
            % {"first": MIN_YEAR, "last": MAX_YEAR},
            field="date",
        )
    if kind not in CalendarDayKind.values:
        raise ValidationFailed(
            _("Choose whether the day is a day off or a working day."), field="kind"
        )
    others = CalendarDay.objects.filter(date=day)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken = others.exists()
    if taken:
        raise ValidationFailed(
            _("%(date)s is already in the table of decreed days: edit that entry instead.")
            % {"date": date_format(day, "SHORT_DATE_FORMAT")},
            field="date",
        )
    known = {info.date: info for info in public_holidays(day.year)}
    usual = known.get(day)
    # A weekend day or a holiday may be decreed working (also one the package already knows
    # to be working: the decree is then on record); an ordinary weekday may not.
    ordinary_weekday = day.weekday() < 5 and (usual is None or usual.is_working)
    if kind == CalendarDayKind.WORKING_DAY and ordinary_weekday:
        raise ValidationFailed(
            _(
                "%(date)s is a working day anyway: a decreed working day is a weekend day or a "
                "holiday made working."
            )
            % {"date": date_format(day, "SHORT_DATE_FORMAT")},
            field="date",
        )
    if kind == CalendarDayKind.DAY_OFF and day.weekday() >= 5 and usual is None:
        raise ValidationFailed(
            _("%(date)s is a weekend day anyway: a decreed day off is a weekday made a day off.")
            % {"date": date_format(day, "SHORT_DATE_FORMAT")},
            field="date",
        )


def _save(row: models.Model) -> None:
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:  # two people entering the same date at once
        raise ValidationFailed(
            _("This date is already in the table of decreed days: edit that entry instead."),
            field="date",
        ) from exc


@transaction.atomic
def calendar_day_create(
    *, by: User, date: date, kind: str, name_ru: str, name_kk: str = "", name_en: str = ""
) -> CalendarDay:
    """Enter a decreed day (a transferred day off, a working Saturday) with its reason."""
    _require_manager(by)
    names = _clean_reason(name_ru, name_kk, name_en)
    _check_day(date, kind)
    row = CalendarDay(date=date, kind=kind, name_ru=names[0], name_kk=names[1], name_en=names[2])
    _save(row)
    _log(by=by, obj=row, flag=ADDITION, changes={f: (None, getattr(row, f)) for f in DAY_FIELDS})
    return row


@transaction.atomic
def calendar_day_update(
    *,
    by: User,
    pk: int,
    date: date,
    kind: str,
    name_ru: str,
    name_kk: str = "",
    name_en: str = "",
) -> CalendarDay:
    """Correct a decreed day: its date, kind or reason."""
    _require_manager(by)
    try:
        row = CalendarDay.objects.select_for_update().get(pk=pk)
    except CalendarDay.DoesNotExist as exc:
        raise ValidationFailed(_("This decreed day no longer exists.")) from exc
    names = _clean_reason(name_ru, name_kk, name_en)
    _check_day(date, kind, exclude_pk=row.pk)
    new = {
        "date": date,
        "kind": kind,
        "name_ru": names[0],
        "name_kk": names[1],
        "name_en": names[2],
    }
    changes = {f: (getattr(row, f), v) for f, v in new.items() if getattr(row, f) != v}
    if not changes:
        return row
    for field, (_before, after) in changes.items():
        setattr(row, field, after)
    _save(row)
    _log(by=by, obj=row, flag=CHANGE, changes=changes)
    return row


@transaction.atomic
def calendar_day_remove(*, by: User, pk: int) -> CalendarDay:
    """Remove a decreed day: the date follows the usual calendar again (for new due dates)."""
    _require_manager(by)
    try:
        row = CalendarDay.objects.select_for_update().get(pk=pk)
    except CalendarDay.DoesNotExist as exc:
        raise ValidationFailed(_("This decreed day no longer exists.")) from exc
    _log(by=by, obj=row, flag=DELETION, changes={f: (getattr(row, f), None) for f in DAY_FIELDS})
    row.delete()
    return row


@transaction.atomic
def deadline_rule_update(*, by: User, code: str, **values: Any) -> DeadlineRule:
    """Change a deadline rule's days, unit, legal basis, extension limits, pause and names.

    Only the fields given change; ``code`` stays (the code refers to the rule by it).
    """
    _require_manager(by)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field of a deadline rule."))
    try:
        get_rule(code)
        rule = DeadlineRule.objects.select_for_update().get(code=code)
    except DeadlineRule.DoesNotExist as exc:
        raise ValidationFailed(_("There is no deadline rule with this code.")) from exc
    cleaned = _clean_rule(values)
    changes = {f: (getattr(rule, f), v) for f, v in cleaned.items() if getattr(rule, f) != v}
    if not changes:
        return rule
    for field, (_before, after) in changes.items():
        setattr(rule, field, after)
    rule.save(update_fields=list(changes))
    _log(by=by, obj=rule, flag=CHANGE, changes=changes)
    return rule


def _clean_rule(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    for field in ("name_ru", "name_kk", "name_en", "legal_basis"):
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    if "name_ru" in cleaned and not cleaned["name_ru"]:
        raise ValidationFailed(_("Give the rule's name in Russian."), field="name_ru")
    limits = {
        "days": (1, MAX_RULE_DAYS),
        "max_extension_months": (0, MAX_EXTENSION_MONTHS),
        "notice_days": (0, MAX_NOTICE_DAYS),
    }
    for field, (low, high) in limits.items():
        if field not in cleaned:
            continue
        value = cleaned[field]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValidationFailed(
                _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
                field=field,
            )
    if "unit" in cleaned and cleaned["unit"] not in DayUnit.values:
        raise ValidationFailed(_("Choose working days or calendar days."), field="unit")
    for field in ("pauses_clock", "is_active"):
        if field in cleaned:
            cleaned[field] = bool(cleaned[field])
    return cleaned
