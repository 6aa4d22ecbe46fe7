"""The benchmark's figures: percentiles, ratios to the floors, growth, targets; table and JSON.

Pure functions on plain data (``bench/run.py`` measures, this module judges and prints),
so ``tests/test_bench.py`` checks them on made-up timings.

Targets (the same as in ``bench/endpoints.py``), judged at
the large size against the floors measured in the same run on the same database:
lists p95 ≤ 3× the auth/me floor and ≤ 1.5× the ModelSerializer floor; search ≤ 5× the
auth/me floor; dashboards, the summary, KPI rankings and public statistics ≤ 3× the
auth/me floor; every row's p95 grows ≤ 1.3× from the demo year to the large size.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .endpoints import FLOOR_ME, FLOOR_MODEL_SERIALIZER

#: target class → (max × auth/me floor, max × ModelSerializer floor); None: no such target.
RATIO_TARGETS: dict[str, tuple[float | None, float | None]] = {
    "list": (3.0, 1.5),
    "search": (5.0, None),
    "dashboard": (3.0, None),
}
GROWTH_TARGET = 1.3
SIZES = ("small", "large")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(samples_ms: Sequence[float]) -> dict[str, float | int]:
    """p50 and p95 (ms) of one row's timed calls."""
    return {
        "n": len(samples_ms),
        "p50": round(percentile(samples_ms, 50), 2),
        "p95": round(percentile(samples_ms, 95), 2),
    }


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return round(value / floor, 2)


def floors(rows: Sequence[Mapping[str, Any]], size: str) -> tuple[float | None, float | None]:
    """The p95 of the auth/me floor and of the ModelSerializer floor at ``size``."""
    found: dict[str, float | None] = {FLOOR_ME: None, FLOOR_MODEL_SERIALIZER: None}
    for row in rows:
        if row["label"] in found:
            found[row["label"]] = (row.get(size) or {}).get("p95")
    return found[FLOOR_ME], found[FLOOR_MODEL_SERIALIZER]


def evaluate(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each row with its growth, its ratios to the large size's floors and its target marks.

    A mark is True (met), False (missed) or None (no such target, or not measured).
    """
    me, model_serializer = floors(rows, "large")
    judged = []
    for row in rows:
        small = (row.get("small") or {}).get("p95")
        large = (row.get("large") or {}).get("p95")
        growth = _ratio(large, small)
        x_me = _ratio(large, me)
        x_ms = _ratio(large, model_serializer)
        marks: dict[str, bool | None] = {"growth": None, "ratio": None}
        if row["target"] != "floor" and growth is not None:
            marks["growth"] = growth <= GROWTH_TARGET
        limits = RATIO_TARGETS.get(row["target"])
        if limits is not None:
            me_limit, ms_limit = limits
            checks = []
            if me_limit is not None and x_me is not None:
                checks.append(x_me <= me_limit)
            if ms_limit is not None and x_ms is not None:
                checks.append(x_ms <= ms_limit)
            expected = (me_limit is not None) + (ms_limit is not None)
            marks["ratio"] = all(checks) if len(checks) == expected else None
        judged.append({**row, "growth": growth, "x_me": x_me, "x_ms": x_ms, "marks": marks})
    return judged


def target_text(target: str) -> str:
    """The row's targets in words, for the table."""
    limits = RATIO_TARGETS.get(target)
    if target == "floor":
        return "floor"
    parts = []
    if limits is not None:
        me_limit, ms_limit = limits
        if me_limit is not None:
            parts.append(f"≤{me_limit:g}×me")
        if ms_limit is not None:
            parts.append(f"≤{ms_limit:g}×MS")
    parts.append(f"growth≤{GROWTH_TARGET:g}")
    return " ".join(parts)


def _mark(value: bool | None) -> str:
    return {True: "✓", False: "✗", None: "·"}[value]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def format_table(result: Mapping[str, Any]) -> str:
    """The endpoint table and the other figures, as text for the terminal."""
    judged = evaluate(result["rows"])
    header = (
        f"{'endpoint':<44} {'who':<6} {'class':<9} "
        f"{'demo p50':>8} {'p95':>7} {'large p50':>9} {'p95':>7} "
        f"{'growth':>7} {'×me':>7} {'×MS':>7}  targets"
    )
    lines = [header, "-" * len(header)]
    for row in judged:
        small = row.get("small") or {}
        large = row.get("large") or {}
        error = small.get("error") or large.get("error")
        marks = row["marks"]
        targets = target_text(row["target"])
        if row["target"] != "floor":
            targets += f"  ratio {_mark(marks['ratio'])} growth {_mark(marks['growth'])}"
        line = (
            f"{row['label'][:44]:<44} {row['persona']:<6} {row['target']:<9} "
            f"{_ms(small.get('p50')):>8} {_ms(small.get('p95')):>7} "
            f"{_ms(large.get('p50')):>9} {_ms(large.get('p95')):>7} "
            f"{_times(row['growth']):>7} {_times(row['x_me']):>7} {_times(row['x_ms']):>7}  "
            f"{targets}"
        )
        if error:
            line += f"  ! {error}"
        lines.append(line)
    met = sum(1 for row in judged for value in row["marks"].values() if value is True)
    missed = sum(1 for row in judged for value in row["marks"].values() if value is False)
    lines.append("-" * len(header))
    lines.append(f"targets met: {met}, missed: {missed}")
    lines.extend(format_extras(result))
    return "\n".join(lines)


def format_extras(result: Mapping[str, Any]) -> list[str]:
    """The figures beside the endpoints: build, KPI, reminder sweep, 100k-row export."""
    lines = []
    for size in SIZES:
        info = (result.get("sizes") or {}).get(size)
        if info:
            built = info.get("build_seconds")
            how = "reused" if info.get("reused") else "built"
            lines.append(
                f"{size}: scale {info.get('scale')}, {info.get('requests', 0):,} requests, "
                f"{info.get('instructions', 0):,} instructions; {how}"
                + (f" (build took {built:.0f} s)" if built is not None else "")
            )
    extras = result.get("extras") or {}
    for key, figures in extras.items():
        if figures and figures.get("error"):
            lines.append(f"{key}: ! {figures['error']}")
    kpi = extras.get("compute_kpi")
    if kpi and not kpi.get("error"):
        lines.append(
            f"compute_kpi (large): {kpi['seconds']:.1f} s, peak RSS {kpi['peak_rss_mb']:.0f} MB"
            f"  targets ≤60 s {_mark(kpi['seconds'] <= 60)} ≤500 MB "
            f"{_mark(kpi['peak_rss_mb'] <= 500)}"
        )
    sweep = extras.get("reminder_sweep")
    if sweep and not sweep.get("error"):
        rate = sweep.get("per_second")
        lines.append(
            f"reminder sweep (large): {sweep['notifications']:,} notifications in "
            f"{sweep['seconds']:.1f} s = {rate or 0:,.0f}/s  target ≥1,000/s "
            f"{_mark(None if rate is None else rate >= 1000)}"
        )
    export = extras.get("export")
    if export and not export.get("error"):
        lines.append(
            f"{export['rows']:,}-row Excel export: {export['seconds']:.1f} s, peak RSS "
            f"{export['peak_rss_mb']:.0f} MB ({export.get('small_rss_mb', 0):.0f} MB for "
            f"a tenth)  target ≤20 s {_mark(export['seconds'] <= 20)}"
        )
    return lines


def save(result: Mapping[str, Any], directory: Path, now: dt.datetime | None = None) -> Path:
    """Write the run as ``<timestamp>.json`` and ``latest.json`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    payload = {**result, "rows": evaluate(result["rows"])}
    text = json.dumps(payload, ensure_ascii=False, indent=1, default=str)
    path = directory / f"{stamp}.json"
    path.write_text(text, encoding="utf-8")
    (directory / "latest.json").write_text(text, encoding="utf-8")
    return path
