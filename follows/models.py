"""Who follows what by e-mail, and every e-mail sent to followers, recorded before it is sent.

A follow is double opt-in: it exists from the sign-up form, but nothing but the confirmation
e-mail reaches the address until the link in it is opened (``confirmed_at``). Nothing is
deleted: unsubscribing sets ``unsubscribed_at``, and following the same thing again makes a
new row. The token in the confirmation and unsubscribe links is random and unguessable.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    """An unguessable token for the confirmation and unsubscribe links (256 random bits)."""
    return secrets.token_urlsafe(32)


class TargetKind(models.TextChoices):
    REQUEST = "request", _("Published request")
    DEPARTMENT = "department", _("Department")
    DISTRICT = "district", _("District")
    DEPUTY = "deputy", _("Deputy")


class Follow(models.Model):
    """One address following one public thing (a published request, a department, …)."""

    email = models.EmailField(_("e-mail"), max_length=254)
    target_kind = models.CharField(_("what is followed"), max_length=16, choices=TargetKind.choices)
    target_id = models.PositiveBigIntegerField(_("id of what is followed"))
    language = models.CharField(
        _("language for e-mail"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email"], name="follow_email")]
        constraints = [
            # One live follow of a thing per address; an unsubscribed one stays beside it.
            models.UniqueConstraint(
                fields=["email", "target_kind", "target_id"],
                condition=Q(unsubscribed_at__isnull=True),
                name="follow_once_per_address",
            ),
            models.CheckConstraint(
                condition=Q(target_kind__in=TargetKind.values), name="follow_target_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.target_kind} {self.target_id}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class FollowEmailKind(models.TextChoices):
    CONFIRM = "confirm", _("Confirmation of a follow")
    DIGEST = "digest", _("Daily digest of followed things")


class FollowEmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will be retried")


UNSENT = (FollowEmailStatus.PENDING, FollowEmailStatus.FAILED)


class FollowEmail(models.Model):
    """An e-mail to a follower (a confirmation or the day's digest), sent at most once.

    Followers need no account, so these rows name an address, not a user; otherwise they
    are sent like the portal's other recorded e-mail (``maslikhat/core/digests.py``).
    """

    email = models.EmailField(_("e-mail"), max_length=254)
    kind = models.CharField(_("kind"), max_length=16, choices=FollowEmailKind.choices)
    day = models.DateField(_("day"), help_text=_("The day whose changes a digest reports."))
    follow = models.ForeignKey(
        Follow, on_delete=models.PROTECT, null=True, blank=True, related_name="emails"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    unsubscribe_url = models.CharField(_("unsubscribe link"), max_length=500)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=FollowEmailStatus.choices,
        default=FollowEmailStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("e-mail to a follower")
        verbose_name_plural = _("e-mail to followers")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one digest per address and day, whoever runs the job and how often.
            models.UniqueConstraint(
                fields=["email", "day"],
                condition=Q(kind="digest"),
                name="follow_email_one_digest_a_day",
            ),
            models.CheckConstraint(
                condition=Q(status__in=FollowEmailStatus.values),
                name="follow_email_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.subject
