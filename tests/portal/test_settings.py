"""Settings come from the environment: each case imports the settings in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, importlib, sys
module = importlib.import_module(sys.argv[1])
db = module.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "options": {k: v for k, v in db.get("OPTIONS", {}).items()},
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "broker": module.CELERY_BROKER_URL,
    "broker_transport": getattr(module, "CELERY_BROKER_TRANSPORT", None),
    "cache": module.CACHES["default"]["BACKEND"],
    "debug": module.DEBUG, "hosts": module.ALLOWED_HOSTS,
    "ssl_redirect": getattr(module, "SECURE_SSL_REDIRECT", False),
    "time_zone": module.TIME_ZONE, "language": module.LANGUAGE_CODE,
    "languages": [code for code, _ in module.LANGUAGES],
    "email_backend": module.EMAIL_BACKEND, "acks_late": module.CELERY_TASK_ACKS_LATE,
}))
"""

CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SECURE_SSL_REDIRECT",
    "EMAIL_URL",
)


def load_settings(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update({"DJANGO_ENV_FILE": "/nonexistent/.env", **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_of(module: str = "maslikhat.settings.base", **env: str) -> dict:
    result = load_settings(module, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_default_is_a_sqlite_file_with_wal_and_immediate_transactions() -> None:
    conf = settings_of()
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"].endswith("db.sqlite3")
    assert conf["options"]["transaction_mode"] == "IMMEDIATE"
    assert conf["options"]["timeout"] >= 5
    assert "journal_mode=WAL" in conf["options"]["init_command"]


def test_default_broker_is_embedded_and_needs_no_server() -> None:
    conf = settings_of()
    assert conf["broker"] == "filesystem://"
    # Messages are renamed into the queue whole (tests/core/test_broker.py).
    assert conf["broker_transport"] == "maslikhat.core.broker:Transport"
    assert conf["cache"].endswith("LocMemCache")
    assert conf["acks_late"] is True


def test_postgres_url_selects_postgresql_with_persistent_connections() -> None:
    conf = settings_of(DATABASE_URL="postgres://portal:secret@db.example:5433/maslikhat")
    assert conf["engine"] == "django.db.backends.postgresql"
    assert conf["name"] == "maslikhat"
    assert conf["host"] == "db.example"
    assert conf["conn_max_age"] == 60
    assert "transaction_mode" not in conf["options"]


def test_redis_url_is_the_broker_and_the_cache() -> None:
    conf = settings_of(REDIS_URL="redis://127.0.0.1:6379/3")
    assert conf["broker"] == "redis://127.0.0.1:6379/3"
    assert conf["broker_transport"] is None  # the URL's own: kombu's Redis transport
    assert conf["cache"].endswith("RedisCache")


def test_language_and_time_zone_are_the_councils() -> None:
    conf = settings_of()
    assert conf["time_zone"] == "Asia/Almaty"
    assert conf["language"] == "ru"
    assert conf["languages"] == ["ru", "kk", "en"]


def test_allowed_hosts_and_debug_come_from_the_environment() -> None:
    conf = settings_of(DJANGO_ALLOWED_HOSTS="portal.maslikhat.kz,10.0.0.5", DJANGO_DEBUG="false")
    assert conf["hosts"] == ["portal.maslikhat.kz", "10.0.0.5"]
    assert conf["debug"] is False


@pytest.mark.parametrize(
    "secret", [None, "", "django-insecure-dev-only-never-use-in-production-maslikhat", "short"]
)
def test_production_refuses_to_start_without_a_real_secret_key(secret: str | None) -> None:
    env = {} if secret is None else {"DJANGO_SECRET_KEY": secret}
    result = load_settings("maslikhat.settings.production", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_with_a_real_key_redirects_to_https_unless_told_not_to() -> None:
    key = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"
    conf = settings_of("maslikhat.settings.production", DJANGO_SECRET_KEY=key)
    assert conf["debug"] is False
    assert conf["ssl_redirect"] is True
    plain = settings_of(
        "maslikhat.settings.production", DJANGO_SECRET_KEY=key, DJANGO_SECURE_SSL_REDIRECT="false"
    )
    assert plain["ssl_redirect"] is False


def test_email_url_selects_smtp() -> None:
    conf = settings_of(EMAIL_URL="smtp://mailer:pw@mail.example:587/?tls=True")
    assert conf["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_settings_pass_the_deploy_checks() -> None:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(
        {
            "DJANGO_ENV_FILE": "/nonexistent/.env",
            "DJANGO_SETTINGS_MODULE": "maslikhat.settings.production",
            "DJANGO_SECRET_KEY": "p" * 10 + "Zq8vR2xL0mN4bT6yH1jK3cF5gD7sA9wE2uI4oP6lQ8rM0nB",
            "DJANGO_ALLOWED_HOSTS": "portal.maslikhat.kz",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
