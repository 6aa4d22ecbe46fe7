"""Forms of the instruction pages: they parse what a person typed; every rule is in the services.

Field names are the API's (``docs/api.md``): a form post and an API call read the same.
Each action form knows the keyword arguments of its service (``service_kwargs``);
the hidden ``version`` is the instruction's version when the page was loaded, so a
stale page gets the service's "changed by someone else" answer instead of
overwriting what somebody else did in the meantime.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from maslikhat.core.filters import StableOrderingFilter, style_filter_widgets
from maslikhat.core.forms import (
    CommentForm,
    ItemActionForm,
    PortalForm,
    ReasonForm,
    comment_field,
    date_input,
    reason_field,
    textarea,
)
from maslikhat.core.text import TEXT_MAX
from maslikhat.directory.models import Commission, Department, Deputy

from .filters import INSTRUCTION_ORDERING_FIELDS, InstructionFilter, MeetingFilter
from .models import Meeting, MeetingKind, Protocol, ProtocolItem, ReportPeriod, SessionKind

#: Protocol items typed one per line: at most this many lines are read.
PROTOCOL_ITEMS_MAX = 200


def _active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def _current_commissions() -> QuerySet[Commission]:
    return Commission.objects.filter(convocation__is_current=True)


def _active_deputies() -> QuerySet[Deputy]:
    # ``str(deputy)`` is the user's name: without the join every option is a query.
    return Deputy.objects.filter(is_active=True).select_related("user")


# --- Actions on an instruction -----------------------------------------------------------------


class ReportForm(ItemActionForm):
    """An execution report: the button pressed says whether it is the final one."""

    text_field = "text"
    text = forms.CharField(
        label=_("Text of the report"),
        max_length=TEXT_MAX,
        widget=textarea(6),
        help_text=_("What was done, when, with what result; documents can be attached below."),
    )
    final = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "text": self.cleaned_data["text"],
            "final": bool(self.cleaned_data.get("final")),
        }


class AcceptForm(CommentForm):
    pass


class ReturnForm(CommentForm):
    comment = comment_field(
        _("What is missing"),
        required=True,
        rows=3,
        help_text=_("The department reports again after reading this."),
    )


class RemoveFromControlForm(ReasonForm):
    reason = reason_field(_("Reason for removal from control"))


# --- Creation by staff ------------------------------------------------------------------------


class MeetingForm(PortalForm):
    """A new session, commission meeting or hearing (``meeting_create``)."""

    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=MeetingKind.choices)
    session_kind = forms.ChoiceField(
        label=_("Kind of session"),
        choices=[("", "—"), *SessionKind.choices],
        required=False,
        help_text=_("For a session only."),
    )
    date = forms.DateField(label=_("Date"), widget=date_input())
    commission = forms.ModelChoiceField(
        queryset=Commission.objects.none(),
        required=False,
        label=_("Commission"),
        help_text=_("Required for a commission meeting."),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        label=_("Heard department"),
        help_text=_("Required for a hearing of a department's report."),
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    agenda = forms.CharField(
        label=_("Agenda"), max_length=TEXT_MAX, required=False, widget=textarea(4)
    )
    location = forms.CharField(label=_("Place"), max_length=300, required=False)
    is_field_visit = forms.BooleanField(label=_("Field visit"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commission"].queryset = _current_commissions()  # type: ignore[attr-defined]
        self.fields["department"].queryset = _active_departments()  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "session_kind": data.get("session_kind") or "",
            "date": data["date"],
            "commission": data.get("commission"),
            "department": data.get("department"),
            "title": data["title"],
            "agenda": data.get("agenda") or "",
            "location": data.get("location") or "",
            "is_field_visit": bool(data.get("is_field_visit")),
        }


class ProtocolForm(PortalForm):
    """A meeting's protocol with its numbered items, typed one per line (``protocol_create``)."""

    number = forms.CharField(label=_("Protocol number"), max_length=40)
    date = forms.DateField(label=_("Date of the protocol"), widget=date_input())
    items = forms.CharField(
        label=_("Items (questions)"),
        max_length=TEXT_MAX,
        required=False,
        widget=textarea(5),
        help_text=_("One per line; they are numbered 1, 2, 3… in this order."),
    )

    def __init__(self, *args: Any, meeting: Meeting | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if meeting is not None and not self.is_bound:
            self.initial.setdefault("date", meeting.date)

    def clean_items(self) -> list[str]:
        lines = [line.strip() for line in (self.cleaned_data.get("items") or "").splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > PROTOCOL_ITEMS_MAX:
            raise forms.ValidationError(
                _("At most %(limit)d items in one protocol.") % {"limit": PROTOCOL_ITEMS_MAX}
            )
        return lines

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"number": data["number"], "date": data["date"], "items": data["items"]}


class InstructionCreateForm(PortalForm):
    """A new instruction of a protocol (``instruction_create``)."""

    item = forms.ModelChoiceField(
        queryset=ProtocolItem.objects.none(), required=False, label=_("Protocol item")
    )
    text = forms.CharField(
        label=_("Text of the instruction"), max_length=TEXT_MAX, widget=textarea(5)
    )
    lead_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), label=_("Lead department")
    )
    co_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), required=False, label=_("Co-executor departments")
    )
    controller_commission = forms.ModelChoiceField(
        queryset=Commission.objects.none(), required=False, label=_("Controlling commission")
    )
    controller_deputy = forms.ModelChoiceField(
        queryset=Deputy.objects.none(),
        required=False,
        label=_("Controlling deputy"),
        help_text=_("Name a commission, a deputy, or both."),
    )
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=date_input(),
        help_text=_("Leave it empty to have it computed by the deadline rule for instructions."),
    )
    report_period = forms.ChoiceField(
        label=_("Periodic reports"), choices=ReportPeriod.choices, initial=ReportPeriod.NONE
    )

    def __init__(self, *args: Any, protocol: Protocol, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["item"].queryset = protocol.items.all()  # type: ignore[attr-defined]
        fields["lead_department"].queryset = _active_departments()  # type: ignore[attr-defined]
        fields["co_departments"].queryset = _active_departments()  # type: ignore[attr-defined]
        fields["co_departments"].widget.attrs["size"] = 5
        fields["controller_commission"].queryset = _current_commissions()  # type: ignore[attr-defined]
        fields["controller_deputy"].queryset = _active_deputies()  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "item": data.get("item"),
            "text": data["text"],
            "lead_department": data["lead_department"],
            "co_departments": list(data.get("co_departments") or []),
            "controller_commission": data.get("controller_commission"),
            "controller_deputy": data.get("controller_deputy"),
            "due_date": data.get("due_date"),
            "report_period": data["report_period"],
        }


# --- Filters of the lists ---------------------------------------------------------------------


class InstructionListFilter(InstructionFilter):
    """The API's instruction filter plus ``?ordering=``, with widgets for the registry page."""

    ordering = StableOrderingFilter(
        fields=[(name, name) for name in INSTRUCTION_ORDERING_FIELDS],
        label=_("Sort by"),
        tie_break="id",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        # The option labels of deputies are their users' names: one join, not a query each.
        fields["controller_deputy"].queryset = Deputy.objects.select_related("user")
        style_filter_widgets(self, checkboxes=["status"], dates=["due_after", "due_before"])


class MeetingListFilter(MeetingFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_filter_widgets(self)


class ReportPublishForm(ItemActionForm):
    """Staff show an execution report on the public portal, or withdraw it (the button sent)."""

    public = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict[str, Any]:
        return {"public": bool(self.cleaned_data.get("public"))}
