"""``make run`` serves like production: gunicorn, ``DEBUG`` off, fifty people writing at once.

The load test starts ``manage.py run_portal`` — the command ``make run`` ends with —
as a real process on a free port of the loopback, on a fresh SQLite database in a
temporary folder (the embedded set-up of ``make run``, whatever database the rest of
the suite uses), with its Celery worker on the filesystem broker. Fifty deputies
then file, submit and discuss requests through the API at the same moment. Nothing
may be lost: no connection reset, no 5xx, no "database is locked", and every write
is in the database afterwards. The same server shows the portal's own 404 page,
serves the collected static files, and e-mails links to the address it runs on.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management.base import OutputWrapper
from django.utils import translation

from maslikhat.core.management.commands.run_portal import Command as RunPortal
from maslikhat.core.management.commands.run_portal import portal_environment
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
MANAGE = str(ROOT / "manage.py")
CLIENTS = 50
ROUNDS = 2
STAFF_PASSWORD = "maslikhat-demo"

#: What the server process must not inherit from the suite's environment.
NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_STATIC_ROOT",
    "DJANGO_MEDIA_ROOT",
    "PORTAL_BASE_URL",
    "EMAIL_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "URL_COVERAGE",
    "HOST",
    "PORT",
)

SETUP = """
import json, sys
import django
django.setup()
from rest_framework.authtoken.models import Token
from maslikhat.accounts.models import Role
from tests.factories import CategoryFactory, ConvocationFactory, DeputyFactory, UserFactory

clients = int(sys.argv[1])
convocation = ConvocationFactory.create()
category = CategoryFactory.create(code="roads", name_ru="Дороги", name_en="Roads")
staff = UserFactory.create(username="staff", role=Role.STAFF, password=sys.argv[2])
tokens = []
for n in range(1, clients + 1):
    # No password: hashing fifty would only slow the set-up; the deputies use tokens.
    user = UserFactory.create(username=f"deputy{n}", role=Role.DEPUTY, password=None)
    DeputyFactory.create(user=user, convocation=convocation)
    tokens.append(Token.objects.create(user=user).key)
print(json.dumps({
    "category": category.pk, "tokens": tokens, "staff": Token.objects.create(user=staff).key
}))
"""

COUNT = """
import json
import django
django.setup()
from maslikhat.core.threads import Message
from requests_app.models import DeputyRequest, RequestStatus

print(json.dumps({
    "requests": DeputyRequest.objects.count(),
    "submitted": DeputyRequest.objects.exclude(status=RequestStatus.DRAFT)
        .exclude(number="").count(),
    "numbers": DeputyRequest.objects.exclude(number="").values("number").distinct().count(),
    "messages": Message.objects.count(),
}))
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Portal:
    """A running ``run_portal``: its address, its folder, its log and the test data."""

    port: int
    var_dir: Path
    log: Path
    category: int
    tokens: list[str]
    staff_token: str
    environment: dict[str, str]

    def log_tail(self, lines: int = 60) -> str:
        """The log's last lines other than the access log's (which under load would push
        out everything else), then the access log's last twenty."""
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        other = [line for line in text if '" HTTP/1.1" ' not in line]
        return "\n".join([*other[-lines:], "… the access log's last lines:", *text[-20:]])

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
        connection = self.connection()
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
            return response.status, dict(response.getheaders()), body
        finally:
            connection.close()

    def post(self, token: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with an API token; the answer's JSON (a 2xx is required)."""
        connection = self.connection()
        try:
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            connection.request("POST", path, body=json.dumps(payload), headers=headers)
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        assert 200 <= response.status < 300, f"{path}: {response.status} {body[:500]}"
        return json.loads(body)

    def django(self, script: str, *args: str) -> Any:
        """Run ``script`` with Django set up against the portal's database; its JSON output."""
        result = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])


def server_environment(var_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "maslikhat.settings.base",
            "DJANGO_ENV_FILE": str(var_dir / "no.env"),
            "MASLIKHAT_VAR_DIR": str(var_dir),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    return environment


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    try:
        import gunicorn  # noqa: F401
    except ImportError:  # pragma: no cover - gunicorn is one of the portal's dependencies
        skip_or_fail("gunicorn is not installed")
    var_dir = tmp_path_factory.mktemp("run-portal")
    began = time.monotonic()
    environment = server_environment(var_dir)
    migrate = subprocess.run(
        [sys.executable, MANAGE, "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    migrated = time.monotonic()
    port = free_port()
    log = var_dir / "run_portal.log"
    draft = Portal(port, var_dir, log, 0, [], "", environment)
    data = draft.django(SETUP, str(CLIENTS), STAFF_PASSWORD)
    portal = Portal(
        port, var_dir, log, data["category"], data["tokens"], data["staff"], environment
    )
    prepared = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, MANAGE, "run_portal", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240  # collectstatic of a fresh folder, then start-up
        while True:
            assert process.poll() is None, f"run_portal exited:\n{portal.log_tail()}"
            try:
                status, _headers, _body = portal.get("/healthz/")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no /healthz/ 200:\n{portal.log_tail()}"
            time.sleep(0.5)
        print(
            f"run_portal: migrate {migrated - began:.0f} s, data {prepared - migrated:.0f} s, "
            f"collectstatic and start {time.monotonic() - prepared:.0f} s"
        )
        yield portal
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Tally:
    """What the clients saw: every status by step, every failure, every 5xx body."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def record(self, step: str, status: int, body: str) -> None:
        with self.lock:
            self.statuses[f"{step} {status}"] += 1
            if status >= 500 or "database is locked" in body:
                self.server_errors.append(f"{step} {status}: {body[:300]}")

    def fail(self, step: str, error: BaseException) -> None:
        with self.lock:
            self.failures.append(f"{step}: {type(error).__name__}: {error}")


def deputy_at_work(
    portal: Portal, token: str, number: int, start: threading.Barrier, tally: Tally
) -> None:
    """One deputy: ``ROUNDS`` times file a request, submit it and write in its thread."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    connection = portal.connection()
    start.wait()

    def post(step: str, path: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            connection.request("POST", path, body=json.dumps(payload), headers=headers)
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as error:
            tally.fail(step, error)
            connection.close()
            return None
        tally.record(step, response.status, body)
        return json.loads(body) if response.status < 300 else None

    try:
        for round_ in range(1, ROUNDS + 1):
            created = post(
                "create",
                "/api/v1/requests/",
                {
                    "title": f"Нет освещения во дворе {number}-{round_}",
                    "body": "Во дворе дома не горят фонари уже неделю.",
                    "category": portal.category,
                },
            )
            if created is None:
                continue
            item = f"/api/v1/requests/{created['id']}"
            post("submit", f"{item}/submit/", {})
            post("message", f"{item}/messages/", {"text": f"Уточнение {number}-{round_}"})
    finally:
        connection.close()


def test_fifty_deputies_writing_at_once_lose_nothing(portal: Portal) -> None:
    tally = Tally()
    start = threading.Barrier(CLIENTS)
    threads = [
        threading.Thread(target=deputy_at_work, args=(portal, token, n, start, tally))
        for n, token in enumerate(portal.tokens, start=1)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "clients still waiting after 300 s"

    writes = CLIENTS * ROUNDS
    assert not tally.failures, f"connection failures: {tally.failures[:5]}\n{portal.log_tail()}"
    assert not tally.server_errors, f"{tally.server_errors[:5]}\n{portal.log_tail()}"
    assert tally.statuses == Counter(
        {"create 201": writes, "submit 200": writes, "message 201": writes}
    ), tally.statuses
    counts = portal.django(COUNT)
    assert counts == {
        "requests": writes,
        "submitted": writes,
        "numbers": writes,  # every registration number handed out once
        "messages": writes,
    }, counts
    log = portal.log.read_text(encoding="utf-8", errors="replace")
    assert "database is locked" not in log
    print(f"{3 * writes} writes by {CLIENTS} clients in {elapsed:.1f} s")


@pytest.mark.parametrize(
    ("language", "heading"),
    [("ru", "Страница не найдена"), ("kk", "Бет табылмады"), ("en", "Page not found")],
)
def test_an_unknown_address_is_the_friendly_page_in_the_visitors_language(
    portal: Portal, language: str, heading: str
) -> None:
    status, headers, body = portal.get("/no-such-page/", {"Accept-Language": language})
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert f'<html lang="{language}">' in body
    assert heading in body
    for debug_text in ("URLconf", "Traceback", "DEBUG = True", "Using the URLconf"):
        assert debug_text not in body


def test_a_host_the_portal_does_not_serve_gets_the_plain_bad_request_page(
    portal: Portal,
) -> None:
    status, _headers, body = portal.get("/", {"Host": "intruder.example", "Accept-Language": "ru"})
    assert status == 400
    assert "400" in body and "DisallowedHost" not in body and "Traceback" not in body


def test_collected_static_files_are_served_with_their_hashed_names(portal: Portal) -> None:
    status, _headers, page = portal.get("/accounts/login/")
    assert status == 200
    hashed = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page)
    assert hashed, "the page does not link the manifest's hashed stylesheet"
    status, headers, css = portal.get(hashed.group(1))
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers.get("Cache-Control", "")
    assert css.strip()
    status, _headers, _body = portal.get("/static/vendor/bootstrap/bootstrap.min.css")
    assert status == 200


def test_staff_log_in_through_the_page_over_plain_http(portal: Portal) -> None:
    """DEBUG off must not mean HTTPS-only: cookies and redirects work on 127.0.0.1."""
    connection = portal.connection()
    try:
        connection.request("GET", "/accounts/login/")
        response = connection.getresponse()
        page = response.read().decode()
        cookie_header = response.getheader("Set-Cookie", "")
        assert "secure" not in cookie_header.lower()
        csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie_header)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert csrf_cookie and token
        form = urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": "staff", "password": STAFF_PASSWORD}
        )
        connection.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf_cookie.group(1)}",
                "Origin": f"http://127.0.0.1:{portal.port}",
                "Referer": f"http://127.0.0.1:{portal.port}/accounts/login/",
            },
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 302
        location = response.getheader("Location", "")
        assert not location.startswith("https:")
        session_cookie = response.getheader("Set-Cookie", "")
        assert "sessionid=" in session_cookie and "secure" not in session_cookie.lower()
    finally:
        connection.close()


def test_e_mail_links_name_the_address_the_portal_runs_on(portal: Portal) -> None:
    """A declined request is e-mailed to its deputy by the worker, into var/mail."""
    deputy, staff = portal.tokens[0], portal.staff_token
    created = portal.post(
        deputy,
        "/api/v1/requests/",
        {"title": "Яма на дороге", "body": "Глубокая яма.", "category": portal.category},
    )
    item = f"/api/v1/requests/{created['id']}"
    portal.post(deputy, f"{item}/submit/", {})
    portal.post(staff, f"{item}/decline/", {"reason": "Вопрос не относится к ведению маслихата."})
    mail_dir = portal.var_dir / "mail"
    deadline = time.monotonic() + 120
    expected = f"http://127.0.0.1:{portal.port}/requests/"
    while time.monotonic() < deadline:
        mails = sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []
        texts = [path.read_text(encoding="utf-8", errors="replace") for path in mails]
        if any(expected in text for text in texts):
            break
        time.sleep(1)
    else:
        pytest.fail(f"no e-mail with a link to {expected}:\n{portal.log_tail()}")
    assert not any("http://127.0.0.1:8000/" in text for text in texts)


# --- How run_portal tells its children where the portal is ------------------------------


def test_children_learn_the_portals_address_from_host_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PORTAL_BASE_URL", "DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    environment = portal_environment("192.0.2.7", "8080", dev=False)
    assert environment["PORTAL_BASE_URL"] == "http://192.0.2.7:8080"
    assert environment["DJANGO_ALLOWED_HOSTS"].split(",") == [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "192.0.2.7",
    ]
    assert "DJANGO_DEBUG" not in environment
    everywhere = portal_environment("0.0.0.0", "9000", dev=True)
    assert everywhere["PORTAL_BASE_URL"] == "http://127.0.0.1:9000"
    assert everywhere["DJANGO_DEBUG"] == "true"


def test_an_address_set_by_the_operator_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.kz")
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "portal.example.kz")
    environment = portal_environment("127.0.0.1", "8000", dev=False)
    assert environment["PORTAL_BASE_URL"] == "https://portal.example.kz"
    assert environment["DJANGO_ALLOWED_HOSTS"] == "portal.example.kz"


SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


@dataclass
class SupervisedRun:
    """How ``run_portal`` ended, how each child ended, and what it said."""

    exit_code: object
    returncodes: list[int]
    said: str


def supervised(web: list[str], worker: list[str], *, kill_web: bool = False) -> SupervisedRun:
    """``run_portal``'s supervision of two children started from these command lines,
    in English, with the test process's own signal handlers put back afterwards."""
    children = [subprocess.Popen(line, start_new_session=True) for line in (web, worker)]
    if kill_web:
        children[0].kill()  # as the out-of-memory killer would
    command = RunPortal()
    errors = io.StringIO()
    command.stderr = OutputWrapper(errors)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stopped, translation.override("en"):
            command.supervise(children, dev=False)
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
        for child in children:
            child.kill()
    return SupervisedRun(
        stopped.value.code, [child.wait(timeout=5) for child in children], errors.getvalue()
    )


def test_a_child_that_stops_by_itself_is_named_and_stops_the_others() -> None:
    """When the worker dies, the operator reads which child and how, and the web server
    is stopped with it rather than left serving a portal that sends no reminders."""
    run = supervised(SLEEPER, [sys.executable, "-c", "raise SystemExit(3)"])
    assert run.exit_code == 1
    assert run.returncodes == [-signal.SIGTERM, 3]
    assert "The Celery worker stopped by itself (exit code 3); stopping the portal." in run.said
    assert "gunicorn" not in run.said


def test_a_child_killed_by_a_signal_is_named_with_the_signal() -> None:
    run = supervised(SLEEPER, SLEEPER, kill_web=True)
    assert run.exit_code == 1
    assert run.returncodes == [-signal.SIGKILL, -signal.SIGTERM]
    assert "gunicorn was killed (SIGKILL); stopping the portal." in run.said


# --- The base settings of make run -------------------------------------------------------

PROBE = "import json, maslikhat.settings.base as s; print(json.dumps([s.DEBUG, s.SECRET_KEY]))"


def base_settings(var_dir: Path) -> tuple[bool, str]:
    environment = server_environment(var_dir)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    debug, key = json.loads(result.stdout.strip().splitlines()[-1])
    return debug, key


def test_base_settings_have_debug_off_and_a_secret_key_of_their_own(tmp_path: Path) -> None:
    debug, key = base_settings(tmp_path)
    assert debug is False
    assert key.startswith("django-insecure-local-") and len(key) > 50
    assert (tmp_path / "secret_key").read_text(encoding="ascii").strip() == key
    assert base_settings(tmp_path) == (False, key), "the key must survive a restart"
    _debug, other_key = base_settings(tmp_path / "another-machine")
    assert other_key != key


# --- The error pages that render without a request ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading"),
    [("ru", "Ошибка 500"), ("kk", "500 қатесі"), ("en", "Error 500")],
)
def test_the_server_error_page_needs_no_request_context_and_no_database(
    rf: Any, django_assert_num_queries: Any, language: str, heading: str
) -> None:
    from django.utils import translation
    from django.views.defaults import server_error

    with translation.override(language), django_assert_num_queries(0):
        response = server_error(rf.get("/broken/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert f'<html lang="{language}">' in body
    assert heading in body
    assert "/static/css/portal.css" in body  # the plain name: no manifest needed


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_the_bad_request_page_is_the_portals_own_and_says_nothing_of_the_request(
    rf: Any, django_assert_num_queries: Any, language: str
) -> None:
    from django.core.exceptions import DisallowedHost
    from django.utils import translation
    from django.views.defaults import bad_request

    with translation.override(language), django_assert_num_queries(0):
        response = bad_request(rf.get("/"), DisallowedHost("Invalid HTTP_HOST header: 'x'"))
    body = response.content.decode()
    assert response.status_code == 400
    assert f'<html lang="{language}">' in body
    assert "400" in body and "portal-error" in body
    assert "HTTP_HOST" not in body
