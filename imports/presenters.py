"""What the import pages show, from a batch and its check report."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .columns import columns_of
from .forms import COLUMN_PREFIX, NAME_PREFIX
from .matching import CATEGORY, CONTROLLER, DEPARTMENT, DEPUTY, DISTRICT, EXECUTOR, Directory
from .models import ImportBatch
from .rows import NONE, OPTIONAL_GROUPS, preview_headers
from .services import batch_progress, batch_ready, batch_stalled

GROUP_LABELS = {
    DEPARTMENT: _("Department"),
    CATEGORY: _("Category"),
    DISTRICT: _("District"),
    DEPUTY: _("Deputy"),
    EXECUTOR: _("Executor"),
    CONTROLLER: _("Controller"),
}


def batch_context(batch: ImportBatch) -> dict[str, Any]:
    report = batch.report or {}
    headers: list[str] = report.get("headers", [])
    found: dict[str, str] = report.get("columns", {})
    columns = [
        {
            "name": f"{COLUMN_PREFIX}{position}",
            "header": header,
            "chosen": found.get(str(position), ""),
        }
        for position, header in enumerate(headers)
    ]
    unknown = report.get("unknown", [])
    directory = Directory() if unknown else None
    names = []
    for entry in unknown:
        group = entry["group"]
        offered = {s["value"] for s in entry["suggestions"]}
        others = (
            [
                {"value": c.value, "label": c.label}
                for c in directory.all_choices(group)
                if c.value not in offered
            ]
            if directory is not None
            else []
        )
        names.append(
            {
                **entry,
                "field": f"{NAME_PREFIX}{group}::{entry['key']}",
                "group_label": GROUP_LABELS.get(group, group),
                "others": others,
                "may_leave_empty": group in OPTIONAL_GROUPS,
            }
        )
    return {
        "batch": batch,
        "report": report,
        "fields": [
            {"key": column.key, "label": column.label, "required": column.required}
            for column in columns_of(batch.kind)
        ],
        "columns": columns,
        "names": names,
        "none_value": NONE,
        "preview_headers": preview_headers(batch.kind),
        "ready": batch_ready(batch),
        "progress": batch_progress(batch),
        "stalled": batch_stalled(batch),
    }


def progress_context(batch: ImportBatch) -> dict[str, Any]:
    return {"batch": batch, "progress": batch_progress(batch), "stalled": batch_stalled(batch)}
