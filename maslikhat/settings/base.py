"""Settings for every deployment, read from the environment (django-environ).

The defaults give the *embedded* set-up of ``make run``: a SQLite file, a Celery
broker on the filesystem that needs no server, e-mail written to files. Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL and Redis without any
other change. ``production.py`` only tightens the security knobs.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("MASLIKHAT_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# A local `.env` (copied from `.env.example`) is read when present; the real
# environment always wins over it.
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

INSECURE_DEV_SECRET_KEY = "django-insecure-dev-only-never-use-in-production-maslikhat"


def local_secret_key(path: Path) -> str:
    """The secret key of this machine's own portal (``make run``): made once, kept in ``var/``.

    It starts with "django-insecure" so the production settings refuse it. Several
    processes may start at once (web workers, the Celery worker): the first to link
    its file into place wins and every process reads that one. Where ``var/`` cannot
    be written, the development key stands in.
    """
    try:
        return path.read_text(encoding="ascii").strip() or INSECURE_DEV_SECRET_KEY
    except FileNotFoundError:
        pass
    except OSError:
        return INSECURE_DEV_SECRET_KEY
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text("django-insecure-local-" + secrets.token_urlsafe(48), encoding="ascii")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        return path.read_text(encoding="ascii").strip() or INSECURE_DEV_SECRET_KEY
    except OSError:
        return INSECURE_DEV_SECRET_KEY


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret_key(VAR_DIR / "secret_key")
# Off unless asked for: `make run` serves like production (a user's 404 is the portal's
# own page); `make dev` turns it on together with the auto-reloading development server.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "maslikhat.core",
    "maslikhat.accounts",
    "maslikhat.directory",
    "requests_app",
    "instructions",
    "kpi",
    "reports",
    "imports",
    "commitments",
    "follows",
    # Last: the demo builds on every app above and none of them imports it.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files stay cacheable), before sessions (sees their cookie).
    "maslikhat.core.middleware.PrivateResponsesNotStoredMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes last: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "maslikhat.urls"
WSGI_APPLICATION = "maslikhat.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reports.navigation.navigation",
            ],
        },
    },
]

# Django's form renderer, with the select lists written without a template per option.
FORM_RENDERER = "maslikhat.core.renderers.PortalFormRenderer"

# --- Database -------------------------------------------------------------------------

DEFAULT_SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DEFAULT_SQLITE_PATH}")}


def tune_database(db: dict[str, Any]) -> dict[str, Any]:
    """Add the engine-specific options every deployment needs.

    SQLite: write-ahead log so readers never block the writer, IMMEDIATE
    transactions so two writers queue on the busy timeout instead of failing with
    "database is locked" at commit time. PostgreSQL: persistent connections.
    """
    engine = db.get("ENGINE", "")
    options = db.setdefault("OPTIONS", {})
    if engine.endswith("sqlite3"):
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault(
            "init_command",
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )
    elif engine.endswith("postgresql"):
        db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        db.setdefault("CONN_HEALTH_CHECKS", True)
        options.setdefault("connect_timeout", 5)
    return db


DATABASES["default"] = tune_database(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
# How long Redis waits for a task's acknowledgement before handing the task to another
# worker. Tasks acknowledge when they finish (acks_late), and a task that waits for its
# retry countdown is unacknowledged too, so this must outlast, with a margin, both the
# longest run of a task (the export's hard time limit, 1,900 s, reports/tasks.py) and the
# longest retry countdown (e-mail retries back off up to 3,600 s, maslikhat/core/tasks.py):
# any shorter and such a task runs twice, or once per timeout while it waits. So this is
# not what brings back the work of a worker that died: export jobs hold a lease that the
# export sweep checks every minute (reports/services.py, docs/architecture.md "Export
# jobs"), and the reminder sweep and the e-mail catch-up derive their work from the
# database. Lower it only together with those two numbers.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3900)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        # Redis re-delivers an unacknowledged task after this long (see below).
        "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        # One connection attempt when publishing: without it kombu keeps retrying a
        # refused connection for CELERY_BROKER_CONNECTION_TIMEOUT (2 s) on every
        # publish, and a user's action with the broker down would take over 2 s.
        # (The worker's own reconnection loop uses broker_connection_max_retries.)
        "max_retries": 0,
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "maslikhat",
        }
    }
    # The embedded broker: kombu's filesystem transport, messages are files in var/,
    # each written aside and renamed into the queue whole (maslikhat/core/broker.py).
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT: str | None = "maslikhat.core.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }

CELERY_TIMEZONE = "Asia/Almaty"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must never hang a user's request: one quick try, then the caller decides.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Exactly one beat runs; should a second one be started by mistake, this scheduler sends each
# slot of the schedule once (a Redis SET NX EX lock per entry and slot: maslikhat/core/beat.py).
CELERY_BEAT_SCHEDULER = "maslikhat.core.beat:SlotLockScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Periodic tasks (time zone Asia/Almaty); features add their entries here.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "requests-auto-close": {
        "task": "requests.auto_close_unevaluated",
        "schedule": crontab(hour=8, minute=30),
    },
    # Reminders and escalation (docs/kpi.md); the task itself skips non-working days.
    "requests-reminders-sweep": {
        "task": "requests.reminders_sweep",
        "schedule": crontab(hour=9, minute=0),
    },
    # The KPI snapshots as of yesterday (kpi/tasks.py; `manage.py compute_kpi` is the twin).
    "kpi-compute-nightly": {
        "task": "kpi.compute_nightly",
        "schedule": crontab(hour=2, minute=0),
    },
    # Export jobs whose worker died (lease expired) go back to the queue, or fail after
    # EXPORT_JOB_MAX_ATTEMPTS (reports/tasks.py; `manage.py sweep_export_jobs` is the twin).
    "reports-export-jobs-sweep": {
        "task": "reports.export_jobs_sweep",
        "schedule": 60.0,
    },
    # The daily request counts as of today, rebuilt whole (reports/daily_counts.py;
    # `manage.py build_daily_counts` is the twin).
    "reports-daily-counts-build": {
        "task": "reports.daily_counts_build",
        "schedule": crontab(hour=1, minute=30),
    },
    # Yesterday's public changes to followers, one digest per address and day
    # (follows/tasks.py; `manage.py send_follow_digests` is the twin).
    "follows-send-digests": {
        "task": "follows.send_digests",
        "schedule": crontab(hour=7, minute=0),
    },
}
# A worker building an export holds a lease on the job for this long and renews it with
# every progress report (every 2,000 rows, well under a second each); a job whose lease
# ran out is restarted by the sweep above. A dead worker's export restarts within about
# lease + one minute. Keep it longer than the slowest gap between two renewals (the first
# rows of a huge, sorted query; Excel's final compression of a million rows).
EXPORT_JOB_LEASE_SECONDS = env.int("EXPORT_JOB_LEASE_SECONDS", default=120)
# Claims of one export job (the first run and restarts) before it is failed with a message.
EXPORT_JOB_MAX_ATTEMPTS = env.int("EXPORT_JOB_MAX_ATTEMPTS", default=3)

# --- KPI ---------------------------------------------------------------------------------

# The perception survey shows a group's means only once its round is closed and only when
# the group has at least this many answers (fewer: hidden to protect anonymity).
KPI_SURVEY_MIN_GROUP_ANSWERS = env.int("KPI_SURVEY_MIN_GROUP_ANSWERS", default=5)
# Whether requests and instructions imported from past records (the `imports` app) count in
# the KPI. Off by default: a department is not rated on years before the portal. They count
# in the statistics, the search and the public portal either way.
KPI_COUNT_IMPORTED = env.bool("KPI_COUNT_IMPORTED", default=False)
# A draft answer at least this similar (0–1, word 3-shingles, Jaccard) to an answer its
# department sent earlier is a possible boilerplate answer: the head approves it only with
# a comment (requests_app/similarity.py).
BOILERPLATE_SIMILARITY_THRESHOLD = env.float("BOILERPLATE_SIMILARITY_THRESHOLD", default=0.6)

# --- Auth, sessions, login throttling ---------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "reports:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Idle timeout: the session lives this long after the last request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=2 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "maslikhat.accounts.views.locked_out"
# "Deputy1" and " deputy1 " are one account: one lockout counter (the canonical username).
AXES_USERNAME_CALLABLE = "maslikhat.accounts.lockout.lockout_username"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("kk", _("Kazakh")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Almaty"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["maslikhat.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files and uploads ------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded attachments live outside the web root and are only served by a view
# that checks who may see the item.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Where uploads and export files are stored: "local" (MEDIA_ROOT, the default) or "s3" (an
# S3-compatible object store: AWS S3, MinIO, …; django-storages). Either way files are private:
# downloads go through the views that check who may read them and stream the bytes from the
# storage (maslikhat/core/storage.py); no public or pre-signed bucket address is ever handed
# out. Several web nodes and workers need a store they all reach: s3, or one shared MEDIA_ROOT.
FILE_STORAGE = env.str("FILE_STORAGE", default="local")
AWS_STORAGE_BUCKET_NAME = env.str("S3_BUCKET", default="")
AWS_S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="") or None
AWS_S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="") or None
AWS_S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="") or None
AWS_S3_REGION_NAME = env.str("S3_REGION", default="us-east-1")
# A store at its own address (MinIO): bucket in the path, not in the host name.
AWS_S3_ADDRESSING_STYLE = "path" if AWS_S3_ENDPOINT_URL else None
# Objects are private (no ACL header: the bucket's own policy, private by default, applies);
# a URL of the storage would be signed, but the portal never gives one out.
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
# An export job's file is replaced whole by its worker's upload (names are never reused).
AWS_S3_FILE_OVERWRITE = True
# Reads through storage.open spill to a temporary file beyond this size, never all in memory.
AWS_S3_MAX_MEMORY_SIZE = 5 * 1024 * 1024
if FILE_STORAGE == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs S3_BUCKET (see .env.example).")
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    from botocore.config import Config as S3ClientConfig

    # Bounded waits: a store that does not answer fails a request (and /healthz/) quickly.
    AWS_S3_CLIENT_CONFIG = S3ClientConfig(
        s3={"addressing_style": AWS_S3_ADDRESSING_STYLE},
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
    )
elif FILE_STORAGE != "local":
    raise ImproperlyConfigured(f"FILE_STORAGE must be local or s3, not {FILE_STORAGE!r}.")
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

# --- E-mail -----------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
EMAIL_BACKEND = EMAIL_CONFIG.get(
    "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
if EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "localhost")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Маслихат г. Алматы <noreply@maslikhat.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# `make run` / `manage.py run_portal` set it from HOST and PORT when it is not set.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- REST API ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "maslikhat.core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # drf-spectacular plus the error answers every endpoint shares (400, 401, 403, 404, 409).
    "DEFAULT_SCHEMA_CLASS": "maslikhat.core.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "maslikhat.core.api.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Almaty maslikhat portal API",
    "DESCRIPTION": "Deputy requests, protocol instructions, the directory, KPI and reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" or "kind"; name each enum after its meaning.
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "requests_app.models.RequestStatus",
        "ResponseStatusEnum": "requests_app.models.ResponseStatus",
        "ResponseKindEnum": "requests_app.models.ResponseKind",
        "ExtensionStatusEnum": "maslikhat.core.extensions.ExtensionStatus",
        "OutcomeEnum": "requests_app.models.Outcome",
        "DepartmentKindEnum": "maslikhat.directory.models.DepartmentKind",
        "NotificationKindEnum": "maslikhat.core.notifications.NotificationKind",
        "ItemTypeEnum": "maslikhat.core.items.ItemType",
        "InstructionStatusEnum": "instructions.models.InstructionStatus",
        "MeetingKindEnum": "instructions.models.MeetingKind",
        "SessionKindEnum": "instructions.models.SessionKind",
        "ReportPeriodEnum": "instructions.models.ReportPeriod",
        "ReportStatusEnum": "instructions.models.ReportStatus",
    },
}

# --- Security headers (production.py turns the transport knobs on) ----------------------

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Demo -------------------------------------------------------------------------------

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="maslikhat-demo")
DIRECTORY_DATA_FILE = Path(
    env.str(
        "DIRECTORY_DATA_FILE",
        default=str(BASE_DIR / "maslikhat" / "directory" / "data" / "almaty.json"),
    )
)
