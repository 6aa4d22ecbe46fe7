"""The web process's garbage collector (maslikhat/core/gc_tuning.py), as gunicorn loads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from maslikhat.core.gc_tuning import THRESHOLDS

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import maslikhat.wsgi
print(json.dumps({
    "thresholds": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "views_loaded": "requests_app.views" in sys.modules and "reports.public_views" in sys.modules,
}))
"""


def test_loading_the_wsgi_application_freezes_what_is_loaded_and_collects_less_often():
    """In a fresh interpreter, as in a gunicorn worker: Python's defaults before, the
    portal's thresholds after, the view modules imported and frozen with the rest."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "maslikhat.settings.test"}
    before = subprocess.run(
        [sys.executable, "-c", "import gc; print(gc.get_threshold()[0], gc.get_freeze_count())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert before == ["700", "0"]

    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    state = json.loads(probe.stdout.strip().splitlines()[-1])
    assert tuple(state["thresholds"]) == THRESHOLDS
    assert state["views_loaded"] is True
    # Django and the portal's modules: tens of thousands of objects, never walked again.
    assert state["frozen"] > 50_000
