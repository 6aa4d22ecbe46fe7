"""Cards other apps add to the request's page, without requests_app importing them (the layers).

An app above requests_app (the promises of planned answers) registers a function in its
``AppConfig.ready``; the request page calls each with what it has already read (the
person, the request, the history's events, the form an action post failed with) and shows
the card it returns; the app may also name its events in the request's history
(``register_history_labels``). A card costs the queries its function runs: none when it has nothing
to show (it decides from the events already loaded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maslikhat.core.web import BoundForm
from maslikhat.directory.actors import Actor

from .models import DeputyRequest


@dataclass(frozen=True)
class PanelInput:
    """What the request page hands to each card."""

    user: Any
    actor: Actor
    item: DeputyRequest
    #: The request's history as already read for the page (``AuditEvent`` rows, oldest first).
    events: Sequence[Any]
    #: The form an action post failed with (shown again with what was typed), or ``None``.
    bound: BoundForm | None


@dataclass(frozen=True)
class Panel:
    """One card: its template, what the template reads (as ``panel``), the forms it shows."""

    template: str
    context: dict[str, Any]
    forms: Sequence[Any] = field(default_factory=tuple)


PanelFunction = Callable[[PanelInput], Panel | None]

_PANELS: dict[str, PanelFunction] = {}
_HISTORY_LABELS: dict[str, Any] = {}


def register_request_panel(name: str, function: PanelFunction) -> None:
    """Add (or replace) the card ``name`` of the request page."""
    _PANELS[name] = function


def request_panels(given: PanelInput) -> list[Panel]:
    """The cards to show on this request's page, in the order they were registered."""
    panels = (function(given) for function in _PANELS.values())
    return [panel for panel in panels if panel is not None]


def register_history_labels(labels: Mapping[str, Any]) -> None:
    """What the history of the request page says for the events an app above writes."""
    _HISTORY_LABELS.update(labels)


def history_labels() -> dict[str, Any]:
    """The labels registered by the apps above (``register_history_labels``)."""
    return dict(_HISTORY_LABELS)
