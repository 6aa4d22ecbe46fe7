"""Promises: a final answer with the outcome ``planned`` promises the work by a date.

One ``Commitment`` per such answer (a unique constraint). Its state is ``open`` until
the author confirms the department's report (``kept``), staff resolve a dispute
(``kept`` or ``broken``); ``rescheduled`` is an open promise whose date the department
moved; ``withdrawn`` when the author returned its answer for rework. ``overdue`` is
derived: open or rescheduled, and past its due date.
Every change is written to the request's history (``AuditEvent``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from maslikhat.directory.models import Department
from requests_app.models import DeputyRequest, Response


class CommitmentState(models.TextChoices):
    OPEN = "open", pgettext_lazy("promise state", "Open")
    KEPT = "kept", pgettext_lazy("promise state", "Kept")
    BROKEN = "broken", pgettext_lazy("promise state", "Broken")
    RESCHEDULED = "rescheduled", pgettext_lazy("promise state", "Rescheduled")
    #: The author returned the answer that made the promise for rework: it no longer
    #: promises anything (the next planned answer makes a new promise). Out of the
    #: reminders, the to-do and the figures; kept in the history.
    WITHDRAWN = "withdrawn", pgettext_lazy("promise state", "Superseded by rework")


#: The states of a promise still to be kept (``overdue`` when past due).
ACTIVE_STATES = (CommitmentState.OPEN, CommitmentState.RESCHEDULED)


class Verdict(models.TextChoices):
    NONE = "", pgettext_lazy("promise verdict", "Not given")
    CONFIRMED = "confirmed", pgettext_lazy("promise verdict", "Confirmed")
    DISPUTED = "disputed", pgettext_lazy("promise verdict", "Disputed")


class Commitment(models.Model):
    request = models.ForeignKey(
        DeputyRequest,
        on_delete=models.CASCADE,
        related_name="commitments",
        verbose_name=_("request"),
    )
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="+", verbose_name=_("answer")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    text = models.TextField(_("promise"))
    original_due_date = models.DateField(_("originally promised for"))
    due_date = models.DateField(_("promised for"), db_index=True)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=CommitmentState.choices,
        default=CommitmentState.OPEN,
        db_index=True,
    )
    reported_text = models.TextField(_("report"), blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    verdict = models.CharField(
        _("author's verdict"), max_length=10, choices=Verdict.choices, blank=True, default=""
    )
    verdict_comment = models.TextField(_("author's comment"), blank=True)
    verdict_at = models.DateTimeField(_("verdict given at"), null=True, blank=True)
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verdict given by"),
    )
    resolution_comment = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    reschedule_count = models.PositiveSmallIntegerField(_("times rescheduled"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("promise")
        verbose_name_plural = _("promises")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["response"], name="commitment_one_per_answer"),
        ]
        indexes = [
            models.Index(fields=["department", "state", "due_date"]),
            # The lists' order (``ordering``): a page is read from the index, however many
            # promises share a date.
            models.Index(fields=["due_date", "id"], name="commitment_due_id"),
            # The to-do's groups (``todo.py``), each over its own few rows: reported and
            # awaiting the author's verdict (joined to the author's requests by request),
            # disputed and not yet reported (walked by date).
            models.Index(
                fields=["request", "due_date"],
                condition=Q(
                    state__in=ACTIVE_STATES, reported_at__isnull=False, verdict=Verdict.NONE
                ),
                name="commitment_awaiting_verdict",
            ),
            # The same promises the longest waiting first (the deputy dashboard's list,
            # ``selectors.commitments_awaiting_verdict``): walked in that order, each checked
            # against the author's requests, until the page is full — not every promise
            # awaiting a verdict read and sorted.
            models.Index(
                fields=["reported_at", "id"],
                condition=Q(
                    state__in=ACTIVE_STATES, reported_at__isnull=False, verdict=Verdict.NONE
                ),
                name="commitment_awaiting_oldest",
            ),
            models.Index(
                fields=["due_date", "id"],
                condition=Q(state__in=ACTIVE_STATES, verdict=Verdict.DISPUTED),
                name="commitment_disputed",
            ),
            models.Index(
                fields=["due_date", "id"],
                condition=Q(state__in=ACTIVE_STATES, reported_at__isnull=True),
                name="commitment_unreported_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} — {self.due_date:%d.%m.%Y}"
