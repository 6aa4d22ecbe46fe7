"""WSGI entry point for gunicorn: ``gunicorn maslikhat.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maslikhat.settings.base")

application = get_wsgi_application()
