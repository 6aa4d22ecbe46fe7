"""Forms of the calendar pages: they parse what staff typed; the rules are in ``calendar.py``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from maslikhat.core.deadlines import CalendarDayKind, DayUnit, DeadlineRule
from maslikhat.core.forms import PortalForm, date_input, textarea

from .calendar import MAX_EXTENSION_MONTHS, MAX_NOTICE_DAYS, MAX_RULE_DAYS, REASON_MAX


def _reason(label: Any, *, required: bool) -> forms.CharField:
    return forms.CharField(label=label, max_length=REASON_MAX, required=required)


class CalendarDayForm(PortalForm):
    """A decreed day: its date, whether it is a day off or a working day, and the reason."""

    date = forms.DateField(
        label=_("Date"),
        widget=date_input(),
        error_messages={"invalid": _("Enter a date, e.g. 2027-01-02.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=CalendarDayKind.choices, widget=forms.RadioSelect
    )
    name_ru = _reason(_("Reason (Russian)"), required=True)
    name_kk = _reason(_("Reason (Kazakh)"), required=False)
    name_en = _reason(_("Reason (English)"), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in ("date", "kind", "name_ru", "name_kk", "name_en")}


class DeadlineRuleForm(PortalForm):
    """A deadline rule's figures, legal basis and names (the code stays)."""

    name_ru = forms.CharField(label=_("Name (Russian)"), max_length=300)
    name_kk = forms.CharField(label=_("Name (Kazakh)"), max_length=300, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=300, required=False)
    legal_basis = forms.CharField(label=_("Legal basis"), widget=textarea(4), required=False)
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=MAX_RULE_DAYS)
    unit = forms.ChoiceField(label=_("Unit"), choices=DayUnit.choices, widget=forms.RadioSelect)
    max_extension_months = forms.IntegerField(
        label=_("Maximum extension (months)"),
        min_value=0,
        max_value=MAX_EXTENSION_MONTHS,
        help_text=_("0: the deadline cannot be extended."),
    )
    notice_days = forms.IntegerField(
        label=_("Extension notice (working days)"),
        min_value=0,
        max_value=MAX_NOTICE_DAYS,
        help_text=_("Working days within which the requester is told of an extension."),
    )
    pauses_clock = forms.BooleanField(
        label=_("A clarification stops the clock"),
        required=False,
        help_text=_(
            "While the department waits for the author's answer to a clarification question, "
            "the deadline does not run; the due date moves by the paused working days."
        ),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)

    FIELDS = (
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

    @classmethod
    def initial_of(cls, rule: DeadlineRule) -> dict[str, Any]:
        return {name: getattr(rule, name) for name in cls.FIELDS}

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}
