"""The README's table of environment variables says what the settings really do.

Every variable in ``.env.example`` is in the README's table, and every variable the settings
read is in both. For each variable whose default the table states, the settings loaded with
the variable unset are the settings loaded with it set to that documented value — and set to
another value they differ, so a misspelt name cannot pass unnoticed. The defaults quoted in
``.env.example`` agree with the table, and so do the defaults of compose, the image, the
Makefile and ``manage.py``.

All settings are loaded in one fresh interpreter, with an environment cleared of every
documented variable (``DJANGO_ENV_FILE`` points nowhere, so a local ``.env`` never leaks in).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = "maslikhat.settings.base"
PRODUCTION = "maslikhat.settings.production"
REAL_KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz-README-probe"
PROBE_DIR = "/tmp/maslikhat-readme-probe"

#: Variables set for the probe in every load: no .env file; a key production accepts.
FIXED_ENV = {
    BASE: {"DJANGO_ENV_FILE": "/nonexistent/.env"},
    PRODUCTION: {"DJANGO_ENV_FILE": "/nonexistent/.env", "DJANGO_SECRET_KEY": REAL_KEY},
}

#: Another value for the "is it read at all" half, where the generic one would not parse.
OTHER_VALUE = {
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://probe.example",
    "EMAIL_URL": "consolemail://",
    "DJANGO_SECURE_COOKIES": "false",
    "MASLIKHAT_VAR_DIR": PROBE_DIR,
    "FILE_STORAGE": "s3",
    "BOILERPLATE_SIMILARITY_THRESHOLD": "0.7",
}
#: Extra environment a variable only matters under (the table says "ignored on SQLite").
CONTEXT_ENV = {
    "DATABASE_CONN_MAX_AGE": {"DATABASE_URL": "postgres://probe@127.0.0.1:5432/p"},
    # FILE_STORAGE=s3 needs a bucket.
    "FILE_STORAGE": {"S3_BUCKET": "probe-bucket"},
}
#: Defaults the table describes in words; each is checked by its own test below.
DESCRIBED = {"DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ENV_FILE", "DJANGO_SETTINGS_MODULE"}

# The probe: load each case's settings module in this one interpreter, snapshot every
# upper-case setting as text.
PROBE = r"""
import importlib, json, os, sys
from django.utils.functional import Promise
def plain(value):
    # Translated labels stay lazy: the apps are not loaded, show their source text.
    if isinstance(value, Promise):
        return "lazy:" + repr(value._args)
    if isinstance(value, dict):
        return {repr(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return repr(value)
cases = json.loads(sys.stdin.read())
pristine = dict(os.environ)
out = []
for module, env in cases:
    os.environ.clear()
    os.environ.update(pristine)
    os.environ.update(env)
    for name in [m for m in sys.modules if m.startswith("maslikhat.settings")]:
        del sys.modules[name]
    settings = importlib.import_module(module)
    out.append({k: json.dumps(plain(getattr(settings, k))) for k in dir(settings) if k.isupper()})
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Row:
    name: str
    default: str  # the table's "default" cell, as written
    meaning: str

    @property
    def literals(self) -> list[str]:
        return re.findall(r"`([^`]*)`", self.default)

    @property
    def stated_default(self) -> str | None:
        """The documented value: the cell's first quoted value, or "" for "empty"; in
        "`x` under `make run`, else `y`" the settings' own default is the one after "else"."""
        if self.default.startswith("empty"):
            return ""
        otherwise = re.search(r"\belse `([^`]*)`", self.default)
        if otherwise:
            return otherwise.group(1)
        literals = self.literals
        return literals[0] if literals and self.default.startswith("`") else None

    @property
    def outside_settings(self) -> bool:
        """A variable of compose or the Makefile only ("compose only: …", "`make run` only: …")."""
        return bool(re.match(r"^(compose|`make \w+`)[^:]* only:", self.meaning))

    @property
    def modules(self) -> list[str]:
        """Which settings the row speaks of: production's own knobs, or both (none: compose
        or ``make run`` only). Production inherits base, so a base default holds there too."""
        if self.outside_settings:
            return []
        if self.meaning.startswith("production settings"):
            return [PRODUCTION]
        return [BASE, PRODUCTION]


def readme_rows() -> dict[str, Row]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| (.*?) \| (.*) \|$", section, re.M)
    return {name: Row(name, default.strip(), meaning.strip()) for name, default, meaning in rows}


def env_example() -> dict[str, str]:
    """Each variable of ``.env.example`` with the comment block just above it."""
    blocks: dict[str, str] = {}
    comment: list[str] = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=", line)
        if match:
            blocks[match.group(1)] = " ".join(comment)
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
        else:
            comment = []
    return blocks


def variables_read_by_settings() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "maslikhat" / "settings").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(
            re.findall(
                r"\.(?:str|int|bool|list|float|db_url|email_url)\(\s*\"([A-Z][A-Z0-9_]+)\"", source
            )
        )
    return names


def resolved(value: str) -> str:
    """A documented path as the settings see it: ``$MASLIKHAT_VAR_DIR`` and the project."""
    value = value.replace("$MASLIKHAT_VAR_DIR", str(ROOT / "var"))
    if "/" in value and "://" not in value and not value.startswith(("/", "<")):
        return str(ROOT / value)
    return value


def other_value(name: str, default: str) -> str:
    if name in OTHER_VALUE:
        return OTHER_VALUE[name]
    default = resolved(default)
    if default in ("true", "false"):
        return "false" if default == "true" else "true"
    if default.isdigit():
        return str(int(default) + 1)
    return f"{default}-probe" if default else "probe"


@dataclass(frozen=True)
class Case:
    name: str
    module: str
    default: str


def cases() -> list[Case]:
    found = []
    for row in readme_rows().values():
        if row.name in DESCRIBED or row.stated_default is None:
            continue
        found += [Case(row.name, module, row.stated_default) for module in row.modules]
    return found


def cleared_env() -> dict[str, str]:
    documented = set(readme_rows()) | set(env_example()) | variables_read_by_settings()
    return {k: v for k, v in os.environ.items() if k not in documented}


@cache
def snapshots() -> dict[tuple[str, str, str], dict[str, str]]:
    """Settings for every case: (module, variable, "unset" | "documented" | "other")."""
    keys: list[tuple[str, str, str]] = []
    loads: list[tuple[str, dict[str, str]]] = []
    for module in (BASE, PRODUCTION):
        keys += [(module, "", "baseline"), (module, "", "again")]
        loads += [(module, FIXED_ENV[module]), (module, FIXED_ENV[module])]
    for case in cases():
        context = {**FIXED_ENV[case.module], **CONTEXT_ENV.get(case.name, {})}
        for variant, env in (
            ("unset", context),
            ("documented", {**context, case.name: resolved(case.default)}),
            ("other", {**context, case.name: other_value(case.name, case.default)}),
        ):
            keys.append((case.module, case.name, variant))
            loads.append((case.module, env))
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(loads),
        cwd=ROOT,
        env={**cleared_env(), "DJANGO_SETTINGS_MODULE": BASE},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return dict(zip(keys, json.loads(result.stdout.strip().splitlines()[-1]), strict=True))


def differing(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


def shown(snapshot: dict[str, str], setting: str) -> Any:
    """A setting of a snapshot as its ``repr`` (containers: lists of reprs)."""
    return json.loads(snapshot[setting])


def test_the_readme_table_and_env_example_list_the_same_variables() -> None:
    table, example = set(readme_rows()), set(env_example())
    assert len(table) >= 25, "the README's configuration table was not found"
    assert example - table == set(), "in .env.example but not in the README's table"
    # The README adds only what is not configured through .env: make's, manage.py's.
    assert table - example <= {"DJANGO_SETTINGS_MODULE", "PORT", "HOST"}


def test_every_variable_the_settings_read_is_documented_in_both() -> None:
    read = variables_read_by_settings()
    assert len(read) >= 20
    assert read - set(readme_rows()) == set(), "read by the settings, missing in the README"
    assert read - set(env_example()) == set(), "read by the settings, missing in .env.example"


def test_loading_the_same_settings_twice_gives_the_same_snapshot() -> None:
    # The comparison below would mean nothing if a setting changed from load to load.
    for module in (BASE, PRODUCTION):
        shots = snapshots()
        assert differing(shots[(module, "", "baseline")], shots[(module, "", "again")]) == set()


@pytest.mark.parametrize("case", cases(), ids=lambda c: f"{c.name}@{c.module.rsplit('.', 1)[1]}")
def test_the_documented_default_is_what_the_settings_do(case: Case) -> None:
    shots = snapshots()
    unset = shots[(case.module, case.name, "unset")]
    documented = shots[(case.module, case.name, "documented")]
    other = shots[(case.module, case.name, "other")]
    assert differing(unset, documented) == set(), (
        f"{case.name}: unset is not the same as the README's default {case.default!r}"
    )
    assert differing(unset, other), f"{case.name}: the settings do not read this variable"


def test_production_does_not_ask_browsers_to_preload_hsts_unless_told() -> None:
    shots = snapshots()
    production = shots[(PRODUCTION, "", "baseline")]
    assert readme_rows()["DJANGO_SECURE_HSTS_PRELOAD"].stated_default == "false"
    assert shown(production, "SECURE_HSTS_PRELOAD") == "False"
    assert shown(production, "SECURE_HSTS_SECONDS") == "31536000"
    told = shots[(PRODUCTION, "DJANGO_SECURE_HSTS_PRELOAD", "other")]
    assert shown(told, "SECURE_HSTS_PRELOAD") == "True"
    # The deploy check's preload warning is silenced only while preload is off.
    assert shown(production, "SILENCED_SYSTEM_CHECKS") == [repr("security.W021")]
    assert shown(told, "SILENCED_SYSTEM_CHECKS") == []


def test_env_example_quotes_the_same_defaults_as_the_readme() -> None:
    rows, checked = readme_rows(), 0
    for name, comment in env_example().items():
        match = re.search(r"Default:\s*(\S+)", comment)
        if not match:
            continue
        quoted = match.group(1).rstrip(".,;")
        stated = rows[name].stated_default
        first_word = (stated.split() or ["empty"])[0] if stated is not None else None
        assert quoted == first_word, f"{name}: .env.example says {quoted!r}, README {stated!r}"
        checked += 1
    assert checked >= 20


def test_the_image_compose_make_and_manage_defaults_are_the_readmes() -> None:
    rows = readme_rows()
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for row in rows.values():
        for literal in re.findall(r"`([^`]*)` in the image", row.default):
            assert f"{row.name}={literal}" in dockerfile, row.name
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for row in rows.values():
        if row.meaning.startswith("compose only"):
            if row.default.startswith("none (required"):
                assert f"${{{row.name}:?" in compose, row.name
            else:
                assert f"${{{row.name}:-{row.stated_default}}}" in compose, row.name
        if row.outside_settings and row.meaning.startswith("`make"):
            assert re.search(
                rf"^{row.name} \?= {re.escape(str(row.stated_default))}$", makefile, re.M
            )
    manage = (ROOT / "manage.py").read_text(encoding="utf-8")
    settings_module = rows["DJANGO_SETTINGS_MODULE"].literals
    assert f'setdefault("DJANGO_SETTINGS_MODULE", "{settings_module[0]}")' in manage
    assert f"DJANGO_SETTINGS_MODULE={settings_module[1]}" in dockerfile


def test_the_described_defaults_are_what_the_settings_do() -> None:
    base = snapshots()[(BASE, "", "baseline")]
    # DJANGO_SECRET_KEY: "a development key (refused by the production settings)".
    # A key of the "django-insecure" kind, which the production settings refuse.
    assert shown(base, "SECRET_KEY").startswith("'django-insecure")
    # DATABASE_URL: "SQLite at $MASLIKHAT_VAR_DIR/db.sqlite3".
    database = shown(base, "DATABASES")[repr("default")]
    assert database[repr("ENGINE")] == repr("django.db.backends.sqlite3")
    name = ROOT / "var" / "db.sqlite3"
    assert database[repr("NAME")] in (repr(name), repr(str(name)))
    # DJANGO_ENV_FILE: ".env in the project".
    assert "`.env` in the project" in readme_rows()["DJANGO_ENV_FILE"].default
    source = (ROOT / "maslikhat" / "settings" / "base.py").read_text(encoding="utf-8")
    assert 'env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env"))' in source
