# The portal's two commands: `make run` and `make test` (see README.md).
# They need only Python 3.11+ on a Debian/Ubuntu machine: everything else is
# installed into .venv on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test lint typecheck migrations-check pytest install messages clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Cannot create .venv: install python3-venv (sudo apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check ".[dev]"
	@touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py run_portal --port $(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy .

migrations-check: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=maslikhat.settings.test $(PY) manage.py makemigrations --check --dry-run

pytest: $(VENV)/.installed
	URL_COVERAGE=1 $(PY) -m pytest -n $${PYTEST_WORKERS:-auto} --dist loadfile

test: lint typecheck migrations-check pytest

# Regenerate the ru/kk/en catalogs after changing user-facing strings.
messages: $(VENV)/.installed
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
