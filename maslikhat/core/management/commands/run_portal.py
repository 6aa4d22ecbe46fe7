"""``manage.py run_portal``: the web server and a Celery worker with beat, in one command.

This is what ``make run`` ends with. The worker runs on whatever broker the
settings name — the embedded filesystem broker by default — so reminders and
the nightly KPI really run in the demo. Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server and a Celery worker with beat; Ctrl-C stops them all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-worker", action="store_true", help="Only the web server.")

    def handle(self, *args: Any, **options: Any) -> None:
        for folder in ("queue", "processed"):
            Path(settings.CELERY_FILESYSTEM_DIR, folder).mkdir(parents=True, exist_ok=True)
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        commands = [
            [python, manage, "runserver", f"{options['host']}:{options['port']}", "--noreload"],
        ]
        if not options["no_worker"]:
            commands.append(
                [
                    python, "-m", "celery", "-A", "maslikhat", "worker",
                    "--beat", "--loglevel=INFO", "--concurrency=2",
                    "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
                ]
            )  # fmt: skip
        children = [subprocess.Popen(cmd) for cmd in commands]
        self.stdout.write(f"Portal: http://{options['host']}:{options['port']}/  (Ctrl-C stops it)")

        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # Wait until the user stops us or one child dies; then stop the others.
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            raise SystemExit(1)
