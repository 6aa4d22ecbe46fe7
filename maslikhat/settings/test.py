"""Settings for the test suite: fast hashing, captured e-mail, eager nothing.

The database and broker still come from the environment, so `.ci/run` runs the
same suite on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import DATABASES, MIDDLEWARE, REDIS_URL, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media"
DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Records which URL patterns the suite reached (tests/conftest.py fails the run on
# a pattern nobody exercised).
MIDDLEWARE = [*MIDDLEWARE, "tests.url_coverage.RecordResolvedRouteMiddleware"]
# The suite's helpers answer many requests of one department with one text: the
# boilerplate check (requests_app/similarity.py) is off unless a test sets the threshold
# (tests/requests_app/test_boilerplate.py); similarity never exceeds 1.0.
BOILERPLATE_SIMILARITY_THRESHOLD = 1.01

if not REDIS_URL:
    # Without Redis the suite publishes to an in-memory broker: nothing piles up
    # on disk. The worker tests that matter run against the real Redis in CI.
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT = None
    CELERY_BROKER_TRANSPORT_OPTIONS = {}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not Django's shared in-memory database: the live server used by the
    # browser tests then serves each request on its own connection (WAL, IMMEDIATE
    # transactions, busy timeout) exactly as `make run` does, instead of sharing
    # one connection between threads. One file per test process.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
