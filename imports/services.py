"""The import of past records: upload, check, match names, commit (``docs/imports.md``).

``batch_upload`` stores the file and checks it; ``batch_update`` records the columns and
names staff chose and checks again; ``batch_commit_start`` queues the commit as a Celery
task after the batch row is committed; ``batch_commit`` (the task's body) claims the
batch under a lease, checks the file once more and writes it in one transaction, so a
file with any error imports nothing. ``import_path`` is the command's way: the same check
and write, in the caller's process.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core import storage
from maslikhat.core.exceptions import ActionForbidden, TransitionNotAllowed, ValidationFailed

from .matching import GROUPS, Directory, normalise
from .models import ImportBatch, ImportKind, ImportStatus
from .permissions import can_import
from .rows import NONE, OPTIONAL_GROUPS, Check, check_file
from .writer import write_records

logger = logging.getLogger(__name__)

IMPORTS_DIR = "imports"
#: Largest upload accepted (a 10,000-row register is a few megabytes).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EXTENSIONS = (".xlsx", ".csv")
#: How long a worker holds a batch it imports (a 10,000-row file takes well under a minute).
LEASE_SECONDS = 600


def progress_key(batch_id: int) -> str:
    return f"imports:batch:{batch_id}:progress"


def _require(by: Any) -> None:
    if not can_import(by):
        raise ActionForbidden(_("Only the council's office imports past records."))


def _kind(kind: str) -> str:
    if kind not in ImportKind.values:
        raise ValidationFailed(_("Choose requests or instructions."), field="kind")
    return kind


def batch_upload(*, by: User, kind: str, upload: UploadedFile) -> ImportBatch:
    """Store an uploaded file and check it; the batch waits for staff to commit it."""
    _require(by)
    _kind(kind)
    name = Path(upload.name or "").name[:255]
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValidationFailed(_("Upload an Excel (.xlsx) or CSV file."), field="file")
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(_("The file is larger than 50 MB."), field="file")
    # Written locally first, then published to the file store (a local folder or a
    # bucket), so a worker on another node reads the same file.
    relative = f"{IMPORTS_DIR}/{secrets.token_hex(12)}{suffix}"
    staged = storage.staging_dir(IMPORTS_DIR) / f"{Path(relative).name}.part"
    digest = hashlib.sha256()
    with staged.open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    storage.publish(staged, relative)
    batch = ImportBatch.objects.create(
        user=by, kind=kind, file_name=name, file_path=relative, sha256=digest.hexdigest()
    )
    return batch_check(batch)


def batch_path(batch: ImportBatch) -> Path:
    """The batch's file on this machine's disk: in place for the local store, a copy
    fetched once from the bucket otherwise (the readers stream a local file)."""
    if storage.is_local():
        return Path(default_storage.path(batch.file_path))
    local = storage.staging_dir(IMPORTS_DIR) / Path(batch.file_path).name
    if not local.exists():
        part = local.with_name(local.name + ".part")
        with default_storage.open(batch.file_path, "rb") as source, part.open("wb") as out:
            shutil.copyfileobj(source, out)
        os.replace(part, local)
    return local


def _store(batch: ImportBatch, check: Check) -> None:
    batch.report = check.report()
    batch.total_rows = check.total
    batch.skipped_count = check.skipped
    batch.error_count = len(check.error_rows)


def batch_check(batch: ImportBatch) -> ImportBatch:
    """Check the batch's file with its columns and names; keep the report on the batch."""
    try:
        check = check_file(
            batch_path(batch),
            kind=batch.kind,
            file_name=batch.file_name,
            columns=batch.columns,
            names=batch.names,
        )
    except ValidationFailed as exc:
        batch.report = {"file_error": str(exc.message)}
        batch.total_rows = 0
    else:
        _store(batch, check)
    batch.save(
        update_fields=["report", "total_rows", "skipped_count", "error_count", "columns", "names"]
    )
    return batch


def batch_update(
    *,
    pk: int,
    by: User,
    columns: dict[str, str] | None = None,
    names: dict[str, dict[str, str]] | None = None,
) -> ImportBatch:
    """Record the columns (header → field, "" to skip) and names (group → {name: value})
    staff chose, then check the file again."""
    _require(by)
    batch = ImportBatch.objects.get(pk=pk)
    if batch.status != ImportStatus.UPLOADED:
        raise TransitionNotAllowed(_("This file is already imported or being imported."))
    if columns is not None:
        batch.columns = {str(k): str(v) for k, v in columns.items()}
    if names:
        directory = Directory()
        merged = {group: dict(values) for group, values in (batch.names or {}).items()}
        for group, chosen in names.items():
            if group not in GROUPS:
                continue
            for name, value in chosen.items():
                if not value:
                    continue
                if value == NONE and group not in OPTIONAL_GROUPS:
                    continue
                if value != NONE and not directory.has(group, value):
                    raise ValidationFailed(_("Choose a match from the list."), field="names")
                merged.setdefault(group, {})[normalise(name)] = value
        batch.names = merged
    return batch_check(batch)


def batch_ready(batch: ImportBatch) -> bool:
    report = batch.report or {}
    return (
        not report.get("file_error")
        and not report.get("missing")
        and not report.get("issue_count")
        and not report.get("unknown_count")
        and "total" in report
    )


@transaction.atomic
def batch_commit_start(*, pk: int, by: User) -> ImportBatch:
    """Queue the import of a checked batch (the task runs once the row is committed)."""
    _require(by)
    batch = ImportBatch.objects.select_for_update().get(pk=pk)
    # A worker that died mid-way left the batch running under an expired lease: nothing was
    # written (one transaction), so it may start again.
    stalled = batch_stalled(batch)
    if batch.status != ImportStatus.UPLOADED and not stalled:
        raise TransitionNotAllowed(_("This file is already imported or being imported."))
    if not stalled and not batch_ready(batch):
        raise ValidationFailed(
            _("The file has errors or names without a match: nothing can be imported yet.")
        )
    batch.status = ImportStatus.QUEUED
    batch.user = by
    batch.save(update_fields=["status", "user"])
    transaction.on_commit(lambda: enqueue_commit(batch.pk))
    return batch


def batch_stalled(batch: ImportBatch) -> bool:
    """A batch whose worker stopped renewing its lease (presumed dead)."""
    if batch.status != ImportStatus.RUNNING:
        return False
    return batch.lease_until is None or batch.lease_until < timezone.now()


def enqueue_commit(batch_id: int) -> None:
    from .tasks import import_commit

    try:
        import_commit.apply_async((batch_id,), retry=False)
    except Exception:  # broker down: say so now rather than leave the bar at 0 %
        logger.warning("broker unavailable; import batch %s not started", batch_id)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.UPLOADED,
            error=gettext("The background service is not available. Try again later."),
        )


def _claim(batch_id: int) -> str | None:
    now = timezone.now()
    token = secrets.token_hex(16)
    expired = Q(status=ImportStatus.RUNNING) & (
        Q(lease_until__lt=now) | Q(lease_until__isnull=True)
    )
    claimed = ImportBatch.objects.filter(
        Q(status=ImportStatus.QUEUED) | expired, pk=batch_id
    ).update(
        status=ImportStatus.RUNNING,
        lease_token=token,
        lease_until=now + datetime.timedelta(seconds=LEASE_SECONDS),
        started_at=now,
        attempts=F("attempts") + 1,
        progress=0,
        error="",
    )
    return token if claimed else None


def batch_commit(*, batch_id: int) -> ImportBatch | None:
    """Import batch ``batch_id`` if this worker can claim it: check, then write all or none."""
    token = _claim(batch_id)
    if token is None:
        return ImportBatch.objects.filter(pk=batch_id).first()
    batch = ImportBatch.objects.select_related("user").get(pk=batch_id)
    key = progress_key(batch.pk)

    def report(phase: str) -> Any:
        def call(rows: int) -> None:
            cache.set(key, {"phase": phase, "rows": rows}, LEASE_SECONDS)

        return call

    try:
        check = check_file(
            batch_path(batch),
            kind=batch.kind,
            file_name=batch.file_name,
            columns=batch.columns,
            names=batch.names,
            progress=report("check"),
        )
        _store(batch, check)
        if not check.ok:
            raise ValidationFailed(
                gettext("The file has errors or names without a match: nothing was imported.")
            )
        with transaction.atomic():
            written = write_records(batch, check.records, by=batch.user, progress=report("write"))
    except Exception as exc:
        logger.exception("import batch %s failed", batch_id)
        message = getattr(exc, "message", None) or exc.__class__.__name__
        ImportBatch.objects.filter(pk=batch.pk, lease_token=token).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            lease_until=None,
            error=str(message),
            report=batch.report,
            error_count=batch.error_count,
        )
        cache.delete(key)
        batch.refresh_from_db()
        return batch
    ImportBatch.objects.filter(pk=batch.pk, lease_token=token).update(
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        lease_until=None,
        created_count=written,
        skipped_count=check.skipped,
        total_rows=check.total,
        progress=written,
        report=batch.report,
    )
    cache.delete(key)
    batch.refresh_from_db()
    return batch


def batch_progress(batch: ImportBatch) -> dict[str, Any]:
    """What the progress bar shows: the phase, rows done and the percentage."""
    total = batch.total_rows or 0
    new = int((batch.report or {}).get("new") or 0)
    if batch.status == ImportStatus.DONE:
        return {"phase": "done", "rows": batch.created_count, "percent": 100}
    state = cache.get(progress_key(batch.pk)) if batch.status == ImportStatus.RUNNING else None
    if not state:
        return {"phase": batch.status, "rows": 0, "percent": 0}
    steps = max(1, total + new)
    done = state["rows"] + (total if state["phase"] == "write" else 0)
    return {"phase": state["phase"], "rows": state["rows"], "percent": min(99, 100 * done // steps)}


@dataclass
class ImportOutcome:
    check: Check
    batch: ImportBatch | None


def import_path(
    path: Path,
    *,
    kind: str,
    by: User,
    columns: dict[str, str] | None = None,
    names: dict[str, dict[str, str]] | None = None,
    dry_run: bool = False,
) -> ImportOutcome:
    """The command's import: check the file; unless ``dry_run`` or on any error, write it
    all in one transaction under a new batch. Names in ``names`` are given as text and
    matched exactly (``{group: {name in the file: name or code in the directory}}``)."""
    _kind(kind)
    directory = Directory()
    resolved: dict[str, dict[str, str]] = {}
    for group, chosen in (names or {}).items():
        if group not in GROUPS:
            raise ValidationFailed(
                _("Unknown name group “%(group)s”.") % {"group": group}, field="names"
            )
        for name, target in chosen.items():
            if target == NONE and group in OPTIONAL_GROUPS:
                value: str | None = NONE
            else:
                value = directory.lookup(group, target)
            if value is None:
                raise ValidationFailed(
                    _("“%(target)s” names nothing in the directory (%(group)s).")
                    % {"target": target, "group": group},
                    field="names",
                )
            resolved.setdefault(group, {})[normalise(name)] = value
    check = check_file(
        path, kind=kind, file_name=path.name, columns=columns, names=resolved, directory=directory
    )
    if dry_run or not check.ok:
        return ImportOutcome(check, None)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            user=by,
            kind=kind,
            file_name=path.name,
            sha256=digest,
            status=ImportStatus.RUNNING,
            columns=columns or {},
            names=resolved,
            started_at=timezone.now(),
        )
        written = write_records(batch, check.records, by=by)
        _store(batch, check)
        batch.status = ImportStatus.DONE
        batch.created_count = written
        batch.progress = written
        batch.finished_at = timezone.now()
        batch.save()
    return ImportOutcome(check, batch)
