"""Celery beat's scheduler with a safety net: each slot of the schedule is sent once.

Exactly one beat is meant to run (docs/deployment.md). Should a second one be started by
mistake (a second ``make run`` on the same Redis, a beat scaled to two, a node restored
while its twin still runs), both would send every periodic task. :class:`SlotLockScheduler`
(``CELERY_BEAT_SCHEDULER``) makes the beats agree: before an entry is sent, its beat takes a
lock keyed by the entry's name and the start of its slot — the crontab's minute it is due
for (09:00 today for the daily reminder sweep), or the start of the interval on a grid
shared by every beat (each minute of the export sweep) — with ``cache.add``, which on Redis
(``REDIS_URL``) is one ``SET NX EX``. The beat that gets the lock sends the task; the other
logs that it skipped. The lock is only the safety net: the periodic tasks are idempotent
anyway (reminders and digests by unique constraints, the KPI run by its (period, as_of)
row, the export sweep by conditional updates).

Without Redis the cache is the process's own memory, so two beats are not kept apart: the
embedded set-up (``make run``) runs one beat inside its one worker.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry
from celery.schedules import crontab
from celery.schedules import schedule as interval_schedule
from django.core.cache import cache

logger = logging.getLogger(__name__)

#: How far back a crontab's last due minute is looked for (a weekly crontab at most).
_CRONTAB_LOOKBACK_MINUTES = 8 * 24 * 60
#: How long a crontab slot's lock is kept: longer than any gap between two beats' ticks.
CRONTAB_LOCK_SECONDS = 24 * 60 * 60
LOCK_PREFIX = "beat-slot"


def _crontab_matches(schedule: crontab, moment: datetime.datetime) -> bool:
    return (
        moment.minute in schedule.minute
        and moment.hour in schedule.hour
        and moment.day in schedule.day_of_month
        and moment.month in schedule.month_of_year
        # Celery counts the days of the week from Sunday = 0.
        and moment.isoweekday() % 7 in schedule.day_of_week
    )


def slot_start(schedule: Any, now: datetime.datetime) -> datetime.datetime:
    """The start of the slot ``now`` belongs to for ``schedule`` (what the lock is keyed by).

    A crontab: its latest due minute at or before ``now``, in the schedule's time zone. An
    interval of N seconds: ``now`` rounded down to a multiple of N since the epoch, the same
    for every beat whenever it started. Anything else: ``now``'s minute.
    """
    if isinstance(schedule, crontab):
        moment = now.astimezone(schedule.tz) if schedule.tz else now
        moment = moment.replace(second=0, microsecond=0)
        for _minute in range(_CRONTAB_LOOKBACK_MINUTES):
            if _crontab_matches(schedule, moment):
                return moment
            moment -= datetime.timedelta(minutes=1)
        return now.replace(second=0, microsecond=0)
    if isinstance(schedule, interval_schedule):
        seconds = max(int(schedule.run_every.total_seconds()), 1)
        epoch = int(now.timestamp())
        start = epoch - epoch % seconds
        return datetime.datetime.fromtimestamp(start, tz=datetime.UTC)
    return now.replace(second=0, microsecond=0)


def lock_seconds(schedule: Any) -> int:
    if isinstance(schedule, interval_schedule):
        return max(int(schedule.run_every.total_seconds()) * 2, 60)
    return CRONTAB_LOCK_SECONDS


def slot_key(name: str, start: datetime.datetime) -> str:
    return f"{LOCK_PREFIX}:{name}:{int(start.timestamp())}"


def claim_slot(key: str, schedule: Any, owner: str) -> bool:
    """Whether this beat may send for the slot ``key`` (the first to ask may).

    A cache that cannot be reached answers yes: the task then may run twice, which the
    tasks tolerate, rather than not at all.
    """
    try:
        return bool(cache.add(key, owner, timeout=lock_seconds(schedule)))
    except Exception:  # the cache is down: send (the tasks are idempotent)
        logger.warning("beat: the slot lock %s could not be taken; sending anyway", key)
        return True


class SlotLockScheduler(PersistentScheduler):
    """``PersistentScheduler`` that sends an entry only if it wins the entry's slot lock."""

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        owner = f"{socket.gethostname()}:{os.getpid()}"
        key = slot_key(entry.name, slot_start(entry.schedule, self.app.now()))
        if not claim_slot(key, entry.schedule, owner):
            logger.info("Scheduler: skipped %s: another beat already sent it for this slot", key)
            return
        logger.info("Scheduler: took %s", key)
        super().apply_entry(entry, producer=producer)
