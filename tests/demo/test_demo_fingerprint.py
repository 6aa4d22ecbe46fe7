"""The demo app's shape: it sits on top of the domain apps, and its corpora are data.

``seed_demo`` moved out of the directory app into ``demo/`` with its texts as JSON files;
these tests pin what that move must keep: no domain app imports the demo, the command runs
its steps by plain imports in a fixed order, every corpus file is read and fits the
reference directory the demo loads, and the corpora load into the shapes the builders draw
from (a list where a tuple was, or a string where an outcome was, would change the data a
seed gives).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from demo import instruction_corpus, request_corpus
from demo.data import DATA_DIR
from demo.decreed_days import seed_decreed_days
from demo.directory import KAZAKH_NAMES, OFFICER_TITLES, RUSSIAN_NAMES
from demo.instructions import seed_instructions
from demo.kpi import ACTIVITIES_PER_YEAR, ACTIVITY_NOTES, RESEARCH_POOL_SIZES, seed_kpi
from demo.management.commands import seed_demo
from demo.promises import seed_promises
from demo.reminders import seed_reminders
from demo.requests import seed_requests
from kpi.models import ActivityKind, SurveyPool
from maslikhat.directory.models import DepartmentKind
from maslikhat.directory.services import read_reference_data
from requests_app.models import Outcome

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ("maslikhat", "requests_app", "kpi", "reports")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_no_domain_app_imports_the_demo() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for app in DOMAIN_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if any(m == "demo" or m.startswith("demo.") for m in imported_modules(path))
    ]
    assert offenders == []


def test_the_demo_imports_its_steps_and_no_dotted_paths() -> None:
    sources = [path.read_text(encoding="utf-8") for path in (ROOT / "demo").rglob("*.py")]
    assert sources and not any("import_string" in source for source in sources)
    steps = [
        seed_decreed_days,
        seed_requests,
        seed_promises,
        seed_instructions,
        seed_kpi,
        seed_reminders,
    ]
    assert steps == seed_demo.STEPS


def test_no_demo_module_is_over_800_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "demo").rglob("*.py")
    }
    assert lengths and max(lengths.values()) <= 800, lengths


def test_every_corpus_file_says_what_it_holds_and_every_entry_is_read() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "demo").rglob("*.py"))
    files = sorted(DATA_DIR.glob("*.json"))
    assert {f.stem for f in files} >= {"names", "requests", "places", "request_shares"}
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data.pop("about").strip(), path.name
        assert re.search(rf'load\("{path.stem}"\)', code), f"{path.name} is never loaded"
        unread = [key for key in data if f'["{key}"]' not in code]
        assert unread == [], f"{path.name}: {unread}"


def test_the_corpora_fit_the_reference_directory() -> None:
    reference = read_reference_data()
    categories = {c["code"] for c in reference["categories"]}
    districts = {d["code"] for d in reference["districts"]}
    departments = {d["code"] for d in reference["city_departments"]} | districts
    commissions = {c["code"] for c in reference["commissions"]}

    assert set(request_corpus.CATEGORY_WEIGHTS) == categories
    assert set(request_corpus.DISTRICT_WEIGHTS) == districts
    assert set(request_corpus.URBAN_ADDRESSES) == set(request_corpus.PRIVATE_PLACES) == districts
    named = (
        request_corpus.SLOW_DEPARTMENTS
        | request_corpus.FAST_DEPARTMENTS
        | request_corpus.FORMAL_DEPARTMENTS
    )
    assert named <= departments
    for problem in request_corpus.PROBLEMS:
        assert problem.department in departments | {""}, problem.title
        assert set(problem.co) <= departments | {"district"}, problem.title
    for topic in instruction_corpus.TOPICS:
        assert topic.commission in commissions, topic.code
        assert topic.lead in departments | {instruction_corpus.DISTRICT}, topic.code
        assert {district for district, _address in topic.places} <= districts, topic.code


def test_the_corpora_load_into_the_shapes_the_builders_draw_from() -> None:
    problem = request_corpus.PROBLEMS[0]
    assert isinstance(request_corpus.PROBLEMS, tuple)
    assert all(isinstance(value, tuple) for value in (problem.districts, problem.places))
    assert all(isinstance(pair, tuple) for p in request_corpus.PROBLEMS for pair in p.places)
    # The outcomes a department claims in a final answer ("not resolved" is the deputy's word).
    claimed = set(Outcome) - {Outcome.NOT_RESOLVED}
    for table in (
        request_corpus.OUTCOME_WEIGHTS,
        request_corpus.RATING_WEIGHTS,
        request_corpus.REWORK_SHARE,
    ):
        assert set(table) == claimed and all(type(key) is Outcome for key in table)
    assert all(len(weights) == 5 for weights in request_corpus.RATING_WEIGHTS.values())
    assert list(request_corpus.MONTH_WEIGHTS) == list(range(1, 13))
    assert all(isinstance(phrases, tuple) for phrases in request_corpus.OPENERS.values())
    assert set(request_corpus.OPENERS) == set(request_corpus.CLOSERS) == {"ru", "kk"}
    topics = instruction_corpus.TOPICS
    assert all(isinstance(topic.tasks, tuple) and topic.tasks for topic in topics)
    assert len(instruction_corpus.MONTHS) == 12

    for pool in (KAZAKH_NAMES, RUSSIAN_NAMES):
        assert pool.surnames and pool.male_first_names and pool.female_first_names
        assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in pool.patronymics)
    assert set(OFFICER_TITLES) == set(DepartmentKind)
    assert set(ACTIVITIES_PER_YEAR) == set(ACTIVITY_NOTES) == set(ActivityKind)
    assert all(type(kind) is ActivityKind for kind in ACTIVITIES_PER_YEAR)
    assert all(type(pool) is SurveyPool for pool in RESEARCH_POOL_SIZES)
