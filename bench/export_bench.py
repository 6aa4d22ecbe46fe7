"""Benchmark: a 100,000-row Excel (and CSV) export of deputy requests, its time and its memory.

    .venv/bin/python bench/export_bench.py [--rows 100000] [--runs 3] [--keep DIR]

Builds a throw-away SQLite database (migrations, a small directory and ``--rows`` requests
inserted in bulk), then runs the export exactly as the Celery task does
(``reports.services.export_job_build``: visibility, the list's filters, openpyxl write-only,
progress written to the job every 2,000 rows) in child processes, and reports:

- the median and p95 wall time of the 100k-row export, for xlsx and csv;
- the floor F_sql: reading the same rows with the same query (``values_list().iterator()``)
  and doing nothing with them;
- the peak resident memory of a child exporting 10% of the rows and of one exporting all of
  them: constant memory means the two are about the same.

Target (``docs/quality.md``): 100k-row Excel export in ≤ 20 s with constant memory.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL_CATEGORY = "bench-small"


def setup_django(var_dir: Path) -> None:
    os.environ["MASLIKHAT_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maslikhat.settings.base")
    os.environ["DJANGO_ENV_FILE"] = "/nonexistent"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build_database(rows: int) -> None:
    """Migrate and insert ``rows`` requests (10% in the small category) in bulk."""
    from django.core.management import call_command
    from django.utils import timezone

    from maslikhat.accounts.models import Role, User
    from maslikhat.directory.models import (
        Category,
        Convocation,
        Department,
        DepartmentKind,
        Deputy,
        District,
        Mandate,
        Party,
    )
    from requests_app.models import DeputyRequest, Outcome, RequestStatus

    call_command("migrate", verbosity=0)
    convocation = Convocation.objects.create(
        number=8, elected_on=datetime.date(2023, 3, 19), is_current=True
    )
    party = Party.objects.create(code="p", name_ru="Партия")
    districts = [
        District.objects.create(code=f"d{i}", name_ru=f"Район {i}", name_kk=f"{i} ауданы")
        for i in range(8)
    ]
    categories = [
        Category.objects.create(code=SMALL_CATEGORY, name_ru="Малая категория"),
        *[Category.objects.create(code=f"c{i}", name_ru=f"Категория {i}") for i in range(9)],
    ]
    departments = [
        Department.objects.create(
            code=f"dep{i}", kind=DepartmentKind.CITY_DEPARTMENT, name_ru=f"Управление {i}"
        )
        for i in range(20)
    ]
    deputies = [
        Deputy.objects.create(
            user=User.objects.create(
                username=f"deputy{i}",
                role=Role.DEPUTY,
                last_name=f"Депутатов{i}",
                first_name="Иван",
                middle_name="Иванович",
            ),
            convocation=convocation,
            party=party,
            mandate=Mandate.PARTY_LIST,
        )
        for i in range(40)
    ]
    User.objects.create(username="staff", role=Role.STAFF, last_name="Сотрудник")
    now = timezone.now()
    today = timezone.localdate()
    states = [
        RequestStatus.SUBMITTED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.ANSWERED,
        RequestStatus.CLOSED,
        RequestStatus.CLOSED,
        RequestStatus.CLOSED,
    ]
    batch = []
    for i in range(rows):
        status = states[i % len(states)]
        routed = status != RequestStatus.SUBMITTED
        answered = status in (RequestStatus.ANSWERED, RequestStatus.CLOSED)
        submitted = now - datetime.timedelta(minutes=5 * i)
        batch.append(
            DeputyRequest(
                number=f"DZ-{2000 + i // 90000}-{i % 90000:05d}",
                convocation=convocation,
                author=deputies[i % len(deputies)],
                title=f"Ремонт дороги и освещения во дворе дома № {i} по улице Абая",
                body="Жители просят отремонтировать проезжую часть и установить освещение.",
                category=categories[0] if i % 10 == 0 else categories[1 + i % 9],
                district=districts[i % len(districts)],
                status=status,
                is_public=i % 3 == 0,
                lead_department=departments[i % len(departments)] if routed else None,
                submitted_at=submitted,
                routed_at=submitted if routed else None,
                due_date=today + datetime.timedelta(days=i % 40 - 20) if routed else None,
                original_due_date=today + datetime.timedelta(days=i % 40 - 20) if routed else None,
                answered_at=submitted + datetime.timedelta(days=i % 25) if answered else None,
                outcome=Outcome.RESOLVED if answered else None,
                rating=(i % 5) + 1 if status == RequestStatus.CLOSED else None,
            )
        )
        if len(batch) == 5000:
            DeputyRequest.objects.bulk_create(batch)
            batch = []
    if batch:
        DeputyRequest.objects.bulk_create(batch)


def child(fmt: str, scope: str) -> None:
    """One export (the task's code path) or the floor; prints a JSON line."""
    from django.http import QueryDict

    from maslikhat.accounts.models import User
    from maslikhat.directory.actors import actor_for
    from maslikhat.directory.models import Category
    from reports import services
    from reports.exports import request_export

    staff = User.objects.get(username="staff")
    params = QueryDict(mutable=True)
    if scope == "small":
        params["category"] = str(Category.objects.get(code=SMALL_CATEGORY).pk)
    started = time.perf_counter()
    if fmt == "floor":
        spec = request_export(actor=actor_for(staff), params=params, language="ru")
        rows = sum(1 for _row in spec.iterate())
        result = {"rows": rows}
    else:
        job = services.export_job_create(
            by=staff, kind="requests", params=params, fmt=fmt, language="ru"
        )
        job = services.export_job_build(job_id=job.pk)
        assert job is not None and job.status == "done", job and job.error
        path = Path(services.export_root().parent) / job.file_path
        result = {"rows": job.progress, "bytes": path.stat().st_size}
        path.unlink()
    result["seconds"] = time.perf_counter() - started
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(var_dir: Path, fmt: str, scope: str) -> dict:
    command = [sys.executable, __file__, "--child", fmt, "--scope", scope, "--keep", str(var_dir)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="use (and keep) this directory for the database")
    parser.add_argument(
        "--json", action="store_true", help="end with one JSON line of the Excel figures"
    )
    parser.add_argument("--child", choices=["xlsx", "csv", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--scope", choices=["all", "small"], default="all", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setup_django(Path(args.keep))
        child(args.child, args.scope)
        return

    var_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="export-bench-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    if not (var_dir / "bench.sqlite3").exists():
        started = time.perf_counter()
        setup_django(var_dir)
        build_database(args.rows)
        print(f"built {args.rows:,} requests in {time.perf_counter() - started:.1f} s ({var_dir})")

    excel: list[dict] = []
    print(f"{'what':<28}{'rows':>9}{'median s':>10}{'p95 s':>8}{'rows/s':>9}{'peak RSS MB':>13}")
    for fmt in ("floor", "xlsx", "csv"):
        runs = [run_child(var_dir, fmt, "all") for _ in range(args.runs)]
        seconds = [r["seconds"] for r in runs]
        if fmt == "xlsx":
            excel = runs
        median = statistics.median(seconds)
        label = {"floor": "F_sql (read the rows)", "xlsx": "Excel export", "csv": "CSV export"}
        print(
            f"{label[fmt]:<28}{runs[0]['rows']:>9,}{median:>10.2f}{p95(seconds):>8.2f}"
            f"{runs[0]['rows'] / median:>9,.0f}{max(r['max_rss_mb'] for r in runs):>13.0f}"
        )
    small = run_child(var_dir, "xlsx", "small")
    large = run_child(var_dir, "xlsx", "all")
    print(
        f"constant memory: peak RSS {small['max_rss_mb']:.0f} MB for {small['rows']:,} rows, "
        f"{large['max_rss_mb']:.0f} MB for {large['rows']:,} rows"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        print(
            json.dumps(
                {
                    "rows": excel[0]["rows"],
                    "seconds": round(statistics.median(r["seconds"] for r in excel), 2),
                    "peak_rss_mb": round(
                        max(large["max_rss_mb"], *(r["max_rss_mb"] for r in excel)), 1
                    ),
                    "small_rows": small["rows"],
                    "small_rss_mb": round(small["max_rss_mb"], 1),
                }
            )
        )


if __name__ == "__main__":
    main()
