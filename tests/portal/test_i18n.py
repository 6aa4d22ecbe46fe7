"""The Russian, Kazakh and English catalogs are complete and compiled.

Catalogs live in ``locale/`` and in the apps that keep their own (``kpi/locale``,
``reports/locale``); ``make messages`` writes each string into the catalog of
the app it comes from. Every catalog is checked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("ru", "kk", "en")
SKIP_DIRS = {".venv", "var", ".git", "node_modules", "static"}


def locale_dirs(root: Path = ROOT) -> list[Path]:
    """``locale/`` and every app's own ``locale/`` folder, relative to ``root``."""
    found = [Path("locale")]
    for path in sorted(root.glob("**/locale")):
        relative = path.relative_to(root)
        if relative == Path("locale") or SKIP_DIRS & set(relative.parts):
            continue
        if (path / "ru" / "LC_MESSAGES").is_dir():
            found.append(relative)
    return found


CATALOGS = [(folder, language) for folder in locale_dirs() for language in LANGUAGES]
IDS = [f"{folder}-{language}" for folder, language in CATALOGS]


def catalog(folder: Path, language: str, root: Path = ROOT) -> polib.POFile:
    path = root / folder / language / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{path} is missing: run `make messages`"
    return polib.pofile(str(path))


@pytest.mark.parametrize(("folder", "language"), CATALOGS, ids=IDS)
def test_every_message_is_translated(folder: Path, language: str) -> None:
    po = catalog(folder, language)
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"{folder}/{language}: untranslated {untranslated[:10]}"
    assert not fuzzy, f"{folder}/{language}: fuzzy {fuzzy[:10]}"
    assert len(po) > 10


@pytest.mark.parametrize(("folder", "language"), CATALOGS, ids=IDS)
def test_the_compiled_catalog_matches_the_source(folder: Path, language: str) -> None:
    po = catalog(folder, language)
    mo_path = ROOT / folder / language / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), "run `make messages` to compile the catalogs"
    mo = polib.mofile(str(mo_path))
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo
    }
    source = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in po.translated_entries()
    }
    assert compiled == source, f"{folder}/{language}: the .mo file is stale: run `make messages`"


@pytest.mark.parametrize(
    ("folder", "language"),
    [(folder, language) for folder, language in CATALOGS if language != "en"],
)
def test_russian_and_kazakh_plurals_have_every_form(folder: Path, language: str) -> None:
    for entry in catalog(folder, language):
        if entry.msgid_plural:
            assert all(entry.msgstr_plural.values()), entry.msgid


def test_every_string_in_the_code_is_in_the_catalogs(tmp_path: Path) -> None:
    """Extract the messages afresh from a copy of the source and compare with the catalogs."""
    if not shutil.which("xgettext"):
        skip_or_fail("xgettext (Debian package gettext) is not installed")
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".venv", "var", ".git", "node_modules", "*.pyc", "__pycache__", "*.mo", "*.po"
    )
    shutil.copytree(ROOT, copy, ignore=ignore)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "ru",
            "--ignore",
            "static/vendor/*",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "DJANGO_SETTINGS_MODULE": "maslikhat.settings.test",
            "PATH": "/usr/bin:/bin",
            "DJANGO_ENV_FILE": "/nonexistent",
            "MASLIKHAT_VAR_DIR": str(tmp_path / "var"),
        },
    )
    assert result.returncode == 0, result.stderr
    for folder in locale_dirs():
        fresh = polib.pofile(str(copy / folder / "ru" / "LC_MESSAGES" / "django.po"))
        expected = {(e.msgctxt, e.msgid) for e in fresh}
        for language in LANGUAGES:
            present = {(e.msgctxt, e.msgid) for e in catalog(folder, language) if not e.obsolete}
            missing = sorted(str(m) for m in expected - present)
            assert not missing, (
                f"{folder}/{language}: not in the catalog (run `make messages`): {missing[:10]}"
            )
