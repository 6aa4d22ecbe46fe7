"""The daily reminder sweep (напоминания и эскалация): docs/kpi.md, "Reminders and escalation".

Every working day at 09:00 beat runs ``reminders_sweep`` for the day (and
``manage.py run_reminders`` runs it by hand). The sweep keeps no timers: it derives
from the database everything due that day,

| when (working days)                    | to whom                               | kind            |
| -------------------------------------- | ------------------------------------- | --------------- |
| due in 3, 1, 0                         | executor (else all officers), head    | REMINDER        |
| overdue by 1                           | the head(s), maslikhat staff          | ESCALATION      |
| overdue by 6, 11, 16, …                | the same, and deputy / controller     | ESCALATION      |
| answered 5 days ago, not evaluated     | the deputy author                     | PLEASE_EVALUATE |
| extension asked 2 days ago, undecided  | maslikhat staff                       | REMINDER        |
| instruction periodic report due        | the lead department's officers        | REMINDER        |
| clarification question open (each day) | the deputy author                     | REMINDER        |

and records each as a ``Notification(deduplicate=True, day=day)``. The unique
constraint ``notification_once_a_day`` on (user, kind, item, day) — not luck — makes
the sweep idempotent: a second run, a retried task or a second beat adds nothing. A
missed day is not replayed (reminders are about today), but nothing is lost either:
an item overdue on a missed day is escalated again within the week.

The sweep knows no item kind: each kind registered in ``maslikhat/core/items.py``
brings its own part (``ItemKind.reminders``, an ``ItemReminders``): how far back its
overdue items go, the queries that find its matching items, and who is told what
(``requests_app/reminders.py``, ``instructions/reminders.py``). The sweep walks the
calendar once for all kinds and writes every kind's reminders in one transaction.

Set-based: one ``WorkingCalendar`` turns "N working days from today" into the exact
calendar dates that qualify, and a handful of queries fetch only the items whose
dates match, whatever the number of other items. Counting is "working days after A
up to and including B" (``WorkingCalendar.working_days_between``), so a request due
on a Monday is "due in 1" on the Friday before it.
"""

from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from .deadlines import WorkingCalendar, calendar_for
from .digests import digests_create, enqueue_digests
from .extensions import Extension, ExtensionStatus
from .items import item_kind, item_kinds
from .notifications import Notification, NotificationKind, notification_params

if TYPE_CHECKING:
    from maslikhat.accounts.models import User

logger = logging.getLogger(__name__)

#: "Due in N working days" reminders.
DUE_IN_DAYS = (3, 1, 0)
#: Overdue escalation on the first working day after the due date, then every 5th.
ESCALATION_EVERY = 5
#: "Please evaluate" this many working days after the answer.
EVALUATE_AFTER = 5
#: Staff are reminded of an extension undecided this many working days after it was asked.
EXTENSION_AFTER = 2
#: Notifications built and inserted at a time (one INSERT each on PostgreSQL).
NOTIFICATION_CHUNK = 1000

# The rules of the table, as ``Reason.rule`` and as keys of ``SweepResult.items``.
DUE = "due"
OVERDUE = "overdue"
EVALUATE = "evaluate"
EXTENSION = "extension"
PERIODIC_REPORT = "periodic_report"
CLARIFY = "clarify"
RULES = (DUE, OVERDUE, EVALUATE, EXTENSION, PERIODIC_REPORT, CLARIFY)

REMIND, ESCALATE = NotificationKind.REMINDER, NotificationKind.ESCALATION


@dataclass
class SweepResult:
    """What one sweep found and wrote."""

    day: date
    ran: bool
    items: Counter[str] = field(default_factory=Counter)  # matching items per rule
    notifications: int = 0  # new rows
    by_kind: Counter[str] = field(default_factory=Counter)  # new rows per kind
    digests: int = 0  # new digest e-mails
    digest_ids: list[int] = field(default_factory=list)  # the day's digests still unsent

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "ran": self.ran,
            "items": dict(self.items),
            "notifications": self.notifications,
            "by_kind": dict(self.by_kind),
            "digests": self.digests,
        }


# --- Which dates qualify today ----------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """The calendar dates that make an item due for a reminder on ``day``."""

    day: date
    due_in: dict[date, int]  # due date -> working days left (only 3, 1, 0)
    overdue: dict[date, int]  # due date -> working days overdue (1, 6, 11, …)
    evaluate_from: date  # answered on a local date in [evaluate_from, evaluate_to)
    evaluate_to: date
    extension_from: date  # asked on a local date in [extension_from, extension_to)
    extension_to: date

    @property
    def report_days(self) -> list[date]:
        """Periodic report dates that fall due today: today and the days off after it."""
        return sorted(d for d, left in self.due_in.items() if left == 0)


def windows_for(calendar: WorkingCalendar, day: date, *, oldest_due: date | None) -> Windows:
    """Walk the calendar once forwards (3 working days) and once backwards (to ``oldest_due``).

    ``left(d)`` = working days after ``day`` up to ``d``; ``overdue(d)`` = working days
    after ``d`` up to ``day``. A due date on a day off falls in the window of the
    working day before it, so every date belongs to exactly one window.
    """
    due_in: dict[date, int] = {}
    cursor, left = day, 0
    while left <= max(DUE_IN_DAYS):
        if left in DUE_IN_DAYS:
            due_in[cursor] = left
        cursor += timedelta(days=1)
        left += calendar.is_working_day(cursor)

    overdue: dict[date, int] = {}
    by_count: dict[int, list[date]] = defaultdict(list)
    cursor = day - timedelta(days=1)
    behind = int(calendar.is_working_day(day))
    limit = min(oldest_due or day, day)
    while cursor >= limit or behind <= max(EVALUATE_AFTER, EXTENSION_AFTER):
        if behind % ESCALATION_EVERY == 1:
            overdue[cursor] = behind
        by_count[behind].append(cursor)
        behind += calendar.is_working_day(cursor)
        cursor -= timedelta(days=1)

    def span(count: int) -> tuple[date, date]:
        dates = by_count[count]
        return min(dates), max(dates) + timedelta(days=1)

    evaluate_from, evaluate_to = span(EVALUATE_AFTER)
    extension_from, extension_to = span(EXTENSION_AFTER)
    return Windows(
        day=day,
        due_in=due_in,
        overdue=overdue,
        evaluate_from=evaluate_from,
        evaluate_to=evaluate_to,
        extension_from=extension_from,
        extension_to=extension_to,
    )


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the portal's time zone (for ``created_at`` style columns)."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def extensions_awaiting(item_type: str, windows: Windows) -> QuerySet[Extension, Any]:
    """The ids (``item_id``) of the items of ``item_type`` whose extension has been
    awaiting a decision for ``EXTENSION_AFTER`` working days today (a subquery)."""
    return Extension.objects.filter(
        item_type=item_type,
        status=ExtensionStatus.PENDING,
        created_at__gte=local_midnight(windows.extension_from),
        created_at__lt=local_midnight(windows.extension_to),
    ).values("item_id")


# --- Recipients and texts ---------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why an item is in today's reminders; rendered later in each recipient's language."""

    rule: str
    count: int = 0
    when: date | None = None

    def render(self) -> str:
        if self.rule in _EXTRA_REASONS:
            return _EXTRA_REASONS[self.rule](self)
        if self.rule == DUE and self.count == 0:
            if self.when is not None:
                return gettext("due on %(date)s.") % {"date": self.when.strftime("%d.%m.%Y")}
            return gettext("due today.")
        if self.rule == DUE:
            return ngettext(
                "due in %(count)d working day.", "due in %(count)d working days.", self.count
            ) % {"count": self.count}
        if self.rule == OVERDUE:
            return ngettext(
                "overdue by %(count)d working day.",
                "overdue by %(count)d working days.",
                self.count,
            ) % {"count": self.count}
        if self.rule == EVALUATE:
            return ngettext(
                "answered %(count)d working day ago; please evaluate the answer.",
                "answered %(count)d working days ago; please evaluate the answer.",
                self.count,
            ) % {"count": self.count}
        if self.rule == EXTENSION:
            return ngettext(
                "an extension has awaited a decision for %(count)d working day.",
                "an extension has awaited a decision for %(count)d working days.",
                self.count,
            ) % {"count": self.count}
        if self.rule == CLARIFY:
            assert self.when is not None
            return gettext(
                "the department's clarification question of %(date)s awaits your answer."
            ) % {"date": self.when.strftime("%d.%m.%Y")}
        assert self.rule == PERIODIC_REPORT and self.when is not None
        return gettext("a periodic report is due on %(date)s.") % {
            "date": self.when.strftime("%d.%m.%Y")
        }


@dataclass
class _Draft:
    user: User
    kind: str
    item: Any
    reasons: list[Reason]


class Drafts:
    """Reminders being collected, one per (user, kind, item): a second reason for the same
    (rare: a periodic report due in the last days before the due date) joins the first."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str, str, int], _Draft] = {}

    def add(self, users: Iterable[User | None], kind: str, item: Any, reason: Reason) -> None:
        for user in users:
            if user is None or not user.is_active:
                continue
            key = (user.pk, str(kind), str(item.ITEM_TYPE), item.pk)
            draft = self.rows.get(key)
            if draft is None:
                self.rows[key] = _Draft(user=user, kind=kind, item=item, reasons=[reason])
            elif reason not in draft.reasons:
                draft.reasons.append(reason)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def reminder_text(label: str, reasons: Iterable[Any]) -> str:
    """ "<item label>: <reason>" in the active language, from a reminder's stored values
    (``Notification.params["reasons"]``: ``[rule, count, ISO date or null]`` each)."""
    parts = [
        Reason(rule, count, date.fromisoformat(when) if when else None).render()
        for rule, count, when in reasons
    ]
    if not parts:
        return label
    sentences = " ".join([parts[0], *(_capitalize(p) for p in parts[1:])])
    return f"{label}: {sentences}"[:500]


class _Renderer:
    """Texts in each recipient's language; labels, links and reasons cached per language."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, int, str], str] = {}
        self._links: dict[tuple[str, int], str] = {}
        self._reasons: dict[tuple[Reason, str], str] = {}
        self._values: dict[tuple[str, int, str], dict[str, Any]] = {}

    def link(self, item: Any) -> str:
        key = (str(item.ITEM_TYPE), item.pk)
        if key not in self._links:
            self._links[key] = item_kind(item.ITEM_TYPE).url(item)
        return self._links[key]

    def label(self, item: Any, language: str) -> str:
        key = (str(item.ITEM_TYPE), item.pk, language)
        if key not in self._labels:
            with translation.override(language):
                self._labels[key] = str(item_kind(item.ITEM_TYPE).label(item))
        return self._labels[key]

    def params(self, draft: _Draft) -> dict[str, Any]:
        """The values the text is rendered from in the reader's language (``reminder_text``)."""
        key = (str(draft.item.ITEM_TYPE), draft.item.pk, draft.user.language)
        if key not in self._values:
            labels = {code: self.label(draft.item, code) for code, _name in settings.LANGUAGES}
            self._values[key] = notification_params(labels[draft.user.language], labels=labels)
        values = dict(self._values[key])  # the item's values, shared by its recipients
        values["reasons"] = [
            [r.rule, r.count, r.when.isoformat() if r.when else None] for r in draft.reasons
        ]
        return values

    def text(self, draft: _Draft) -> str:
        """ "<item label>: <reason>" in the recipient's language."""
        language = draft.user.language
        label_key = (str(draft.item.ITEM_TYPE), draft.item.pk, language)
        self.label(draft.item, language)
        parts = []
        for reason in draft.reasons:
            if (reason, language) not in self._reasons:
                # The language is switched only to render a reason not seen yet.
                with translation.override(language):
                    self._reasons[reason, language] = reason.render()
            parts.append(self._reasons[reason, language])
        sentences = " ".join([parts[0], *(_capitalize(p) for p in parts[1:])])
        return f"{self._labels[label_key]}: {sentences}"[:500]


# --- The sweep ----------------------------------------------------------------------------


def _pause_for_tests() -> None:
    """Hold the sweep's transaction open, for the worker-kill integration test only.

    ``REMINDERS_TEST_DELAY_SECONDS`` is never set outside that test: it lets the test
    SIGKILL a worker while a sweep is certainly in the middle of its transaction.
    """
    delay = float(os.environ.get("REMINDERS_TEST_DELAY_SECONDS") or 0)
    if delay > 0:
        logger.warning("reminders sweep pausing %.1f s (REMINDERS_TEST_DELAY_SECONDS)", delay)
        time.sleep(delay)


class ItemReminders(ABC):
    """One item kind's part of a day's sweep (``ItemKind.reminders`` makes one per sweep).

    The sweep calls, in order: the constructor with the day (read ``oldest_overdue``
    there, in one aggregate query), ``find`` with the day's windows (the queries
    that fetch only the matching items), then ``remind``, which reads the people
    to tell (``maslikhat.directory.recipients``) and adds their reminders.
    """

    #: The oldest due date of an open overdue item of this kind (the calendar reaches it).
    oldest_overdue: date | None = None

    def __init__(self, day: date) -> None:
        self.day = day

    @abstractmethod
    def find(self, windows: Windows) -> None:
        """Fetch this kind's items that match today's windows, and only those."""
        raise NotImplementedError

    @abstractmethod
    def remind(self, windows: Windows, drafts: Drafts, result: SweepResult) -> None:
        """Add each matching item's reminders (and count it in ``result.items``)."""
        raise NotImplementedError

    @staticmethod
    def remind_of_extensions(
        items: Iterable[Any], staff: Iterable[User], drafts: Drafts, result: SweepResult
    ) -> None:
        """Tell the staff of each item whose extension awaits their decision."""
        for item in items:
            result.items[EXTENSION] += 1
            drafts.add(staff, REMIND, item, Reason(EXTENSION, EXTENSION_AFTER))


#: Parts of the sweep that are not an item kind's (``register_reminders_part``), and the
#: texts of their reasons (``register_reason``): e.g. the promises of planned answers.
_EXTRA_PARTS: list[Callable[[date], ItemReminders]] = []
_EXTRA_REASONS: dict[str, Callable[[Reason], str]] = {}


def register_reminders_part(
    part: Callable[[date], ItemReminders], reasons: Mapping[str, Callable[[Reason], str]]
) -> None:
    """Add a part to every sweep (once per part) and the texts of the reasons it gives."""
    if part not in _EXTRA_PARTS:
        _EXTRA_PARTS.append(part)
    _EXTRA_REASONS.update(reasons)


def reminders_sweep(*, day: date, force: bool = False, enqueue: bool = True) -> SweepResult:
    """Record every reminder due on ``day`` and create the day's e-mail digests.

    Preconditions: none — safe to run any number of times for any day, concurrently
    too (the unique constraints keep one notification per (user, kind, item, day)
    and one digest per (user, day)). On a non-working day it does nothing unless
    ``force``. With ``enqueue`` the unsent digests of the day are published to the
    broker after the commit (a dead broker leaves them for the catch-up).
    """
    kinds = [kind.reminders(day) for kind in item_kinds() if kind.reminders is not None]
    kinds += [part(day) for part in _EXTRA_PARTS]
    oldest_due = min((k.oldest_overdue for k in kinds if k.oldest_overdue), default=None)
    # One calendar for the whole sweep: its decreed days are read in one query.
    calendar = calendar_for(min(oldest_due or day, day) - timedelta(days=31), day)
    result = SweepResult(day=day, ran=False)
    if not force and not calendar.is_working_day(day):
        return result
    result.ran = True
    with transaction.atomic():
        windows = windows_for(calendar, day, oldest_due=oldest_due)
        drafts = Drafts()
        for kind in kinds:
            kind.find(windows)
            kind.remind(windows, drafts, result)
        existing = set(
            Notification.objects.filter(day=day, deduplicate=True).values_list(
                "user_id", "kind", "item_type", "item_id"
            )
        )
        renderer = _Renderer()
        rows = (
            Notification(
                user=draft.user,
                kind=draft.kind,
                item_type=str(draft.item.ITEM_TYPE),
                item_id=draft.item.pk,
                text=renderer.text(draft),
                params=renderer.params(draft),
                link=renderer.link(draft.item),
                day=day,
                deduplicate=True,
            )
            for key, draft in drafts.rows.items()
            if key not in existing
        )
        # Written a chunk at a time: the rows of one chunk are in memory, never all.
        while chunk := list(islice(rows, NOTIFICATION_CHUNK)):
            # ignore_conflicts: a concurrent sweep may insert the same rows between the
            # read above and this insert; the unique constraint keeps one of each.
            Notification.objects.bulk_create(chunk, ignore_conflicts=True)
            result.notifications += len(chunk)
            result.by_kind.update(row.kind for row in chunk)
        _pause_for_tests()
        digests = digests_create(day=day)
        result.digests = digests.created
        result.digest_ids = digests.pending_ids
        if enqueue and digests.pending_ids:
            ids = list(digests.pending_ids)
            # After commit: the worker always finds the digest it is asked to send,
            # and a rolled-back sweep e-mails nobody.
            transaction.on_commit(lambda: enqueue_digests(ids))
    return result
