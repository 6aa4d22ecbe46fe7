"""Schemathesis fuzzes every operation of ``/api/schema/``: every answer is one the schema
documents, and none is a 5xx.

Four checks on every response: ``not_a_server_error`` (never a 5xx),
``status_code_conformance`` (the status is documented for the operation, errors included),
``content_type_conformance`` (the body is of a documented media type) and
``response_schema_conformance`` (the body validates against the documented schema). A
generated client can then trust the schema (docs/architecture.md, "The API's schema").

- In-process: the schema is read from the Django WSGI application and every case is sent to
  it through schemathesis' WSGI transport (werkzeug's test client); ``no_network`` fails the
  test if a Python socket connects anywhere but the database (or Redis, when configured).
- Three times: with the API token of a staff member (schemathesis' coverage phase, positive
  cases only, then fuzzing), of a department head (finance) and of a deputy, alice (fuzzing).
  Each client asks for JSON (``Accept: application/json``), as an integration does.
- The data, made through the services: the directory's personas, requests in every state,
  instructions in four states, a pending extension of each, a draft answer, an open survey
  round, a KPI run, a pending export. About half of the generated ids (path, query, body)
  are turned into ids of these rows (see ``_aimed``), so cases get past the 404s.
- pytest-django: the data is built once for the module in an outer transaction; each test
  (one per operation) runs in pytest-django's transaction inside it, and each example in a
  savepoint rolled back after the call, so every example sees the same data whatever the
  previous one created, changed or deleted.
- Bounded and deterministic: ``derandomize=True``, ``MAX_EXAMPLES`` fuzzed examples per
  operation, no example database.
- A failure shows schemathesis' report (the case as a curl command, the check that failed and
  why) and, for a 5xx, the server's traceback.

Why not ``schemathesis.pytest.from_fixture`` (a lazy schema, loaded in a fixture): with
schemathesis 4.32 under pytest 9.2 it fails (``'Function' object has no attribute
'_nodeid'``), so the schema is loaded when the module is imported; that needs no database.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import got_request_exception, request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections, transaction
from django.http import QueryDict
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.errors import FailureGroup

from instructions import services as instruction_services
from instructions.models import ProtocolItem
from kpi import services as kpi_services
from kpi.models import RaterFlag
from maslikhat.accounts.models import User
from maslikhat.core.notifications import Notification
from reports import services as report_services
from requests_app import services as request_services
from requests_app.models import RequestStatus
from tests import instruction_helpers as ih
from tests import requests_helpers as rh
from tests.commitments.helpers import make_commitment
from tests.factories import DistrictFactory, make_directory

pytestmark = pytest.mark.django_db

#: Every case goes to the WSGI application in-process, never to a URL.
APP = get_wsgi_application()

#: Examples per operation of the fuzzing phase (the staff's coverage phase adds its own):
#: small, so each persona's run stays well under a minute and a half on SQLite.
MAX_EXAMPLES = 5

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: Operations left out until the bug they hit is fixed, each with a comment naming the bug:
#: ``("GET", "/api/v1/…/")``.
EXCLUDED: list[tuple[str, str]] = []


@dataclass
class FuzzData:
    """The personas and the ids of the rows that exist, by collection."""

    staff: User
    head: User
    deputy: User
    tokens: dict[int, str] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)


def _build_data() -> FuzzData:
    """Everything through the services, as a person would have made it."""
    directory = make_directory()
    world = ih.make_world(directory)
    district = DistrictFactory.create(code="almaly", name_ru="Алмалинский", name_en="Almaly")
    S = RequestStatus
    requests = [
        rh.make_request(directory, status=status, district=district) for status in rh.ALL_STATUSES
    ]
    requests.append(rh.make_request(directory, status=S.SUBMITTED, author=directory.bob))
    in_progress = next(item for item in requests if item.status == S.IN_PROGRESS)
    assert in_progress.due_date is not None
    request_extension = request_services.deputy_request_extension_ask(
        pk=in_progress.pk,
        by=directory.finance_exec,
        new_due_date=in_progress.due_date + datetime.timedelta(days=3),
        reason="Нужна экспертиза.",
    )
    draft_response = rh.draft_answer(directory, in_progress)
    commitment = make_commitment(directory)

    IS = ih.S
    instructions = [
        ih.make_instruction(world, status=status)
        for status in (IS.ON_CONTROL, IS.REPORTED, IS.RETURNED, IS.EXECUTED)
    ]
    on_control = instructions[0]
    instruction_extension = instruction_services.instruction_extension_ask(
        pk=on_control.pk,
        by=directory.finance_exec,
        new_due_date=on_control.due_date + datetime.timedelta(days=3),
        reason="Нужна экспертиза.",
    )

    today = timezone.localdate()
    survey_round = kpi_services.survey_round_open(by=directory.staff, year=today.year)
    kpi_services.kpi_compute_current(as_of=today)
    deputy = directory.alice.user
    exports = [
        report_services.export_job_create(
            by=user, kind="requests", params=QueryDict(), fmt="xlsx", language="ru"
        )
        for user in (directory.staff, deputy)
    ]

    departments = [directory.finance.pk, directory.mobility.pk, world.energy.pk]
    deputies = [directory.alice.pk, directory.bob.pk, world.carol.pk]
    flags = list(RaterFlag.objects.values_list("pk", flat=True)[:5])
    ids = {
        "requests": [item.pk for item in requests],
        "instructions": [item.pk for item in instructions],
        "meetings": [world.meeting.pk],
        "protocols": [world.protocol.pk],
        "items": list(ProtocolItem.objects.values_list("pk", flat=True)),
        "convocations": [directory.convocation.pk],
        "commissions": [world.commission.pk],
        "departments": departments,
        "kpi/departments": departments,
        "deputies": deputies,
        "kpi/deputies": deputies,
        "districts": [district.pk],
        "categories": sorted({item.category_id for item in requests}),
        "users": [directory.finance_exec.pk, directory.mobility_exec.pk, directory.staff.pk],
        "notifications": list(Notification.objects.values_list("pk", flat=True)[:20]),
        "exports": [job.pk for job in exports],
        "kpi/flags": flags,
        "extensions": [request_extension.pk, instruction_extension.pk],
        "responses": [draft_response.pk],
        "rounds": [survey_round.pk],
        "commitments": [commitment.pk],
    }
    personas = (directory.staff, directory.finance_head, deputy)
    tokens = {user.pk: Token.objects.create(user=user).key for user in personas}
    return FuzzData(
        staff=directory.staff, head=directory.finance_head, deputy=deputy, tokens=tokens, ids=ids
    )


@pytest.fixture(scope="module")
def fuzz_data(django_db_setup: None, django_db_blocker: Any) -> Iterator[FuzzData]:
    """Built once for the module in an outer transaction (rolled back at the end); each test's
    own transaction (pytest-django) and each example's savepoint nest inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        data = _build_data()
        yield data
        transaction.set_rollback(True)


def _backing_services() -> set[tuple[str, int]]:
    """Where the app itself may connect: the database and, when configured, Redis."""
    addresses: list[tuple[str, int]] = []
    for alias in connections:
        db = connections[alias].settings_dict
        if db.get("HOST"):
            addresses.append((db["HOST"], int(db.get("PORT") or 5432)))
    if django_settings.REDIS_URL:
        redis = urlsplit(django_settings.REDIS_URL)
        addresses.append((redis.hostname or "localhost", redis.port or 6379))
    allowed = set(addresses)
    for host, port in addresses:
        with contextlib.suppress(OSError):
            allowed.add((socket.gethostbyname(host), port))
    return allowed


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing leaves the process: a Python socket may connect to a backing service only."""
    allowed = _backing_services()
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family != socket.AF_UNIX and tuple(address[:2]) not in allowed:
            raise AssertionError(f"the API fuzz test tried to connect to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("fuzz-media")


@pytest.fixture(autouse=True)
def uploads_kept_apart(settings: Any, media_root: Any) -> None:
    """The attachments the fuzzer manages to upload go to a temporary directory."""
    settings.MEDIA_ROOT = media_root


@pytest.fixture(autouse=True)
def connection_kept_open() -> Iterator[None]:
    """As Django's test client does: the handler's ``close_old_connections`` would close the
    connection, and with it the transaction this test runs in, at every request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors() -> Iterator[list[str]]:
    """The tracebacks of the exceptions the app turned into a 500 during the current example."""
    seen: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        seen.append(traceback.format_exc())

    got_request_exception.connect(record, dispatch_uid="schemathesis-server-errors")
    yield seen
    got_request_exception.disconnect(dispatch_uid="schemathesis-server-errors")


#: Path parameters other than ``{id}``, body fields and query filters → the rows they name.
ID_FIELDS = {
    "eid": "extensions",
    "rid": "responses",
    "round_id": "rounds",
    "author": "deputies",
    "category": "categories",
    "co_authors": "deputies",
    "co_departments": "departments",
    "commission": "commissions",
    "controller_commission": "commissions",
    "controller_deputy": "deputies",
    "convocation": "convocations",
    "department": "departments",
    "deputy": "deputies",
    "district": "districts",
    "executor": "users",
    "item": "items",
    "lead_department": "departments",
    "meeting": "meetings",
    "protocol": "protocols",
    "suggested_departments": "departments",
}


def _collection(path: str) -> str:
    """``/api/v1/kpi/flags/{id}/review/`` → ``kpi/flags``; ``/exports/{id}/…`` → ``exports``."""
    parts = [part for part in path.split("/") if part and part not in ("api", "v1")]
    return "/".join(parts[:2]) if parts[0] == "kpi" else parts[0]


def _aimed(value: Any, known: list[int]) -> Any:
    """An even generated id names an existing row (``known[id / 2 % len]``), an odd one stays.

    A pure function of the generated value, so examples stay reproducible and shrinkable, and
    schemathesis' coverage phase (which ``@schema.given`` would switch off) keeps running.
    """
    if isinstance(value, list):
        return [_aimed(element, known) for element in value]
    if isinstance(value, str) and value.isdecimal() and value.isascii():
        return str(_aimed(int(value), known))
    if isinstance(value, bool) or not isinstance(value, int) or value % 2:
        return value
    return known[(value // 2) % len(known)]


def _aim(values: Any, collection_of: dict[str, str], fuzz: FuzzData) -> None:
    if not isinstance(values, dict):
        return
    for name, value in list(values.items()):
        known = fuzz.ids.get(collection_of.get(name, ""))
        if known:
            values[name] = _aimed(value, known)


def _aim_ids(case: schemathesis.Case, fuzz: FuzzData) -> None:
    _aim(case.path_parameters, {**ID_FIELDS, "id": _collection(case.path)}, fuzz)
    _aim(case.query, ID_FIELDS, fuzz)
    _aim(case.body, ID_FIELDS, fuzz)


def _exercise(
    case: schemathesis.Case,
    fuzz: FuzzData,
    user: User,
    server_errors: list[str],
) -> None:
    assert case.operation.app is APP  # the WSGI transport: in-process, no URL
    _aim_ids(case, fuzz)
    headers = {"Authorization": f"Token {fuzz.tokens[user.pk]}", "Accept": "application/json"}
    server_errors.clear()
    # Each example in its own savepoint: whatever it changes, the next one sees the same data.
    with transaction.atomic():
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as failure:
        # Schemathesis' report has the case as a curl command; add where the server failed.
        for server_traceback in server_errors:
            failure.add_note(f"\nThe server's traceback:\n{server_traceback}")
        raise


def _schema(*, coverage: bool) -> schemathesis.BaseSchema:
    """The OpenAPI schema the portal serves, read from the application itself.

    The configuration is explicit, so a ``schemathesis.toml`` lying around changes nothing.
    """
    coverage_phase = {
        "enabled": coverage,
        # Boundary and missing values of every valid input; the invalid ones (wrong types,
        # unexpected methods) cost most of the run and are the fuzzing phase's job too.
        "generation": {"mode": "positive"},
        "unexpected-methods": [],
    }
    config = SchemathesisConfig.from_dict({"phases": {"coverage": coverage_phase}})
    schema: schemathesis.BaseSchema = schemathesis.openapi.from_wsgi(
        "/api/schema/", APP, config=config
    )
    for method, path in EXCLUDED:
        schema = schema.exclude(method=method, path=path)
    return schema


#: Staff: schemathesis' coverage phase (each parameter's boundary and missing values), then
#: fuzzing.
STAFF_SCHEMA = _schema(coverage=True)
#: The department head and the deputy: fuzzing only. The coverage cases are about the input,
#: the same for every token; run three times, they would triple the run time.
FUZZ_SCHEMA = _schema(coverage=False)

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@STAFF_SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_api_as_staff(
    case: schemathesis.Case,
    fuzz_data: FuzzData,
    no_network: None,
    server_errors: list[str],
) -> None:
    _exercise(case, fuzz_data, fuzz_data.staff, server_errors)


@FUZZ_SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_api_as_department_head(
    case: schemathesis.Case,
    fuzz_data: FuzzData,
    no_network: None,
    server_errors: list[str],
) -> None:
    _exercise(case, fuzz_data, fuzz_data.head, server_errors)


@FUZZ_SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_api_as_deputy(
    case: schemathesis.Case,
    fuzz_data: FuzzData,
    no_network: None,
    server_errors: list[str],
) -> None:
    _exercise(case, fuzz_data, fuzz_data.deputy, server_errors)
