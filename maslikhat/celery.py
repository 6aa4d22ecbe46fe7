"""The Celery application: settings under ``CELERY_*`` in Django settings.

Workers, beat and the web process share this one app. Tasks are thin: they load
ids and call a service; the retry and ``acks_late`` policy lives here and on the
task decorators, never business rules.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maslikhat.settings.base")

app = Celery("maslikhat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
