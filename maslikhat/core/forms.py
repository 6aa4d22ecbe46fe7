"""The forms every item kind shares: they parse what a person typed; every rule is in a service.

Deputy requests and protocol instructions post the same kinds of actions: a message,
a file, a request for more time and its decision, a reason or a comment. Each action
form knows the keyword arguments of its service (``service_kwargs``); the hidden
``version`` is the item's version when the page was loaded, so a stale page gets the
service's "changed by someone else" answer instead of overwriting what somebody else
did in the meantime. Field names are the API's (``docs/api.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .text import TEXT_MAX
from .web import StyledFormMixin

if TYPE_CHECKING:  # the lazy-string type exists in the type stubs only
    from django.utils.functional import _StrPromise

#: The longest message of an item's thread.
MESSAGE_MAX = 10_000


def textarea(rows: int, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def date_input() -> forms.DateInput:
    # type=date: a phone shows its date picker; the browser sends yyyy-mm-dd.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def version_field() -> forms.IntegerField:
    """The hidden version of the item as the page showed it."""
    return forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def comment_field(
    label: str | _StrPromise | None = None,
    *,
    required: bool = False,
    rows: int = 2,
    help_text: str | _StrPromise = "",
) -> forms.CharField:
    """A free-text comment on a decision (optional unless the decision needs one)."""
    return forms.CharField(
        label=label if label is not None else _("Comment"),
        max_length=TEXT_MAX,
        required=required,
        widget=textarea(rows),
        help_text=help_text,
    )


def reason_field(label: str | _StrPromise | None = None) -> forms.CharField:
    """Why the person does what they do: required, kept in the item's history."""
    return forms.CharField(
        label=label if label is not None else _("Reason"),
        max_length=TEXT_MAX,
        widget=textarea(3),
    )


class PortalForm(StyledFormMixin, forms.Form):
    """A form of the portal's pages: every widget gets its Bootstrap class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class ItemActionForm(PortalForm):
    """An action on an item, with the hidden ``version`` of the page the person saw.

    ``item`` is the item acted on, for forms whose choices depend on it (the
    executors of its department, its suggested addressees).
    """

    version = version_field()

    #: The field holding text the person typed; an error re-renders the page with it.
    text_field: str | None = None
    #: Fields whose chosen value alone is worth keeping on an error (a rating, a decision):
    #: the page is rendered again with them chosen, as with typed text.
    kept_choices: tuple[str, ...] = ()

    def __init__(self, *args: Any, item: Any = None, **kwargs: Any) -> None:
        self.item = item
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        return {"version": self.cleaned_data.get("version")}

    @property
    def has_typed_text(self) -> bool:
        return bool(self.typed_text.strip())

    @property
    def typed_text(self) -> str:
        return str(self.data.get(self.text_field) or "") if self.text_field else ""

    @property
    def has_input(self) -> bool:
        """Typed text or a kept choice: what an error must not throw away."""
        return self.has_typed_text or any(self.data.get(name) for name in self.kept_choices)


class ReasonForm(ItemActionForm):
    """An action that names its reason (decline, withdraw, remove from control…)."""

    text_field = "reason"
    reason = reason_field()

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "reason": self.cleaned_data.get("reason") or ""}


class CommentForm(ItemActionForm):
    """A decision with a comment; subclasses say whether the comment is required."""

    text_field = "comment"
    comment = comment_field()

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "comment": self.cleaned_data.get("comment") or ""}


class ExtensionAskForm(ItemActionForm):
    """The department asks for a later due date, with its reason."""

    text_field = "reason"
    new_due_date = forms.DateField(label=_("New due date"), widget=date_input())
    reason = reason_field()

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "new_due_date": self.cleaned_data["new_due_date"],
            "reason": self.cleaned_data["reason"],
        }


class ExtensionDecideForm(CommentForm):
    """Those who decide extensions: the button pressed is the decision (approve or reject)."""

    approve = forms.TypedChoiceField(
        choices=[("yes", _("Approve")), ("no", _("Reject"))],
        coerce=lambda value: value == "yes",
        widget=forms.HiddenInput,
    )
    comment = comment_field(help_text=_("Needed when you reject the extension."))

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "approve": self.cleaned_data["approve"]}


class MessageForm(ItemActionForm):
    """A message in the item's thread."""

    text_field = "text"
    text = forms.CharField(label=_("Message"), max_length=MESSAGE_MAX, widget=textarea(3))

    def service_kwargs(self) -> dict[str, Any]:
        # Messages are appended, never edited: no version check.
        return {"text": self.cleaned_data["text"]}


class AttachmentForm(ItemActionForm):
    """A file attached to the item."""

    file = forms.FileField(label=_("File"))

    def service_kwargs(self) -> dict[str, Any]:
        return {"upload": self.cleaned_data["file"]}
