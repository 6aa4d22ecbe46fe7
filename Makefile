# The portal's two commands: `make run` and `make test` (see README.md).
# They need only Python 3.11+ on a Debian/Ubuntu machine: everything else is
# installed into .venv on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Where `make run` and `make dev` listen; e-mail links name this address too
# (manage.py run_portal sets PORTAL_BASE_URL from them unless it is set).
PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST

.PHONY: run dev test lint typecheck migrations-check pytest install messages clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	@echo "Creating .venv…"
	@$(PYTHON) -m venv $(VENV) || { echo "Cannot create .venv: install python3-venv (sudo apt-get install python3-venv)"; exit 1; }

# Two markers: `make run` installs only what the portal needs to run; `make test`
# adds the test tools (so a `make test` after a `make run` still installs them).
$(VENV)/.installed-run: pyproject.toml | $(PY)
	@echo "Installing the portal's packages into .venv (the first time takes about a minute)…"
	@$(PY) -m pip install --quiet --disable-pip-version-check "."
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	@echo "Installing the portal's packages and the test tools into .venv…"
	@$(PY) -m pip install --quiet --disable-pip-version-check ".[dev,bench]"
	@touch $@ $(VENV)/.installed-run $(VENV)/.installed-bench

# `make bench` and `make bench-profile`: the portal's packages and the benchmark's client.
$(VENV)/.installed-bench: pyproject.toml | $(PY)
	@echo "Installing the portal's packages and the benchmark's client into .venv…"
	@$(PY) -m pip install --quiet --disable-pip-version-check ".[bench]"
	@touch $@ $(VENV)/.installed-run

# What the portal needs to run (kept as a name other targets may depend on).
$(VENV)/.installed: $(VENV)/.installed-run
	@touch $@

install: $(VENV)/.installed-run

# The portal as in production: gunicorn with DEBUG off, WhiteNoise for static files,
# a Celery worker with beat. The first start migrates and loads the demo year.
run: $(VENV)/.installed-run
	@$(PY) manage.py run_portal --prepare --host $(HOST) --port $(PORT)

# For developing the portal: Django's auto-reloading server with DEBUG on.
dev: $(VENV)/.installed-run
	@DJANGO_DEBUG=true $(PY) manage.py run_portal --prepare --dev --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy .

migrations-check: $(VENV)/.installed-dev
	DJANGO_SETTINGS_MODULE=maslikhat.settings.test $(PY) manage.py makemigrations --check --dry-run

pytest: $(VENV)/.installed-dev
	URL_COVERAGE=1 $(PY) -m pytest -n $${PYTEST_WORKERS:-auto} --dist load

test: lint typecheck migrations-check pytest

# Regenerate the ru/kk/en catalogs after changing user-facing strings.
messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages --locale ru --locale kk --locale en --ignore ".venv/*" --ignore "var/*" --no-obsolete
	$(PY) manage.py makemessages --domain djangojs --locale ru --locale kk --locale en --ignore ".venv/*" --ignore "var/*" --ignore "static/vendor/*" --no-obsolete
	$(PY) manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache

# Backups: the database and the uploaded files in one archive under var/backups/
# (OUTPUT=… writes it elsewhere); `make restore FILE=…` puts one back (FORCE=1 replaces
# a database that already has data). See docs/operations.md.
.PHONY: backup restore
backup: $(VENV)/.installed
	$(PY) manage.py backup $(if $(OUTPUT),--output "$(OUTPUT)")

restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=var/backups/<archive>.tar.gz [FORCE=1]"; exit 2; }
	$(PY) manage.py restore "$(FILE)" $(if $(FORCE),--force)

# Benchmarks on PostgreSQL (bench/run.py, README "Benchmarks"): the demo year and
# BENCH_SCALE × 500 requests (default 2000: a million), each database built once and reused.
.PHONY: bench
BENCH_SCALE ?= 2000
bench: $(VENV)/.installed-bench
	@$(PY) bench/run.py --check || { echo "make bench cannot start (see above)."; exit 2; }
	$(PY) bench/run.py --scale $(BENCH_SCALE)

# Where a row's time goes (SQL or Python, the slowest queries, cProfile), in-process on a
# bench database already built: the rows that missed a target in var/bench/latest.json, or
# ROWS="Deputy dashboard;Requests, staff"; SIZE=large, EXPLAIN=1, CALLS=20 (bench/profile.py).
.PHONY: bench-profile
bench-profile: $(VENV)/.installed-bench
	$(PY) bench/profile.py --size $(or $(SIZE),small) --calls $(or $(CALLS),10) $(if $(EXPLAIN),--explain) $(if $(ROWS),"$(ROWS)")
