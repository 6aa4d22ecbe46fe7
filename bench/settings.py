"""Settings of the benchmark's gunicorn: production's, plus the floor view's URLconf.

Used only by ``bench/run.py`` (never by the portal): the production settings (``DEBUG``
off, WhiteNoise with the collected static files, persistent database connections), spoken
over plain HTTP on 127.0.0.1 (the run sets ``DJANGO_SECURE_SSL_REDIRECT`` and
``DJANGO_SECURE_COOKIES`` to false), and ``bench.urls`` instead of the portal's URL map:
the portal's addresses plus the plain ``ModelSerializer`` list the figures are compared
with.
"""

from maslikhat.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
