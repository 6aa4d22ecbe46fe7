"""Background exports: one row per export too large to build while the user waits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ExportKind(models.TextChoices):
    REQUESTS = "requests", _("Deputy requests")
    INSTRUCTIONS = "instructions", _("Protocol instructions")
    KPI = "kpi", _("KPI ranking")


class ExportFormat(models.TextChoices):
    """``csv`` is the CSV that Excel opens as columns in a Russian or Kazakh locale
    (semicolons, UTF-8 with a BOM); ``csv-comma`` is the standard comma-separated one."""

    XLSX = "xlsx", _("Excel (.xlsx)")
    CSV = "csv", _("CSV for Excel (semicolons)")
    CSV_COMMA = "csv-comma", _("CSV, comma-separated")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """An export built by a Celery worker (``reports.tasks.export_build``).

    ``params`` keeps the list's filters as ``[key, value]`` pairs and the language the
    headers are written in; the file lives under ``MEDIA_ROOT/exports/`` (outside the web
    root) and only its owner downloads it.

    A worker that builds the file holds a *lease* on the row (``lease_token``, valid until
    ``lease_until``) and renews it each time it writes progress (``heartbeat_at``). A
    worker that dies stops renewing; the sweep (``reports.services.export_jobs_sweep``,
    every minute) puts a job whose lease expired back in the queue, up to
    ``EXPORT_JOB_MAX_ATTEMPTS`` claims (``attempts``), then fails it with a message.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_jobs",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("what"), max_length=16, choices=ExportKind.choices)
    format = models.CharField(_("format"), max_length=12, choices=ExportFormat.choices)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="ru")
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress = models.PositiveIntegerField(_("rows written"), default=0)
    total = models.PositiveIntegerField(_("rows"), default=0)
    file_path = models.CharField(_("file"), max_length=300, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_token = models.CharField(_("lease token"), max_length=32, blank=True)
    lease_until = models.DateTimeField(_("lease valid until"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # The sweep's query: running jobs by lease expiry (few rows, read every minute).
            models.Index(
                fields=["lease_until"],
                condition=Q(status="running"),
                name="reports_export_lease_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ExportKind.values), name="reports_export_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ExportFormat.values), name="reports_export_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ExportStatus.values), name="reports_export_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.format} #{self.pk} ({self.get_status_display()})"

    @property
    def is_ready(self) -> bool:
        return self.status == ExportStatus.DONE and bool(self.file_path)

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(100 * self.progress / self.total))

    @property
    def lease_expired(self) -> bool:
        """A running job whose worker stopped renewing its lease (presumed dead)."""
        if self.status != ExportStatus.RUNNING:
            return False
        return self.lease_until is None or self.lease_until < timezone.now()

    @property
    def restart_note(self) -> str:
        """What the progress page says about restarts after a worker failure ("" if none)."""
        if self.status == ExportStatus.PENDING and self.attempts:
            return gettext(
                "The export was interrupted by a worker failure and will restart: "
                "attempt %(attempt)s."
            ) % {"attempt": self.attempts + 1}
        if self.lease_expired:
            return gettext(
                "The worker building this export stopped responding; the export will "
                "restart automatically."
            )
        if self.status in (ExportStatus.RUNNING, ExportStatus.DONE) and self.attempts > 1:
            return gettext("Restarted after a worker failure, attempt %(attempt)s.") % {
                "attempt": self.attempts
            }
        return ""


class DailyCountRun(models.Model):
    """One build of ``RequestDailyCount`` (``reports.daily_counts.build_daily_counts``).

    ``day`` is the date the figures are as of: the rows count the requests submitted before
    it, with "overdue" and "due this week" judged on that day. ``finished_at`` empty: the
    build started and has not finished (or failed); readers then use the live figures.
    """

    day = models.DateField(_("as of"), unique=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    instruction_rows = models.PositiveIntegerField(_("instruction rows"), default=0)

    class Meta:
        verbose_name = _("daily counts build")
        verbose_name_plural = _("daily counts builds")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} ({self.rows})"


class RequestCountColumns(models.Model):
    """The place, the status and the counts of a stored request count (``RequestDailyCount``
    per submission day, ``RequestTotalCount`` over every day): the columns
    ``reports.daily_counts.MEASURES`` names, one set for both tables."""

    lead_department = models.ForeignKey(
        "directory.Department",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    district = models.ForeignKey(
        "directory.District",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    category = models.ForeignKey(
        "directory.Category",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20)
    received = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    overdue_open = models.PositiveIntegerField(default=0)
    due_this_week = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_late = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    routed = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    published = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class RequestDailyCount(RequestCountColumns):
    """Registered requests per submission day × lead department × district × category ×
    status, with the counts the summary and the staff dashboard read.

    Rebuilt whole by each ``DailyCountRun`` (as of its ``day``); dimensions are empty where
    the request's are. ``day`` is empty for a registered request without a submission time.
    """

    day = models.DateField(_("submitted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily request count")
        verbose_name_plural = _("daily request counts")
        indexes = [
            models.Index(fields=["day"], name="reports_daily_day_idx"),
            # A department's rows (its head's and executors' summary and dashboard).
            models.Index(fields=["lead_department", "day"], name="reports_daily_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.status}: {self.received}"


class InstructionDailyCount(models.Model):
    """Protocol instructions per day of creation × executing department × lead or co-executor
    × status, with the counts the instruction counters and the discipline tables read.

    Each instruction has one row part for its lead department (``lead``) and one for each
    co-executor department: the lead rows count every instruction once (staff, discipline);
    a department's rows, lead or not, count the instructions it sees. Rebuilt whole by each
    ``DailyCountRun`` with the request counts (as of its ``day``).
    """

    day = models.DateField(_("created on"))
    department = models.ForeignKey(
        "directory.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    lead = models.BooleanField(_("lead department"))
    status = models.CharField(_("status"), max_length=24)
    received = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    overdue_open = models.PositiveIntegerField(default=0)
    due_this_week = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily instruction count")
        verbose_name_plural = _("daily instruction counts")
        indexes = [
            models.Index(fields=["department", "lead"], name="reports_instr_daily_dept_idx"),
            models.Index(fields=["day"], name="reports_instr_daily_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id} {self.status}: {self.received}"


class RequestAnswerCount(models.Model):
    """Answered requests per submission day × lead department × district × category × status
    (the keys of ``RequestDailyCount``, so the same filters apply) × month of the final answer
    × whole days from routing to the answer: the histogram the medians and the months read.

    Rebuilt whole by each ``DailyCountRun`` with the request counts (as of its ``day``).
    ``days`` is empty for an answer without a routing time; a median of whole days from this
    histogram equals the one counted over the requests (``reports.aggregates.WholeDaysBetween``).
    """

    day = models.DateField(_("submitted on"), null=True, blank=True)
    lead_department = models.ForeignKey(
        "directory.Department",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    district = models.ForeignKey(
        "directory.District",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    category = models.ForeignKey(
        "directory.Category",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20)
    month = models.DateField(_("answered in"))
    days = models.IntegerField(_("days from routing to the answer"), null=True, blank=True)
    answered = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("answered requests count")
        verbose_name_plural = _("answered requests counts")
        indexes = [
            models.Index(fields=["day"], name="reports_answer_day_idx"),
            models.Index(fields=["lead_department", "day"], name="reports_answer_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.month} {self.days}: {self.answered}"


class RequestTotalCount(RequestCountColumns):
    """``RequestDailyCount`` summed over every submission day, per lead department × district
    × category × status: what a reading without submission dates sums (a few hundred rows
    whatever the number of requests). Rebuilt by each ``DailyCountRun`` from the day rows."""

    class Meta:
        verbose_name = _("request count over every day")
        verbose_name_plural = _("request counts over every day")

    def __str__(self) -> str:
        return f"{self.lead_department_id} {self.status}: {self.received}"


class RequestMonthCount(models.Model):
    """``RequestDailyCount`` summed per month of submission × status, over every place: the
    public statistics' months read a row per month and status (a few hundred whatever the
    number of requests) instead of every day row of two years. Rebuilt by each
    ``DailyCountRun`` from the day rows; requests without a submission time have no month."""

    month = models.DateField(_("month"))
    status = models.CharField(_("status"), max_length=20)
    received = models.PositiveIntegerField(default=0)
    published = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("monthly request count")
        verbose_name_plural = _("monthly request counts")
        indexes = [models.Index(fields=["month"], name="reports_month_count_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.status}: {self.received}"


class SeriesKind(models.TextChoices):
    RECEIVED = "received", _("Received in the month")
    ANSWERED = "answered", _("Answered in the month")
    DAYS = "days", _("Answered in so many days")


class RequestTotalSeries(models.Model):
    """The months and the medians' histogram summed over every submission day, per lead
    department × district × category × status: requests received per month of submission
    (``month``), answered per month of the answer (``month``), answered per whole days from
    routing to the answer (``days``). Rebuilt by each ``DailyCountRun`` from the day rows."""

    lead_department = models.ForeignKey(
        "directory.Department",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    district = models.ForeignKey(
        "directory.District",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    category = models.ForeignKey(
        "directory.Category",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20)
    kind = models.CharField(_("what"), max_length=10, choices=SeriesKind.choices)
    month = models.DateField(_("month"), null=True, blank=True)
    days = models.IntegerField(_("days"), null=True, blank=True)
    n = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("request series over every day")
        verbose_name_plural = _("request series over every day")

    def __str__(self) -> str:
        return f"{self.kind} {self.month or self.days}: {self.n}"


class DeputyPublishedCount(models.Model):
    """Published registered requests per author and submission day and, in the rows with
    ``all_days``, per author over every day (``day`` empty): the public list of deputies
    reads them (``reports.public_counts``).

    Rebuilt whole by each ``DailyCountRun`` (as of its ``day``: the requests submitted
    before it). ``day`` is empty too for a request without a submission time.
    """

    all_days = models.BooleanField(_("every day"), default=False)
    day = models.DateField(_("submitted on"), null=True, blank=True)
    deputy = models.ForeignKey(
        "directory.Deputy",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    published = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("published requests count")
        verbose_name_plural = _("published requests counts")
        indexes = [models.Index(fields=["all_days", "day"], name="reports_deputy_pub_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.deputy_id}: {self.published}"


class PromiseDailyCount(models.Model):
    """Promises' figures (``commitments.selectors.FIGURES``), in two sets read through
    ``reports.public_counts``:

    - the public promises (``public``: the public promises page), per submission day of the
      request × promising department × the request's district and, in the rows with
      ``all_days``, per department × district over every day (``day`` empty);
    - every counted promise (``public`` false: the staff and department dashboards), per
      block of promise ids (``block``) × department and, with ``all_days``, per department:
      the dashboards need no district, and every change of a promise names it in its
      ``commitment_*`` event, so only a changed promise's block is read live.

    Rebuilt whole by each ``DailyCountRun``, judged on its ``day`` (overdue, due, due this
    month): the public promises of requests submitted before it, every promise there is.
    """

    public = models.BooleanField(_("public promises"), default=True)
    all_days = models.BooleanField(_("every day"), default=False)
    day = models.DateField(_("submitted on"), null=True, blank=True)
    #: Every promise's rows are per block of promise ids instead of per submission day
    #: (``reports.public_counts.PROMISE_BLOCK`` ids a block; ``day`` and ``district`` empty).
    block = models.IntegerField(_("block of promises"), null=True, blank=True)
    department = models.ForeignKey(
        "directory.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    district = models.ForeignKey(
        "directory.District",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    total = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    rescheduled = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)
    broken = models.PositiveIntegerField(default=0)
    due = models.PositiveIntegerField(default=0)
    kept_on_time = models.PositiveIntegerField(default=0)
    due_this_month = models.PositiveIntegerField(default=0)
    disputed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily promises count")
        verbose_name_plural = _("daily promises counts")
        indexes = [
            models.Index(fields=["all_days", "day"], name="reports_promise_day_idx"),
            # Every promise's rows: the every-day ones and the blocks read live.
            models.Index(
                fields=["all_days", "block"],
                condition=Q(public=False),
                name="reports_promise_block_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day or self.block} {self.department_id}: {self.total}"


class SentAnswerCount(models.Model):
    """A department's sent final answers per day sent × the highest similarity its head
    approved one of them at with a boilerplate comment (empty: approved without a comment)
    and, in the rows with ``all_days``, per department × similarity over every day (``day``
    empty): the department dashboard's answers sent despite the boilerplate warning read
    them (``reports.public_counts.department_counts``) — those at a similarity at or above
    the threshold in force when read, so a changed threshold needs no rebuild.

    Rebuilt whole by each ``DailyCountRun`` (as of its ``day``: the answers sent before it).
    """

    all_days = models.BooleanField(_("every day"), default=False)
    day = models.DateField(_("sent on"), null=True, blank=True)
    department = models.ForeignKey(
        "directory.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    similarity = models.FloatField(_("similarity approved with a comment"), null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("sent final answers count")
        verbose_name_plural = _("sent final answers counts")
        indexes = [
            # A department's rows: the every-day ones, a period's days, the days read live.
            models.Index(fields=["department", "all_days", "day"], name="reports_sent_answer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id} {self.similarity}: {self.sent}"


class DeputyRequestCount(models.Model):
    """A deputy's own registered requests per role (``authored``: the author; else a
    co-author) × status × submission day and, in the rows with ``all_days``, per role ×
    status over every day (``day`` empty): the deputy dashboard's counters read them
    (``reports.deputy_counts``).

    Rebuilt whole by each ``DailyCountRun`` (as of its ``day``: the requests submitted
    before it, "overdue" judged on it). Drafts are not stored: the dashboard counts them
    live. ``day`` is empty too for a request without a submission time (a withdrawn draft).
    """

    all_days = models.BooleanField(_("every day"), default=False)
    day = models.DateField(_("submitted on"), null=True, blank=True)
    deputy = models.ForeignKey(
        "directory.Deputy",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("deputy"),
    )
    authored = models.BooleanField(_("author"))
    status = models.CharField(_("status"), max_length=20)
    total = models.PositiveIntegerField(_("Total"), default=0)
    overdue_open = models.PositiveIntegerField(_("Overdue"), default=0)
    answered_late = models.PositiveIntegerField(_("Answered late"), default=0)
    resolved = models.PositiveIntegerField(_("Resolved"), default=0)
    rated = models.PositiveIntegerField(_("Rated"), default=0)

    class Meta:
        verbose_name = _("deputy's requests count")
        verbose_name_plural = _("deputy's requests counts")
        indexes = [
            # A deputy's rows: the every-day ones and the few days read live.
            models.Index(fields=["deputy", "all_days", "day"], name="reports_deputy_req_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.deputy_id} {self.status}: {self.total}"
