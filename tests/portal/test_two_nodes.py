"""Two nodes of the portal on one PostgreSQL, one Redis and one object store.

The production topology of docs/deployment.md in miniature: two web servers (gunicorn, the
production settings, DEBUG off) on two free ports, two Celery workers and — by mistake, as
the test of the safety net — two beats, all subprocesses on the PostgreSQL test database,
the Redis of ``REDIS_URL`` (a queue and a cache prefix of this test's own) and a local S3
server (moto, credentials enforced). Each node has its own empty ``MEDIA_ROOT``: files can
only be shared through the bucket.

- A deputy files a request on node A (API, token), staff route it on node B and the lead
  department answers on node B; each step sees the previous node's writes.
- A file uploaded on node A is downloaded on node B by a department officer whose browser
  session was opened on node A (database sessions): the same bytes, streamed from the bucket.
- Both beats run the reminder sweep every 2 seconds for the same day: each 2-second slot is
  sent by one beat only (the slot lock, maslikhat/core/beat.py), and the reminder and its
  digest e-mail go out exactly once, however many sweeps ran.

Runs in the PostgreSQL + Redis pass of ``.ci/run``; skipped without ``REDIS_URL`` (the
SQLite pass: a subprocess cannot share SQLite's test database with the test).
"""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import pytest
import redis
from django.db import connection
from rest_framework.authtoken.models import Token

from maslikhat.celery import app
from maslikhat.core.digests import OutgoingEmail
from maslikhat.core.notifications import Notification
from maslikhat.directory.models import Position
from requests_app.models import DeputyRequest
from tests.conftest import skip_or_fail
from tests.core.test_reminders_integration import wait_for
from tests.core.test_storage_s3 import S3Server, free_port

# The local S3 server fixture of the storage tests (module scope), available here.
from tests.core.test_storage_s3 import s3_server as s3_server
from tests.factories import CategoryFactory, DemoDirectory, DepartmentFactory, department_officer
from tests.requests_helpers import PDF_BYTES, make_request

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
PASSWORD = "two-nodes-password"
SECRET_KEY = "two-nodes-" + "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"
SWEEP_EVERY = 2.0
#: What the nodes must not inherit from the suite's environment.
NOT_INHERITED = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_STATIC_ROOT",
    "EMAIL_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "URL_COVERAGE",
    "PORTAL_BASE_URL",
)

NODE_SETTINGS = '''\
"""The nodes' settings: production's, over plain HTTP, with a queue and a cache of their own."""

from maslikhat.settings.production import *  # noqa: F403
from maslikhat.settings.production import CACHES, STORAGES

CELERY_TASK_DEFAULT_QUEUE = {queue!r}
CACHES = {{"default": {{**CACHES["default"], "KEY_PREFIX": {queue!r}}}}}
# Static files straight from the sources (no collectstatic for a test).
STORAGES = {{**STORAGES, "staticfiles": {{
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}}}}
WHITENOISE_USE_FINDERS = True
# The passwords the test sets are hashed with the suite's (fast) hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = {mail_dir!r}
# The reminder sweep for one day, every {every} s instead of daily at 09:00.
CELERY_BEAT_SCHEDULE = {{
    {entry!r}: {{
        "task": "requests.reminders_sweep",
        "schedule": {every},
        "kwargs": {{"day": {day!r}, "force": True}},
    }},
}}
'''


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Node:
    """One web node: its port and its own (empty) MEDIA_ROOT."""

    name: str
    port: int
    media_root: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            answer = connection.getresponse()
            data = answer.read()
            cookies = {}
            for name, value in answer.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key] = rest.split(";", 1)[0]
            return Response(answer.status, dict(answer.getheaders()), data, cookies)
        finally:
            connection.close()

    def api(self, token: str, method: str, path: str, payload: Any = None) -> Any:
        answer = self.request(
            method,
            path,
            body=json.dumps(payload).encode() if payload is not None else None,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        assert 200 <= answer.status < 300, f"{self.name} {method} {path}: {answer.body[:500]!r}"
        return answer.json()


@dataclass
class Cluster:
    folder: Path
    s3: S3Server
    bucket: str
    day: str
    queue: str = field(default_factory=lambda: f"two-nodes-{uuid.uuid4().hex[:12]}")
    processes: list[Process] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)

    @property
    def entry(self) -> str:
        return f"{self.queue}-reminders"

    @property
    def mail_dir(self) -> Path:
        return self.folder / "mail"

    def environment(self, name: str) -> dict[str, str]:
        db = connection.settings_dict
        credentials = quote(db["USER"] or "postgres")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"])
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        node_dir = self.folder / name
        (node_dir / "media").mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": f"two_nodes_{self.queue.replace('-', '_')}",
                "PYTHONPATH": os.pathsep.join([str(self.folder), str(ROOT)]),
                "PYTHONUNBUFFERED": "1",
                "DJANGO_ENV_FILE": "/nonexistent/.env",
                "DJANGO_SECRET_KEY": SECRET_KEY,
                "DATABASE_URL": f"postgres://{credentials}@{host}:{port}/{db['NAME']}",
                "REDIS_URL": REDIS_URL,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DJANGO_SECURE_COOKIES": "false",
                "MASLIKHAT_VAR_DIR": str(node_dir),
                "DJANGO_MEDIA_ROOT": str(node_dir / "media"),
                "FILE_STORAGE": "s3",
                "S3_BUCKET": self.bucket,
                "S3_ENDPOINT_URL": self.s3.endpoint,
                "S3_ACCESS_KEY_ID": self.s3.access_key,
                "S3_SECRET_ACCESS_KEY": self.s3.secret_key,
                "S3_REGION": "us-east-1",
                "LOG_LEVEL": "INFO",
            }
        )
        return env

    def write_settings(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        module = self.folder / f"two_nodes_{self.queue.replace('-', '_')}.py"
        module.write_text(
            NODE_SETTINGS.format(
                queue=self.queue,
                mail_dir=str(self.mail_dir),
                entry=self.entry,
                every=SWEEP_EVERY,
                day=self.day,
            )
        )

    def start(self, name: str, command: list[str]) -> Process:
        log = self.folder / f"{name}.log"
        node = name.rsplit("-", 1)[-1]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment(node),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_node(self, name: str) -> Node:
        port = free_port()
        self.start(
            f"web-{name}",
            [
                sys.executable, "-m", "gunicorn", "maslikhat.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
                "--timeout", "120",
            ],
        )  # fmt: skip
        self.start(
            f"worker-{name}",
            [
                sys.executable, "-m", "celery", "-A", "maslikhat", "worker",
                "--pool=threads", "--concurrency=2", "-Q", self.queue,
                "-n", f"{self.queue}-{name}@%h", "--loglevel=INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
        )  # fmt: skip
        node = Node(name, port, self.folder / name / "media")
        self.nodes.append(node)
        return node

    def start_beat(self, name: str) -> Process:
        return self.start(
            f"beat-{name}",
            [
                sys.executable, "-m", "celery", "-A", "maslikhat", "beat", "--loglevel=INFO",
                "--schedule", str(self.folder / name / "celerybeat-schedule"),
            ],
        )  # fmt: skip

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes)

    def alive(self) -> None:
        dead = [p.name for p in self.processes if p.popen.poll() is not None]
        assert not dead, f"stopped: {dead}\n{self.logs()}"

    def emails(self) -> list[Any]:
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return found

    def cleanup(self) -> None:
        # All at once, and quickly: the test is over, nothing they hold is needed any more.
        # gunicorn's master gets SIGQUIT (its immediate shutdown, which stops its worker
        # too); Celery's single-process workers (threads pool) and the beats are killed.
        for process in self.processes:
            if process.popen.poll() is None:
                if process.name.startswith("web-"):
                    process.popen.send_signal(signal.SIGQUIT)
                else:
                    process.popen.kill()
        for process in self.processes:
            process.stop()
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        keys = client.keys(f"*{self.queue}*")
        if keys:
            client.delete(*keys)


@pytest.fixture
def cluster_folder(tmp_path: Path) -> Path:
    if not REDIS_URL:
        pytest.skip(
            "two nodes need one PostgreSQL (DATABASE_URL) and one Redis (REDIS_URL) that "
            "every process shares; without REDIS_URL (the SQLite pass) there is one node only"
        )
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={REDIS_URL} is set but Redis does not answer: {exc}")
    if connection.vendor != "postgresql":
        skip_or_fail(
            "two nodes need PostgreSQL (DATABASE_URL): processes cannot share SQLite's "
            "test database"
        )
    return tmp_path


def login(node: Node, username: str) -> str:
    """Log in through the HTML form of ``node``; the session cookie."""
    page = node.request("GET", "/accounts/login/")
    assert page.status == 200, page.body[:300]
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert match, "the login form has no CSRF token"
    csrf_cookie = page.cookies["csrftoken"]
    answer = node.request(
        "POST",
        "/accounts/login/",
        body=urlencode(
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": match.group(1).decode(),
            }
        ).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
        },
    )
    assert answer.status == 302, answer.body[:500]
    return answer.cookies["sessionid"]


def upload(node: Node, token: str, item: int, name: str, content: bytes) -> Any:
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = node.request(
        "POST",
        f"/api/v1/requests/{item}/attachments/",
        body=body,
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert answer.status == 201, answer.body[:500]
    return answer.json()


def files_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def saved_default_queue() -> Iterator[str]:
    """What this process publishes (e-mails of the set-up) goes to a queue nobody consumes."""
    saved = app.conf.task_default_queue
    queue = f"two-nodes-unconsumed-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = saved
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        keys = client.keys(f"*{queue}*")
        if keys:
            client.delete(*keys)


def test_two_web_nodes_two_workers_and_two_beats_share_one_portal(
    cluster_folder: Path,
    directory: DemoDirectory,
    request: pytest.FixtureRequest,
    saved_default_queue: str,
) -> None:
    began = time.monotonic()
    s3: S3Server = request.getfixturevalue("s3_server")
    bucket = f"two-nodes-{uuid.uuid4().hex[:12]}"
    store = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        region_name="us-east-1",
    )
    store.create_bucket(Bucket=bucket)

    # The people (committed: the nodes read the same database) and a request whose
    # reminder falls on ``day``, in a department whose only officer is its head.
    category = CategoryFactory.create(code="two-nodes", name_ru="Дороги", name_en="Roads")
    solo = DepartmentFactory.create(code="solo", name_ru="Управление одного", name_en="Solo")
    solo_head = department_officer("solo-head", solo, Position.HEAD)
    due = make_request(directory, status="in_progress", lead=solo)
    assert due.due_date is not None
    for user in (directory.alice.user, directory.staff, directory.finance_head):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    deputy, staff, head = (
        Token.objects.create(user=user).key
        for user in (directory.alice.user, directory.staff, directory.finance_head)
    )

    cluster = Cluster(folder=cluster_folder, s3=s3, bucket=bucket, day=due.due_date.isoformat())
    cluster.write_settings()
    try:
        a = cluster.start_node("a")
        b = cluster.start_node("b")
        # Two beats by mistake (exactly one is the rule): they sweep from now on.
        cluster.start_beat("a")
        cluster.start_beat("b")
        for node in (a, b):
            wait_for(f"node {node.name} to answer /healthz/", partial(_healthy, node, cluster), 90)
        for name in ("worker-a", "worker-b"):
            wait_for(f"{name} to be ready", partial(_worker_ready, cluster, name), 90)
        cluster.alive()
        started = time.monotonic() - began
        print(f"\nnodes up after {started:.1f} s")

        # --- A request across the nodes: filed on A, routed and answered on B. -------------
        created = a.api(
            deputy,
            "POST",
            "/api/v1/requests/",
            {
                "title": "Нет освещения во дворе",
                "body": "Фонари не горят.",
                "category": category.pk,
            },
        )
        item = created["id"]
        a.api(deputy, "POST", f"/api/v1/requests/{item}/submit/", {})
        routed = b.api(
            staff,
            "POST",
            f"/api/v1/requests/{item}/route/",
            {"lead_department": directory.finance.pk},
        )
        assert routed["status"] == "in_progress"
        draft = b.api(
            head,
            "POST",
            f"/api/v1/requests/{item}/responses/",
            {"kind": "interim", "text": "Работы запланированы."},
        )
        b.api(head, "POST", f"/api/v1/requests/{item}/responses/{draft['id']}/approve/", {})
        # Node A sees node B's answer at once (one database, no per-node state).
        answers = a.api(deputy, "GET", f"/api/v1/requests/{item}/responses/")
        assert [(r["id"], r["status"]) for r in answers] == [(draft["id"], "sent")]
        assert DeputyRequest.objects.get(pk=item).status == "in_progress"

        # --- A file uploaded on A, downloaded on B by a session opened on A. ---------------
        content = PDF_BYTES + f"% two nodes {uuid.uuid4().hex}\n".encode()
        attachment = upload(a, deputy, item, "Фото.pdf", content)
        session = login(a, directory.finance_head.username)
        download = b.request(
            "GET", attachment["download_url"], headers={"Cookie": f"sessionid={session}"}
        )
        assert download.status == 200, download.body[:300]
        assert download.body == content
        assert download.headers["Content-Disposition"].startswith("attachment;")
        # An outsider's session (the other deputy has no part in it): 404 on either node.
        directory.bob.user.set_password(PASSWORD)
        directory.bob.user.save(update_fields=["password"])
        outsider = login(b, directory.bob.user.username)
        for node in (a, b):
            refused = node.request(
                "GET", attachment["download_url"], headers={"Cookie": f"sessionid={outsider}"}
            )
            assert refused.status == 404 and content not in refused.body
        # The bytes are in the bucket only: neither node's disk holds them.
        keys = [o["Key"] for o in store.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert len(keys) == 1 and keys[0].startswith("attachments/")
        assert files_on_disk(a.media_root) == [] and files_on_disk(b.media_root) == []

        print(f"requests and files across nodes done after {time.monotonic() - began:.1f} s")
        # --- Two beats, one sweep per slot, one reminder. ---------------------------------
        # Both beats busy for a few slots each (they may start seconds apart).
        wait_for(
            "both beats to meet three slots each",
            lambda: min(_attempts(cluster, name) for name in ("beat-a", "beat-b")) >= 3,
            timeout=90,
        )
        cluster.alive()
        taken = [key for name in ("beat-a", "beat-b") for key in _beat_log(cluster, name)["took"]]
        skipped = [k for name in ("beat-a", "beat-b") for k in _beat_log(cluster, name)["skipped"]]
        sent = sum(
            cluster.process(name).output().count(f"Sending due task {cluster.entry} ")
            for name in ("beat-a", "beat-b")
        )
        # Each slot was taken by one beat only, and only the taker sent the sweep.
        assert len(taken) == len(set(taken)), cluster.logs()
        assert sent == len(taken), (sent, taken)
        # The other beat met the same slots and stood back.
        assert skipped and set(skipped) <= set(taken), (skipped, taken)
        attempted = len(taken) + len(skipped)
        wait_for(
            "the workers to run every sweep sent",
            lambda: _sweeps_done(cluster) >= sent,
            timeout=60,
        )
        wait_for(
            "the reminder digest to be sent",
            lambda: OutgoingEmail.objects.filter(user=solo_head, status="sent").exists(),
            timeout=60,
        )
        time.sleep(SWEEP_EVERY * 2)  # a duplicate would have arrived by now
        assert Notification.objects.filter(user=solo_head, deduplicate=True).count() == 1
        assert OutgoingEmail.objects.filter(user=solo_head).count() == 1
        digests = [m for m in cluster.emails() if m["To"] == solo_head.email]
        assert len(digests) == 1, [m["Subject"] for m in digests]
        assert f"/requests/{due.pk}/" in digests[0].get_content()
        cluster.alive()
        print(
            f"\ntwo nodes: up in {started:.1f} s; {attempted} beat attempts, {sent} sweeps sent, "
            f"{len(skipped)} skipped by the slot lock; total {time.monotonic() - began:.1f} s"
        )
    finally:
        stopping = time.monotonic()
        cluster.cleanup()  # the bucket lives in the S3 server's memory, gone with it
        print(f"stopped in {time.monotonic() - stopping:.1f} s")


def _healthy(node: Node, cluster: Cluster) -> bool:
    cluster.alive()
    try:
        answer = node.request("GET", "/healthz/")
    except OSError:
        return False
    if answer.status != 200:
        return False
    checks = answer.json()["checks"]
    # The object store is one of the node's dependencies.
    assert checks["storage"]["ok"], checks
    return True


def _worker_ready(cluster: Cluster, name: str) -> bool:
    cluster.alive()
    return " ready." in cluster.process(name).output()


def _beat_log(cluster: Cluster, name: str) -> dict[str, list[str]]:
    """The slot keys a beat took and skipped, from its log."""
    output = cluster.process(name).output()
    entry = re.escape(cluster.entry)
    return {
        "took": re.findall(rf"Scheduler: took (beat-slot:{entry}:\d+)", output),
        "skipped": re.findall(rf"Scheduler: skipped (beat-slot:{entry}:\d+)", output),
    }


def _attempts(cluster: Cluster, name: str) -> int:
    cluster.alive()
    log = _beat_log(cluster, name)
    return len(log["took"]) + len(log["skipped"])


def _sweeps_done(cluster: Cluster) -> int:
    return sum(
        len(re.findall(r"requests\.reminders_sweep\[[\w-]+\] succeeded", p.output()))
        for p in cluster.processes
        if p.name.startswith("worker-")
    )
