"""Reminders through a real Redis broker and a real ``celery worker`` process.

Nothing is eager or mocked here: the test publishes tasks to the Redis at
``REDIS_URL``; a worker subprocess (``--pool=solo``) consumes them from a queue of
its own (``reminders-test-<random>``, so stale messages of other runs never reach
it), works on the same PostgreSQL test database, and writes e-mail to files the
test reads. Cases:

- a request routed, the sweep run through the worker: exactly one digest e-mail;
- the worker SIGKILLed in the middle of a sweep (held open by
  ``REMINDERS_TEST_DELAY_SECONDS``), then started again: Redis redelivers the
  unacknowledged task (``acks_late``, a 5-second visibility timeout for the test
  worker) and every recipient gets exactly one digest — nothing lost, nothing twice;
- Redis unreachable while a deputy files a request through the API: the API answers
  within 2 seconds, and the e-mail goes out after Redis is back (the catch-up).

Needs ``REDIS_URL`` and PostgreSQL (``DATABASE_URL``): the worker must see the test
database, which on SQLite lives in the test process's memory. Without ``REDIS_URL``
the tests skip (the SQLite pass of ``.ci/run``); with ``REDIS_URL`` set, a Redis
that does not answer or a database that is not PostgreSQL fails them under CI=true.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from maslikhat.accounts.models import User
from maslikhat.celery import app
from maslikhat.core.digests import OutgoingEmail
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.tasks import send_pending_email, sweep_reminders
from maslikhat.directory.models import Department, Position
from requests_app.models import DeputyRequest
from tests.conftest import skip_or_fail
from tests.factories import CategoryFactory, DemoDirectory, DepartmentFactory, department_officer
from tests.requests_helpers import make_request

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
#: Every wait is bounded; a worker start takes 2–5 s, a redelivery the visibility timeout.
WAIT_SECONDS = 60
VISIBILITY_TIMEOUT = 5

WORKER_SETTINGS = '''\
"""Settings of the test worker: the suite's, with e-mail to files and a queue of its own."""

from maslikhat.settings.test import *  # noqa: F403
from maslikhat.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = {mail_dir!r}
CELERY_TASK_DEFAULT_QUEUE = {queue!r}
CELERY_BROKER_TRANSPORT_OPTIONS = {{
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    # Redis hands an unacknowledged task to another worker after this long, and the
    # worker looks for such tasks every second.
    "visibility_timeout": {visibility},
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}}
'''


def wait_for(what: str, condition: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # SIGKILL: no warm shutdown, no acknowledgement
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Stack:
    """A queue of this test's own, a worker settings module and a mail folder."""

    folder: Path
    queue: str = field(default_factory=lambda: f"reminders-test-{uuid.uuid4().hex[:12]}")
    workers: list[Worker] = field(default_factory=list)

    @property
    def mail_dir(self) -> Path:
        return self.folder / "mail"

    def write_settings(self) -> str:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        module = f"reminders_worker_{self.queue.replace('-', '_')}"
        (self.folder / f"{module}.py").write_text(
            WORKER_SETTINGS.format(
                mail_dir=str(self.mail_dir), queue=self.queue, visibility=VISIBILITY_TIMEOUT
            )
        )
        return module

    def start_worker(self, **extra_env: str) -> Worker:
        """Start ``celery worker`` on the test database and this queue; wait until it is ready."""
        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.write_settings(),
            "PYTHONPATH": os.pathsep.join([str(self.folder), str(ROOT)]),
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "DJANGO_ENV_FILE": "/nonexistent/.env",
            **extra_env,
        }
        log = self.folder / f"worker-{len(self.workers)}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "maslikhat", "worker",
            "--pool=solo", "--concurrency=1", "-Q", self.queue,
            "-n", f"{self.queue}-{len(self.workers)}@%h", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        worker = Worker(process=process, log=log)
        self.workers.append(worker)
        wait_for(
            f"the worker to be ready (log: {log})",
            lambda: " ready." in worker.output() or process.poll() is not None,
        )
        assert process.poll() is None, worker.output()
        return worker

    def emails(self) -> list[EmailMessage]:
        """Every message the workers wrote, parsed (the file backend separates them by dashes)."""
        found: list[EmailMessage] = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return found

    def succeeded(self, task_id: str) -> bool:
        return any(f"[{task_id}] succeeded" in w.output() for w in self.workers)

    def cleanup(self) -> None:
        for worker in self.workers:
            worker.stop()
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        keys = client.keys(f"*{self.queue}*")
        if keys:
            client.delete(*keys)


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path) -> Iterator[Stack]:
    if not REDIS_URL:
        pytest.skip("REDIS_URL is not set: the worker tests need a real Redis server")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={REDIS_URL} is set but Redis does not answer: {exc}")
    if connection.vendor != "postgresql":
        skip_or_fail(
            "the worker tests need PostgreSQL (DATABASE_URL): a worker process cannot "
            "share SQLite's in-memory test database"
        )
    stack = Stack(folder=tmp_path)
    # What this process publishes without a queue (the e-mails of routing, say) goes to
    # a queue nobody consumes, deleted afterwards: never into a shared default queue.
    saved_queue = app.conf.task_default_queue
    app.conf.task_default_queue = f"{stack.queue}-unconsumed"
    try:
        yield stack
    finally:
        app.conf.task_default_queue = saved_queue
        # Never leave a worker behind, whatever happened in the test.
        stack.cleanup()


def head_only_department(directory: DemoDirectory) -> tuple[Department, User]:
    """A department whose only officer is its head: every reminder goes to one person."""
    solo = DepartmentFactory.create(code="solo", name_ru="Управление одного", name_en="Solo")
    head = department_officer("solo-head", solo, Position.HEAD)
    return solo, head


def test_a_sweep_run_by_the_worker_sends_exactly_one_digest(
    directory: DemoDirectory, stack: Stack
) -> None:
    solo, head = head_only_department(directory)
    item = make_request(directory, status="in_progress", lead=solo)
    assert item.due_date is not None
    stack.start_worker()
    started = time.monotonic()
    task = sweep_reminders.apply_async(
        kwargs={"day": item.due_date.isoformat(), "force": True}, queue=stack.queue
    )
    messages = wait_for("the digest e-mail", stack.emails)
    wait_for("the sweep task to finish", lambda: stack.succeeded(task.id))
    elapsed = time.monotonic() - started
    (message,) = messages
    assert message["To"] == head.email
    assert f"/requests/{item.pk}/" in message.get_content()
    assert OutgoingEmail.objects.get(user=head).status == "sent"
    # The same sweep again (a second beat, a retry): nothing new, nothing sent twice.
    again = sweep_reminders.apply_async(
        kwargs={"day": item.due_date.isoformat(), "force": True}, queue=stack.queue
    )
    wait_for("the second sweep to finish", lambda: stack.succeeded(again.id))
    assert len(stack.emails()) == 1
    assert Notification.objects.filter(deduplicate=True).count() == 1
    print(f"\nsweep → digest e-mail through Redis and the worker: {elapsed:.2f} s")


def test_a_worker_killed_in_the_middle_of_a_sweep_loses_nothing_and_duplicates_nothing(
    directory: DemoDirectory, stack: Stack
) -> None:
    items = [make_request(directory, status="in_progress", title=f"Запрос {n}") for n in range(3)]
    day = items[0].due_date
    assert day is not None and all(item.due_date == day for item in items)
    slow = stack.start_worker(REMINDERS_TEST_DELAY_SECONDS="120")
    task = sweep_reminders.apply_async(kwargs={"day": day.isoformat()}, queue=stack.queue)
    wait_for("the sweep to reach its pause", lambda: "reminders sweep pausing" in slow.output())
    killed_at = time.monotonic()
    slow.kill()
    assert slow.process.returncode == -signal.SIGKILL
    # The killed transaction wrote nothing: it was rolled back with the connection.
    assert Notification.objects.filter(deduplicate=True).count() == 0
    assert OutgoingEmail.objects.count() == 0
    stack.start_worker()
    wait_for("the redelivered sweep", lambda: stack.succeeded(task.id))
    recipients = {directory.finance_head.email, directory.finance_exec.email}
    wait_for("both digests", lambda: len(stack.emails()) >= len(recipients))
    recovered = time.monotonic() - killed_at
    time.sleep(2)  # anything sent twice would have arrived by now
    messages = stack.emails()
    assert sorted(m["To"] for m in messages) == sorted(recipients)
    for message in messages:
        body = message.get_content()
        assert all(f"/requests/{item.pk}/" in body for item in items)
    assert Notification.objects.filter(deduplicate=True).count() == 6  # 3 items × 2 people
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}
    print(f"\nkilled mid-sweep → redelivered and sent after {recovered:.2f} s")


class BrokerSwitch:
    """Point this process's Celery app at a port where nothing listens, and back."""

    DEAD = "redis://127.0.0.1:1/0"

    def __init__(self) -> None:
        self.saved = app.conf.broker_url

    def _use(self, url: str) -> None:
        app.conf.broker_url = url
        # Drop the cached connection pools so the next publish connects to ``url``.
        app._pool = None
        app.amqp._producer_pool = None

    def down(self) -> None:
        self._use(self.DEAD)

    def up(self) -> None:
        self._use(self.saved)


@pytest.fixture
def broker() -> Iterator[BrokerSwitch]:
    switch = BrokerSwitch()
    try:
        yield switch
    finally:
        switch.up()


def test_redis_down_while_a_deputy_files_a_request_answers_fast_and_emails_later(
    directory: DemoDirectory,
    stack: Stack,
    api_as: Callable[[Any], Any],
    broker: BrokerSwitch,
) -> None:
    category = CategoryFactory.create(
        code="lighting", auto_route=True, default_department=directory.finance
    )
    client = api_as(directory.alice.user)
    broker.down()
    started = time.monotonic()
    created = client.post(
        "/api/v1/requests/",
        {"title": "Освещение сквера", "body": "Темно вечером.", "category": category.pk},
        format="json",
    )
    filed = time.monotonic() - started
    assert created.status_code == 201, created.content
    started = time.monotonic()
    submitted = client.post(f"/api/v1/requests/{created.json()['id']}/submit/", {}, format="json")
    submit_seconds = time.monotonic() - started
    assert submitted.status_code == 200, submitted.content
    assert filed < 2 and submit_seconds < 2
    item = DeputyRequest.objects.get(pk=created.json()["id"])
    assert item.lead_department_id == directory.finance.pk  # routed at once, by category
    pending = Notification.objects.filter(
        item_id=item.pk, kind=NotificationKind.ROUTED, send_email=True
    )
    assert pending.count() == 2 and not pending.filter(emailed_at__isnull=False).exists()

    # Redis is back: the catch-up (run at the end of every sweep) sends what was left.
    broker.up()
    stack.start_worker()
    back = time.monotonic()
    send_pending_email.apply_async(kwargs={"older_than_seconds": 0}, queue=stack.queue)
    # The department's two, and the author's "routed to …, due by …".
    messages = wait_for("the three e-mails", lambda: len(stack.emails()) >= 3 and stack.emails())
    delivered = time.monotonic() - back
    time.sleep(1)
    assert sorted(m["To"] for m in stack.emails()) == sorted(
        [directory.finance_head.email, directory.finance_exec.email, directory.alice.user.email]
    )
    assert all(item.number in m["Subject"] for m in messages)
    assert not pending.filter(emailed_at__isnull=True).exists()
    print(
        f"\nbroker down: create {filed:.2f} s, submit {submit_seconds:.2f} s; "
        f"e-mail delivered {delivered:.2f} s after Redis was back"
    )
