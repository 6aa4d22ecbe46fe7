"""``make bench-profile``: where the time of a benchmark row goes — SQL or Python — in-process.

    .venv/bin/python bench/profile.py [ROW ...] [--size small|large] [--calls 10] [--explain]

For the rows named (their labels in ``bench/endpoints.py``, ``;`` between several in one
argument), or else every row that missed a target in the latest saved run
(``var/bench/latest.json``, or ``--run FILE``), against a bench database that already exists
(it is never built, migrated or changed: the logins and whatever the calls write are rolled
back at the end):

- Django in this process with ``bench.settings`` (production's, ``DEBUG`` off, the garbage
  collector set as in a gunicorn worker), each row's
  URL called through the test client and the whole middleware stack as its persona (a
  session for pages, an API token for ``/api/``), the personas and URL ids resolved by
  ``bench/run.py``'s ``database_facts`` and ``endpoint_url``;
- warm-up calls, then ``--calls`` timed ones: the median total, the time in SQL (every
  query timed by ``connection.execute_wrapper``), the number of queries, the slowest three,
  the time outside SQL (Python: serialisers, templates, middleware);
- one more call under cProfile: the top functions by cumulative time, the portal's own code
  and the first entries of ``django.template`` and ``rest_framework``;
- with ``--explain``, ``EXPLAIN (ANALYZE, BUFFERS)`` of each row's slowest query.

Printed, and saved as ``var/bench/profile-<size>-<timestamp>.json``. The figures are of one
process without gunicorn or HTTP, so they are a little lower than ``make bench``'s.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path, and this file would hide the standard
# library's ``profile`` that cProfile imports.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Mapping, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from bench import run  # noqa: E402
from bench.endpoints import ENDPOINTS, Endpoint  # noqa: E402

DEFAULT_CALLS = 10
SLOWEST = 3
FUNCTIONS = 8
#: Of the top functions, at most this many from django.template and rest_framework.
LIBRARY_FUNCTIONS = 3
LIBRARIES = ("django/template/", "rest_framework/")
#: The portal's middleware wraps every call: its cumulative time is the whole call's.
WRAPPERS = ("maslikhat/core/middleware.py",)
SQL_CHARS = 160
#: Django's session login that bench/run.py's form login amounts to (Axes' backend finds no user).
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- Pure parts: choosing rows, splitting the time, reading cProfile, printing ---------------


def missed_rows(result: Mapping[str, Any]) -> dict[str, list[str]]:
    """Label → the targets it missed (``ratio``, ``growth``), from a saved run's JSON."""
    missed = {}
    for row in result.get("rows") or []:
        marks = row.get("marks") or {}
        names = [name for name, met in marks.items() if met is False]
        if names:
            missed[row["label"]] = names
    return missed


def select_endpoints(
    names: Iterable[str], endpoints: Sequence[Endpoint] = ENDPOINTS
) -> list[Endpoint]:
    """The rows of ``names`` (labels, any case; ``;`` between several), in the table's order."""
    wanted = {part.strip().lower() for name in names for part in name.split(";") if part.strip()}
    known = {endpoint.label.lower() for endpoint in endpoints}
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(f"no such row in bench/endpoints.py: {', '.join(unknown)}")
    return [endpoint for endpoint in endpoints if endpoint.label.lower() in wanted]


def split_time(calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The medians of timed calls ``{"ms": total, "queries": [{"ms": …, "sql": …}, …]}``:
    total, SQL (the queries' sum), Python (the difference of the two, so they add up), the
    number of queries and the slowest queries of the median call."""
    if not calls:
        raise ValueError("no calls")
    total = statistics.median(call["ms"] for call in calls)
    sql = statistics.median(sum(query["ms"] for query in call["queries"]) for call in calls)
    middle = sorted(range(len(calls)), key=lambda i: calls[i]["ms"])[(len(calls) - 1) // 2]
    counts = sorted({len(call["queries"]) for call in calls})
    return {
        "total_ms": round(total, 2),
        "sql_ms": round(sql, 2),
        "python_ms": round(total - sql, 2),
        "queries": len(calls[middle]["queries"]),
        "query_counts": counts,
        "slowest": slowest_queries(calls[middle]["queries"]),
    }


def slowest_queries(queries: Sequence[Mapping[str, Any]], n: int = SLOWEST) -> list[dict[str, Any]]:
    ordered = sorted(queries, key=lambda query: -query["ms"])[:n]
    return [{"ms": round(query["ms"], 2), "sql": query["sql"]} for query in ordered]


def readable_path(filename: str, root: Path = ROOT) -> tuple[str, bool] | None:
    """(the path to print, whether it is a library's) of a profiled file worth showing: the
    portal's own code (not this file nor the middleware) and django.template /
    rest_framework; else None."""
    normal = filename.replace(os.sep, "/")
    own = str(root).replace(os.sep, "/") + "/"
    if normal.startswith(own) and "/site-packages/" not in normal:
        relative = normal[len(own) :]
        return None if relative in ("bench/profile.py", *WRAPPERS) else (relative, False)
    for library in LIBRARIES:
        at = normal.find("/" + library)
        if at >= 0 and "/site-packages/" in normal:
            return normal[at + 1 :], True
    return None


def top_functions(
    stats: Mapping[tuple[str, int, str], tuple[Any, ...]],
    root: Path = ROOT,
    n: int = FUNCTIONS,
    libraries: int = LIBRARY_FUNCTIONS,
) -> list[dict[str, Any]]:
    """The ``n`` functions of most cumulative time in ``pstats.Stats(...).stats`` (key:
    file, line, name; value: primitive calls, calls, own s, cumulative s, callers), the
    portal's code first-class and at most ``libraries`` of django.template / rest_framework."""
    entries = []
    for (filename, line, name), (_primitive, ncalls, own, cumulative, *_callers) in stats.items():
        shown = readable_path(filename, root)
        if shown is not None:
            entries.append((cumulative, own, ncalls, f"{shown[0]}:{line} {name}", shown[1]))
    entries.sort(key=lambda entry: -entry[0])
    chosen: list[dict[str, Any]] = []
    from_libraries = 0
    for cumulative, own, ncalls, where, is_library in entries:
        if is_library:
            if from_libraries >= libraries:
                continue
            from_libraries += 1
        chosen.append(
            {
                "function": where,
                "calls": ncalls,
                "cumulative_ms": round(cumulative * 1000, 2),
                "own_ms": round(own * 1000, 2),
            }
        )
        if len(chosen) == n:
            break
    return chosen


def one_line(sql: str, chars: int = SQL_CHARS) -> str:
    """The first ``chars`` characters of ``sql`` with its whitespace collapsed."""
    text = " ".join(sql.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def format_profile(row: Mapping[str, Any]) -> str:
    """One row's profile as text for the terminal."""
    head = f"{row['label']} ({row['persona']}, {row['target']})  GET {row['url']}"
    if row.get("missed"):
        head += f"  missed: {', '.join(row['missed'])}"
    lines = [head, "=" * min(len(head), 100)]
    if row.get("error"):
        lines.append(f"  ! {row['error']}")
    if "total_ms" not in row:
        return "\n".join(lines)
    total = row["total_ms"] or 1.0
    counts = row["query_counts"]
    varied = f" (from {counts[0]} to {counts[-1]} over the calls)" if len(counts) > 1 else ""
    lines.append(
        f"  total {row['total_ms']:.1f} ms (median of {row['calls']}) = "
        f"SQL {row['sql_ms']:.1f} ms ({row['sql_ms'] / total:.0%}) in {row['queries']} queries"
        f"{varied} + Python {row['python_ms']:.1f} ms ({row['python_ms'] / total:.0%})"
    )
    lines.append("  slowest queries:")
    lines.extend(f"    {query['ms']:7.2f} ms  {one_line(query['sql'])}" for query in row["slowest"])
    lines.append(
        "  top functions (one call under cProfile, which slows it; cumulative ms, own ms, calls):"
    )
    lines.extend(
        f"    {f['cumulative_ms']:8.1f} {f['own_ms']:7.1f} {f['calls']:>6}  {f['function']}"
        for f in row["functions"]
    )
    if row.get("explain"):
        lines.append("  EXPLAIN (ANALYZE, BUFFERS) of the slowest query:")
        lines.extend(f"    {text}" for text in row["explain"].splitlines())
    return "\n".join(lines)


def save_profile(
    result: Mapping[str, Any], directory: Path, size: str, now: dt.datetime | None = None
) -> Path:
    """Write ``result`` as ``profile-<size>-<timestamp>.json`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = directory / f"profile-{size}-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


# --- In-process: the calls through Django's test client --------------------------------------


class QueryLog:
    """A ``connection.execute_wrapper``: every query's SQL, parameters and time in ms."""

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            self.queries.append({"sql": sql, "params": params, "ms": ms})


def timed_call(client: Any, url: str) -> dict[str, Any]:
    """One GET through the whole stack, its body read: status, total ms and its queries."""
    from django.db import connection

    log = QueryLog()
    with connection.execute_wrapper(log):
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        ms = (time.perf_counter() - started) * 1000
    return {"status": response.status_code, "ms": ms, "queries": log.queries}


def persona_clients(personas: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per persona, a client logged in for the pages and one with its API token, as
    bench/run.py's ``log_in`` (here without the password: a forced login, an existing token)."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from maslikhat.accounts.models import User

    def client(**headers: str) -> Any:
        return Client(raise_request_exception=False, headers={"Host": "127.0.0.1", **headers})

    public = client()
    clients = {"public": {"page": public, "api": public}}
    for persona, username in personas.items():
        user = User.objects.get(username=username)
        page = client()
        page.force_login(user, backend=LOGIN_BACKEND)
        token, _created = Token.objects.get_or_create(user=user)
        clients[persona] = {"page": page, "api": client(Authorization=f"Token {token.key}")}
    return clients


def explain(query: Mapping[str, Any]) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a query on PostgreSQL (it runs it again)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"(EXPLAIN ANALYZE needs PostgreSQL, not {connection.vendor})"
    if not query["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
        return "(not a SELECT)"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"], query["params"])
        return "\n".join(row[0] for row in cursor.fetchall())


def profile_endpoint(
    client: Any, url: str, *, calls: int, warm_up: int, with_explain: bool
) -> dict[str, Any]:
    """Warm-up calls, ``calls`` timed ones, one under cProfile (and EXPLAIN): the figures."""
    for _warm in range(warm_up):
        status = timed_call(client, url)["status"]
        if status >= 500:  # the log above says why; the transaction is spoilt for this row
            return {"status": status, "error": f"HTTP {status}"}
    timed = [timed_call(client, url) for _call in range(calls)]
    profiler = cProfile.Profile()
    profiler.enable()
    timed_call(client, url)
    profiler.disable()
    figures: dict[str, Any] = {
        "status": timed[-1]["status"],
        "calls": calls,
        **split_time(timed),
        "functions": top_functions(pstats.Stats(profiler).stats),  # type: ignore[attr-defined]
    }
    bad = sorted({call["status"] for call in timed if call["status"] != 200})
    if bad:
        figures["error"] = "HTTP " + ", ".join(map(str, bad))
    if with_explain and figures["slowest"]:
        sql = figures["slowest"][0]["sql"]
        figures["explain"] = explain(
            next(query for call in timed for query in call["queries"] if query["sql"] == sql)
        )
    return figures


def profile_rows(
    endpoints: Sequence[Endpoint],
    personas: Mapping[str, str],
    ids: Mapping[str, Any],
    *,
    calls: int = DEFAULT_CALLS,
    warm_up: int = run.WARM_UP,
    with_explain: bool = False,
    missed: Mapping[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Each row's profile, in a transaction rolled back at the end (the database keeps what
    it had: the logins, tokens and anything a call writes are undone)."""
    from django.db import transaction

    results = []
    with transaction.atomic():
        clients = persona_clients(personas)
        for endpoint in endpoints:
            row: dict[str, Any] = {
                "label": endpoint.label,
                "persona": endpoint.persona,
                "target": endpoint.target,
                "missed": list((missed or {}).get(endpoint.label, [])),
            }
            try:
                row["url"] = run.endpoint_url("", endpoint, ids)
            except KeyError as exc:
                results.append({**row, "url": endpoint.path, "error": f"no object for {exc}"})
                continue
            client = clients[endpoint.persona]["api" if endpoint.is_api else "page"]
            with transaction.atomic():  # a failed call does not spoil the next rows
                row.update(
                    profile_endpoint(
                        client, row["url"], calls=calls, warm_up=warm_up, with_explain=with_explain
                    )
                )
                transaction.set_rollback(True)
            results.append(row)
        transaction.set_rollback(True)
    return results


# --- The command -------------------------------------------------------------------------------


def setup_django(database: str) -> None:
    """Django in this process as bench/run.py's gunicorn runs it (bench.settings, DEBUG off)."""
    os.environ.update(run.server_env(database))
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings

    from maslikhat.core.gc_tuning import tune_web_process

    tune_web_process()  # as maslikhat/wsgi.py does in each gunicorn worker

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        run.collect_static()  # the pages' {% static %} needs the manifest (files only)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "rows", nargs="*", help="row labels (default: the rows that missed a target)"
    )
    parser.add_argument("--size", choices=sorted(run.DATABASES), default="small")
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS, help="timed calls per row")
    parser.add_argument("--warm-up", type=int, default=run.WARM_UP)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query")
    parser.add_argument("--run", type=Path, help="the saved run whose missed rows to profile")
    args = parser.parse_args(argv)

    problem = run.check_postgres()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    name = run.DATABASES[args.size]
    comment = run.database_comment(name)
    if comment is None or not comment.get("fingerprint"):
        state = (
            "does not exist"
            if comment is None
            else "has no fingerprint yet (it is being built, or its build stopped)"
        )
        print(
            f"{name} {state}: `bench/run.py --only {args.size}` (make bench) builds it; "
            "this command never builds or changes a database.",
            file=sys.stderr,
        )
        return 2
    if not str(comment["fingerprint"]).endswith(f"migrations={run.migration_head()}"):
        print(
            f"warning: {name} was built for other migrations than this checkout's "
            f"(bench/run.py --only {args.size} migrates it forward); pages reading the new "
            "tables will fail.",
            file=sys.stderr,
        )
    missed: dict[str, list[str]] = {}
    try:
        if args.rows:
            endpoints = select_endpoints(args.rows)
        else:
            run_file = args.run or run.OUTPUT / "latest.json"
            if not run_file.exists():
                print(f"no saved run at {run_file}: name the rows to profile", file=sys.stderr)
                return 2
            missed = missed_rows(json.loads(run_file.read_text(encoding="utf-8")))
            if not missed:
                print(
                    f"no row of {run_file} missed a target (a run of one size judges none): "
                    "name the rows to profile"
                )
                return 0
            endpoints = select_endpoints(missed)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2

    facts = run.database_facts(name)
    setup_django(name)
    print(f"[{args.size}] {name}: {len(endpoints)} rows, {args.calls} calls each…\n", flush=True)
    started = dt.datetime.now()
    rows = []
    for endpoint in endpoints:  # one at a time, so each is printed as soon as it is done
        rows.extend(
            profile_rows(
                [endpoint],
                facts["personas"],
                facts["ids"],
                calls=args.calls,
                warm_up=args.warm_up,
                with_explain=args.explain,
                missed=missed,
            )
        )
        print(format_profile(rows[-1]) + "\n", flush=True)
    result = {
        "started_at": started.isoformat(timespec="seconds"),
        "size": args.size,
        "database": name,
        "fingerprint": comment.get("fingerprint"),
        "settings": os.environ.get("DJANGO_SETTINGS_MODULE"),
        "calls": args.calls,
        "warm_up": args.warm_up,
        "rows": rows,
    }
    path = save_profile(result, run.OUTPUT, args.size, started)
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
