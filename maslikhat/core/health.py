"""Health checks: the database, the cache, the Celery broker (and the object store, if any).

Each check is bounded in time so that a dead dependency makes ``/healthz/``
answer 503 quickly instead of hanging the load balancer's probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    ms: int
    error: str = ""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    cache.set("healthz", "ok", timeout=10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was written")


def check_broker() -> None:
    """Publish the ``ping`` task: proves the broker accepts messages right now."""
    from maslikhat.celery import app

    from .tasks import ping

    # A fresh connection, not the producer pool: the probe must see the broker as
    # it is now, and a dead broker must fail within the timeout, not be retried.
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        # expires: a ping nobody consumed within a minute is dropped, so probes
        # never pile up in the queue.
        ping.apply_async(expires=60, retry=False, connection=conn)


def check_storage() -> None:
    """The object store (``FILE_STORAGE=s3``) answers and the bucket is there."""
    from django.core.files.storage import default_storage

    storage: Any = default_storage
    storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def active_checks() -> dict[str, Callable[[], None]]:
    """The checks of this set-up: the object store's only when files are kept in one."""
    from .storage import is_local

    return CHECKS if is_local() else {**CHECKS, "storage": check_storage}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in active_checks().items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # any failure of a dependency is a failed check
            ms = int((time.monotonic() - started) * 1000)
            results.append(CheckResult(name, False, ms, f"{type(exc).__name__}: {exc}"[:200]))
        else:
            results.append(CheckResult(name, True, int((time.monotonic() - started) * 1000)))
    return results
