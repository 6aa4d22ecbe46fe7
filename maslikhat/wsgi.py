"""WSGI entry point for gunicorn: ``gunicorn maslikhat.wsgi:application``.

Once the application is loaded, the worker's garbage collector is set for serving pages
(``maslikhat.core.gc_tuning``).
"""

import os

from django.core.wsgi import get_wsgi_application

from maslikhat.core.gc_tuning import tune_web_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maslikhat.settings.base")

application = get_wsgi_application()
tune_web_process()
