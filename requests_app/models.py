"""Deputy requests (депутатские запросы) and the department's answers to them.

The lifecycle is one transition table in ``services.py``; this module holds the
fields, the constraints and tiny pure properties only.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from maslikhat.core.items import ItemType
from maslikhat.core.threads import ItemRows
from maslikhat.directory.models import (
    Category,
    Convocation,
    Department,
    Deputy,
    District,
)


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: States in which the item is still somebody's work.
OPEN_STATUSES = (
    RequestStatus.DRAFT,
    RequestStatus.SUBMITTED,
    RequestStatus.IN_PROGRESS,
    RequestStatus.ANSWERED,
)
#: States in which the department's deadline runs.
DEADLINE_STATUSES = (RequestStatus.IN_PROGRESS,)


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    PARTIALLY_RESOLVED = "partially_resolved", _("Partially resolved")
    PLANNED = "planned", _("Planned")
    REFUSED = "refused", _("Refused")
    EXPLAINED = "explained", _("Explained")
    NOT_RESOLVED = "not_resolved", _("Not resolved")


#: What a department may claim in a final answer.
CLAIMED_OUTCOMES = (
    Outcome.RESOLVED,
    Outcome.PARTIALLY_RESOLVED,
    Outcome.PLANNED,
    Outcome.REFUSED,
    Outcome.EXPLAINED,
)


class DeputyRequest(models.Model):
    """A deputy's formal written request to an executive body (депутатский запрос)."""

    ITEM_TYPE = ItemType.REQUEST
    #: Its extensions of the deadline (``core.Extension``, keyed by item like the thread).
    extensions = ItemRows("core.Extension")

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    convocation = models.ForeignKey(
        Convocation,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("convocation"),
    )
    author = models.ForeignKey(
        Deputy, on_delete=models.PROTECT, related_name="authored_requests", verbose_name=_("author")
    )
    co_authors = models.ManyToManyField(
        Deputy, related_name="coauthored_requests", blank=True, verbose_name=_("co-authors")
    )
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"))
    proposed_solution = models.TextField(_("proposed solution"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="requests", verbose_name=_("category")
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("district"),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    suggested_departments = models.ManyToManyField(
        Department,
        related_name="suggested_for_requests",
        blank=True,
        verbose_name=_("suggested addressees"),
    )
    is_public = models.BooleanField(
        _("publish on the public portal"),
        default=False,
        help_text=_("Published requests are visible to everyone from submission on."),
    )

    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_requests",
        verbose_name=_("lead department"),
    )
    co_departments = models.ManyToManyField(
        Department,
        related_name="co_requests",
        blank=True,
        verbose_name=_("co-executor departments"),
    )
    executor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="executed_requests",
        verbose_name=_("executor"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=24, choices=Outcome.choices, null=True, blank=True
    )

    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    original_due_date = models.DateField(
        _("original due date"),
        null=True,
        blank=True,
        help_text=_("The due date before any extension; statistics count against it."),
    )
    due_date_basis = models.JSONField(
        _("how the due date was computed"), default=dict, blank=True, editable=False
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    evaluation_due_date = models.DateField(_("evaluate by"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("returned for rework"), default=0)
    #: The day a clarification question stopped the clock (where the rule allows it);
    #: empty while the clock runs.
    paused_since = models.DateField(_("clock stopped since"), null=True, blank=True)
    #: Working days the clock stood still in finished pauses; the due date has moved by them.
    paused_days = models.PositiveSmallIntegerField(_("paused working days"), default=0)

    rating = models.PositiveSmallIntegerField(_("deputy's rating"), null=True, blank=True)
    rating_comment = models.TextField(_("comment on the rating"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    request_rating = models.PositiveSmallIntegerField(
        _("department's rating of the request"), null=True, blank=True
    )
    request_rating_comment = models.TextField(_("comment on the request rating"), blank=True)
    request_rated_at = models.DateTimeField(_("request rated at"), null=True, blank=True)
    request_rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("request rated by"),
    )
    status_reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why it was declined, withdrawn or redirected.")
    )

    #: What search reads for the request's participants (its deputies, the departments
    #: working on it, staff): the request, its address, its sent answers, its thread and
    #: the names of its files. Kept current by the services, lower-cased.
    search_document = models.TextField(editable=False, blank=True)
    #: What search reads for everyone else who sees the request: its number, title, text
    #: and proposed solution, and its final answer once it is closed — the public page's
    #: text (``docs/search.md``). Kept current by the services, lower-cased.
    published_document = models.TextField(editable=False, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deputy request")
        verbose_name_plural = _("deputy requests")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["lead_department", "status"]),
            models.Index(fields=["author", "status"]),
            models.Index(fields=["-submitted_at", "-id"]),
            models.Index(fields=["is_public", "status"]),
            models.Index(fields=["district", "category"]),
            # The lists' filters and orderings (``docs/api.md``): requests in work by due
            # date (the overdue list), a status and district newest first, a department's
            # requests by status and due date, a deputy's newest first, the published
            # ones newest first, and the changes since a moment (the daily counts).
            models.Index(
                fields=["due_date"],
                condition=Q(status=RequestStatus.IN_PROGRESS),
                name="request_in_work_due",
            ),
            models.Index(
                fields=["status", "district", "-submitted_at"], name="request_status_district"
            ),
            models.Index(
                fields=["lead_department", "status", "due_date"], name="request_lead_status_due"
            ),
            models.Index(fields=["author", "-submitted_at"], name="request_author_recent"),
            # The public list newest first: published drafts (no submission time, first
            # in this order) are not in it, so the walk starts at the first row shown.
            models.Index(
                fields=["-submitted_at", "-id"],
                condition=Q(is_public=True) & ~Q(status=RequestStatus.DRAFT),
                name="request_public_recent",
            ),
            models.Index(fields=["updated_at"], name="request_updated_at"),
            # The overdue list by due date (``selectors.overdue``): the rows that can be
            # overdue — in work with the clock running (no answer yet), or answered after
            # the due date.
            models.Index(
                fields=["due_date", "id"],
                condition=Q(
                    status=RequestStatus.IN_PROGRESS,
                    paused_since__isnull=True,
                    answered_at__isnull=True,
                )
                | Q(
                    answered_at__isnull=False,
                    due_date__isnull=False,
                    answered_at__date__gt=models.F("due_date"),
                ),
                name="request_overdue_due",
            ),
            # A deputy's requests as ids alone (read from the index): joined to the few
            # promises awaiting a verdict, or to any other short list of requests.
            models.Index(fields=["author", "id"], name="request_author_id"),
            # The registered requests newest first (every list's default for staff, the
            # chair and a department) without walking the drafts, which have no submission
            # date and so come first in that order; the routing queue oldest first.
            models.Index(
                fields=["-submitted_at", "-id"],
                condition=~Q(status=RequestStatus.DRAFT),
                name="request_registered_recent",
            ),
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status=RequestStatus.SUBMITTED),
                name="request_to_route",
            ),
            # A department's requests in work without an executor (the head's to-do and
            # the inbox's "Unassigned" tab), by due date.
            models.Index(
                fields=["lead_department", "due_date"],
                condition=Q(status=RequestStatus.IN_PROGRESS, executor__isnull=True),
                name="request_unassigned",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__isnull=True) | Q(outcome__in=Outcome.values),
                name="request_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="request_rating_1_5",
            ),
            models.CheckConstraint(
                condition=Q(request_rating__isnull=True)
                | Q(request_rating__gte=1, request_rating__lte=5),
                name="request_request_rating_1_5",
            ),
            models.CheckConstraint(
                # A draft withdrawn before submission never had a number.
                condition=Q(status__in=[RequestStatus.DRAFT, RequestStatus.WITHDRAWN])
                | Q(number__isnull=False),
                name="request_number_once_submitted",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED])
                | Q(lead_department__isnull=False, due_date__isnull=False),
                name="request_routed_has_department_and_due_date",
            ),
        ]

    def __str__(self) -> str:
        if self.number:
            return f"{self.number} «{self.title}»"
        # Translators: a deputy request not yet submitted, so without a number.
        return gettext("Draft «%(title)s»") % {"title": self.title}

    @property
    def label(self) -> str:
        return str(self)

    def is_overdue_on(self, today: datetime.date) -> bool:
        """Overdue: past due and not answered, or answered after the due date ("answered late")."""
        if self.due_date is None:
            return False
        if self.status == RequestStatus.IN_PROGRESS:
            # While the clock is stopped the due date is not yet known: not overdue.
            return self.paused_since is None and today > self.due_date
        if self.answered_at is not None:
            return timezone.localdate(self.answered_at) > self.due_date
        return False

    @property
    def is_overdue(self) -> bool:
        annotated = getattr(self, "overdue", None)
        if annotated is not None:
            return bool(annotated)
        return self.is_overdue_on(timezone.localdate())


class RegistrationCounter(models.Model):
    """The last registration number given in a year: numbers are unique and gap-free."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("registration counter")
        verbose_name_plural = _("registration counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class ResponseKind(models.TextChoices):
    INTERIM = "interim", _("Interim answer")
    FINAL = "final", _("Final answer")


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    RETURNED = "returned", _("Returned to the executor")


class Response(models.Model):
    """The department's written answer: drafted by an executor, approved (sent) by the head.

    Only a sent final answer answers the request; interim answers never count
    as answers in any statistic.
    """

    request = models.ForeignKey(
        DeputyRequest, on_delete=models.PROTECT, related_name="responses", verbose_name=_("request")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="responses", verbose_name=_("department")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ResponseKind.choices)
    text = models.TextField(_("text"))
    outcome = models.CharField(
        _("claimed outcome"), max_length=24, choices=Outcome.choices, null=True, blank=True
    )
    planned_date = models.DateField(_("planned for"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    head_comment = models.TextField(_("head's comment"), blank=True)
    created_at = models.DateTimeField(_("drafted at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The deputy's evaluation of this answer (final answers only).
    evaluation = models.CharField(_("evaluation"), max_length=10, blank=True)
    evaluation_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    evaluation_comment = models.TextField(blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["request", "status"]),
            # The head's drafts to approve and an executor's returned drafts (the to-do):
            # the few answers in these states, by request.
            models.Index(
                fields=["request"],
                condition=Q(status=ResponseStatus.DRAFT),
                name="response_draft",
            ),
            models.Index(
                fields=["drafted_by", "request"],
                condition=Q(status=ResponseStatus.RETURNED),
                name="response_returned",
            ),
            # A department's sent final answers (its dashboard's "sent despite the
            # boilerplate warning" share), read from the index alone.
            models.Index(
                fields=["department", "sent_at"],
                condition=Q(kind=ResponseKind.FINAL, status=ResponseStatus.SENT),
                name="response_final_sent",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=ResponseKind.INTERIM) | Q(outcome__isnull=False),
                name="response_final_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.request}"


class EvaluationDecision(models.TextChoices):
    ACCEPT = "accept", _("Accepted")
    REWORK = "rework", _("Returned for rework")


class Evaluation(models.Model):
    """The author's evaluation of one sent final answer: a row of its own, kept for good.

    A returned answer and its rating stay part of the department's record after the
    next answer is accepted (``docs/domain.md``, "Every evaluation stays").
    """

    request = models.ForeignKey(
        DeputyRequest,
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("request"),
    )
    response = models.ForeignKey(
        Response, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("answer")
    )
    decision = models.CharField(_("decision"), max_length=10, choices=EvaluationDecision.choices)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evaluated by"),
    )
    at = models.DateTimeField(_("evaluated at"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=EvaluationDecision.values),
                name="evaluation_decision_valid",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="evaluation_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} — {self.request}"


class Clarification(models.Model):
    """A department's clarification question to the author, and the author's answer.

    Where the request's deadline rule allows it (``DeadlineRule.pauses_clock``), the
    clock stops from the question to the answer and the due date moves by the paused
    working days.
    """

    request = models.ForeignKey(
        DeputyRequest,
        on_delete=models.PROTECT,
        related_name="clarifications",
        verbose_name=_("request"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    asked_at = models.DateTimeField(_("asked at"))
    #: Whether this question stopped the clock (the rule's flag when it was asked).
    pauses_clock = models.BooleanField(_("stops the clock"), default=False)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    #: Working days the clock stood still for this question (set when it is answered).
    paused_days = models.PositiveSmallIntegerField(_("paused working days"), default=0)

    class Meta:
        verbose_name = _("clarification")
        verbose_name_plural = _("clarifications")
        ordering = ["asked_at", "id"]
        indexes = [models.Index(fields=["request", "answered_at"])]
        constraints = [
            # At most one open question per request at a time.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(answered_at__isnull=True),
                name="clarification_one_open_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request}: {self.question[:60]}"
