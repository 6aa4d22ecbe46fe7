"""``make bench``: the portal's endpoints timed on PostgreSQL at the demo year and at a large scale.

    .venv/bin/python bench/run.py [--scale N] [--seed S] [--calls 30] [--only small|large]

1. Two PostgreSQL databases, ``maslikhat_bench_small`` (the demo year, ``seed_demo``) and
   ``maslikhat_bench_large`` (``seed_demo --scale N``, N × 500 requests; ``BENCH_SCALE``,
   default 2000 = 1,000,000 requests). Each carries a fingerprint (seed, scale, the
   migrations) in its comment; a database whose fingerprint matches is reused, any other
   is dropped and built again.
2. For each database: gunicorn with 2 workers on a free port of 127.0.0.1, the production
   settings with ``DEBUG`` off over plain HTTP (``bench.settings``: the portal's URLs plus
   the ModelSerializer floor). The three personas log in (API tokens from
   ``/api/v1/auth/token/`` with the demo password, and sessions for the pages).
3. Every row of ``bench/endpoints.py``: 2 warm-up calls, then ``--calls`` sequential calls
   (at most ``--row-budget`` seconds a row), p50 and p95 in ms.
4. On the large database: ``compute_kpi`` (wall time, peak RSS), the daily reminder sweep
   (notifications per second, in a transaction rolled back) and, on its own database,
   the 100k-row Excel export (``bench/export_bench.py``).
5. The table (``bench/report.py``), saved as ``var/bench/<timestamp>.json`` and
   ``var/bench/latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
import requests  # noqa: E402

from bench import report  # noqa: E402
from bench.endpoints import ENDPOINTS, Endpoint, placeholders  # noqa: E402

PYTHON = sys.executable
OUTPUT = ROOT / "var" / "bench"
# The bench's own var/ (media, the embedded broker's folders, collected static files), so
# nothing it does reaches the portal's var/ (an export job queued here is never run by
# a `make run` worker).
BENCH_VAR = OUTPUT / "var"
DATABASES = {"small": "maslikhat_bench_small", "large": "maslikhat_bench_large"}
DEFAULT_SCALE = 2000
DEFAULT_SEED = 2023
WARM_UP = 2
#: A word of many request titles, for the search rows.
SEARCH_WORD = "ремонт"


def pg_url(database: str) -> str:
    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    return f"{base.rstrip('/')}/{database}"


def pg_connect(database: str = "postgres") -> Any:
    connection = psycopg2.connect(pg_url(database), connect_timeout=3)
    connection.autocommit = True
    return connection


def check_postgres() -> str | None:
    """None when PostgreSQL answers, else what to do about it."""
    try:
        pg_connect().close()
    except psycopg2.OperationalError as exc:
        return (
            f"PostgreSQL is not reachable at {pg_url('')} ({str(exc).strip()}).\n"
            "The benchmark needs a PostgreSQL server (it creates and drops the databases "
            "maslikhat_bench_small and maslikhat_bench_large). Start one, for example:\n"
            "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
            "or point BENCH_POSTGRES_URL at another (postgres://user@host:port)."
        )
    return None


def migration_head() -> str:
    """A digest of the portal's migration files: a new migration means a new database."""
    names = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.glob("**/migrations/0*.py")
        if ".venv" not in path.parts and "var" not in path.parts
    )
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def fingerprint(seed: int, scale: int) -> str:
    return f"maslikhat-bench seed={seed} scale={scale} migrations={migration_head()}"


def child_env(database: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": pg_url(database),
        "DJANGO_SETTINGS_MODULE": "maslikhat.settings.base",
        "DJANGO_ENV_FILE": "/nonexistent",  # the developer's .env does not change the figures
        "MASLIKHAT_VAR_DIR": str(BENCH_VAR),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def database_comment(name: str) -> dict[str, Any] | None:
    with closing(pg_connect()) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    try:
        return dict(json.loads(row[0] or ""))
    except ValueError:
        return {}


def after_build(name: str, env: Mapping[str, str]) -> None:
    """The promises of answers written without their signal and what the nightly jobs leave
    behind (the daily counts), then fresh statistics."""
    for command in ("create_commitments", "build_daily_counts"):
        subprocess.run([PYTHON, "manage.py", command], cwd=ROOT, env=dict(env), check=True)
    with closing(pg_connect(name)) as connection, connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def ensure_database(size: str, *, scale: int, seed: int, rebuild: bool = False) -> dict[str, Any]:
    """The database of ``size``: reused when its fingerprint matches, migrated forward when
    only the migrations differ (``--rebuild`` builds it again), else built."""
    name = DATABASES[size]
    wanted = fingerprint(seed, scale)
    comment = database_comment(name)
    if comment is not None and comment.get("fingerprint") == wanted:
        print(f"[{size}] {name}: reused ({wanted})", flush=True)
        # What the nightly job would have done since the last run: today's daily counts
        # (the pages read them only when they are today's).
        subprocess.run(
            [PYTHON, "manage.py", "build_daily_counts", "--unless-done"],
            cwd=ROOT,
            env=child_env(name),
            check=True,
        )
        return {**comment, "reused": True}
    same_data = f"maslikhat-bench seed={seed} scale={scale} "
    if comment and str(comment.get("fingerprint", "")).startswith(same_data) and not rebuild:
        # The same data set under older migrations: migrate it forward (new indexes and
        # tables are minutes at a million rows; building it again is a quarter of an hour).
        print(f"[{size}] {name}: same data, newer migrations: migrating…", flush=True)
        started = time.perf_counter()
        env = child_env(name)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        after_build(name, env)
        info = {
            **comment,
            "fingerprint": wanted,
            "migrated_seconds": round(time.perf_counter() - started, 1),
        }
        with closing(pg_connect()) as connection, connection.cursor() as cursor:
            cursor.execute(f'COMMENT ON DATABASE "{name}" IS %s', [json.dumps(info)])
        return {**info, "reused": True}
    print(f"[{size}] {name}: building, scale {scale} ({scale * 500:,} requests)…", flush=True)
    connection = pg_connect()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    started = time.perf_counter()
    env = child_env(name)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PYTHON, "manage.py", "seed_demo", "--scale", str(scale), "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    after_build(name, env)
    seconds = round(time.perf_counter() - started, 1)
    info = {
        "fingerprint": wanted,
        "build_seconds": seconds,
        "built_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    with closing(pg_connect()) as connection, connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{name}" IS %s', [json.dumps(info)])
    print(f"[{size}] {name}: built in {seconds:.0f} s", flush=True)
    return {**info, "reused": False}


def database_facts(name: str) -> dict[str, Any]:
    """Counts, the personas and the ids the endpoint paths need."""
    with closing(pg_connect(name)) as connection, connection.cursor() as cursor:

        def one(sql: str, params: list[Any] | None = None) -> Any:
            cursor.execute(sql, params or [])
            row = cursor.fetchone()
            return None if row is None else (row[0] if len(row) == 1 else row)

        facts: dict[str, Any] = {
            "requests": one("SELECT count(*) FROM requests_app_deputyrequest"),
            "instructions": one("SELECT count(*) FROM requests_app_instruction"),
        }
        deputy_id, deputy_user_id, deputy_username = one(
            "SELECT d.id, u.id, u.username FROM directory_deputy d "
            "JOIN accounts_user u ON u.id = d.user_id "
            "JOIN requests_app_deputyrequest r ON r.author_id = d.id "
            "GROUP BY d.id, u.id, u.username ORDER BY count(*) DESC, u.username LIMIT 1"
        )
        department_id, department_code = one(
            "SELECT d.id, d.code FROM directory_department d "
            "JOIN requests_app_deputyrequest r ON r.lead_department_id = d.id "
            "GROUP BY d.id, d.code ORDER BY count(*) DESC, d.code LIMIT 1"
        )
        # The deputy's newest closed request with a thread: answers, history and messages.
        request_id, number, title = one(
            "SELECT r.id, r.number, r.title FROM requests_app_deputyrequest r "
            "WHERE r.author_id = %s AND r.status = 'closed' AND EXISTS ("
            "  SELECT 1 FROM core_message m WHERE m.item_type = 'request' AND m.item_id = r.id"
            ") ORDER BY r.id DESC LIMIT 1",
            [deputy_id],
        )
        today = dt.date.today()
        facts["personas"] = {
            "staff": "staff",
            "deputy": deputy_username,
            "head": f"{department_code}-head",
        }
        facts["ids"] = {
            "request": request_id,
            "number": number,
            "title": " ".join(title.split()[:4]),
            "word": SEARCH_WORD,
            "instruction": one(
                "SELECT id FROM requests_app_instruction WHERE lead_department_id = %s "
                "ORDER BY id DESC LIMIT 1",
                [department_id],
            ),
            "meeting": one(
                "SELECT m.id FROM requests_app_meeting m JOIN requests_app_protocol p "
                "ON p.meeting_id = m.id ORDER BY m.id DESC LIMIT 1"
            ),
            "protocol": one("SELECT max(id) FROM requests_app_protocol"),
            "notification": one(
                "SELECT max(id) FROM core_notification WHERE user_id = %s", [deputy_user_id]
            ),
            "convocation": one("SELECT min(id) FROM directory_convocation"),
            "commission": one("SELECT min(id) FROM directory_commission"),
            "district": one("SELECT min(id) FROM directory_district"),
            "category": one("SELECT min(id) FROM directory_category"),
            "department": department_id,
            "deputy": deputy_id,
            "public_request": one(
                "SELECT max(id) FROM requests_app_deputyrequest "
                "WHERE is_public AND status = 'closed'"
            ),
            # Instructions of sessions and commissions are on the public portal.
            "public_instruction": one(
                "SELECT max(i.id) FROM requests_app_instruction i "
                "JOIN requests_app_protocol p ON p.id = i.protocol_id "
                "JOIN requests_app_meeting m ON m.id = p.meeting_id "
                "WHERE m.kind IN ('session', 'commission')"
            ),
            "quarter": f"{today.year}-Q{(today.month - 1) // 3 + 1}",
            # The newest promise of a planned answer (none in a database without them).
            "commitment": one("SELECT max(id) FROM commitments_commitment"),
        }
    return facts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def collect_static() -> None:
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=server_env("postgres"),
        check=True,
    )


SECRET_KEY = secrets.token_urlsafe(64)


def server_env(database: str) -> dict[str, str]:
    return child_env(
        database,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
    )


@contextmanager
def gunicorn(size: str, database: str) -> Iterator[str]:
    """gunicorn (2 sync workers) on a free port of 127.0.0.1 for ``database``; its base URL."""
    port = free_port()
    log = (OUTPUT / f"gunicorn-{size}.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "maslikhat.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=server_env(database),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def log_in(base: str, personas: Mapping[str, str], password: str) -> dict[str, dict[str, Any]]:
    """Per persona: a session logged in for the pages, and one with the API token."""
    clients: dict[str, dict[str, Any]] = {"public": {"page": requests.Session()}}
    clients["public"]["api"] = clients["public"]["page"]
    for persona, username in personas.items():
        answer = requests.post(
            f"{base}/api/v1/auth/token/",
            json={"username": username, "password": password},
            timeout=30,
        )
        answer.raise_for_status()
        api = requests.Session()
        api.headers["Authorization"] = f"Token {answer.json()['token']}"
        page = requests.Session()
        page.get(f"{base}/accounts/login/", timeout=30)
        logged_in = page.post(
            f"{base}/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": page.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        if logged_in.status_code != 302:
            raise RuntimeError(f"{username} could not log in (HTTP {logged_in.status_code})")
        clients[persona] = {"api": api, "page": page}
    return clients


def endpoint_url(base: str, endpoint: Endpoint, ids: Mapping[str, Any]) -> str:
    missing = [name for name in placeholders(endpoint.path) if ids.get(name) is None]
    if missing:
        raise KeyError(", ".join(missing))
    values = {name: quote(str(ids[name]), safe="") for name in placeholders(endpoint.path)}
    return base + endpoint.path.format(**values)


def time_endpoint(
    session: requests.Session, url: str, *, calls: int, budget: float
) -> dict[str, Any]:
    """Warm-up calls, then up to ``calls`` timed ones within ``budget`` seconds."""
    error = None
    for _warm in range(WARM_UP):
        answer = session.get(url, allow_redirects=False, timeout=120)
        if answer.status_code != 200:
            error = f"HTTP {answer.status_code}"
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < calls and (not samples or time.perf_counter() - started < budget):
        before = time.perf_counter()
        answer = session.get(url, allow_redirects=False, timeout=120)
        _body = answer.content
        samples.append((time.perf_counter() - before) * 1000)
        if answer.status_code != 200 and error is None:
            error = f"HTTP {answer.status_code}"
    summary: dict[str, Any] = dict(report.summarize(samples))
    if error:
        summary["error"] = error
    return summary


def time_all(
    size: str, base: str, facts: Mapping[str, Any], *, calls: int, budget: float, password: str
) -> dict[str, dict[str, Any]]:
    clients = log_in(base, facts["personas"], password)
    results: dict[str, dict[str, Any]] = {}
    for position, endpoint in enumerate(ENDPOINTS, 1):
        key = f"{endpoint.label}|{endpoint.persona}"
        try:
            url = endpoint_url(base, endpoint, facts["ids"])
        except KeyError as exc:
            results[key] = {"error": f"no object for {exc}"}
            continue
        session = clients[endpoint.persona]["api" if endpoint.is_api else "page"]
        results[key] = time_endpoint(session, url, calls=calls, budget=budget)
        summary = results[key]
        print(
            f"  [{size} {position}/{len(ENDPOINTS)}] {endpoint.label}: "
            f"p50 {summary['p50']:.1f} ms, p95 {summary['p95']:.1f} ms"
            + (f" ({summary['error']})" if "error" in summary else ""),
            flush=True,
        )
    return results


def measure_process(command: list[str], env: Mapping[str, str]) -> tuple[float, float, str]:
    """Run ``command``; (wall seconds, peak RSS in MB, its output)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def measure_kpi(database: str) -> dict[str, Any]:
    seconds, rss, _output = measure_process(
        [PYTHON, "manage.py", "compute_kpi"], child_env(database)
    )
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1)}


def measure_sweep(database: str) -> dict[str, Any]:
    _seconds, _rss, output = measure_process(
        [PYTHON, str(Path(__file__)), "--sweep-child"], child_env(database)
    )
    return dict(json.loads(output.strip().splitlines()[-1]))


def sweep_child() -> None:
    """Tomorrow's reminder sweep, timed in a transaction that is rolled back.

    Tomorrow, because today's reminders were sent when the data set was built; rolled
    back, so the database keeps its fingerprint's contents.
    """
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from maslikhat.core.reminders import reminders_sweep

    day = timezone.localdate() + dt.timedelta(days=1)
    with transaction.atomic():
        started = time.perf_counter()
        result = reminders_sweep(day=day, force=True, enqueue=False)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    count = int(result.notifications)
    print(
        json.dumps(
            {
                "notifications": count,
                "seconds": round(seconds, 3),
                "per_second": round(count / seconds, 1) if seconds else None,
            }
        )
    )


def measure_export(rows: int) -> dict[str, Any]:
    """The 100k-row Excel export of ``bench/export_bench.py`` on its own kept database."""
    keep = OUTPUT / f"export-{rows}-{migration_head()}"
    command = [
        PYTHON,
        str(ROOT / "bench" / "export_bench.py"),
        "--rows",
        str(rows),
        "--runs",
        "1",
        "--keep",
        str(keep),
        "--json",
    ]
    try:
        _seconds, _rss, output = measure_process(command, child_env("postgres"))
    except RuntimeError as exc:
        return {"error": str(exc).splitlines()[0]}
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--scale", type=int, default=int(os.environ.get("BENCH_SCALE", DEFAULT_SCALE))
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", DEFAULT_SEED)))
    parser.add_argument("--calls", type=int, default=30, help="timed calls per row")
    parser.add_argument(
        "--row-budget",
        type=float,
        default=10.0,
        help="at most this many seconds of timed calls a row",
    )
    parser.add_argument("--only", choices=["small", "large"], help="time one size only")
    parser.add_argument("--skip-extras", action="store_true", help="no KPI, sweep or export")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--check", action="store_true", help="only check that PostgreSQL answers")
    parser.add_argument(
        "--rebuild", action="store_true", help="build the databases again even if only migrated"
    )
    parser.add_argument("--sweep-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.sweep_child:
        sweep_child()
        return
    problem = check_postgres()
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(2)
    if args.check:
        return

    OUTPUT.mkdir(parents=True, exist_ok=True)
    password = os.environ.get("DEMO_PASSWORD", "maslikhat-demo")
    started = time.perf_counter()
    result: dict[str, Any] = {
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "scale": args.scale,
        "seed": args.seed,
        "calls": args.calls,
        "warm_up": WARM_UP,
        "row_budget_seconds": args.row_budget,
        "server": "gunicorn, 2 sync workers, bench.settings (production, DEBUG off, plain HTTP)",
        "cpus": os.cpu_count(),
        "sizes": {},
        "extras": {},
    }
    scales = {"small": 1, "large": args.scale}
    sizes = [args.only] if args.only else ["small", "large"]
    built = {
        size: ensure_database(size, scale=scales[size], seed=args.seed, rebuild=args.rebuild)
        for size in sizes
    }
    collect_static()
    timings: dict[str, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        name = DATABASES[size]
        facts = database_facts(name)
        result["sizes"][size] = {
            "database": name,
            "scale": scales[size],
            "requests": facts["requests"],
            "instructions": facts["instructions"],
            "build_seconds": built[size].get("build_seconds"),
            "reused": built[size].get("reused"),
            "personas": facts["personas"],
            "ids": facts["ids"],
        }
        print(f"[{size}] timing {len(ENDPOINTS)} rows on {name}…", flush=True)
        with gunicorn(size, name) as base:
            timings[size] = time_all(
                size, base, facts, calls=args.calls, budget=args.row_budget, password=password
            )
    result["rows"] = [
        {
            "label": endpoint.label,
            "name": endpoint.name,
            "path": endpoint.path,
            "persona": endpoint.persona,
            "target": endpoint.target,
            **{size: timings[size].get(f"{endpoint.label}|{endpoint.persona}") for size in sizes},
        }
        for endpoint in ENDPOINTS
    ]
    if not args.skip_extras:
        extras_on = "large" if "large" in sizes else sizes[0]
        print(f"[{extras_on}] compute_kpi, reminder sweep, {args.export_rows:,}-row export…")
        extras = {
            "compute_kpi": lambda: measure_kpi(DATABASES[extras_on]),
            "reminder_sweep": lambda: measure_sweep(DATABASES[extras_on]),
            "export": lambda: measure_export(args.export_rows),
        }
        for key, measure in extras.items():
            try:
                result["extras"][key] = measure()
            except RuntimeError as exc:  # reported in the table, the other figures still count
                print(exc, file=sys.stderr)
                result["extras"][key] = {"error": str(exc).splitlines()[0]}
    result["seconds"] = round(time.perf_counter() - started, 1)
    path = report.save(result, OUTPUT)
    print()
    print(report.format_table(result))
    print(f"\nwhole run {result['seconds']:.0f} s; saved {path} and {OUTPUT / 'latest.json'}")


if __name__ == "__main__":
    main()
