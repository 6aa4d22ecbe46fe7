"""Filling a database migrated back to an older layout through today's models.

The move-migration tests migrate the database back, then create requests through
the services, which write today's columns. ``newer_columns()`` lends the columns
added since that layout for the time of the fill and takes them back before the
test migrates forward again (the migrations add them for real).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from maslikhat.core.deadlines import DeadlineRule
from maslikhat.core.notifications import Notification
from requests_app.models import DeputyRequest

#: Columns added after the old layouts these tests start from
#: (core 0004, requests_app 0010).
NEWER_COLUMNS: tuple[tuple[type[Model], str], ...] = (
    (DeputyRequest, "paused_since"),
    (DeputyRequest, "paused_days"),
    (Notification, "params"),
    (DeadlineRule, "pauses_clock"),
)


@contextmanager
def newer_columns() -> Iterator[None]:
    fields: list[tuple[type[Model], Field]] = []
    for model, name in NEWER_COLUMNS:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)
        fields.append((model, field))
    with connection.schema_editor() as editor, _indexes_without(fields):
        for model, field in fields:
            editor.add_field(model, field)
    try:
        yield
    finally:
        with connection.schema_editor() as editor, _indexes_without(fields):
            for model, field in fields:
                editor.remove_field(model, field)


def _mentions(index: Any, name: str) -> bool:
    """Whether ``index`` reads column ``name`` in its fields or its condition."""
    condition = getattr(index, "condition", None)
    return name in index.fields or (condition is not None and name in repr(condition))


@contextmanager
def _indexes_without(fields: list[tuple[type[Model], Field]]) -> Iterator[None]:
    """Today's indexes less those reading a lent column, while the columns are lent and
    taken back: SQLite rebuilds the table with the model's indexes, and a partial index
    whose condition names a lent column would outlive it (it cannot be dropped with it)."""
    saved: list[tuple[type[Model], list[Any]]] = []
    for model, field in fields:
        indexes = list(model._meta.indexes)
        saved.append((model, indexes))
        model._meta.indexes = [i for i in indexes if not _mentions(i, field.name)]
    try:
        yield
    finally:
        for model, indexes in reversed(saved):
            model._meta.indexes = indexes


def leaves_beside(graph: Any, targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The newest migration of every other app that can stand beside ``targets``.

    An app whose migrations need a later migration of a target's app (one that did not
    exist at that layout, like an app added since) is left out of the old state.
    """
    allowed: set[tuple[str, str]] = set()
    for target in targets:
        allowed.update(graph.forwards_plan(target))
    held = {app for app, _name in targets}
    return [
        leaf
        for leaf in graph.leaf_nodes()
        if leaf[0] not in held
        and all(node[0] not in held or node in allowed for node in graph.forwards_plan(leaf))
    ]
