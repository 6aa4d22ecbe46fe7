"""Forms of the promise card and the promise list: they parse input; every rule is a service's.

The card's forms post to ``/commitments/<id>/<action>/`` and call the same services as
``/api/v1/commitments/<id>/<action>/`` (field names are the API's). A promise has no
version: a decision about a promise already settled is the service's clear refusal.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from maslikhat.core.filters import style_filter_widgets
from maslikhat.core.forms import ItemActionForm, comment_field, date_input, reason_field, textarea
from maslikhat.core.text import TEXT_MAX
from maslikhat.directory.models import Department

from .filters import CommitmentFilter
from .models import CommitmentState

#: The most files one report attaches.
REPORT_MAX_FILES = 10


class _PromiseForm(ItemActionForm):
    """A promise's action: no version (the service checks the promise's state)."""

    def service_kwargs(self) -> dict[str, Any]:
        return {}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (none is fine: the field is optional)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = data if isinstance(data, list | tuple) else [data] if data else []
        if len(uploads) > REPORT_MAX_FILES:
            raise forms.ValidationError(
                _("Attach at most %(count)d files.") % {"count": REPORT_MAX_FILES}
            )
        return [super(MultipleFileField, self).clean(upload, initial) for upload in uploads]


class ReportForm(_PromiseForm):
    """The department reports the work done, with photos or acts attached to the request."""

    text_field = "text"
    text = forms.CharField(
        label=_("What was done"),
        max_length=TEXT_MAX,
        widget=textarea(4),
        help_text=_("What was done, where and when; the deputy confirms or disputes it."),
    )
    file = MultipleFileField(
        label=_("Files (photos, acts)"),
        required=False,
        help_text=_("They are attached to the request; everyone who sees its files can open them."),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {"text": self.cleaned_data["text"], "files": self.cleaned_data.get("file") or []}


class ConfirmForm(_PromiseForm):
    """The author confirms the report: the promise is kept."""

    text_field = "comment"
    comment = comment_field()

    def service_kwargs(self) -> dict[str, Any]:
        return {"comment": self.cleaned_data.get("comment") or ""}


class DisputeForm(ConfirmForm):
    """The author disputes the report: what was not done (required)."""

    comment = comment_field(_("What was not done"), required=True, rows=3)


class RescheduleForm(_PromiseForm):
    """The department moves the promised date, with its reason."""

    text_field = "reason"
    new_due_date = forms.DateField(label=_("New date"), widget=date_input())
    reason = reason_field()

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "new_due_date": self.cleaned_data["new_due_date"],
            "reason": self.cleaned_data["reason"],
        }


class ResolveForm(_PromiseForm):
    """Staff decide a disputed promise: the button pressed is the decision."""

    text_field = "comment"
    kept = forms.TypedChoiceField(
        choices=[("yes", CommitmentState.KEPT.label), ("no", CommitmentState.BROKEN.label)],
        coerce=lambda value: value == "yes",
        widget=forms.HiddenInput,
    )
    comment = comment_field(_("Resolution"), rows=3)

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "kept": self.cleaned_data["kept"],
            "comment": self.cleaned_data.get("comment") or "",
        }


class CommitmentListFilter(CommitmentFilter):
    """The API's filter, with a department choice (staff, the chair) and the panel's widgets."""

    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.filter(is_active=True),
        field_name="department",
        label=_("Department"),
    )

    def __init__(self, *args: Any, departments: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not departments:
            # A department sees its own promises, a deputy their requests': no choice to make.
            del self.filters["department"]
        style_filter_widgets(self, dates=["due_before"])
