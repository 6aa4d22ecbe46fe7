"""Production: everything from ``base``, plus the security knobs.

Refuses to start without a real secret key: a portal holding deputies' and
departments' correspondence must never run on the development key.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import INSECURE_DEV_SECRET_KEY, SECRET_KEY, STORAGES, env


def require_real_secret_key(key: str) -> str:
    """Return ``key`` when it is fit for production, raise otherwise."""
    if not key or key == INSECURE_DEV_SECRET_KEY or key.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a real secret in production "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    if len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is too short or too simple (50+ characters).")
    return key


SECRET_KEY = require_real_secret_key(SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)

STORAGES = {
    # The files' storage of base: the local folder, or the object store (FILE_STORAGE=s3).
    "default": STORAGES["default"],
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# HTTPS. DJANGO_SECURE_SSL_REDIRECT=false lets a loopback benchmark speak plain HTTP.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Off unless asked for: preloading is a promise to browsers' built-in lists that is slow
# to take back, made only once the council's domain and all its subdomains serve HTTPS
# and the domain has been submitted to the preload list.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Django's deploy check warns while preload is off (security.W021): off is the decision
# above, not an oversight, so the warning is silenced only while it is off.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
