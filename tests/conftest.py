"""Shared fixtures: named personas of every role, API clients, the URL-coverage gate."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from maslikhat.accounts.models import User
from tests import factories
from tests.url_coverage import RESOLVED_ROUTES, unreached_routes

IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without the dependency; fail in CI, where .ci/run provides it."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run must provide it)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Every test starts in the portal's default language (Russian): a request through the
    test client leaves the language it negotiated active in the thread, and a figure named
    in the current language would then depend on which test ran before."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def directory(db: None) -> factories.DemoDirectory:
    """A small directory: two departments with a head and an executor each, two deputies, staff."""
    return factories.make_directory()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as() -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def pytest_testnodedown(node: object, error: object) -> None:
    """Under pytest-xdist, gather the routes each worker reached (see pytest_sessionfinish)."""
    output = getattr(node, "workeroutput", None) or {}
    RESOLVED_ROUTES.update(output.get("resolved_routes", ()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With URL_COVERAGE=1 (make test), fail a green full run that left a URL pattern untested.

    A pytest-xdist worker hands its reached routes to the controller, which judges the
    whole run once every worker is done.
    """
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["resolved_routes"] = sorted(RESOLVED_ROUTES)
        return
    if os.environ.get("URL_COVERAGE") != "1" or exitstatus != 0:
        return
    if config.option.keyword or config.option.markexpr or config.args not in ([], ["tests"]):
        return
    missing = unreached_routes()
    if missing:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("URL patterns no test reached:", red=True)
            for route in missing:
                reporter.write_line(f"  {route}", red=True)
        session.exitstatus = 1
