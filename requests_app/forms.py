"""Forms of the request pages: they parse what a person typed; every rule is in ``services``.

Field names are the API's (``docs/api.md``), so a form post and an API call read the same.
Each action form knows the keyword arguments of its service (``service_kwargs``);
the hidden ``version`` is the item's version when the page was loaded, so a stale
page gets the service's "changed by someone else" answer instead of overwriting.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
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
    version_field,
)
from maslikhat.core.text import TEXT_MAX
from maslikhat.directory.actors import actor_for
from maslikhat.directory.models import Category, Department, Deputy, District

from .filters import ORDERING_FIELDS, DeputyRequestFilter
from .models import CLAIMED_OUTCOMES, DeputyRequest, ResponseKind
from .services import FINAL_OUTCOMES

RATING_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


# --- The draft --------------------------------------------------------------------------------


class RequestDraftForm(PortalForm):
    """A new request or a draft being edited (``/requests/new/``, ``/requests/<id>/edit/``)."""

    title = forms.CharField(
        label=_("Title"),
        max_length=300,
        help_text=_("One line: what the problem is and where."),
    )
    body = forms.CharField(
        label=_("Text of the request"),
        max_length=TEXT_MAX,
        widget=textarea(8),
        help_text=_("The facts: what happens, since when, whom it affects, what was tried."),
    )
    proposed_solution = forms.CharField(
        label=_("Proposed solution"),
        max_length=TEXT_MAX,
        required=False,
        widget=textarea(4),
        help_text=_("What you ask the akimat to do. Requests with a proposal get better answers."),
    )
    category = forms.ModelChoiceField(queryset=Category.objects.all(), label=_("Category"))
    district = forms.ModelChoiceField(
        queryset=District.objects.all(), required=False, label=_("District")
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    co_authors = forms.ModelMultipleChoiceField(
        queryset=Deputy.objects.none(),
        required=False,
        label=_("Co-authors"),
        help_text=_("Other deputies who file this request with you."),
    )
    suggested_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        label=_("Suggested addressees"),
        help_text=_("The departments you think should answer. The maslikhat staff decide."),
    )
    is_public = forms.BooleanField(
        label=_("Publish on the public portal"),
        required=False,
        help_text=_("Published requests are visible to everyone from submission on."),
    )
    file = forms.FileField(
        label=_("Attach a file"),
        required=False,
        help_text=_("PDF, Word, Excel, OpenDocument text or a photo (JPEG, PNG)."),
    )
    version = version_field()

    def __init__(self, *args: Any, author_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        deputies = Deputy.objects.filter(is_active=True).select_related("user")
        if author_id is not None:
            deputies = deputies.exclude(pk=author_id)
        self.fields["co_authors"].queryset = deputies  # type: ignore[attr-defined]
        for name in ("co_authors", "suggested_departments"):
            self.fields[name].widget.attrs["size"] = 6

    @classmethod
    def initial_for(cls, item: DeputyRequest) -> dict[str, Any]:
        return {
            "title": item.title,
            "body": item.body,
            "proposed_solution": item.proposed_solution,
            "category": item.category_id,
            "district": item.district_id,
            "address": item.address,
            "co_authors": [d.pk for d in item.co_authors.all()],
            "suggested_departments": [d.pk for d in item.suggested_departments.all()],
            "is_public": item.is_public,
            "version": item.version,
        }

    def draft_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``deputy_request_create`` / ``_update_draft``."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "proposed_solution": data.get("proposed_solution") or "",
            "category": data["category"],
            "district": data.get("district"),
            "address": data.get("address") or "",
            "is_public": bool(data.get("is_public")),
            "co_authors": list(data.get("co_authors") or []),
            "suggested_departments": list(data.get("suggested_departments") or []),
        }


# --- Actions on a request ---------------------------------------------------------------------


class SubmitForm(ItemActionForm):
    pass


class WithdrawForm(ReasonForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A draft may be withdrawn without a reason; the service decides.
        self.fields["reason"].required = False


class RouteForm(ItemActionForm):
    lead_department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True), label=_("Lead department")
    )
    co_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        label=_("Co-executor departments"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["co_departments"].widget.attrs["size"] = 5
        item = self.item
        if item is not None and not self.is_bound:
            suggested = [d.pk for d in item.suggested_departments.all()]
            default = item.category.default_department_id if item.category_id else None
            self.initial.setdefault("lead_department", suggested[0] if suggested else default)

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "lead_department": self.cleaned_data["lead_department"],
            "co_departments": list(self.cleaned_data.get("co_departments") or []),
        }


class RerouteForm(RouteForm):
    """Staff re-route a request in work: new departments, a reason, the deadline policy."""

    text_field = "reason"
    reason = reason_field(_("Why the request is re-routed"))
    deadline = forms.ChoiceField(
        label=_("Deadline"),
        choices=[
            ("restart", _("Restart the deadline from today")),
            ("keep", _("Keep the due date")),
        ],
        initial="restart",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.item is not None and not self.is_bound:
            # Not the department it is with now: re-routing moves it elsewhere.
            self.initial["lead_department"] = None

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "reason": self.cleaned_data["reason"],
            "deadline": self.cleaned_data["deadline"],
        }


class ClarifyForm(ItemActionForm):
    """The lead department asks the author a clarification question."""

    text_field = "question"
    question = forms.CharField(
        label=_("Your question to the author"),
        max_length=TEXT_MAX,
        widget=textarea(3),
        help_text=_(
            "Where the deadline rule says so, the clock stops until the author answers and "
            "the due date moves by the working days it stood still."
        ),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "question": self.cleaned_data["question"]}


class ClarificationAnswerForm(ItemActionForm):
    """The author answers the department's clarification question."""

    text_field = "text"
    text = forms.CharField(label=_("Your answer"), max_length=TEXT_MAX, widget=textarea(4))

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "text": self.cleaned_data["text"]}


class AssignForm(ItemActionForm):
    executor = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Executor"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_id = self.item.lead_department_id if self.item is not None else None
        officers = User.objects.none()
        if department_id is not None:
            officers = User.objects.filter(
                is_active=True,
                department_membership__department_id=department_id,
                department_membership__is_active=True,
            ).order_by("last_name", "first_name")
        self.fields["executor"].queryset = officers  # type: ignore[attr-defined]
        if self.item is not None and not self.is_bound:
            self.initial.setdefault("executor", self.item.executor_id)

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "executor": self.cleaned_data["executor"]}


class RespondForm(ItemActionForm):
    text_field = "text"
    kind = forms.ChoiceField(
        label=_("Kind of answer"),
        choices=ResponseKind.choices,
        initial=ResponseKind.FINAL,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(label=_("Text of the answer"), max_length=TEXT_MAX, widget=textarea(8))
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", "—"), *((o.value, o.label) for o in CLAIMED_OUTCOMES)],
        help_text=_("A final answer states what was done."),
    )
    planned_date = forms.DateField(
        label=_("Planned for"),
        required=False,
        widget=date_input(),
        help_text=_("When the planned work will be done."),
    )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **super().service_kwargs(),
            "kind": data["kind"],
            "text": data["text"],
            "outcome": data.get("outcome") or None,
            "planned_date": data.get("planned_date"),
        }


class ResponseApproveForm(ItemActionForm):
    """The head's approval; a draft close to an earlier answer needs a comment (the card)."""

    text_field = "boilerplate_comment"
    boilerplate_comment = comment_field(
        _("Why this answer fits this request"),
        help_text=_("Needed when the draft is very similar to an answer sent earlier."),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "boilerplate_comment": self.cleaned_data.get("boilerplate_comment") or "",
        }


class ResponseReturnForm(CommentForm):
    comment = comment_field(_("What to change"), required=True, rows=3)


class EvaluateForm(ItemActionForm):
    """The author's evaluation: the button pressed is the decision (accept or rework)."""

    text_field = "comment"
    #: A failed evaluation keeps the rating, the decision and the outcome chosen too.
    kept_choices = ("rating", "decision", "outcome")
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("rework", _("Return for rework"))],
        widget=forms.HiddenInput,
    )
    rating = forms.TypedChoiceField(
        label=_("Your rating of the answer"),
        choices=RATING_CHOICES,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    comment = comment_field(
        rows=3, help_text=_("Needed when you return the answer or rate it 1 or 2.")
    )
    outcome = forms.ChoiceField(
        label=_("In your view, the problem is"),
        required=False,
        choices=[("", "—"), *((o.value, o.label) for o in FINAL_OUTCOMES)],
    )

    @property
    def chosen_decision(self) -> str:
        """The button pressed when the form failed ("accept", "rework"), or ""."""
        if not self.is_bound:
            return ""
        value = str(self.data.get("decision") or "")
        return value if value in dict(self.fields["decision"].choices) else ""  # type: ignore[attr-defined]

    @property
    def chosen_decision_label(self) -> str:
        choices = dict(self.fields["decision"].choices)  # type: ignore[attr-defined]
        return str(choices.get(self.chosen_decision, ""))

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **super().service_kwargs(),
            "decision": data["decision"],
            "rating": data.get("rating"),
            "comment": data.get("comment") or "",
            "outcome": data.get("outcome") or None,
        }


class RateRequestForm(ItemActionForm):
    text_field = "comment"
    kept_choices = ("rating",)
    rating = forms.TypedChoiceField(
        label=_("Quality of the request"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        help_text=_("A clear problem, facts, a proposed solution, within the akimat's competence."),
    )
    comment = comment_field()

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "rating": self.cleaned_data["rating"],
            "comment": self.cleaned_data.get("comment") or "",
        }


class PublishForm(ItemActionForm):
    is_public = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "is_public": bool(self.cleaned_data.get("is_public"))}


# --- The list's filters -----------------------------------------------------------------------


class RequestListFilter(DeputyRequestFilter):
    """The shared filter of the API plus what the HTML lists' tabs need.

    ``scope=mine`` narrows a deputy's list to their own requests (authored or
    co-authored); ``unassigned=true`` keeps those without an executor.
    """

    scope = django_filters.ChoiceFilter(
        choices=[("mine", _("My requests")), ("all", _("Also published requests of others"))],
        method="filter_scope",
        label=_("Show"),
    )
    unassigned = django_filters.BooleanFilter(
        field_name="executor", lookup_expr="isnull", label=_("Without an executor")
    )
    ordering = StableOrderingFilter(
        fields=[(name, name) for name in ORDERING_FIELDS], tie_break="-id"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_filter_widgets(
            self,
            checkboxes=["status"],
            dates=["due_after", "due_before", "submitted_after", "submitted_before"],
        )

    def filter_scope(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        deputy_id = actor_for(getattr(self.request, "user", None)).deputy_id
        if value != "mine" or deputy_id is None:
            return queryset
        co_authored = DeputyRequest.co_authors.through.objects.filter(
            deputyrequest_id=OuterRef("pk"), deputy_id=deputy_id
        )
        return queryset.filter(Q(author_id=deputy_id) | Exists(co_authored))
