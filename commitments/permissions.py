"""Who may do what to a promise: pure predicates over an ``Actor`` and the promise.

Seeing a promise is the selector's question (``selectors.commitment_visible``); these
answer the actions. The request is read with the promise (``select_related``).
"""

from __future__ import annotations

from maslikhat.directory.actors import Actor
from requests_app import permissions as request_permissions

from .models import Commitment


def can_report(actor: Actor, commitment: Commitment) -> bool:
    """The department that promised reports the work done."""
    return actor.in_department(commitment.department_id)


def can_reschedule(actor: Actor, commitment: Commitment) -> bool:
    """The department that promised moves the date (with a reason)."""
    return actor.in_department(commitment.department_id)


def can_give_verdict(actor: Actor, commitment: Commitment) -> bool:
    """The request's author confirms or disputes the report."""
    return request_permissions.is_author(actor, commitment.request)


def can_resolve(actor: Actor, commitment: Commitment) -> bool:
    """Council staff decide a disputed promise (kept or broken)."""
    return actor.is_staff
