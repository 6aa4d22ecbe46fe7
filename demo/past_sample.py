"""The sample file of past records: ``demo/data/past_requests_2023_2024.csv``.

Three hundred deputy requests of the sitting (VIII) convocation from its first two years,
before the portal, in Russian, as a council's office would keep them in a spreadsheet:
the template's columns (``imports/columns.py``), names as the directory spells them.
Generated deterministically (``write_sample``; after a change of the demo corpus or names run
``manage.py shell -c "from demo.past_sample import write_sample; write_sample()"``);
``tests/demo/test_past_sample.py`` checks
that the shipped file is what the generator writes, and the README's one command imports
it: ``manage.py import_records demo/data/past_requests_2023_2024.csv --kind requests``.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from pathlib import Path
from typing import Any

from maslikhat.accounts.models import Role
from maslikhat.directory.services import district_akimat_names, read_reference_data

from .context import DEFAULT_SEED
from .data import DATA_DIR, load
from .directory import plan_directory

SAMPLE = DATA_DIR / "past_requests_2023_2024.csv"
ROWS = 300
FIRST_DAY = datetime.date(2023, 4, 3)
LAST_DAY = datetime.date(2024, 12, 27)

#: Column headers in Russian, in the template's order (``imports.columns``).
HEADERS = [
    "Номер",
    "Подан",
    "Созыв",
    "Автор",
    "Соавторы",
    "Тема",
    "Текст",
    "Категория",
    "Район",
    "Адрес",
    "Ответственное управление",
    "Статус",
    "Срок",
    "Дан ответ",
    "Результат",
    "Текст ответа",
    "Оценка депутата",
    "Опубликован",
]
#: (status, outcome, share): mostly closed, as a past register is.
OUTCOMES = [
    ("Закрыт", "Решено", 40),
    ("Закрыт", "Решено частично", 18),
    ("Закрыт", "Дано разъяснение", 17),
    ("Закрыт", "Запланировано", 10),
    ("Закрыт", "Отказано", 5),
    ("Отклонён", "", 6),
    ("Отозван", "", 4),
]
RATINGS = {"Решено": (5, 5, 4), "Решено частично": (4, 3), "Дано разъяснение": (4, 3, 2)}
RATINGS |= {"Запланировано": (4, 3), "Отказано": (2, 3)}


class _Values(dict[str, Any]):
    """Placeholders of the corpus: the ones given, a plain word for the rest."""

    def __missing__(self, key: str) -> str:
        return {"school": "№ 12", "route": "№ 45", "houses": "12"}.get(key, "")


def _fill(text: str, values: _Values) -> str:
    return " ".join(text.format_map(values).split())


def _working_day(day: datetime.date, forward: int) -> datetime.date:
    while forward > 0 or day.weekday() >= 5:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            forward -= 1
    return day


def sample_rows(seed: int = DEFAULT_SEED) -> list[list[str]]:
    rng = random.Random(f"{seed}:past-sample")
    reference = read_reference_data()
    corpus = load("requests")
    places = load("places")
    plan = plan_directory(data=reference, seed=seed)
    deputies = [a.name.full_name for a in plan.accounts if a.role == Role.DEPUTY]
    categories = {c["code"]: c for c in reference["categories"]}
    departments = {d["code"]: d["ru"] for d in reference["city_departments"]}
    districts = {d["code"]: d for d in reference["districts"]}
    problems = [p for p in corpus["problems"] if p["language"] == "ru"]
    span = (LAST_DAY - FIRST_DAY).days
    days = sorted(FIRST_DAY + datetime.timedelta(days=rng.randrange(span)) for _ in range(ROWS))
    outcomes = [o for o in OUTCOMES for _ in range(o[2])]
    rows: list[list[str]] = []
    counters: dict[int, int] = {}
    for day in days:
        day = _working_day(day, 0)
        counters[day.year] = counters.get(day.year, 0) + 1
        number = f"ДЗ-{day.year}/{counters[day.year]:04d}"
        problem = rng.choice(problems)
        district_code = rng.choice(sorted(districts))
        district = districts[district_code]
        street = rng.choice(places["urban_addresses"].get(district_code) or ["ул. Абая, {b}"])
        address = street.format(
            h=rng.randint(1, 40), b=rng.randint(1, 200), k=rng.randint(1, 9), street="ул. Садовая"
        )
        values = _Values(
            address=address,
            place=address,
            district=district["ru"],
            district_gen=district["ru"],
            district_loc=district["ru"],
            n=rng.randint(2, 12),
            year=day.year + 1,
            people=rng.randint(20, 300),
        )
        category = categories[problem["category"]]
        lead_code = problem["department"] or category["default_department"] or "akim-office"
        if lead_code == "district_akimat":
            lead = district_akimat_names(district)["name_ru"]
        else:
            lead = departments.get(lead_code, departments["akim-office"])
        status, outcome, _share = rng.choice(outcomes)
        author = rng.choice(deputies)
        co_author = rng.choice(deputies) if rng.random() < 0.15 else ""
        due = _working_day(day, 15)
        answered = _working_day(day, rng.randint(5, 18)) if status == "Закрыт" else None
        answer = ""
        if answered is not None:
            done = _fill(problem["done"], values)
            intro = corpus["answer_intro"]["ru"].format(number=number, date=f"{day:%d.%m.%Y}")
            answer = f"{intro} {corpus['resolved_intro']['ru']} {done}."
        rating = str(rng.choice(RATINGS[outcome])) if outcome in RATINGS else ""
        body = " ".join(
            [
                _fill(rng.choice(corpus["openers"]["ru"]), values),
                _fill(problem["body"], values),
                rng.choice(corpus["closers"]["ru"]),
            ]
        )
        rows.append(
            [
                number,
                f"{day:%d.%m.%Y}",
                "VIII",
                author,
                co_author if co_author != author else "",
                _fill(problem["title"], values)[:300],
                body,
                category["ru"],
                district["ru"],
                address,
                lead if status == "Закрыт" else "",
                status,
                f"{due:%d.%m.%Y}" if status == "Закрыт" else "",
                f"{answered:%d.%m.%Y}" if answered else "",
                outcome,
                answer,
                rating,
                "да" if rng.random() < 0.6 else "нет",
            ]
        )
    return rows


def sample_text(seed: int = DEFAULT_SEED) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(sample_rows(seed))
    return out.getvalue()


def write_sample(path: Path = SAMPLE, seed: int = DEFAULT_SEED) -> Path:
    path.write_text(sample_text(seed), encoding="utf-8-sig")
    return path
