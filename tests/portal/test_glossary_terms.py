"""The Kazakh and Russian catalogs say each glossary concept with one term.

``docs/glossary.md`` holds a table (between the ``glossary-terms`` markers) of
the concepts whose renderings used to drift: a KPI snapshot, a survey round, a
convocation, a co-executor, a reminder, a periodic report, executive discipline
and a withdrawn request. For each row, every msgid with a word starting with the
English term must be translated with one of the row's stems (word starts, so
Kazakh and Russian endings pass) and with none of the forbidden variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest

from tests.portal.test_i18n import catalog, locale_dirs

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.md"
START, END = "<!-- glossary-terms:start -->", "<!-- glossary-terms:end -->"
COLUMNS = ("en", "ru", "kk", "ru stems", "kk stems", "ru: do not use", "kk: do not use")


@dataclass(frozen=True)
class Term:
    en: str
    stems: dict[str, tuple[str, ...]]
    forbidden: dict[str, tuple[str, ...]]

    def english(self) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(self.en)}", re.IGNORECASE)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def listed(cell: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in cell.split(",") if word.strip())


def glossary_terms(text: str) -> list[Term]:
    """The rows of the glossary's checked table."""
    assert START in text and END in text, "the glossary lost its checked table"
    lines = text.split(START, 1)[1].split(END, 1)[0].strip().splitlines()
    header = tuple(cells(lines[0]))
    assert header == COLUMNS, header
    terms = []
    for line in lines[2:]:
        row = dict(zip(COLUMNS, cells(line), strict=True))
        terms.append(
            Term(
                en=row["en"],
                stems={lang: listed(row[f"{lang} stems"]) for lang in ("ru", "kk")},
                forbidden={lang: listed(row[f"{lang}: do not use"]) for lang in ("ru", "kk")},
            )
        )
    return terms


def variant_pattern(variant: str) -> re.Pattern[str]:
    """``сурет*`` forbids every word starting so; ``тур`` only the whole word."""
    if variant.endswith("*"):
        return re.compile(rf"(?<!\w){re.escape(variant[:-1])}", re.IGNORECASE)
    return re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)", re.IGNORECASE)


def has_stem(text: str, stems: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(stem)}", text, re.IGNORECASE) for stem in stems)


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [form for _, form in sorted(entry.msgstr_plural.items())]
    return [entry.msgstr]


TERMS = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
CATALOGS = [(folder, language) for folder in locale_dirs() for language in ("ru", "kk")]
IDS = [f"{folder}-{language}" for folder, language in CATALOGS]


def drift(po: polib.POFile, language: str, terms: list[Term]) -> list[str]:
    """Every translation that misses its concept's term or uses a forbidden variant."""
    problems = []
    for entry in po.translated_entries():
        english = f"{entry.msgid} {entry.msgid_plural or ''}"
        for term in terms:
            if not term.english().search(english):
                continue
            for text in translations(entry):
                if not has_stem(text, term.stems[language]):
                    problems.append(f"{term.en}: no {term.stems[language]} in «{text}»")
                for variant in term.forbidden[language]:
                    if variant_pattern(variant).search(text):
                        problems.append(f"{term.en}: «{variant}» in «{text}»")
    return problems


def test_the_glossary_lists_one_term_per_concept_with_its_forbidden_variants() -> None:
    by_english = {term.en for term in TERMS}
    assert {"snapshot", "round", "convocation", "co-executor", "reminder"} <= by_english
    assert len(by_english) == len(TERMS), "a concept is listed twice"
    for term in TERMS:
        assert term.stems["kk"] and term.stems["ru"], term.en
        # A forbidden variant must never be one of the concept's own stems.
        for language in ("ru", "kk"):
            for stem in term.stems[language]:
                assert not any(variant_pattern(v).match(stem) for v in term.forbidden[language])


def test_the_glossary_term_tables_use_the_checked_kazakh_terms() -> None:
    """The kk column of the glossary's term tables agrees with the checked table.

    Forbidden variants are not checked here: «қайтарылды» is wrong for a withdrawn
    request but right for an instruction returned for rework.
    """
    text = GLOSSARY.read_text(encoding="utf-8").split(START, 1)[0]
    kazakh_cells = {
        cells(line)[1].lower()
        for line in text.splitlines()
        if line.startswith("| ") and len(cells(line)) >= 4
    }
    rows = GLOSSARY.read_text(encoding="utf-8").split(START, 1)[1].split(END, 1)[0]
    for line in rows.strip().splitlines()[2:]:
        row = dict(zip(COLUMNS, cells(line), strict=True))
        forms = {form.lower() for form in listed(row["kk"])}
        assert forms & kazakh_cells, f"{row['en']}: {forms} is not in the glossary's tables"


@pytest.mark.parametrize(("folder", "language"), CATALOGS, ids=IDS)
def test_each_catalog_says_every_glossary_concept_with_its_one_term(
    folder: Path, language: str
) -> None:
    problems = drift(catalog(folder, language), language, TERMS)
    assert not problems, f"{folder}/{language}:\n" + "\n".join(problems)


def test_the_check_flags_a_forbidden_variant_and_a_missing_stem() -> None:
    po = polib.POFile()
    po.append(polib.POEntry(msgid="KPI snapshots", msgstr="KPI суреттері"))
    po.append(polib.POEntry(msgid="The snapshot of %(date)s", msgstr="%(date)s күнгі қимасы"))
    po.append(polib.POEntry(msgid="Close the round", msgstr="Турды жабу"))
    po.append(polib.POEntry(msgid="Survey round", msgstr="Сауалнама туралы раунд"))
    problems = drift(po, "kk", TERMS)
    assert any("«сурет*» in «KPI суреттері»" in problem for problem in problems)
    assert any("no ('қима',) in «KPI суреттері»" in problem for problem in problems)
    assert any("no ('раунд',) in «Турды жабу»" in problem for problem in problems)
    # «қимасы» carries the stem; «туралы» is not the forbidden whole word «тур».
    assert not any("қимасы" in problem or "туралы" in problem for problem in problems)


AFTER_A_NUMBER = re.compile(r"(?:%\(\w+\)d|\d+)\s+жұмыс\s+(күн\w*)", re.IGNORECASE)


@pytest.mark.parametrize(
    "folder", [folder for folder, language in CATALOGS if language == "kk"], ids=str
)
def test_kazakh_counts_working_days_as_n_zhumys_kuni(folder: Path) -> None:
    """After a number Kazakh keeps «жұмыс күні» singular and possessive: «3 жұмыс күні»."""
    slips = [
        text
        for entry in catalog(folder, "kk").translated_entries()
        for text in translations(entry)
        if any(not word.startswith("күні") for word in AFTER_A_NUMBER.findall(text))
    ]
    assert not slips, slips
