"""Typed, translatable errors raised by services and mapped by the API and views.

Services never know about HTTP; the API's exception handler turns these into
status codes (409 for a transition not allowed now or a stale edit) and the HTML
views into messages for the user.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class PortalError(Exception):
    """Base of the portal's domain errors: a stable ``code`` and a translatable message."""

    code = "error"
    status_code = 400
    default_message: str | Promise = _("The action could not be completed.")

    def __init__(self, message: str | Promise | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))


class TransitionNotAllowed(PortalError):
    """The item is not in a state where this action is allowed."""

    code = "transition_not_allowed"
    status_code = 409
    default_message = _("This action is not allowed in the item's current state.")


class StaleVersion(PortalError):
    """Somebody changed the item since the user loaded it (optimistic concurrency)."""

    code = "stale_version"
    status_code = 409
    default_message = _("The item was changed by someone else. Reload it and try again.")


class ActionForbidden(PortalError):
    """The user may see the item but may not take this action."""

    code = "forbidden"
    status_code = 403
    default_message = _("You are not allowed to take this action.")


class ValidationFailed(PortalError):
    """Input that passed the form or serializer but breaks a business rule."""

    code = "invalid"
    status_code = 400

    def __init__(self, message: str | Promise | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
