"""In-app notifications and the e-mail that follows them.

A service that changes an item calls ``notify()`` inside its transaction: the
rows are written with the change, and the e-mail tasks are enqueued only after
the commit (``transaction.on_commit``), so a rolled-back action notifies nobody.
A broker that is down never fails the user's action: the e-mail stays pending
(``emailed_at`` empty) and the daily sweep sends what is still pending.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .items import ItemType, item_kind

if TYPE_CHECKING:
    from maslikhat.accounts.models import User

logger = logging.getLogger(__name__)


class NotificationKind(models.TextChoices):
    SUBMITTED = "submitted", _("Request submitted")
    ROUTED = "routed", _("Item addressed to your department")
    ASSIGNED = "assigned", _("Assigned to you")
    REDIRECTED = "redirected", _("Department asks to re-route")
    DECLINED = "declined", _("Request declined")
    DRAFT_AWAITS_APPROVAL = "draft_awaits_approval", _("Draft answer awaits approval")
    DRAFT_RETURNED = "draft_returned", _("Draft answer returned")
    INTERIM_ANSWER = "interim_answer", _("Interim answer")
    ANSWERED = "answered", _("Answer received")
    RETURNED = "returned", _("Returned for rework")
    ACCEPTED = "accepted", _("Answer accepted")
    AUTO_CLOSED = "auto_closed", _("Closed without evaluation")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    MESSAGE = "message", _("New message")
    REPORTED = "reported", _("Execution report received")
    EXECUTED = "executed", _("Instruction executed")
    REPORT_RETURNED = "report_returned", _("Execution report returned")
    REMOVED_FROM_CONTROL = "removed_from_control", _("Removed from control")
    REMINDER = "reminder", _("Reminder")
    ESCALATION = "escalation", _("Escalation")
    PLEASE_EVALUATE = "please_evaluate", _("Please evaluate the answer")
    REQUEST_ROUTED = "request_routed", _("Request routed")
    CLARIFICATION_ASKED = "clarification_asked", _("Clarification asked")
    CLARIFICATION_ANSWERED = "clarification_answered", _("Clarification answered")
    REROUTED = "rerouted", _("Re-routed")
    PROMISE_REPORTED = "promise_reported", _("Promised work reported done")
    PROMISE_CONFIRMED = "promise_confirmed", _("Promise confirmed as kept")
    PROMISE_DISPUTED = "promise_disputed", _("Promise report disputed")
    PROMISE_KEPT = "promise_kept", _("Dispute resolved: promise kept")
    PROMISE_BROKEN = "promise_broken", _("Dispute resolved: promise broken")
    PROMISE_RESCHEDULED = "promise_rescheduled", _("Promised date moved")


# What the notification says, by kind; %(item)s is the item's label.
TEXTS: dict[str, Any] = {
    NotificationKind.SUBMITTED: _("%(item)s was submitted and waits for routing."),
    NotificationKind.ROUTED: _("%(item)s was addressed to your department."),
    NotificationKind.ASSIGNED: _("You were assigned to %(item)s."),
    NotificationKind.REDIRECTED: _("The department asks to re-route %(item)s."),
    NotificationKind.DECLINED: _("%(item)s was declined."),
    NotificationKind.DRAFT_AWAITS_APPROVAL: _("A draft answer to %(item)s awaits your approval."),
    NotificationKind.DRAFT_RETURNED: _("Your draft answer to %(item)s was returned."),
    NotificationKind.INTERIM_ANSWER: _("An interim answer to %(item)s was sent."),
    NotificationKind.ANSWERED: _("%(item)s was answered. Please evaluate the answer."),
    NotificationKind.RETURNED: _("%(item)s was returned for rework."),
    NotificationKind.ACCEPTED: _("The answer to %(item)s was accepted."),
    NotificationKind.AUTO_CLOSED: _("%(item)s was closed without evaluation."),
    NotificationKind.WITHDRAWN: _("%(item)s was withdrawn by its author."),
    NotificationKind.EXTENSION_REQUESTED: _("An extension of %(item)s is requested."),
    NotificationKind.EXTENSION_DECIDED: _("The extension of %(item)s was decided."),
    NotificationKind.MESSAGE: _("New message in %(item)s."),
    NotificationKind.REPORTED: _("An execution report on %(item)s was submitted."),
    NotificationKind.EXECUTED: _("%(item)s was accepted as executed."),
    NotificationKind.REPORT_RETURNED: _("The report on %(item)s was returned."),
    NotificationKind.REMOVED_FROM_CONTROL: _("%(item)s was removed from control."),
    NotificationKind.REMINDER: _("Reminder: %(item)s."),
    NotificationKind.ESCALATION: _("Overdue: %(item)s."),
    NotificationKind.PLEASE_EVALUATE: _("Please evaluate the answer to %(item)s."),
    # Values beyond %(item)s come from ``notify(params=...)``; see NEEDED_PARAMS.
    NotificationKind.REQUEST_ROUTED: _(
        "%(item)s was routed to %(department)s; the answer is due by %(due)s."
    ),
    NotificationKind.CLARIFICATION_ASKED: _("A clarification of %(item)s is asked."),
    NotificationKind.CLARIFICATION_ANSWERED: _("The clarification of %(item)s was answered."),
    NotificationKind.REROUTED: _("%(item)s was re-routed to %(department)s."),
    NotificationKind.PROMISE_REPORTED: _(
        "The department reports the work promised in the answer to %(item)s done. "
        "Was it done? Confirm or dispute it on the request's page."
    ),
    NotificationKind.PROMISE_CONFIRMED: _(
        "The author confirmed that the promise in the answer to %(item)s was kept."
    ),
    NotificationKind.PROMISE_DISPUTED: _(
        "The author disputes the department's report on the promise in the answer to %(item)s."
    ),
    NotificationKind.PROMISE_KEPT: _(
        "Staff resolved the dispute: the promise in the answer to %(item)s was kept."
    ),
    NotificationKind.PROMISE_BROKEN: _(
        "Staff resolved the dispute: the promise in the answer to %(item)s was broken."
    ),
    NotificationKind.PROMISE_RESCHEDULED: _(
        "The department moved the date promised in the answer to %(item)s to %(due)s."
    ),
}

#: The values a kind's text needs besides ``item`` (pass them as ``notify(params=...)``).
#: A notification missing one is still shown: as "<kind>: <item>" (see ``render_text``).
NEEDED_PARAMS: dict[str, tuple[str, ...]] = {
    NotificationKind.REQUEST_ROUTED: ("department", "due"),
    NotificationKind.REROUTED: ("department",),
    NotificationKind.PROMISE_RESCHEDULED: ("due",),
}


class Notification(models.Model):
    """Something a user should know about an item, in the app and (optionally) by e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    item_type = models.CharField(_("item type"), max_length=16, choices=ItemType.choices)
    item_id = models.PositiveBigIntegerField(_("item"))
    text = models.CharField(_("text"), max_length=500)
    #: What the text is rendered from in the reader's language at display time (the
    #: item's label and any other values of the kind's sentence); ``text`` keeps the
    #: wording as first written, for e-mails already sent and for the admin.
    params = models.JSONField(_("text values"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    day = models.DateField(_("day"), help_text=_("Local date the notification belongs to."))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Reminders are unique per (item, kind, recipient, day): the constraint, not
    # luck, makes a repeated sweep send nothing twice.
    deduplicate = models.BooleanField(_("once a day"), default=False)
    send_email = models.BooleanField(_("send by e-mail"), default=False)
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["item_type", "item_id"]),
            # A person's list newest first; the digest's kinds since a moment.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_recent"),
            models.Index(fields=["kind", "created_at"], name="notification_kind_created"),
            models.Index(
                fields=["send_email", "emailed_at"],
                name="notification_email_pending",
                condition=Q(send_email=True, emailed_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "item_type", "item_id", "day"],
                condition=Q(deduplicate=True),
                name="notification_once_a_day",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def display_text(self) -> str:
        """The text in the current language (the reader's), from ``params`` when stored."""
        return render_text(self.kind, self.params, fallback=self.text)

    def text_in(self, language: str) -> str:
        """The text in ``language`` (an e-mail to the recipient)."""
        with translation.override(language):
            return self.display_text


def label_in_language(params: dict[str, Any]) -> str:
    """The item's label stored in ``params`` in the active language (``labels``), else
    the one written with the notification (``item``)."""
    labels = params.get("labels")
    if isinstance(labels, dict):
        label = labels.get(translation.get_language() or settings.LANGUAGE_CODE)
        if label:
            return str(label)
    return str(params.get("item", ""))


def render_text(kind: str, params: dict[str, Any] | None, *, fallback: str = "") -> str:
    """The sentence of ``kind`` with ``params``, in the active language.

    Rows written before ``params`` existed have none: their stored ``text`` (in the
    language they were written in) is shown. A kind whose values are missing falls
    back to "<kind>: <item>" rather than failing the page.
    """
    if not params:
        return fallback
    params = {**params, "item": label_in_language(params)}
    if "reasons" in params:
        # A reminder of the daily sweep: its label and reasons (``reminders.Reason``).
        from .reminders import reminder_text

        try:
            return reminder_text(params["item"], params["reasons"])
        except (TypeError, ValueError, AssertionError):
            return fallback or params["item"]
    template = TEXTS.get(kind)
    try:
        if template is None:
            raise KeyError(kind)
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        label = str(params.get("item", ""))
        try:
            kind_name = str(NotificationKind(kind).label)
        except ValueError:
            return label or fallback
        return f"{kind_name}: {label}" if label else kind_name


def _param_value(value: Any) -> Any:
    """A value stored in ``params``: plain text, numbers, and dates as dd.mm.yyyy."""
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).strftime("%d.%m.%Y %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%d.%m.%Y %H:%M")
        )
    if isinstance(value, datetime.date):
        return value.strftime("%d.%m.%Y")
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)


def _text_in(kind: str, params: dict[str, Any], language: str) -> str:
    with translation.override(language):
        return render_text(kind, params)


def notification_params(
    label: str, params: dict[str, Any] | None = None, *, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """What a notification stores to render its text later: the item's label (``item``;
    and ``labels``, by language, when the label itself is translated: "Поручение 12" /
    "Тапсырма 12") and the other values of the sentence."""
    values = {key: _param_value(value) for key, value in (params or {}).items()}
    values["item"] = label
    if labels and len(set(labels.values())) > 1:
        values["labels"] = labels
    return values


def item_labels(item: Any) -> dict[str, str]:
    """The item's label in every language of the portal."""
    label = item_kind(item.ITEM_TYPE).label
    labels = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels[code] = str(label(item))
    return labels


def notify(
    *,
    users: Iterable[User],
    kind: str,
    item: Any,
    email: bool = False,
    exclude: User | None = None,
    params: dict[str, Any] | None = None,
) -> list[Notification]:
    """Notify ``users`` (minus ``exclude``, the actor) about ``item``; e-mail after commit.

    Must run inside the service's transaction. ``params`` are the values of the
    kind's sentence besides the item's label (``TEXTS``, ``NEEDED_PARAMS``: e.g.
    ``{"department": name, "due": date}`` for ``request_routed``); they are stored
    with the notification as plain text (dates as dd.mm.yyyy), so the text is
    rendered at display time in the reader's language. ``text`` keeps the sentence
    in the recipient's language of the moment.
    """
    kind_info = item_kind(item.ITEM_TYPE)
    label = kind_info.label(item)
    link = kind_info.url(item)
    values = notification_params(label, params, labels=item_labels(item))
    today = timezone.localdate()
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        if not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                item_type=item.ITEM_TYPE,
                item_id=item.pk,
                text=_text_in(kind, values, user.language)[:500],
                params=values,
                link=link,
                day=today,
                send_email=email and bool(user.email),
            )
        )
    created = Notification.objects.bulk_create(rows)
    to_email = [n.pk for n in created if n.send_email and n.pk is not None]
    if to_email:
        # After commit: a rolled-back action e-mails nobody, and the worker
        # always finds the rows it is asked to send.
        transaction.on_commit(lambda: enqueue_emails(to_email))
    return created


def enqueue_emails(notification_ids: list[int]) -> None:
    """Publish one e-mail task per notification; a dead broker is logged, never raised."""
    from .tasks import send_notification_email

    for pk in notification_ids:
        try:
            send_notification_email.apply_async((pk,), retry=False)
        except Exception:  # broker down: the sweep sends pending e-mail later
            logger.warning("broker unavailable; e-mail for notification %s left pending", pk)
            return


EMAIL_CLAIM_TIMEOUT = datetime.timedelta(minutes=10)


def notification_send_email(*, notification_id: int) -> bool:
    """Send the e-mail of one notification at most once; True when it was sent now.

    A conditional UPDATE claims the row so two workers (or a retried task)
    never send the same e-mail twice; a claim older than ten minutes is
    considered abandoned (the worker died) and may be taken again.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT),
        pk=notification_id,
        send_email=True,
        emailed_at__isnull=True,
    ).update(email_claimed_at=now, email_attempts=models.F("email_attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    user = notification.user
    with translation.override(user.language):
        text = notification.display_text
        subject = str(_("Maslikhat portal: %(text)s")) % {"text": text}
        subject = subject.replace("\n", " ")[:200]
        body = "\n\n".join(
            [
                str(_("Hello, %(name)s.")) % {"name": user.full_name},
                text,
                f"{settings.PORTAL_BASE_URL}{notification.link}",
                str(_("This message was sent by the portal of the Almaty city maslikhat.")),
            ]
        )
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        # Release the claim so the retry (or the next sweep) can send it.
        Notification.objects.filter(pk=notification_id).update(email_claimed_at=None)
        raise
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


#: The bell and the notification page count at most this many unread notifications and
#: then say "99+": a person with ten thousand unread costs the page what ten do (the count
#: reads no further than the first hundred index entries).
UNREAD_SHOWN = 99


def unread_count(user: User, *, limit: int | None = UNREAD_SHOWN) -> int:
    """The user's unread notifications, counted up to ``limit + 1`` (more than ``limit``
    means "``limit``+"); ``limit=None`` counts them all."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if limit is not None:
        qs = qs.order_by()[: limit + 1]
    return qs.count()


#: The columns a row of the notification list reads (``NotificationSerializer.rows``).
LIST_COLUMNS = (
    "id",
    "kind",
    "item_type",
    "item_id",
    "text",
    "params",
    "link",
    "created_at",
    "read_at",
)


def list_values(qs: QuerySet[Notification]) -> QuerySet[Any]:
    """The list's columns of ``qs`` as plain rows: no model instance per row."""
    return qs.values(*LIST_COLUMNS)


def notifications_of(user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first (the bell's page)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")
