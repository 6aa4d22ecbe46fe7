"""The benchmark's arithmetic and its coverage of the portal's endpoints (``bench/``).

The figures themselves come from ``make bench`` on PostgreSQL; here the report functions
run on made-up timings, and the declared endpoint list is held against the URL map so a
new list, detail, dashboard, KPI or public address without a benchmark row is noticed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from bench import report
from bench.endpoints import (
    ENDPOINTS,
    FLOOR_ME,
    FLOOR_MODEL_SERIALIZER,
    NOT_TIMED,
    PERSONAS,
    TARGET_CLASSES,
    placeholders,
)
from demo import instruction_plans, request_bulk
from demo.context import DemoContext
from demo.directory import seed_directory
from demo.instruction_bulk import copy_instruction_year
from demo.instructions import seed_instructions
from demo.requests import seed_requests
from instructions.models import Instruction, Meeting
from maslikhat.core.items import ItemType
from maslikhat.core.threads import AuditEvent, Message
from requests_app.models import DeputyRequest, Evaluation, RequestStatus, Response, ResponseKind

ROOT = Path(__file__).resolve().parents[2]


def row(label: str, target: str, small_p95: float, large_p95: float) -> dict[str, Any]:
    return {
        "label": label,
        "name": label,
        "path": "/",
        "persona": "staff",
        "target": target,
        "small": {"p50": small_p95 / 2, "p95": small_p95, "n": 30},
        "large": {"p50": large_p95 / 2, "p95": large_p95, "n": 30},
    }


FLOORS = [row(FLOOR_ME, "floor", 9.0, 10.0), row(FLOOR_MODEL_SERIALIZER, "floor", 18.0, 20.0)]


def judged(*rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["label"]: r for r in report.evaluate([*FLOORS, *rows])}


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [float(v) for v in range(1, 101)]  # 1 … 100 ms

    summary = report.summarize(samples)

    assert summary == {"n": 100, "p50": 50.5, "p95": 95.05}
    assert report.percentile([7.0], 95) == 7.0


def test_ratios_and_growth_are_taken_against_the_large_floors() -> None:
    rows = judged(row("list", "list", 20.0, 25.0))

    assert rows["list"]["growth"] == 1.25
    assert rows["list"]["x_me"] == 2.5  # 25 / 10
    assert rows["list"]["x_ms"] == 1.25  # 25 / 20


def test_a_list_meets_its_target_only_under_both_floors() -> None:
    rows = judged(
        row("fast list", "list", 20.0, 25.0),
        row("list slower than the serializer floor", "list", 28.0, 31.0),
        row("list slower than auth/me", "list", 30.0, 35.0),
    )

    assert rows["fast list"]["marks"] == {"ratio": True, "growth": True}
    assert rows["list slower than the serializer floor"]["marks"]["ratio"] is False
    assert rows["list slower than auth/me"]["marks"]["ratio"] is False


def test_search_and_dashboards_have_their_own_limits() -> None:
    rows = judged(
        row("search", "search", 40.0, 49.0),
        row("slow search", "search", 40.0, 51.0),
        row("dashboard", "dashboard", 29.0, 30.0),
        row("slow dashboard", "dashboard", 30.0, 31.0),
    )

    assert rows["search"]["marks"]["ratio"] is True
    assert rows["slow search"]["marks"]["ratio"] is False
    assert rows["dashboard"]["marks"]["ratio"] is True
    assert rows["slow dashboard"]["marks"]["ratio"] is False


def test_growth_over_the_limit_is_marked_and_details_have_no_ratio_target() -> None:
    rows = judged(row("detail", "detail", 10.0, 14.0), row("steady detail", "detail", 10.0, 13.0))

    assert rows["detail"]["marks"] == {"ratio": None, "growth": False}
    assert rows["steady detail"]["marks"] == {"ratio": None, "growth": True}
    assert rows[FLOOR_ME]["marks"] == {"ratio": None, "growth": None}


def test_a_size_not_measured_leaves_the_marks_open() -> None:
    only_small = row("list", "list", 20.0, 25.0)
    only_small["large"] = None

    rows = judged(only_small)

    assert rows["list"]["growth"] is None
    assert rows["list"]["marks"] == {"ratio": None, "growth": None}


def test_the_table_prints_each_row_with_its_marks_and_the_other_figures() -> None:
    result = {
        "rows": [*FLOORS, row("API requests", "list", 20.0, 35.0)],
        "sizes": {"large": {"scale": 200, "requests": 100_000, "build_seconds": 42.0}},
        "extras": {
            "compute_kpi": {"seconds": 12.5, "peak_rss_mb": 180.0},
            "reminder_sweep": {"notifications": 5000, "seconds": 2.0, "per_second": 2500.0},
        },
    }

    table = report.format_table(result)

    line = next(text for text in table.splitlines() if text.startswith("API requests"))
    assert "3.50×" in line and "1.75×" in line and "ratio ✗ growth ✗" in line
    assert "targets met: 0, missed: 2" in table
    assert "compute_kpi (large): 12.5 s, peak RSS 180 MB" in table
    assert "2,500/s  target ≥1,000/s ✓" in table
    assert "build took 42 s" in table


def test_the_run_is_saved_with_a_timestamp_and_as_latest(tmp_path: Path) -> None:
    result = {"rows": [*FLOORS, row("API requests", "list", 20.0, 25.0)]}

    path = report.save(result, tmp_path)

    latest = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert path.name != "latest.json" and path.exists()
    assert latest == json.loads(path.read_text(encoding="utf-8"))
    assert latest["rows"][2]["x_me"] == 2.5
    assert latest["rows"][2]["marks"] == {"ratio": True, "growth": True}


# --- Coverage of the URL map ------------------------------------------------------------------


def named_patterns() -> Iterator[tuple[str, URLPattern]]:
    """Every named pattern of the portal's URL map, with its namespace (the admin aside)."""

    def walk(patterns: list[Any], namespace: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                if inner == "admin":
                    continue
                prefix = f"{namespace}:{inner}" if namespace and inner else namespace or inner
                yield from walk(pattern.url_patterns, prefix)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern

    yield from walk(get_resolver("maslikhat.urls").url_patterns, "")


def is_post_action(pattern: URLPattern) -> bool:
    """A page's action address (it takes a POST and calls one service) or a POST-only API route."""
    if "action" in pattern.default_args:
        return True
    actions = getattr(pattern.callback, "actions", None)
    return actions is not None and "get" not in actions


def test_every_list_detail_dashboard_kpi_and_public_pattern_has_a_benchmark_row() -> None:
    timed = {endpoint.name for endpoint in ENDPOINTS}
    readable = {name for name, pattern in named_patterns() if not is_post_action(pattern)} - {
        "bench-floor-requests"
    }

    missing = sorted(readable - timed - set(NOT_TIMED))

    assert not missing, f"URL patterns with no row in bench/endpoints.py: {missing}"


def test_the_reasons_not_to_time_a_pattern_name_existing_patterns() -> None:
    names = {name for name, _pattern in named_patterns()}

    assert set(NOT_TIMED) <= names
    assert not set(NOT_TIMED) & {endpoint.name for endpoint in ENDPOINTS}


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared_distributions(*extras: str) -> set[str]:
    """The distributions pyproject.toml names: the portal's own and those of ``extras``."""
    project = pyproject()["project"]
    requirements = [*project["dependencies"]]
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {
        normalized(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        for requirement in requirements
    }


def normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_what_the_benchmark_imports_is_installed_by_make_bench() -> None:
    """``make bench`` installs the portal's packages and the ``bench`` extra, not the test tools:
    every third-party module the benchmark imports must come from one of those."""
    first_party = {*pyproject()["tool"]["importlinter"]["root_packages"], "bench"}
    providers = importlib.metadata.packages_distributions()
    declared = declared_distributions("bench")
    scripts = sorted((ROOT / "bench").glob("*.py"))
    third_party = {
        module
        for script in scripts
        for module in imported_modules(script)
        if module not in sys.stdlib_module_names and module not in first_party
    }

    undeclared = {
        module: providers.get(module, ["(not installed)"])
        for module in sorted(third_party)
        if not {normalized(name) for name in providers.get(module, [])} & declared
    }

    assert {"requests", "psycopg2", "django", "rest_framework"} <= third_party
    assert not undeclared, (
        f"bench/ imports modules that `make bench` does not install: {undeclared}"
    )


def make_rule(makefile: str, target: str) -> tuple[list[str], list[str]]:
    """The prerequisites and the recipe lines of ``target`` in ``makefile``'s text."""
    lines = makefile.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"{target}:"):
            recipe = []
            for following in lines[index + 1 :]:
                if not following.startswith("\t"):
                    break
                recipe.append(following.strip())
            return line.split(":", 1)[1].split("|")[0].split(), recipe
    raise AssertionError(f"no rule for {target} in the Makefile")


def test_make_bench_and_bench_profile_install_the_bench_extra() -> None:
    """The other half of the test above: the two commands install what it checks against."""
    makefile = (ROOT / "Makefile").read_text()

    for target in ("bench", "bench-profile"):
        prerequisites, _recipe = make_rule(makefile, target)
        assert "$(VENV)/.installed-bench" in prerequisites, target
    _prerequisites, recipe = make_rule(makefile, "$(VENV)/.installed-bench")
    assert any("pip install" in line and '".[bench]"' in line for line in recipe), recipe


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.label}|{e.persona}")
def test_each_row_names_its_pattern_and_its_path_resolves_to_it(endpoint: Any) -> None:
    assert endpoint.persona in PERSONAS and endpoint.target in TARGET_CLASSES
    if endpoint.name == "bench-floor-requests":
        reverse_path = reverse(endpoint.name, urlconf="bench.urls")
    else:
        path_only = endpoint.path.split("?")[0]
        kwargs = {}
        for name in placeholders(path_only):
            kwargs["period" if name == "quarter" else "pk"] = "2026-Q1" if name == "quarter" else 7
        reverse_path = reverse(endpoint.name, kwargs=kwargs or None)
        endpoint_path = path_only.format(**dict.fromkeys(placeholders(path_only), 7)).replace(
            "7.pdf", "2026-Q1.pdf"
        )
        assert reverse_path == endpoint_path
    assert reverse_path.startswith("/")


# --- The large data set: what seed_demo --scale writes in bulk ------------------------------


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_bulk_requests_leave_their_history_threads_and_returned_answers(
    settings: Any, english: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEMO_REQUESTS_PER_YEAR = 20
    # On PostgreSQL the indexes are dropped for the load and built again (a no-op elsewhere).
    monkeypatch.setattr(request_bulk, "DEFER_INDEXES_FROM", 0)
    directory = seed_directory(seed=2023)
    summary = seed_requests(DemoContext(directory=directory, seed=2023, scale=21))

    assert "Benchmark volume: 400 more requests" in summary
    first_bulk = DeputyRequest.objects.order_by("pk")[20].pk
    bulk = DeputyRequest.objects.filter(pk__gte=first_bulk).order_by("pk")
    ids = [r.pk for r in bulk]
    events = AuditEvent.objects.filter(item_type=ItemType.REQUEST, item_id__in=ids)
    actions: dict[int, list[str]] = defaultdict(list)
    for item_id, action in events.order_by("created_at", "pk").values_list("item_id", "action"):
        actions[item_id].append(action)
    for item in bulk:
        assert actions[item.pk][0] == "create", item.pk
        if item.status != RequestStatus.DRAFT:
            assert actions[item.pk][1] == "submit"
        if item.routed_at is not None:
            assert actions[item.pk][2:4] == ["route", "assign"]
        if item.status == RequestStatus.CLOSED:
            assert actions[item.pk][-1] in ("accept", "auto_close")
    reworked = Response.objects.filter(request_id__in=ids, evaluation="rework")
    assert reworked.exists() and all(r.evaluated_at and r.evaluation_comment for r in reworked)
    assert all("rework" in actions[r.request_id] for r in reworked)
    accepted = Response.objects.filter(request_id__in=ids, evaluation="accept")
    assert {r.request_id for r in accepted} == set(
        bulk.filter(status=RequestStatus.CLOSED, rating__isnull=False).values_list("pk", flat=True)
    )
    # Every evaluation is its own row too, the same as the answer's columns say.
    rows = Evaluation.objects.filter(request_id__in=ids)
    assert sorted(rows.values_list("response_id", "decision", "rating", "at")) == sorted(
        (r.pk, r.evaluation, r.evaluation_rating, r.evaluated_at) for r in [*reworked, *accepted]
    )
    assert all(e.by_id == e.request.author.user_id for e in rows.select_related("request__author"))
    assert Response.objects.filter(request_id__in=ids, kind=ResponseKind.INTERIM).exists()
    threads = Message.objects.filter(item_type=ItemType.REQUEST, item_id__in=ids)
    assert 0.15 < threads.values("item_id").distinct().count() / len(ids) < 0.45
    # The sequences follow the explicit keys.
    last = max(AuditEvent.objects.values_list("pk", flat=True))
    event = AuditEvent.objects.create(item_type=ItemType.REQUEST, item_id=ids[0], action="x")
    assert event.pk > last


@pytest.mark.django_db
def test_copies_of_the_instruction_year_point_at_their_own_meetings_and_protocols(
    monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    monkeypatch.setattr(instruction_plans, "COMMISSION_MEETINGS", 2)
    monkeypatch.setattr(instruction_plans, "HEARINGS", 1)
    monkeypatch.setattr(instruction_plans, "INSTRUCTIONS", 8)
    directory = seed_directory(seed=2023)
    seed_instructions(DemoContext(directory=directory, seed=2023, scale=1))
    originals = list(Instruction.objects.order_by("pk"))
    meetings = Meeting.objects.count()
    instruction_events = AuditEvent.objects.filter(item_type=ItemType.INSTRUCTION)
    events = instruction_events.count()

    rows, _seconds = copy_instruction_year(2)

    assert rows > 0
    assert Meeting.objects.count() == 3 * meetings
    copies = list(Instruction.objects.order_by("pk"))[len(originals) :]
    assert len(copies) == 2 * len(originals)
    for original, copy in zip(originals * 2, copies, strict=True):
        assert (copy.text, copy.status, copy.due_date) == (
            original.text,
            original.status,
            original.due_date,
        )
        assert copy.protocol_id != original.protocol_id
        assert copy.protocol.meeting_id != original.protocol.meeting_id
        assert copy.item is None or copy.item.protocol_id == copy.protocol_id
        assert copy.reports.count() == original.reports.count()
    assert instruction_events.count() == 3 * events
    assert set(instruction_events.values_list("item_id", flat=True)) <= {
        i.pk for i in originals + copies
    }
    last = max(Meeting.objects.values_list("pk", flat=True))
    meeting = Meeting.objects.create(
        convocation=originals[0].convocation,
        kind="session",
        date=originals[0].due_date,
        title="x",
        created_by=directory.staff,
    )
    assert meeting.pk > last
