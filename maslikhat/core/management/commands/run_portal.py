"""``manage.py run_portal``: the web server and a Celery worker with beat, in one command.

This is what ``make run`` ends with. The web server is gunicorn, as in production:
``DEBUG`` off, static files collected and served by WhiteNoise, the portal's own
error pages. ``--dev`` (``make dev``) runs Django's auto-reloading development
server with ``DEBUG`` on instead. The worker runs on whatever broker the settings
name — the embedded filesystem broker by default — so reminders and the nightly
KPI really run in the demo. Ctrl-C (or SIGTERM) stops everything.

``--prepare`` (what ``make run`` passes) first migrates the database and loads the
demo year when the database has no users yet, saying what it is doing.

The children learn the portal's address from this command: ``PORTAL_BASE_URL``
(links in e-mails) and ``DJANGO_ALLOWED_HOSTS`` follow ``--host``/``--port`` unless
they are set in the environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

#: Addresses that mean "every interface": e-mail links then name the loopback.
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}
#: Host names a browser on this machine uses; always allowed.
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


def url_host(host: str) -> str:
    """``host`` as it appears in a URL and in ``ALLOWED_HOSTS`` (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def portal_environment(host: str, port: str, *, dev: bool) -> dict[str, str]:
    """The environment of the children: the caller's, plus the portal's own address.

    ``PORTAL_BASE_URL`` and ``DJANGO_ALLOWED_HOSTS`` are only filled in when the
    caller did not set them; ``DJANGO_DEBUG`` is turned on for ``--dev`` only.
    """
    environment = dict(os.environ)
    shown_host = "127.0.0.1" if host in WILDCARD_HOSTS else url_host(host)
    environment.setdefault("PORTAL_BASE_URL", f"http://{shown_host}:{port}")
    if "DJANGO_ALLOWED_HOSTS" not in environment:
        hosts = [*LOCAL_HOSTS]
        if host not in WILDCARD_HOSTS and url_host(host) not in hosts:
            hosts.append(url_host(host))
        environment["DJANGO_ALLOWED_HOSTS"] = ",".join(hosts)
    if dev:
        environment.setdefault("DJANGO_DEBUG", "true")
    return environment


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; the number itself for a signal Python does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def gunicorn_supports(setting: str) -> bool:
    """Whether the installed gunicorn knows ``setting`` (newer ones add options)."""
    from gunicorn.config import Config

    return setting in Config().settings


def static_files_are_current(static_root: Path) -> bool:
    """True when ``collectstatic`` has run since the last change of any static file."""
    manifest = static_root / "staticfiles.json"
    if not manifest.exists():
        return False
    collected_at = manifest.stat().st_mtime
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            if Path(storage.path(path)).stat().st_mtime > collected_at:
                return False
    return True


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn, DEBUG off; --dev: the development server with DEBUG on) "
        "and a Celery worker with beat; Ctrl-C stops them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-worker", action="store_true", help="Only the web server.")
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Django's development server with DEBUG on and auto-reload (make dev).",
        )
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="First migrate and, on an empty database, load the demo year (make run).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="gunicorn worker processes (default 2).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=4,
            help="Threads of each gunicorn worker (default 4).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, dev = str(options["host"]), str(options["port"]), bool(options["dev"])
        environment = portal_environment(host, port, dev=dev)
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")

        collecting: subprocess.Popen[bytes] | None = None
        collecting_since = 0.0
        if not dev:
            static_root = Path(settings.STATIC_ROOT)
            if static_files_are_current(static_root):
                self.say(_("Static files are up to date in %(folder)s.") % {"folder": static_root})
            else:
                # Alongside the database steps: it needs neither them nor the database.
                self.say(
                    _("Collecting static files into %(folder)s in the background…")
                    % {"folder": static_root}
                )
                collecting_since = time.monotonic()
                collecting = subprocess.Popen(
                    [python, manage, "collectstatic", "--noinput", "-v0"], env=environment
                )
        if options["prepare"]:
            self.step(
                _("Migrating the database…"),
                [python, manage, "migrate", "--noinput", "-v0"],
                environment,
            )
            self.step(
                _("Loading the demo year on an empty database (a minute or two the first time)…"),
                [python, manage, "seed_demo", "--if-empty"],
                environment,
            )
        if collecting is not None:
            self.say(_("Static files…"))
            self.wait_for(collecting, "collectstatic", collecting_since)

        for folder in ("queue", "processed"):
            Path(settings.CELERY_FILESYSTEM_DIR, folder).mkdir(parents=True, exist_ok=True)
        commands = [self.web_command(python, manage, host, port, options)]
        if not options["no_worker"]:
            commands.append(
                [
                    python, "-m", "celery", "-A", "maslikhat", "worker",
                    "--beat", "--loglevel=INFO", "--concurrency=2",
                    "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
                ]
            )  # fmt: skip
        self.say(_("Starting the portal…"))
        # Each child leads its own process group, so stopping reaches the development
        # server's auto-reloading child too; this command forwards Ctrl-C itself.
        children = [
            subprocess.Popen(command, env=environment, start_new_session=True)
            for command in commands
        ]
        mode = _("development server, DEBUG on") if dev else _("gunicorn, DEBUG off")
        self.say(
            _("Portal: %(url)s/  (%(mode)s; Ctrl-C stops it)")
            % {"url": environment["PORTAL_BASE_URL"], "mode": mode}
        )
        self.supervise(children, dev=dev)

    @staticmethod
    def child_names(dev: bool) -> list[str]:
        """The children's names for messages, in the order ``handle`` starts them."""
        return [_("The development server") if dev else _("gunicorn"), _("The Celery worker")]

    def web_command(
        self, python: str, manage: str, host: str, port: str, options: dict[str, Any]
    ) -> list[str]:
        """The web server's command line: runserver for ``--dev``, gunicorn otherwise."""
        if options["dev"]:
            return [python, manage, "runserver", f"{host}:{port}"]
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError(_("--workers and --threads must be 1 or more."))
        # Threads in a few processes suit SQLite: readers never wait (WAL), writers
        # queue on the busy timeout (IMMEDIATE transactions), and a waiting request
        # holds a thread, not a process.
        command = [
            python, "-m", "gunicorn", "maslikhat.wsgi:application",
            "--bind", f"{url_host(host)}:{port}",
            "--worker-class", "gthread",
            "--workers", str(options["workers"]),
            "--threads", str(options["threads"]),
            "--timeout", "60",
            "--graceful-timeout", "10",
            "--access-logfile", "-",
        ]  # fmt: skip
        if gunicorn_supports("control_socket_disable"):
            # Newer gunicorn opens a control socket in $HOME: two portals would share it.
            command.append("--no-control-socket")
        return command

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def step(self, message: str, command: Sequence[str], environment: dict[str, str]) -> None:
        """Run one preparation step, telling how long it has been running."""
        self.say(message)
        self.wait_for(subprocess.Popen(command, env=environment), command[2])

    def wait_for(
        self, process: subprocess.Popen[bytes], name: str, started: float | None = None
    ) -> None:
        """Wait for a preparation step, every 15 s saying it is still working."""
        started = time.monotonic() if started is None else started
        try:
            while True:
                try:
                    returncode = process.wait(timeout=15)
                    break
                except subprocess.TimeoutExpired:
                    seconds = int(time.monotonic() - started)
                    self.say("  " + _("… still working (%(seconds)d s)") % {"seconds": seconds})
        except KeyboardInterrupt:
            process.terminate()
            raise CommandError(_("Stopped before the portal started.")) from None
        if returncode != 0:
            raise CommandError(
                _("%(command)s failed (exit code %(code)d).")
                % {"command": name, "code": returncode}
            )
        self.say("  " + _("done in %(seconds)d s") % {"seconds": int(time.monotonic() - started)})

    def supervise(self, children: list[subprocess.Popen[bytes]], *, dev: bool) -> None:
        """Wait until the user stops us or one child dies; then stop the others."""
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
        if not stopping:
            # One child stopped by itself: say which and how, before stopping the rest.
            for name, child in zip(self.child_names(dev), children, strict=False):
                if child.returncode is None:
                    continue
                if child.returncode < 0:  # killed: SIGKILL is most often the out-of-memory killer
                    self.stderr.write(
                        _("%(name)s was killed (%(signal)s); stopping the portal.")
                        % {"name": name, "signal": signal_name(-child.returncode)}
                    )
                else:
                    self.stderr.write(
                        _("%(name)s stopped by itself (exit code %(code)d); stopping the portal.")
                        % {"name": name, "code": child.returncode}
                    )
        for index, child in enumerate(children):
            if child.poll() is not None:
                continue
            if dev and index == 0:
                # The development server's reloader: its child serves, stop both.
                os.killpg(child.pid, signal.SIGTERM)
            else:
                # gunicorn and Celery finish what they are doing and stop their own workers.
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for child in children:
            # Anything a child left behind in its group (a stuck worker) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            raise SystemExit(1)
