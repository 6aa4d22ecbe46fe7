"""Who may open which KPI, reports and public address: one declared table drives the tests.

Every URL pattern served by the ``kpi`` and ``reports`` apps (pages, the public portal,
dashboards, exports and their API endpoints) is read from the URLconf; a pattern without
a row here fails ``test_every_kpi_and_reports_pattern_has_a_declared_row``. The expected
statuses follow the roles table (docs/roles.md):

- rankings, entity pages, the methodology, the survey report and the public portal are
  public (200 for everyone);
- the staff dashboard and the quarterly PDF are for those who see everything (staff, the
  chair, Django superusers); a department's and a deputy's dashboards for their own; an
  administrator without superuser rights manages users and the directory only;
- KPI weights and rater flags: staff change them; the chair reads them;
  survey rounds are opened and closed by staff only;
- exports are scoped by the selectors to what the caller sees (so 200 for every signed-in
  role); a background export job belongs to the one who started it (404 for anyone else);
- a page that needs a login sends an anonymous visitor to log in (``LOGIN``); the API
  answers an anonymous caller 401.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from kpi import services as kpi_services
from kpi.models import RaterFlag, SurveyRound
from maslikhat.accounts.models import Role, User
from reports.models import ExportFormat, ExportJob, ExportKind, ExportStatus
from reports.services import export_root
from requests_app.models import RequestStatus
from tests.factories import DemoDirectory, UserFactory
from tests.instruction_helpers import make_instruction
from tests.instruction_helpers import make_world as make_instruction_world
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "deputy", "executor", "head", "staff", "chair", "admin")
LOGIN = "login"
Q3 = "2026-Q3"
WEIGHTS = {
    "kind": "department",
    "weights": {
        "timeliness": 0.3,
        "quality": 0.3,
        "rework": 0.1,
        "resolution": 0.10,
        "discipline": 0.15,
        "promises": 0.05,
    },
}
ANSWER = {"interaction": 4, "participation_in_city_life": 3, "effectiveness": 4, "engagement": 2}


@dataclass
class World:
    """The personas and the objects the addresses point at."""

    directory: DemoDirectory
    admin: User  # an administrator without Django superuser rights: the role alone counts
    published: int = 0
    instruction: int = 0  # a commission's instruction on control (public)
    flag: int = 0
    job: int = 0
    open_round: int = 0


@dataclass(frozen=True)
class Row:
    route: str  # the pattern as the URLconf spells it
    method: str
    url: Callable[[World], str]
    expected: tuple[int | str, ...]  # one per role of ROLES
    api: bool = False
    body: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # "round": an open survey round; "job": a finished export


def everyone(status: int = 200) -> tuple[int | str, ...]:
    return (status,) * len(ROLES)


def signed_in(status: int | str, anonymous: int | str = LOGIN) -> tuple[int | str, ...]:
    return (anonymous, *(status,) * (len(ROLES) - 1))


# fmt: off
#                          anon   deputy executor head  staff chair admin
SEES_EVERYTHING = (LOGIN,  403,   403,     403,  200,  200,  403)
STAFF_ACTS      = (LOGIN,  403,   403,     403,  302,  403,  403)
STAFF_API_READ  = (401,    403,   403,     403,  200,  200,  403)
OWNER_ONLY      = (LOGIN,  404,   404,     404,  200,  404,  404)

ROWS: list[Row] = [
    # --- Home and dashboards ------------------------------------------------------------------
    Row("", "get", lambda w: "/", everyone()),
    Row("dashboard/", "get", lambda w: "/dashboard/", SEES_EVERYTHING),
    Row("dashboard/department/", "get", lambda w: "/dashboard/department/",
        (LOGIN, 403, 200, 200, 403, 403, 403)),
    Row("dashboard/deputy/", "get", lambda w: "/dashboard/deputy/",
        (LOGIN, 200, 403, 403, 403, 403, 403)),
    Row("dashboard/report/<str:period>.pdf", "get", lambda w: "/dashboard/report/2026-Q3.pdf",
        SEES_EVERYTHING),
    # --- Exports (scoped to what the caller sees) -------------------------------------------------
    Row("exports/", "get", lambda w: "/exports/", signed_in(200)),
    Row("exports/requests/", "get", lambda w: "/exports/requests/?format=csv", signed_in(200)),
    Row("exports/instructions/", "get", lambda w: "/exports/instructions/?format=csv",
        signed_in(200)),
    Row("exports/kpi/", "get", lambda w: f"/exports/kpi/?format=csv&period={Q3}", everyone()),
    Row("exports/<int:pk>/", "get", lambda w: f"/exports/{w.job}/", OWNER_ONLY, needs=("job",)),
    Row("exports/<int:pk>/status/", "get", lambda w: f"/exports/{w.job}/status/",
        (401, 404, 404, 404, 200, 404, 404), api=True, needs=("job",)),
    Row("exports/<int:pk>/download/", "get", lambda w: f"/exports/{w.job}/download/",
        (401, 404, 404, 404, 200, 404, 404), api=True, needs=("job",)),
    Row("api/v1/reports/summary/", "get", lambda w: "/api/v1/reports/summary/",
        signed_in(200, 401), api=True),
    # The to-do: everyone signed in has one (their own; an administrator's is empty).
    Row("api/v1/me/todo/", "get", lambda w: "/api/v1/me/todo/", signed_in(200, 401), api=True),
    Row("api/v1/requests/export/", "get", lambda w: "/api/v1/requests/export/?format=csv",
        signed_in(200, 401), api=True),
    Row("api/v1/instructions/export/", "get",
        lambda w: "/api/v1/instructions/export/?format=csv", signed_in(200, 401), api=True),
    # --- KPI pages ------------------------------------------------------------------------------
    Row("kpi/", "get", lambda w: f"/kpi/?period={Q3}", everyone()),
    Row("kpi/departments/<int:pk>/", "get",
        lambda w: f"/kpi/departments/{w.directory.finance.pk}/", everyone()),
    Row("kpi/deputies/<int:pk>/", "get",
        lambda w: f"/kpi/deputies/{w.directory.alice.pk}/", everyone()),
    Row("kpi/methodology/", "get", lambda w: "/kpi/methodology/", everyone()),
    Row("kpi/survey/", "get", lambda w: "/kpi/survey/", everyone()),
    Row("kpi/weights/", "get", lambda w: "/kpi/weights/", SEES_EVERYTHING),
    # A post without a kind: staff are sent back to the page, everyone else refused.
    Row("kpi/weights/", "post", lambda w: "/kpi/weights/", STAFF_ACTS),
    Row("kpi/flags/", "get", lambda w: "/kpi/flags/", SEES_EVERYTHING),
    Row("kpi/flags/<int:pk>/review/", "post", lambda w: f"/kpi/flags/{w.flag}/review/",
        STAFF_ACTS, body={"status": "dismissed"}),
    Row("kpi/activities/", "get", lambda w: "/kpi/activities/",
        (LOGIN, 200, 403, 403, 200, 200, 403)),
    Row("kpi/survey/rounds/", "post", lambda w: "/kpi/survey/rounds/", STAFF_ACTS,
        body={"year": 2027}),
    Row("kpi/survey/rounds/<int:pk>/close/", "post",
        lambda w: f"/kpi/survey/rounds/{w.open_round}/close/", STAFF_ACTS, needs=("round",)),
    # --- KPI API --------------------------------------------------------------------------------
    Row("api/v1/kpi/departments/$", "get", lambda w: f"/api/v1/kpi/departments/?period={Q3}",
        everyone(), api=True),
    Row("api/v1/kpi/departments/(?P<pk>[^/.]+)/$", "get",
        lambda w: f"/api/v1/kpi/departments/{w.directory.finance.pk}/", everyone(), api=True),
    Row("api/v1/kpi/deputies/$", "get", lambda w: f"/api/v1/kpi/deputies/?period={Q3}",
        everyone(), api=True),
    Row("api/v1/kpi/deputies/(?P<pk>[^/.]+)/$", "get",
        lambda w: f"/api/v1/kpi/deputies/{w.directory.alice.pk}/", everyone(), api=True),
    Row("api/v1/kpi/methodology/$", "get", lambda w: "/api/v1/kpi/methodology/", everyone(),
        api=True),
    Row("api/v1/kpi/weights/$", "get", lambda w: "/api/v1/kpi/weights/", everyone(), api=True),
    Row("api/v1/kpi/weights/$", "post", lambda w: "/api/v1/kpi/weights/",
        (401, 403, 403, 403, 201, 403, 403), api=True, body=WEIGHTS),
    Row("api/v1/kpi/flags/$", "get", lambda w: "/api/v1/kpi/flags/", STAFF_API_READ, api=True),
    Row("api/v1/kpi/flags/(?P<pk>[^/.]+)/review/$", "post",
        lambda w: f"/api/v1/kpi/flags/{w.flag}/review/",
        (401, 403, 403, 403, 200, 403, 403), api=True, body={"status": "dismissed"}),
    Row("api/v1/kpi/activities/$", "get", lambda w: "/api/v1/kpi/activities/",
        signed_in(200, 401), api=True),
    # A deputy records their own; staff anyone's; nobody else.
    Row("api/v1/kpi/activities/$", "post", lambda w: "/api/v1/kpi/activities/",
        (401, 201, 403, 403, 201, 403, 403), api=True,
        body={"kind": "reception", "date": "2026-05-04", "deputy": "alice"}),
    Row("api/v1/kpi/survey/$", "get", lambda w: "/api/v1/kpi/survey/", everyone(), api=True),
    Row("api/v1/kpi/survey/$", "post", lambda w: "/api/v1/kpi/survey/",
        (401, 201, 201, 201, 201, 201, 403), api=True, body=ANSWER, needs=("round",)),
    Row("api/v1/kpi/survey/rounds/$", "post", lambda w: "/api/v1/kpi/survey/rounds/",
        (401, 403, 403, 403, 201, 403, 403), api=True, body={"year": 2027}),
    Row("api/v1/kpi/survey/rounds/(?P<round_id>\\d+)/close/$", "post",
        lambda w: f"/api/v1/kpi/survey/rounds/{w.open_round}/close/",
        (401, 403, 403, 403, 200, 403, 403), api=True, needs=("round",)),
    # --- The public portal ------------------------------------------------------------------------
    Row("public/", "get", lambda w: "/public/", everyone()),
    Row("public/requests/", "get", lambda w: "/public/requests/", everyone()),
    Row("public/requests/<int:pk>/", "get", lambda w: f"/public/requests/{w.published}/",
        everyone()),
    Row("public/instructions/", "get", lambda w: "/public/instructions/", everyone()),
    Row("public/instructions/<int:pk>/", "get",
        lambda w: f"/public/instructions/{w.instruction}/", everyone()),
    Row("public/statistics/", "get", lambda w: "/public/statistics/", everyone()),
    Row("public/promises/", "get", lambda w: "/public/promises/", everyone()),
    Row("public/rankings/", "get", lambda w: f"/public/rankings/?period={Q3}", everyone()),
    Row("public/methodology/", "get", lambda w: "/public/methodology/", everyone()),
    Row("public/deputies/", "get", lambda w: "/public/deputies/", everyone()),
    Row("public/deputies/<int:pk>/", "get", lambda w: f"/public/deputies/{w.directory.alice.pk}/",
        everyone()),
    Row("public/plan/", "get", lambda w: "/public/plan/", everyone()),
]
# fmt: on

APPS = ("kpi.", "reports.")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))  # type: ignore[attr-defined]
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def app_routes() -> set[str]:
    """Every pattern whose view lives in the kpi or reports app (format suffixes aside)."""
    routes = set()
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback
        if view.__module__.startswith(APPS) and "(?P<format>" not in route:
            routes.add(route)
    return routes


def test_every_kpi_and_reports_pattern_has_a_declared_row() -> None:
    declared = {row.route for row in ROWS}
    assert app_routes() - declared == set(), "add a row to ROWS for each new pattern"
    assert declared - app_routes() == set(), "a declared pattern no longer exists"


def test_the_table_has_a_status_for_every_role() -> None:
    assert all(len(row.expected) == len(ROLES) for row in ROWS)


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    admin = UserFactory.create(username="plain-admin", role=Role.ADMIN, is_staff=True)
    published = make_request(directory, status=RequestStatus.CLOSED, is_public=True)
    kpi_services.kpi_compute(as_of=datetime.date(2026, 9, 30), period=Q3)
    flag = RaterFlag.objects.create(
        rater_kind="deputy",
        rater_id=directory.alice.pk,
        score=5,
        run_length=12,
        first_rated_at=datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC),
        last_rated_at=datetime.datetime(2026, 8, 1, tzinfo=datetime.UTC),
        detected_at=datetime.datetime(2026, 8, 2, tzinfo=datetime.UTC),
    )
    instruction = make_instruction(make_instruction_world(directory))
    return World(
        directory=directory,
        admin=admin,
        published=published.pk,
        instruction=instruction.pk,
        flag=flag.pk,
    )


def persona(world: World, role: str) -> User | None:
    d = world.directory
    return {
        "anonymous": None,
        "deputy": d.alice.user,
        "executor": d.finance_exec,
        "head": d.finance_head,
        "staff": d.staff,
        "chair": d.chair,
        "admin": world.admin,
    }[role]


def finished_job(world: World) -> int:
    """A finished CSV export of staff's, its file in the exports folder."""
    folder = export_root()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "permissions-matrix.csv"
    path.write_text("number\n", encoding="utf-8")
    job = ExportJob.objects.create(
        user=world.directory.staff,
        kind=ExportKind.REQUESTS,
        format=ExportFormat.CSV,
        status=ExportStatus.DONE,
        file_path=str(path.resolve().relative_to(Path(settings.MEDIA_ROOT).resolve())),
        file_name="requests.csv",
        total=0,
    )
    return job.pk


def call(world: World, row: Row, user: User | None) -> Any:
    url = row.url(world)
    body = {
        key: (world.directory.alice.pk if value == "alice" else value)
        for key, value in row.body.items()
    }
    if row.api:
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        if row.method == "get":
            return api.get(url)
        return api.post(url, body, format="json")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return getattr(client, row.method)(url, body) if row.method == "post" else client.get(url)


def outcome(response: Any) -> int | str:
    """The status, or LOGIN for a redirect to the login page."""
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    return int(response.status_code)


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.method} {row.route or '/'}" for row in ROWS])
def test_who_may_open_which_kpi_and_reports_address(world: World, row: Row) -> None:
    """Each role in turn, on one prepared world: every check comes before any change, so
    what one role did (staff closing the round) does not decide another's answer."""
    if "round" in row.needs:
        world.open_round = SurveyRound.objects.create(
            year=2026,
            opened_by=world.directory.staff,
            opened_at=datetime.datetime.now(datetime.UTC),
        ).pk
    if "job" in row.needs:
        world.job = finished_job(world)
    got = tuple(outcome(call(world, row, persona(world, role))) for role in ROLES)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, row.expected, strict=True))
