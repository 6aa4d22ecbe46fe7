"""Every write of following: sign up, confirm, unsubscribe, the daily digests, sending.

E-mail to followers is recorded (``FollowEmail``) inside the transaction and published to
the worker only after commit, as the portal's other e-mail is (``maslikhat/core/digests.py``):
a rolled-back sign-up sends nothing, a broker that is down leaves the row pending for the
next run, and a claim (a conditional UPDATE) sends each row at most once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext, pgettext

from maslikhat.core.exceptions import ValidationFailed

from . import selectors
from .models import UNSENT, Follow, FollowEmail, FollowEmailKind, FollowEmailStatus, TargetKind

logger = logging.getLogger(__name__)

#: A claim older than this is taken to be abandoned (its worker died).
CLAIM_TIMEOUT = timedelta(minutes=10)
#: After this many failed attempts an e-mail stays failed.
MAX_ATTEMPTS = 10
#: Salt of the signed address in a digest's "unsubscribe from everything" link.
ADDRESS_SALT = "follows.unsubscribe-address"
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
EVENT_TEXTS = {
    "published": lambda: pgettext("follow digest event", "published"),
    "answered": lambda: pgettext("follow digest event", "answered"),
    "closed": lambda: pgettext("follow digest event", "closed"),
    "promise_kept": lambda: pgettext("follow digest event", "the promised work was done"),
    "promise_broken": lambda: pgettext("follow digest event", "the promise was not kept"),
    "promise_rescheduled": lambda: pgettext("follow digest event", "the promised date was changed"),
}


def normalise_email(email: str) -> str:
    """Addresses compare case-insensitively: one address, one row per followed thing."""
    return (email or "").strip().lower()


def _absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def unsubscribe_url(token: str) -> str:
    return _absolute(reverse("follows:unsubscribe", args=[token]))


def address_token(email: str) -> str:
    """A signed, unforgeable token for unsubscribing an address from everything it follows."""
    return signing.dumps(normalise_email(email), salt=ADDRESS_SALT)


def address_from_token(token: str) -> str | None:
    try:
        value = signing.loads(token, salt=ADDRESS_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) else None


def _footer(unsubscribe: str) -> list[str]:
    return [
        gettext("To stop these e-mails, open: %(url)s") % {"url": unsubscribe},
        gettext("This message was sent by the portal of the Almaty city maslikhat."),
    ]


@dataclass(frozen=True)
class SubscribeResult:
    follow: Follow
    email_id: int | None


@transaction.atomic
def follow_subscribe(
    *, email: str, target_kind: str, target_id: int, language: str
) -> SubscribeResult:
    """Start following a public thing: a pending follow and its confirmation e-mail.

    Preconditions: the thing is public (``selectors.target_exists``) — otherwise
    ``ValidationFailed`` with the same message for a private request as for a missing one.
    An address that already follows the thing gets the confirmation again while it is
    unconfirmed, and nothing while it is confirmed; the caller answers the same either way,
    so the form tells nobody what an address follows.
    """
    email = normalise_email(email)
    if target_kind not in TargetKind.values:
        raise ValidationFailed(gettext("Choose what to follow."), field="target")
    if language not in LANGUAGE_CODES:
        language = settings.LANGUAGE_CODE
    if not selectors.target_exists(target_kind, target_id):
        raise ValidationFailed(
            gettext("There is nothing public to follow at this address."), field="id"
        )
    follow = (
        Follow.objects.select_for_update()
        .filter(email=email, target_kind=target_kind, target_id=target_id)
        .filter(unsubscribed_at__isnull=True)
        .first()
    )
    if follow is None:
        try:
            # A savepoint: a concurrent sign-up of the same address and thing may win the
            # unique constraint; then that row is the follow.
            with transaction.atomic():
                follow = Follow.objects.create(
                    email=email, target_kind=target_kind, target_id=target_id, language=language
                )
        except IntegrityError:
            follow = Follow.objects.get(
                email=email,
                target_kind=target_kind,
                target_id=target_id,
                unsubscribed_at__isnull=True,
            )
    elif follow.confirmed_at is None and follow.language != language:
        Follow.objects.filter(pk=follow.pk).update(language=language)
        follow.language = language
    if follow.confirmed_at is not None:
        return SubscribeResult(follow=follow, email_id=None)
    outgoing = FollowEmail.objects.create(
        email=email,
        kind=FollowEmailKind.CONFIRM,
        day=timezone.localdate(),
        follow=follow,
        unsubscribe_url=unsubscribe_url(follow.token),
        **_confirmation_text(follow),
    )
    # After commit: the worker must find the row, and a rolled-back sign-up sends nothing.
    transaction.on_commit(lambda: enqueue_emails([outgoing.pk]))
    return SubscribeResult(follow=follow, email_id=outgoing.pk)


def _confirmation_text(follow: Follow) -> dict[str, str]:
    with translation.override(follow.language):
        label = selectors.target_label(follow.target_kind, follow.target_id)
        confirm = _absolute(reverse("follows:confirm", args=[follow.token]))
        subject = gettext("Maslikhat portal: confirm that you want to follow %(what)s") % {
            "what": label
        }
        lines = [
            gettext(
                "Someone (we hope you) asked to receive e-mail from the portal of the Almaty "
                "city maslikhat about: %(what)s."
            )
            % {"what": label},
            gettext("To confirm, open this link: %(url)s") % {"url": confirm},
            gettext("If it was not you, ignore this message: nothing more will be sent."),
            *_footer(unsubscribe_url(follow.token)),
        ]
    return {"subject": subject.replace("\n", " ")[:300], "body": "\n\n".join(lines)}


@transaction.atomic
def follow_confirm(*, token: str) -> Follow:
    """Confirm a follow from the link in its e-mail (idempotent; an unsubscribed one stays so)."""
    follow = Follow.objects.select_for_update().filter(token=token).first()
    if follow is None:
        raise ValidationFailed(gettext("This link is not valid."))
    if follow.confirmed_at is None and follow.unsubscribed_at is None:
        follow.confirmed_at = timezone.now()
        follow.save(update_fields=["confirmed_at"])
    return follow


@transaction.atomic
def follow_unsubscribe(*, token: str) -> int:
    """Stop e-mail for one follow (its token) or for a whole address (a signed token).

    Nothing is deleted: ``unsubscribed_at`` is set. Returns how many follows ended; an
    unknown token raises ``ValidationFailed``; repeating the link changes nothing.
    """
    now = timezone.now()
    follow = Follow.objects.filter(token=token).first()
    if follow is not None:
        return Follow.objects.filter(pk=follow.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )
    email = address_from_token(token)
    if email is None:
        raise ValidationFailed(gettext("This link is not valid."))
    return Follow.objects.filter(email=email, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now
    )


# --- The daily digest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestsResult:
    created: int
    pending_ids: list[int]


def _digest_text(
    email: str, language: str, day: date, changes: Sequence[selectors.DayChanges]
) -> dict[str, str]:
    count = sum(len(c.changes) for c in changes)
    unsubscribe = unsubscribe_url(address_token(email))
    with translation.override(language):
        day_text = day.strftime("%d.%m.%Y")
        subject = ngettext(
            "Maslikhat portal: %(count)d change in what you follow on %(date)s",
            "Maslikhat portal: %(count)d changes in what you follow on %(date)s",
            count,
        ) % {"count": count, "date": day_text}
        lines = [gettext("What changed on %(date)s in what you follow:") % {"date": day_text}]
        for entry in changes:
            lines.append(f"{entry.label}")
            for change in entry.changes:
                item = change.request
                link = _absolute(reverse("reports:public-request", args=[item.pk]))
                status = EVENT_TEXTS[change.event]()
                if change.promise_due is not None:
                    status = gettext("the promised date was changed to %(date)s") % {
                        "date": change.promise_due.strftime("%d.%m.%Y")
                    }
                lines.append(f"— {item.number} {item.title}: {status}\n  {link}")
                if change.answer is not None:
                    lines.append(
                        "  "
                        + gettext("The answer of %(department)s: %(text)s")
                        % {"department": change.answer.department, "text": change.answer.text}
                    )
            one = unsubscribe_url(entry.follow.token)
            lines.append("  " + gettext("Stop following this: %(url)s") % {"url": one})
        lines += _footer(unsubscribe)
    return {"subject": subject.replace("\n", " ")[:300], "body": "\n\n".join(lines)}


def follow_digests_create(*, day: date) -> DigestsResult:
    """Record the digest of ``day``'s public changes for every followed address.

    One digest per address and day (a unique constraint), so running again — a retried
    task, a second beat, an operator — creates nothing more. Only follows confirmed
    before the day ended count; an address whose things did not change gets nothing. The
    digest is written in the language of the address's latest follow.
    """
    _start, end = (
        timezone.make_aware(datetime.combine(day, time.min)),
        timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)),
    )
    done = set(
        FollowEmail.objects.filter(kind=FollowEmailKind.DIGEST, day=day).values_list(
            "email", flat=True
        )
    )
    by_email: dict[str, list[Follow]] = defaultdict(list)
    for follow in selectors.active_follows(before=end):
        if follow.email not in done:
            by_email[follow.email].append(follow)
    new: list[FollowEmail] = []
    for email, follows in by_email.items():
        language = max(follows, key=lambda f: (f.created_at, f.pk)).language
        # Names (departments, districts, categories) are read in the follower's language.
        with translation.override(language):
            changes = [c for c in (selectors.day_changes(f, day) for f in follows) if c.changes]
        if not changes:
            continue
        new.append(
            FollowEmail(
                email=email,
                kind=FollowEmailKind.DIGEST,
                day=day,
                unsubscribe_url=unsubscribe_url(address_token(email)),
                **_digest_text(email, language, day, changes),
            )
        )
    before = FollowEmail.objects.filter(kind=FollowEmailKind.DIGEST, day=day).count()
    # ignore_conflicts: a concurrent run may have recorded the same digest a moment ago;
    # the unique constraint keeps one.
    FollowEmail.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    created = FollowEmail.objects.filter(kind=FollowEmailKind.DIGEST, day=day).count() - before
    pending = FollowEmail.objects.filter(
        kind=FollowEmailKind.DIGEST, day=day, status__in=UNSENT, attempts__lt=MAX_ATTEMPTS
    )
    return DigestsResult(created=created, pending_ids=list(pending.values_list("pk", flat=True)))


# --- Sending -------------------------------------------------------------------------------------


def follow_email_send(*, outgoing_id: int) -> bool:
    """Send one recorded e-mail at most once; True when it was sent now.

    The conditional UPDATE claims the row, so two workers never send it twice. Every
    message carries the one-click unsubscribe headers (RFC 8058). A follow that was
    unsubscribed before its confirmation went out gets nothing.
    """
    now = timezone.now()
    claimed = FollowEmail.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=outgoing_id,
        status__in=UNSENT,
        attempts__lt=MAX_ATTEMPTS,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    outgoing = FollowEmail.objects.select_related("follow").get(pk=outgoing_id)
    if outgoing.follow is not None and outgoing.follow.unsubscribed_at is not None:
        FollowEmail.objects.filter(pk=outgoing_id).update(
            status=FollowEmailStatus.FAILED,
            attempts=MAX_ATTEMPTS,
            claimed_at=None,
            last_error="unsubscribed before sending",
        )
        return False
    message = EmailMessage(
        outgoing.subject,
        outgoing.body,
        None,
        [outgoing.email],
        headers={
            "List-Unsubscribe": f"<{outgoing.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    try:
        message.send()
    except Exception as exc:
        # Release the claim so the retry can send it.
        FollowEmail.objects.filter(pk=outgoing_id).update(
            status=FollowEmailStatus.FAILED, claimed_at=None, last_error=repr(exc)[:2000]
        )
        raise
    FollowEmail.objects.filter(pk=outgoing_id).update(
        status=FollowEmailStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def enqueue_emails(ids: Iterable[int]) -> int:
    """Publish ``follows.send_email`` per id; a dead broker is logged, never raised."""
    from .tasks import send_email

    published = 0
    for pk in ids:
        try:
            # retry=False with the bounded publish settings: a dead broker never hangs a caller.
            send_email.apply_async((pk,), retry=False)
        except Exception:
            logger.warning("broker unavailable; follower e-mail %s left pending", pk)
            break
        published += 1
    return published
