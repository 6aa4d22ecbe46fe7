# The portal's production image: gunicorn, the Celery worker and beat all run from it
# (docker-compose.yml picks the command). Settings come from the environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=maslikhat.settings.production \
    MASLIKHAT_VAR_DIR=/var/lib/maslikhat \
    DJANGO_MEDIA_ROOT=/var/lib/maslikhat/media \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app

# pg_dump and pg_restore for `manage.py backup` and `restore`: Debian bookworm's client is
# PostgreSQL 15, the same major version as the compose stack's database server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# The project itself is not a package (`[tool.setuptools] packages = []`), so only its
# [project] dependencies are installed; the source is copied below.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# A non-root user. Its home must be writable: gunicorn keeps its control socket there.
# /var/lib/maslikhat holds the uploads (a volume) and beat's schedule (a volume).
RUN groupadd --system --gid 10001 maslikhat \
    && useradd --system --uid 10001 --gid maslikhat --create-home --home-dir /home/maslikhat \
        --shell /usr/sbin/nologin maslikhat \
    && mkdir -p /var/lib/maslikhat/media \
    && chown -R maslikhat:maslikhat /var/lib/maslikhat

COPY . .

# Static files are collected into the image (served by WhiteNoise) under the production
# settings, which refuse to load with the development key. This throwaway key is a build
# ARG, not an ENV: it exists only while this RUN step runs and never reaches a container,
# so a container started without DJANGO_SECRET_KEY still refuses to start.
ARG DJANGO_SECRET_KEY=build-only-key-for-collectstatic-not-used-at-runtime-7f3c9a1e5b2d8c4f6a0e
RUN python manage.py collectstatic --noinput

USER maslikhat

EXPOSE 8000

# docker-compose.yml overrides this for `web` (migrate first), `worker` and `beat`.
CMD ["gunicorn", "maslikhat.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
