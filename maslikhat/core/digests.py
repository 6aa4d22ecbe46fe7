"""Outgoing e-mail as a record, and the daily digest built from the day's reminders.

The reminder sweep (``maslikhat.core.reminders``) writes in-app notifications; this
module turns the notifications of one day into **one e-mail per recipient**, the
digest, stored as an ``OutgoingEmail`` row before anything is sent:

- unique per (user, day, kind): two sweeps, a retried task or two beats create one
  row, never two;
- sent by ``digest_send`` under a claim (a conditional UPDATE, as
  ``notification_send_email`` does), so a sent e-mail is never sent again and a
  failed one is retried — by the task's autoretry and by ``email_catch_up``;
- enqueued after commit, and a broker that is down leaves the row pending for the
  next catch-up, never an error for the caller.

The digest also carries the day's **new messages** (``thread_news``): "N new
messages in <item>" for each item whose thread somebody of the other side wrote in.
Each message reaches exactly one digest: the digest of day D counts the recipient's
``message`` notifications created from the local midnight of the day of their
previous digest up to the local midnight of D — the windows of one person's digests
follow each other without a gap or an overlap, whichever days the sweep runs. A message
already read (its notification read, or the thread opened, which reads it) before the
digest is made is left out: the digest tells what is still new.

``models.py`` imports this module at its end, so ``OutgoingEmail`` belongs to the
``core`` app.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import models
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .notifications import EMAIL_CLAIM_TIMEOUT, Notification, NotificationKind

if TYPE_CHECKING:
    from maslikhat.accounts.models import User

logger = logging.getLogger(__name__)

#: The notification kinds a digest lists.
DIGEST_KINDS = (
    NotificationKind.ESCALATION,
    NotificationKind.REMINDER,
    NotificationKind.PLEASE_EVALUATE,
)
#: Kinds e-mailed even to users who turned e-mail reminders off.
ALWAYS_EMAILED = (NotificationKind.ESCALATION,)
#: How far back a person's first digest (no earlier one to follow) looks for new messages.
MESSAGES_LOOKBACK_DAYS = 14
#: After this many failed attempts an e-mail stays failed (visible to administrators).
MAX_ATTEMPTS = 10
#: How many rows one catch-up run re-enqueues of each kind.
CATCH_UP_BATCH = 500


class OutgoingEmailKind(models.TextChoices):
    DIGEST = "digest", _("Daily digest")


class OutgoingEmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will be retried")


#: Statuses in which the e-mail still has to go out.
UNSENT = (OutgoingEmailStatus.PENDING, OutgoingEmailStatus.FAILED)


class OutgoingEmail(models.Model):
    """An e-mail the portal sends (or sent), recorded before it is sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="outgoing_emails",
        verbose_name=_("recipient"),
    )
    day = models.DateField(_("day"), help_text=_("Local date the e-mail belongs to."))
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=OutgoingEmailKind.choices,
        default=OutgoingEmailKind.DIGEST,
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OutgoingEmailStatus.choices,
        default=OutgoingEmailStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                name="outgoing_email_unsent",
                condition=Q(status__in=UNSENT),
            ),
        ]
        constraints = [
            # One digest per recipient per day, whatever runs the sweep and how often.
            models.UniqueConstraint(
                fields=["user", "day", "kind"], name="outgoing_email_once_a_day"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutgoingEmailStatus.values),
                name="outgoing_email_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OutgoingEmailKind.values), name="outgoing_email_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


# --- Building digests ------------------------------------------------------------------


@dataclass(frozen=True)
class DigestsResult:
    """What ``digests_create`` did: rows created, rows rewritten, and the ids to send."""

    created: int
    refreshed: int
    pending_ids: list[int]


def _format_day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _midnight(day: date) -> datetime:
    """The start of ``day`` in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ThreadNews:
    """New messages in one item's thread for one recipient: "N new messages in <item>"."""

    item_type: str
    item_id: int
    label: str
    link: str
    count: int
    #: The label by language, when the label itself is translated.
    labels: dict[str, str] = field(default_factory=dict)

    def label_in(self, language: str) -> str:
        return self.labels.get(language) or self.label


def thread_news(*, day: date, users: Iterable[int] | None = None) -> dict[int, list[ThreadNews]]:
    """The unread new messages of each recipient for the digest of ``day``, by item.

    A recipient's window runs from the local midnight of the day of their previous
    digest (or ``MESSAGES_LOOKBACK_DAYS`` back, for the first one) to the local
    midnight of ``day``; a recipient who already has a later digest gets nothing here
    (those messages were counted there). Only people who receive the e-mail's
    reminders (active, with an address, ``email_reminders``) are counted. Two queries.
    """
    end = _midnight(day)
    rows = Notification.objects.filter(
        kind=NotificationKind.MESSAGE,
        read_at__isnull=True,
        created_at__gte=_midnight(day - timedelta(days=MESSAGES_LOOKBACK_DAYS)),
        created_at__lt=end,
        user__is_active=True,
        user__email_reminders=True,
    ).exclude(user__email="")
    if users is not None:
        rows = rows.filter(user_id__in=list(users))
    found = list(
        rows.order_by("user_id", "created_at", "id").values_list(
            "user_id", "item_type", "item_id", "params", "text", "link", "created_at"
        )
    )
    if not found:
        return {}
    bounds = {
        row["user_id"]: (row["before"], row["after"])
        for row in OutgoingEmail.objects.filter(
            kind=OutgoingEmailKind.DIGEST, user_id__in={r[0] for r in found}
        )
        .exclude(day=day)
        .values("user_id")
        .annotate(before=Max("day", filter=Q(day__lt=day)), after=Max("day", filter=Q(day__gt=day)))
    }
    counted: dict[int, dict[tuple[str, int], list[Any]]] = defaultdict(dict)
    for user_id, item_type, item_id, params, text, link, created_at in found:
        before, after = bounds.get(user_id, (None, None))
        if after is not None or (before is not None and created_at < _midnight(before)):
            continue
        entry = counted[user_id].setdefault((item_type, item_id), [params or {}, text, link, 0])
        entry[3] += 1
    return {
        user_id: [
            ThreadNews(
                item_type=key[0],
                item_id=key[1],
                labels=params.get("labels") or {},
                label=params.get("item") or text,
                link=link,
                count=count,
            )
            for key, (params, text, link, count) in items.items()
        ]
        for user_id, items in counted.items()
    }


def digest_render(
    *,
    user: User,
    day: date,
    notifications: Sequence[Notification],
    news: Sequence[ThreadNews] = (),
) -> tuple[str, str]:
    """Subject and body of ``user``'s digest for ``day``, in the user's language.

    One entry per notification (escalations first), each with its text — which says
    how many working days are left or overdue — and the link to the item; then one
    entry per item with new messages ("N new messages in …").
    """
    items = {(n.item_type, n.item_id) for n in notifications}
    items |= {(n.item_type, n.item_id) for n in news}
    count = len(items)
    with translation.override(user.language):
        subject = ngettext(
            "Maslikhat portal: %(count)d item needs your attention on %(date)s",
            "Maslikhat portal: %(count)d items need your attention on %(date)s",
            count,
        ) % {"count": count, "date": _format_day(day)}
        lines = [
            gettext("Hello, %(name)s.") % {"name": user.full_name},
            ngettext(
                "On %(date)s %(count)d item needs your attention:",
                "On %(date)s %(count)d items need your attention:",
                count,
            )
            % {"count": count, "date": _format_day(day)},
        ]
        lines += [
            f"— {n.display_text}\n  {settings.PORTAL_BASE_URL}{n.link}" for n in notifications
        ]
        lines += [
            "— "
            + ngettext(
                "%(count)d new message in %(item)s",
                "%(count)d new messages in %(item)s",
                n.count,
            )
            % {"count": n.count, "item": n.label_in(user.language)}
            + f"\n  {settings.PORTAL_BASE_URL}{n.link}"
            for n in news
        ]
        if not user.email_reminders:
            lines.append(
                gettext(
                    "You have turned e-mail reminders off: this e-mail lists escalations only. "
                    "Every reminder is on the portal."
                )
            )
        lines.append(gettext("This message was sent by the portal of the Almaty city maslikhat."))
    return subject.replace("\n", " ")[:300], "\n\n".join(lines)


def _sort_key(n: Notification) -> tuple[int, str]:
    return (DIGEST_KINDS.index(n.kind), n.text)


def digests_create(*, day: date) -> DigestsResult:
    """Create the digest of ``day`` for every recipient of that day's reminders.

    Derived from the database alone, so it is safe to run again (after a crash, a
    second beat, a manual run): a recipient who already has a digest for the day
    gets none more; a digest not yet picked up for sending is rewritten when the
    day's notifications changed. Recipients who turned e-mail reminders off get only
    escalations; users without an e-mail address or inactive get nothing.
    Returns the ids of the day's digests still waiting to be sent.
    """
    settled = OutgoingEmail.objects.filter(
        user_id=OuterRef("user_id"), day=day, kind=OutgoingEmailKind.DIGEST
    ).exclude(status=OutgoingEmailStatus.PENDING, claimed_at__isnull=True)
    rows = (
        Notification.objects.filter(
            day=day, deduplicate=True, kind__in=DIGEST_KINDS, user__is_active=True
        )
        .exclude(user__email="")
        .filter(Q(user__email_reminders=True) | Q(kind__in=ALWAYS_EMAILED))
        # A digest already sent (or being sent) is never touched again.
        .exclude(Exists(settled))
        .select_related("user")
        .order_by("user_id", "id")
    )
    by_user: dict[int, list[Notification]] = defaultdict(list)
    users: dict[int, User] = {}
    for notification in rows:
        by_user[notification.user_id].append(notification)
        users[notification.user_id] = notification.user
    news = thread_news(day=day)
    settled_ids = (
        set(
            OutgoingEmail.objects.filter(
                user_id__in=list(news), day=day, kind=OutgoingEmailKind.DIGEST
            )
            .exclude(status=OutgoingEmailStatus.PENDING, claimed_at__isnull=True)
            .values_list("user_id", flat=True)
        )
        if news
        else set()
    )
    news = {user_id: n for user_id, n in news.items() if user_id not in settled_ids}
    missing = set(news) - set(users)
    if missing:
        users.update({u.pk: u for u in get_user_model().objects.filter(pk__in=missing)})
    for user_id in news:
        by_user.setdefault(user_id, [])
    unsent = OutgoingEmail.objects.filter(
        day=day,
        kind=OutgoingEmailKind.DIGEST,
        status=OutgoingEmailStatus.PENDING,
        claimed_at__isnull=True,
    )
    existing = {e.user_id: e for e in unsent}
    new: list[OutgoingEmail] = []
    refreshed = 0
    for user_id, notifications in by_user.items():
        notifications.sort(key=_sort_key)
        subject, body = digest_render(
            user=users[user_id],
            day=day,
            notifications=notifications,
            news=news.get(user_id, ()),
        )
        current = existing.get(user_id)
        if current is None:
            new.append(
                OutgoingEmail(
                    user_id=user_id,
                    day=day,
                    kind=OutgoingEmailKind.DIGEST,
                    subject=subject,
                    body=body,
                )
            )
        elif (current.subject, current.body) != (subject, body):
            # Rewrite only while nobody has claimed it for sending (race guard).
            refreshed += OutgoingEmail.objects.filter(
                pk=current.pk, status=OutgoingEmailStatus.PENDING, claimed_at__isnull=True
            ).update(subject=subject, body=body)
    before = OutgoingEmail.objects.filter(day=day, kind=OutgoingEmailKind.DIGEST).count()
    # ignore_conflicts: a concurrent sweep may have created the same digest a moment
    # ago; the unique constraint keeps one.
    OutgoingEmail.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    created = OutgoingEmail.objects.filter(day=day, kind=OutgoingEmailKind.DIGEST).count() - before
    pending_ids = list(unsent.order_by("id").values_list("pk", flat=True))
    return DigestsResult(created=created, refreshed=refreshed, pending_ids=pending_ids)


# --- Sending ---------------------------------------------------------------------------


def digest_send(*, outgoing_id: int) -> bool:
    """Send one recorded e-mail at most once; True when it was sent now.

    The conditional UPDATE claims the row, so two workers (or a task and the
    catch-up) never send it twice; a claim older than ten minutes is taken to be
    abandoned (its worker died) and may be taken again. A failed send is recorded
    (status ``failed``, the error) and re-raised for the task to retry.
    """
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT),
        pk=outgoing_id,
        status__in=UNSENT,
        attempts__lt=MAX_ATTEMPTS,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    outgoing = OutgoingEmail.objects.select_related("user").get(pk=outgoing_id)
    if not outgoing.user.email or not outgoing.user.is_active:
        # The address was removed (or the account closed) after the digest was made:
        # give up on it for good instead of retrying.
        OutgoingEmail.objects.filter(pk=outgoing_id).update(
            status=OutgoingEmailStatus.FAILED,
            claimed_at=None,
            attempts=MAX_ATTEMPTS,
            last_error="the recipient has no e-mail address or is inactive",
        )
        return False
    try:
        send_mail(outgoing.subject, outgoing.body, None, [outgoing.user.email])
    except Exception as exc:
        # Release the claim so the retry (or the next catch-up) can send it.
        OutgoingEmail.objects.filter(pk=outgoing_id).update(
            status=OutgoingEmailStatus.FAILED, claimed_at=None, last_error=repr(exc)[:2000]
        )
        raise
    OutgoingEmail.objects.filter(pk=outgoing_id).update(
        status=OutgoingEmailStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _publish(task_name: str, ids: Iterable[int]) -> int:
    """Publish one task per id; a dead broker is logged, never raised. Returns how many."""
    from . import tasks

    task = getattr(tasks, task_name)
    published = 0
    for pk in ids:
        try:
            # retry=False plus the bounded connection settings: a dead broker costs
            # one quick failed attempt, never a hung caller.
            task.apply_async((pk,), retry=False)
        except Exception:  # broker down: the catch-up re-enqueues it later
            logger.warning("broker unavailable; %s left pending for id %s and after", task_name, pk)
            break
        published += 1
    return published


def enqueue_digests(outgoing_ids: Sequence[int]) -> int:
    """Publish ``core.send_digest`` for each id (call it from ``transaction.on_commit``)."""
    return _publish("send_digest", outgoing_ids)


@dataclass(frozen=True)
class CatchUpResult:
    digests: int
    notifications: int


def email_catch_up(*, older_than: timedelta = EMAIL_CLAIM_TIMEOUT) -> CatchUpResult:
    """Re-enqueue every e-mail still unsent ``older_than`` after it was recorded.

    Covers digests and the per-notification e-mails of ``notify()`` whose publishing
    failed (broker down) or whose worker died. Enqueuing twice is harmless: the
    send functions claim each row, so at most one sends it.
    """
    now = timezone.now()
    cutoff = now - older_than
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT)
    digest_ids = list(
        OutgoingEmail.objects.filter(
            free, status__in=UNSENT, attempts__lt=MAX_ATTEMPTS, created_at__lte=cutoff
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    notification_ids = list(
        Notification.objects.filter(
            Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT),
            send_email=True,
            emailed_at__isnull=True,
            email_attempts__lt=MAX_ATTEMPTS,
            created_at__lte=cutoff,
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    return CatchUpResult(
        digests=_publish("send_digest", digest_ids),
        notifications=_publish("send_notification_email", notification_ids),
    )
