"""Forms of the KPI pages: they parse what a person typed; every rule is in ``services``.

The weights must add up to 1 and not be negative, an activity may not lie in the
future, a survey answer is given once: the services say so, and the pages show
their messages. The forms only turn text into numbers, dates and ids.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maslikhat.core.web import StyledFormMixin
from maslikhat.directory.models import Deputy, District

from .calculators import DEFAULT_WEIGHTS, DEPARTMENT, DEPUTY
from .models import ActivityKind, FlagStatus
from .services import NOTE_MAX_LENGTH

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]

#: The components of each kind, in the order the pages show them.
COMPONENT_LABELS: dict[str, tuple[tuple[str, str | Promise], ...]] = {
    DEPARTMENT: (
        ("timeliness", _("Timeliness")),
        ("speed", _("Speed")),
        ("quality", _("Quality")),
        ("rework", _("Rework")),
        ("resolution", _("Resolution")),
        ("discipline", _("Discipline")),
        ("promises", _("Promises kept")),
        ("open_overdue", _("Open overdue")),
    ),
    DEPUTY: (
        ("requests", _("Requests")),
        ("request_quality", _("Request quality")),
        ("follow_through", _("Follow-through")),
        ("resolution", _("Resolution")),
        ("activity", _("Activity")),
    ),
}


def component_label(kind: str, key: str) -> str | Promise:
    return dict(COMPONENT_LABELS.get(kind, ())).get(key, key)


class PortalForm(StyledFormMixin, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


# --- Weights -------------------------------------------------------------------------------------


class WeightField(forms.FloatField):
    """A weight typed with a decimal point or a decimal comma ("0.35" or "0,35")."""

    def to_python(self, value: Any) -> Any:  # float | None (the stubs say int)
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class WeightsForm(PortalForm):
    """One field per component of the composite of ``kind`` (departments or deputies).

    Numbers only: whether they are non-negative and add up to 1 is the service's rule,
    and its message is shown with the form.
    """

    note = forms.CharField(
        label=_("Why they change"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the version, for the record."),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        for key in DEFAULT_WEIGHTS[kind]:
            self.fields[key] = WeightField(
                label=str(component_label(kind, key)),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "form-control"}),
            )
        # The note goes last, after the weights.
        self.fields["note"] = self.fields.pop("note")
        self.style_fields()

    @property
    def weight_fields(self) -> list[forms.BoundField]:
        return [self[key] for key in DEFAULT_WEIGHTS[self.kind]]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": self.kind,
            "weights": {key: data[key] for key in DEFAULT_WEIGHTS[self.kind]},
            "note": data.get("note") or "",
        }


# --- Rater flags --------------------------------------------------------------------------------


class FlagReviewForm(PortalForm):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (FlagStatus.DISMISSED, FlagStatus.DISMISSED.label),
            (FlagStatus.CONFIRMED, FlagStatus.CONFIRMED.label),
        ],
    )
    note = forms.CharField(
        label=_("Review note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- Deputies' activities ------------------------------------------------------------------------


class ActivityForm(PortalForm):
    """A reception of citizens, a report to voters or a field visit.

    Staff choose the deputy; a deputy's form carries their own id in a hidden field
    (the service refuses any other: a deputy records only their own activities).
    """

    deputy = forms.ModelChoiceField(queryset=Deputy.objects.none(), label=_("Deputy"))
    kind = forms.ChoiceField(
        label=_("What"), choices=ActivityKind.choices, widget=forms.RadioSelect
    )
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    district = forms.ModelChoiceField(
        queryset=District.objects.none(), required=False, label=_("District")
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Where, on what, how many people came. No personal data of citizens."),
    )

    def __init__(
        self,
        *args: Any,
        deputies: QuerySet[Deputy],
        districts: QuerySet[District],
        own_deputy_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = deputies  # type: ignore[attr-defined]
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]
        self.fields["date"].initial = timezone.localdate
        self.chooses_deputy = own_deputy_id is None
        if own_deputy_id is not None:
            self.fields["deputy"].widget = forms.HiddenInput()
            self.fields["deputy"].initial = own_deputy_id

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        date: datetime.date = data["date"]
        return {
            "deputy": data["deputy"],
            "kind": data["kind"],
            "date": date,
            "district": data.get("district"),
            "note": data.get("note") or "",
        }


# --- Perception survey ---------------------------------------------------------------------------


class SurveyAnswerForm(PortalForm):
    """The four 1–5 questions, their texts from ``selectors.survey_questions()``."""

    def __init__(self, *args: Any, questions: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in questions:
            self.fields[question["key"]] = forms.TypedChoiceField(
                label=question["label"],
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.style_fields()

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SurveyRoundOpenForm(PortalForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
