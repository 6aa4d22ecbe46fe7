"""Two beats started by mistake send each slot of the schedule once (maslikhat/core/beat.py).

Two ``SlotLockScheduler`` instances share the suite's cache (process memory on SQLite,
Redis with ``REDIS_URL``); what they would send is recorded instead of published.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.beat import ScheduleEntry, Scheduler
from celery.schedules import crontab
from celery.utils.imports import symbol_by_name

from maslikhat.celery import app
from maslikhat.core import beat
from maslikhat.core.beat import SlotLockScheduler, slot_start

ALMATY = ZoneInfo("Asia/Almaty")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(scheduler, entry) of every entry a scheduler really sends."""
    record: list[tuple[str, str]] = []

    def apply_entry(self: Any, entry: ScheduleEntry, producer: Any = None) -> None:
        record.append((self.label, entry.name))

    monkeypatch.setattr(Scheduler, "apply_entry", apply_entry)
    return record


def scheduler(tmp_path: Path, label: str) -> SlotLockScheduler:
    instance = SlotLockScheduler(app=app, schedule_filename=str(tmp_path / label), lazy=True)
    instance.label = label
    return instance


def entry(schedule: Any) -> ScheduleEntry:
    # A name of this test's own: the lock keys never meet another test's in a shared Redis.
    return ScheduleEntry(
        name=f"test-{uuid.uuid4().hex}", task="core.ping", schedule=schedule, app=app
    )


def at(moment: str) -> time_machine.travel:
    return time_machine.travel(datetime.datetime.fromisoformat(moment), tick=False)


def test_the_portal_runs_beat_with_the_slot_lock() -> None:
    assert app.conf.beat_scheduler == "maslikhat.core.beat:SlotLockScheduler"
    assert symbol_by_name(app.conf.beat_scheduler) is SlotLockScheduler


def test_a_daily_crontab_is_sent_once_per_day_by_two_beats(
    tmp_path: Path, sent: list[tuple[str, str]]
) -> None:
    a, b = scheduler(tmp_path, "a"), scheduler(tmp_path, "b")
    sweep = entry(crontab(hour=9, minute=0))
    with at("2026-03-02T09:00:00.400+05:00"):
        a.apply_entry(sweep)
    with at("2026-03-02T09:00:02+05:00"):
        b.apply_entry(sweep)
    # A beat whose tick came late (it was busy, or restarted) is still in the same slot.
    with at("2026-03-02T09:03:30+05:00"):
        b.apply_entry(sweep)
    assert sent == [("a", sweep.name)]
    # The next day is a new slot; whichever beat comes first sends it.
    with at("2026-03-03T09:00:01+05:00"):
        b.apply_entry(sweep)
        a.apply_entry(sweep)
    assert sent == [("a", sweep.name), ("b", sweep.name)]


def test_an_interval_is_sent_once_per_slot_whatever_the_beats_phase(
    tmp_path: Path, sent: list[tuple[str, str]]
) -> None:
    a, b = scheduler(tmp_path, "a"), scheduler(tmp_path, "b")
    sweep = entry(60.0)
    # Beat a ticks at :59.9 of each minute, beat b at :00.1 of the next: slots are on
    # the clock's minute grid, not on each beat's start time.
    ticks = [
        ("a", "2026-03-02T10:00:59.900+00:00"),
        ("b", "2026-03-02T10:01:00.100+00:00"),
        ("a", "2026-03-02T10:01:59.900+00:00"),
        ("b", "2026-03-02T10:02:00.100+00:00"),
        ("a", "2026-03-02T10:02:59.900+00:00"),
    ]
    beats = {"a": a, "b": b}
    for label, moment in ticks:
        with at(moment):
            beats[label].apply_entry(sweep)
    assert [label for label, _name in sent] == ["a", "b", "b"]  # slots 10:00, 10:01, 10:02


def test_without_the_cache_the_task_is_sent_rather_than_lost(
    tmp_path: Path, sent: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(beat.cache, "add", broken)
    sweep = entry(crontab(hour=9, minute=0))
    with at("2026-03-02T09:00:00+05:00"):
        scheduler(tmp_path, "a").apply_entry(sweep)
    assert sent == [("a", sweep.name)]


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        # Daily at 09:00 Almaty: before nine it is still yesterday's slot.
        (crontab(hour=9, minute=0), "2026-03-02T08:59:00+05:00", "2026-03-01T09:00:00+05:00"),
        (crontab(hour=9, minute=0), "2026-03-02T15:10:42+05:00", "2026-03-02T09:00:00+05:00"),
        # Mondays at 07:30 (Sunday is 0 for Celery): from Wednesday back to Monday.
        (
            crontab(hour=7, minute=30, day_of_week=1),
            "2026-03-04T12:00:00+05:00",
            "2026-03-02T07:30:00+05:00",
        ),
    ],
)
def test_a_crontab_slot_starts_at_its_latest_due_minute(
    schedule: crontab, now: str, expected: str
) -> None:
    start = slot_start(schedule, datetime.datetime.fromisoformat(now))
    assert start == datetime.datetime.fromisoformat(expected)
    assert start.astimezone(ALMATY).weekday() == datetime.datetime.fromisoformat(expected).weekday()
