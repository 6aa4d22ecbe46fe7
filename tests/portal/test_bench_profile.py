"""``make bench-profile`` (``bench/profile.py``): where a benchmark row's time goes.

The pure parts on made-up figures (the rows that missed a target, the split of SQL and
Python time, the readable cProfile entries, the text and the file), then the in-process
profiler itself on two rows of a small directory (no timed assertions: the figures only
have to be there).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token

from bench import profile, report
from bench.endpoints import FLOOR_ME, FLOOR_MODEL_SERIALIZER
from tests import factories
from tests.portal.test_bench import row as run_row


def test_the_missed_rows_are_read_from_a_saved_run(tmp_path: Path) -> None:
    rows = [
        run_row(FLOOR_ME, "floor", 9.0, 10.0),
        run_row(FLOOR_MODEL_SERIALIZER, "floor", 18.0, 20.0),
        run_row("Requests, staff", "list", 20.0, 25.0),  # met
        run_row("Deputy dashboard", "dashboard", 20.0, 40.0),  # ratio and growth missed
        run_row("Request", "detail", 10.0, 14.0),  # growth missed
    ]
    report.save({"rows": rows}, tmp_path)
    saved = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))

    missed = profile.missed_rows(saved)

    assert missed == {"Deputy dashboard": ["growth", "ratio"], "Request": ["growth"]}
    assert profile.missed_rows({"rows": rows}) == {}  # a run not judged yet: nothing missed


def test_rows_are_chosen_by_label_in_the_tables_order() -> None:
    chosen = profile.select_endpoints(["requests, STAFF;Deputy dashboard", "API summary, staff"])

    assert [e.label for e in chosen] == [
        "API summary, staff",
        "Deputy dashboard",
        "Requests, staff",
    ]
    with pytest.raises(ValueError, match=r"no such row in bench/endpoints\.py: nope"):
        profile.select_endpoints(["Requests, staff", "nope"])


def test_the_time_splits_into_sql_and_python_by_the_medians() -> None:
    def call(ms: float, *queries: float) -> dict[str, Any]:
        return {"ms": ms, "queries": [{"ms": q, "sql": f"SELECT {q}"} for q in queries]}

    calls = [call(30.0, 5.0, 15.0), call(10.0, 1.0, 2.0, 3.0), call(20.0, 2.0, 8.0, 1.0, 1.0)]

    split = profile.split_time(calls)

    assert split["total_ms"] == 20.0
    assert split["sql_ms"] == 12.0  # the median of 20, 6 and 12
    assert split["python_ms"] == 8.0
    assert split["queries"] == 4  # those of the median call (20 ms)
    assert split["query_counts"] == [2, 3, 4]
    assert split["slowest"] == [
        {"ms": 8.0, "sql": "SELECT 8.0"},
        {"ms": 2.0, "sql": "SELECT 2.0"},
        {"ms": 1.0, "sql": "SELECT 1.0"},
    ]
    with pytest.raises(ValueError):
        profile.split_time([])


def test_the_profile_keeps_the_portals_code_and_the_first_template_and_drf_entries() -> None:
    root = Path("/srv/portal")
    lib = "/srv/portal/.venv/lib/python3.11/site-packages"

    def entry(cumulative: float, calls: int = 1) -> tuple[Any, ...]:
        return (calls, calls, cumulative / 10, cumulative, {})

    stats = {
        (f"{root}/reports/views.py", 90, "dashboard"): entry(0.080),
        (f"{root}/reports/selectors.py", 12, "deputy_dashboard"): entry(0.050),
        (f"{root}/maslikhat/core/middleware.py", 42, "__call__"): entry(0.100),
        (f"{root}/bench/profile.py", 200, "timed_call"): entry(0.110),
        (f"{lib}/django/core/handlers/base.py", 1, "get_response"): entry(0.099),
        (f"{lib}/django/template/base.py", 166, "render"): entry(0.030, 90),
        (f"{lib}/django/template/loader.py", 52, "render_to_string"): entry(0.031),
        (f"{lib}/rest_framework/views.py", 490, "dispatch"): entry(0.020),
        (f"{lib}/rest_framework/serializers.py", 500, "to_representation"): entry(0.010, 50),
        ("~", 0, "<built-in method time.perf_counter>"): entry(0.001, 9),
    }

    top = profile.top_functions(stats, root, n=5, libraries=2)

    assert [item["function"] for item in top] == [
        "reports/views.py:90 dashboard",
        "reports/selectors.py:12 deputy_dashboard",
        "django/template/loader.py:52 render_to_string",
        "django/template/base.py:166 render",
        # the third library entry (rest_framework dispatch) is left out
    ]
    assert top[3] == {
        "function": "django/template/base.py:166 render",
        "calls": 90,
        "cumulative_ms": 30.0,
        "own_ms": 3.0,
    }


def test_a_profile_prints_as_text_and_is_saved_with_its_size_and_time(tmp_path: Path) -> None:
    row = {
        "label": "Deputy dashboard",
        "persona": "deputy",
        "target": "dashboard",
        "url": "/dashboard/deputy/",
        "missed": ["ratio"],
        "calls": 10,
        "status": 200,
        "total_ms": 40.0,
        "sql_ms": 30.0,
        "python_ms": 10.0,
        "queries": 12,
        "query_counts": [12, 13],
        "slowest": [
            {"ms": 21.5, "sql": "SELECT  *\n  FROM requests_app_deputyrequest " + "x" * 300}
        ],
        "functions": [
            {
                "function": "reports/views.py:90 dashboard",
                "calls": 1,
                "cumulative_ms": 45.2,
                "own_ms": 0.1,
            }
        ],
        "explain": "Seq Scan on requests_app_deputyrequest\n  Buffers: shared hit=3",
    }

    text = profile.format_profile(row)

    assert "Deputy dashboard (deputy, dashboard)  GET /dashboard/deputy/  missed: ratio" in text
    assert "total 40.0 ms (median of 10) = SQL 30.0 ms (75%) in 12 queries" in text
    assert "(from 12 to 13 over the calls) + Python 10.0 ms (25%)" in text
    sql_line = next(line for line in text.splitlines() if "21.50 ms" in line)
    assert "SELECT * FROM requests_app_deputyrequest x" in sql_line
    assert sql_line.endswith("…") and len(sql_line.split("ms  ", 1)[1]) == profile.SQL_CHARS
    assert "45.2     0.1      1  reports/views.py:90 dashboard" in text
    assert "    Seq Scan on requests_app_deputyrequest" in text
    failed = {key: row[key] for key in ("label", "persona", "target", "url")}
    assert profile.format_profile({**failed, "error": "HTTP 500"}).endswith("  ! HTTP 500")

    path = profile.save_profile({"rows": [row]}, tmp_path, "small", dt.datetime(2026, 12, 2, 9, 5))

    assert path.name == "profile-small-20261202-090500.json"
    assert json.loads(path.read_text(encoding="utf-8"))["rows"][0]["queries"] == 12


@pytest.mark.django_db
def test_the_profiler_calls_rows_as_their_personas_and_leaves_the_database_as_it_was() -> None:
    factories.make_directory()
    endpoints = profile.select_endpoints(["Deputy dashboard", "API summary, staff", "API request"])
    personas = {"staff": "staff", "deputy": "deputy1", "head": "finance-head"}
    sessions, tokens = Session.objects.count(), Token.objects.count()

    rows = profile.profile_rows(
        endpoints,
        personas,
        {"request": None},
        calls=2,
        warm_up=1,
        with_explain=True,
        missed={"Deputy dashboard": ["ratio"]},
    )

    request, summary, dashboard = rows  # in the table's order
    for row in (summary, dashboard):
        assert row.get("status") == 200, row
        assert row["queries"] > 0 and row["total_ms"] >= row["sql_ms"] > 0
        assert len(row["slowest"]) == profile.SLOWEST
        assert row["functions"] and row["explain"]
        assert "error" not in row
    assert dashboard["missed"] == ["ratio"]
    assert any(f["function"].startswith("reports/") for f in dashboard["functions"])
    assert any(f["function"].startswith("rest_framework/") for f in summary["functions"])
    assert request["error"] == "no object for 'request'"
    assert "Deputy dashboard (deputy, dashboard)" in profile.format_profile(dashboard)
    # The logins, the API tokens and whatever the calls wrote were rolled back.
    assert (Session.objects.count(), Token.objects.count()) == (sessions, tokens)


def test_without_its_database_the_command_says_so_and_builds_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(profile.run, "check_postgres", lambda: None)
    monkeypatch.setattr(profile.run, "database_comment", lambda name: None)
    monkeypatch.setattr(profile.run, "ensure_database", None)  # never called

    assert profile.main(["--size", "large", "Requests, staff"]) == 2
    assert "maslikhat_bench_large does not exist" in capsys.readouterr().err

    monkeypatch.setattr(profile.run, "database_comment", lambda name: {})  # still being built
    assert profile.main(["--size", "small"]) == 2
    assert "has no fingerprint yet" in capsys.readouterr().err


def test_with_no_row_named_it_takes_the_missed_ones_of_the_saved_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(profile.run, "check_postgres", lambda: None)
    monkeypatch.setattr(profile.run, "migration_head", lambda: "abc")
    comment = {"fingerprint": "maslikhat-bench seed=1 scale=1 migrations=abc"}
    monkeypatch.setattr(profile.run, "database_comment", lambda name: comment)
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps({"rows": [run_row("Request", "detail", 1.0, 1.0)]}))

    assert profile.main(["--run", str(saved)]) == 0
    assert "no row of" in capsys.readouterr().out
    assert profile.main(["--run", str(tmp_path / "none.json")]) == 2
    assert profile.main(["no such row"]) == 2
    assert "no such row in bench/endpoints.py" in capsys.readouterr().err
