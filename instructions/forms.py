"""Forms of the instruction pages: they parse what a person typed; every rule is in the services.

Field names are the API's (``api.md``): a form post and an API call read the same.
Each action form knows the keyword arguments of its service (``service_kwargs``);
the hidden ``version`` is the instruction's version when the page was loaded, so a
stale page gets the service's "changed by someone else" answer instead of
overwriting what somebody else did in the meantime.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from maslikhat.core.text import TEXT_MAX
from maslikhat.core.web import StyledFormMixin
from maslikhat.directory.models import Commission, Department, Deputy

from .filters import INSTRUCTION_ORDERING_FIELDS, InstructionFilter, MeetingFilter
from .models import Meeting, MeetingKind, Protocol, ProtocolItem, ReportPeriod, SessionKind

MESSAGE_MAX = 10_000
#: Protocol items typed one per line: at most this many lines are read.
PROTOCOL_ITEMS_MAX = 200


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _date_input() -> forms.DateInput:
    # type=date: a phone shows its date picker; the browser sends yyyy-mm-dd.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def _current_commissions() -> QuerySet[Commission]:
    return Commission.objects.filter(convocation__is_current=True)


def _active_deputies() -> QuerySet[Deputy]:
    # ``str(deputy)`` is the user's name: without the join every option is a query.
    return Deputy.objects.filter(is_active=True).select_related("user")


class InstructionPortalForm(StyledFormMixin, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


# --- Actions on an instruction -----------------------------------------------------------------


class InstructionActionForm(InstructionPortalForm):
    """An action on the instruction, with the hidden ``version`` of the page the person saw."""

    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    #: The field holding text the person typed; an error re-renders the page with it.
    text_field: str | None = None

    def service_kwargs(self) -> dict[str, Any]:
        return {"version": self.cleaned_data.get("version")}

    @property
    def has_typed_text(self) -> bool:
        return bool(self.text_field and (self.data.get(self.text_field) or "").strip())

    @property
    def typed_text(self) -> str:
        return str(self.data.get(self.text_field) or "") if self.text_field else ""


class ReportForm(InstructionActionForm):
    """An execution report: the button pressed says whether it is the final one."""

    text_field = "text"
    text = forms.CharField(
        label=_("Text of the report"),
        max_length=TEXT_MAX,
        widget=_textarea(6),
        help_text=_("What was done, when, with what result; documents can be attached below."),
    )
    final = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "text": self.cleaned_data["text"],
            "final": bool(self.cleaned_data.get("final")),
        }


class AcceptForm(InstructionActionForm):
    text_field = "comment"
    comment = forms.CharField(
        label=_("Comment"), max_length=TEXT_MAX, required=False, widget=_textarea(2)
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "comment": self.cleaned_data.get("comment") or ""}


class ReturnForm(InstructionActionForm):
    text_field = "comment"
    comment = forms.CharField(
        label=_("What is missing"),
        max_length=TEXT_MAX,
        widget=_textarea(3),
        help_text=_("The department reports again after reading this."),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "comment": self.cleaned_data["comment"]}


class ExtensionAskForm(InstructionActionForm):
    text_field = "reason"
    new_due_date = forms.DateField(label=_("New due date"), widget=_date_input())
    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=_textarea(3))

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "new_due_date": self.cleaned_data["new_due_date"],
            "reason": self.cleaned_data["reason"],
        }


class ExtensionDecideForm(InstructionActionForm):
    """Staff or the chair decide: the button pressed is the decision (approve or reject)."""

    text_field = "comment"
    approve = forms.TypedChoiceField(
        choices=[("yes", _("Approve")), ("no", _("Reject"))],
        coerce=lambda value: value == "yes",
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=TEXT_MAX,
        required=False,
        widget=_textarea(2),
        help_text=_("Needed when you reject the extension."),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "approve": self.cleaned_data["approve"],
            "comment": self.cleaned_data.get("comment") or "",
        }


class RemoveFromControlForm(InstructionActionForm):
    text_field = "reason"
    reason = forms.CharField(
        label=_("Reason for removal from control"), max_length=TEXT_MAX, widget=_textarea(3)
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "reason": self.cleaned_data["reason"]}


class MessageForm(InstructionActionForm):
    text_field = "text"
    text = forms.CharField(label=_("Message"), max_length=MESSAGE_MAX, widget=_textarea(3))

    def service_kwargs(self) -> dict[str, Any]:
        # Messages are appended, never edited: no version check.
        return {"text": self.cleaned_data["text"]}


class AttachmentForm(InstructionActionForm):
    file = forms.FileField(label=_("File"))

    def service_kwargs(self) -> dict[str, Any]:
        return {"upload": self.cleaned_data["file"]}


# --- Creation by staff ------------------------------------------------------------------------


class MeetingForm(InstructionPortalForm):
    """A new session, commission meeting or hearing (``meeting_create``)."""

    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=MeetingKind.choices)
    session_kind = forms.ChoiceField(
        label=_("Kind of session"),
        choices=[("", "—"), *SessionKind.choices],
        required=False,
        help_text=_("For a session only."),
    )
    date = forms.DateField(label=_("Date"), widget=_date_input())
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
        label=_("Agenda"), max_length=TEXT_MAX, required=False, widget=_textarea(4)
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


class ProtocolForm(InstructionPortalForm):
    """A meeting's protocol with its numbered items, typed one per line (``protocol_create``)."""

    number = forms.CharField(label=_("Protocol number"), max_length=40)
    date = forms.DateField(label=_("Date of the protocol"), widget=_date_input())
    items = forms.CharField(
        label=_("Items (questions)"),
        max_length=TEXT_MAX,
        required=False,
        widget=_textarea(5),
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


class InstructionCreateForm(InstructionPortalForm):
    """A new instruction of a protocol (``instruction_create``)."""

    item = forms.ModelChoiceField(
        queryset=ProtocolItem.objects.none(), required=False, label=_("Protocol item")
    )
    text = forms.CharField(
        label=_("Text of the instruction"), max_length=TEXT_MAX, widget=_textarea(5)
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
        widget=_date_input(),
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


class StableOrderingFilter(django_filters.OrderingFilter):
    """``?ordering=`` with the API's names; ties are broken by id so pages never overlap."""

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in value), "id")


def _protocol_label(protocol: Protocol) -> str:
    return f"{protocol} · {protocol.meeting.title}"


def _style_filter_widgets(filterset: django_filters.FilterSet) -> None:
    for field in filterset.form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"


class InstructionListFilter(InstructionFilter):
    """The API's instruction filter plus ``?ordering=``, with widgets for the registry page."""

    ordering = StableOrderingFilter(
        fields=[(name, name) for name in INSTRUCTION_ORDERING_FIELDS], label=_("Sort by")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["status"].widget = forms.CheckboxSelectMultiple(choices=fields["status"].choices)
        # The option labels of deputies are their users' names: one join, not a query each.
        fields["controller_deputy"].queryset = Deputy.objects.select_related("user")
        protocol = fields["protocol"]
        protocol.queryset = Protocol.objects.select_related("meeting")
        # Protocol numbers repeat across meetings: the meeting's title tells them apart.
        protocol.label_from_instance = _protocol_label
        for name in ("due_after", "due_before"):
            fields[name].widget = _date_input()
        _style_filter_widgets(self)


class MeetingListFilter(MeetingFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style_filter_widgets(self)
