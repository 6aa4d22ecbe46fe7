"""``/healthz/``: 200 when the database, the cache and the broker answer, 503 otherwise."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import Client

from maslikhat.celery import app as celery_app


@pytest.fixture
def dead_broker() -> Iterator[None]:
    """Point Celery at the loopback's port 9, where nothing listens: the broker is down."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "broker_transport_options")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:9/0", broker_transport_options={})
    try:
        yield
    finally:
        celery_app.conf.update(saved)


@pytest.mark.django_db
def test_it_answers_200_with_every_check_ok(client: Client) -> None:
    response = client.get("/healthz/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_it_answers_503_quickly_when_the_broker_is_down(client: Client, dead_broker: None) -> None:
    started = time.monotonic()
    response = client.get("/healthz/")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert elapsed < 5


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maslikhat.core import health

    def broken_cursor() -> None:
        raise health.connection.OperationalError("connection refused")  # type: ignore[attr-defined]

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_it_only_answers_get(client: Client) -> None:
    assert client.post("/healthz/").status_code == 405


def test_the_ping_task_answers_pong() -> None:
    from maslikhat.core.tasks import ping

    assert ping.apply().get() == "pong"
