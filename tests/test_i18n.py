"""The Russian, Kazakh and English catalogs are complete and compiled."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ru", "kk", "en")
DOMAINS = ("django",)


def catalog(language: str, domain: str = "django") -> polib.POFile:
    path = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    assert path.exists(), f"{path} is missing: run `make messages`"
    return polib.pofile(str(path))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    po = catalog(language)
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"{language}: untranslated {untranslated[:10]}"
    assert not fuzzy, f"{language}: fuzzy {fuzzy[:10]}"
    assert len(po) > 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_the_source(language: str) -> None:
    po = catalog(language)
    mo_path = ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), "run `make messages` to compile the catalogs"
    mo = polib.mofile(str(mo_path))
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo
    }
    source = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in po.translated_entries()
    }
    assert compiled == source, "the .mo file is stale: run `make messages`"


@pytest.mark.parametrize("language", ("ru", "kk"))
def test_russian_and_kazakh_plurals_have_every_form(language: str) -> None:
    po = catalog(language)
    for entry in po:
        if entry.msgid_plural:
            assert all(entry.msgstr_plural.values()), entry.msgid


def test_every_string_in_the_code_is_in_the_catalogs(tmp_path: Path) -> None:
    """Extract the messages afresh from a copy of the source and compare with the catalogs."""
    if not shutil.which("xgettext"):
        skip_or_fail("xgettext (Debian package gettext) is not installed")
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".venv", "var", ".git", "node_modules", "*.pyc", "__pycache__", "*.mo"
    )
    shutil.copytree(ROOT, copy, ignore=ignore)
    shutil.rmtree(copy / "locale")
    (copy / "locale").mkdir()
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
        },
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    expected = {(e.msgctxt, e.msgid) for e in fresh}
    for language in LANGUAGES:
        present = {(e.msgctxt, e.msgid) for e in catalog(language) if not e.obsolete}
        missing = sorted(str(m) for m in expected - present)
        assert not missing, f"{language}: not in the catalog (run `make messages`): {missing[:10]}"
