"""Who may do what in the KPI: pure predicates over an ``Actor`` (never a query).

The rules (``docs/roles.md``): maslikhat staff edit the weights, open and close survey
rounds, review rater flags and record any deputy's activities; the chair sees everything
staff see and changes none of it, and so does a Django superuser; an administrator
without superuser rights manages users and the directory only; a deputy records and
sees their own activities. Rankings, entity pages, the methodology and the survey report
are public. Pages and the API ask these predicates, so both answer the same.
"""

from __future__ import annotations

from maslikhat.directory.actors import Actor


def can_edit_weights(actor: Actor) -> bool:
    return actor.is_staff


def can_see_weights_page(actor: Actor) -> bool:
    """The weights' page with every version: staff (with the form), the chair and
    superusers (read-only)."""
    return actor.sees_everything


def can_see_flags(actor: Actor) -> bool:
    """Rater flags: staff review them; the chair and superusers read them."""
    return actor.sees_everything


def can_review_flags(actor: Actor) -> bool:
    return actor.is_staff


def can_manage_survey_rounds(actor: Actor) -> bool:
    return actor.is_staff


def can_see_activities(actor: Actor) -> bool:
    """The activities page: a deputy (their own) and those who see everything."""
    return actor.is_deputy or actor.sees_everything


def can_see_activity(actor: Actor, deputy_id: int) -> bool:
    """One activity of deputy ``deputy_id`` (the same rule as ``selectors.activity_list``)."""
    return actor.sees_everything or (actor.deputy_id is not None and actor.deputy_id == deputy_id)


def can_record_activity(actor: Actor, deputy_id: int | None = None) -> bool:
    """A deputy records their own activities; staff record anyone's.

    Without ``deputy_id``: whether the actor records any activity at all (the form).
    """
    if actor.is_staff:
        return True
    return actor.deputy_id is not None and deputy_id in (None, actor.deputy_id)


def can_answer_survey(actor: Actor) -> bool:
    """Deputies and civil servants (department officers, staff, the chair) answer the survey."""
    return actor.is_deputy or actor.is_civil_servant
