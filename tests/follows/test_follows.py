"""Following public things by e-mail: double opt-in, a daily digest at most, one-click unsubscribe.

Anyone may follow a published request, a department, a district or a deputy. Nothing but the
confirmation reaches an address before its link is opened; every message carries a one-click
unsubscribe (RFC 8058); a follower is told only what the public pages show — never a private
request, a thread message or an address. The requests are made through the real services.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from follows import services, throttles
from follows.models import Follow, FollowEmail, FollowEmailKind, FollowEmailStatus
from requests_app import services as request_services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory, DistrictFactory
from tests.requests_helpers import category, make_request, route

pytestmark = pytest.mark.django_db

S = RequestStatus
FOLLOW_URL = "/public/follow/"
PRIVATE_WORD = "конфиденциально"
THREAD_WORD = "паспортные"
ADDRESS_WORD = "Тайная"
PUBLIC_WORD = "светофор"


@pytest.fixture(autouse=True)
def fresh_throttles() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@dataclass
class Scene:
    published: DeputyRequest
    private: DeputyRequest
    district_id: int


@pytest.fixture
def scene(directory: DemoDirectory) -> Scene:
    district = DistrictFactory.create(code="almaly", name_ru="Алмалинский", name_en="Almaly")
    roads = category("roads")
    published = make_request(
        directory,
        status=S.IN_PROGRESS,
        title=f"Установить {PUBLIC_WORD} у школы",
        body="Дети переходят дорогу без светофора.",
        address=f"ул. {ADDRESS_WORD}, д. 99",
        district=district,
        category_obj=roads,
        is_public=True,
    )
    private = make_request(
        directory,
        status=S.CLOSED,
        title=f"Запрос {PRIVATE_WORD}",
        body=f"Текст {PRIVATE_WORD}",
        district=district,
        category_obj=roads,
        is_public=False,
    )
    request_services.deputy_request_message_post(
        pk=published.pk, by=directory.alice.user, text=f"Вот {THREAD_WORD} данные заявителя"
    )
    return Scene(published=published, private=private, district_id=district.pk)


def sign_up(client: Client, target: str, pk: int, **extra: str) -> Any:
    data = {"email": "Reader@Example.org", "target": target, "id": str(pk), "language": "ru"}
    data.update(extra)
    return client.post(FOLLOW_URL, data)


def deliver() -> list[FollowEmail]:
    """What the worker does after commit: send every recorded e-mail still pending."""
    pending = list(FollowEmail.objects.filter(status=FollowEmailStatus.PENDING).order_by("id"))
    for outgoing in pending:
        services.follow_email_send(outgoing_id=outgoing.pk)
    return pending


def confirm_all(client: Client) -> None:
    for follow in Follow.objects.filter(confirmed_at__isnull=True):
        assert client.get(f"/public/follow/confirm/{follow.token}/").status_code == 200


def close(directory: DemoDirectory, item: DeputyRequest) -> None:
    from tests.requests_helpers import answer

    answer(directory, item)
    request_services.deputy_request_evaluate(
        pk=item.pk, by=directory.alice.user, decision="accept", rating=5
    )


# --- Signing up and confirming --------------------------------------------------------------


def test_the_follow_page_shows_a_form_prefilled_from_the_link(client: Client, scene: Scene) -> None:
    response = client.get(FOLLOW_URL, {"target": "request", "id": str(scene.published.pk)})
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()
    assert f'value="{scene.published.pk}"' in response.content.decode()


def test_signing_up_records_an_unconfirmed_follow_and_sends_only_the_confirmation(
    client: Client, scene: Scene, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[operator]
        response = sign_up(client, "request", scene.published.pk)
    assert response.status_code == 200
    assert "reader@example.org" in response.content.decode()
    assert len(callbacks) == 1  # the e-mail is published to the worker after commit
    follow = Follow.objects.get()
    assert (follow.email, follow.target_kind, follow.confirmed_at) == (
        "reader@example.org",
        "request",
        None,
    )
    deliver()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reader@example.org"]
    assert f"http://127.0.0.1:8000/public/follow/confirm/{follow.token}/" in message.body


def test_an_unconfirmed_follower_gets_no_digest(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    sign_up(client, "request", scene.published.pk)
    deliver()
    close(directory, scene.published)
    result = services.follow_digests_create(day=timezone.localdate())
    assert result.created == 0
    assert not FollowEmail.objects.filter(kind=FollowEmailKind.DIGEST).exists()


def test_the_confirmation_link_confirms_the_follow(client: Client, scene: Scene) -> None:
    sign_up(client, "request", scene.published.pk)
    follow = Follow.objects.get()
    response = client.get(f"/public/follow/confirm/{follow.token}/")
    assert response.status_code == 200
    follow.refresh_from_db()
    assert follow.confirmed_at is not None


def test_an_unknown_confirmation_link_is_404(client: Client, scene: Scene) -> None:
    assert client.get("/public/follow/confirm/not-a-real-token/").status_code == 404


def test_a_confirmed_follower_signing_up_again_gets_no_second_confirmation(
    client: Client, scene: Scene
) -> None:
    sign_up(client, "request", scene.published.pk)
    confirm_all(client)
    deliver()
    response = sign_up(client, "request", scene.published.pk)
    assert response.status_code == 200
    assert deliver() == []
    assert Follow.objects.count() == 1


def test_a_private_request_cannot_be_followed_and_answers_like_a_missing_one(
    client: Client, scene: Scene
) -> None:
    private = sign_up(client, "request", scene.private.pk)
    missing = sign_up(client, "request", scene.private.pk + 1000)
    assert private.status_code == missing.status_code == 400
    assert private.context["error"] == missing.context["error"]
    assert PRIVATE_WORD not in private.content.decode()
    assert not Follow.objects.exists()
    assert not FollowEmail.objects.exists()


def test_a_missing_deputy_district_or_department_cannot_be_followed(
    client: Client, scene: Scene
) -> None:
    for target in ("deputy", "district", "department"):
        response = sign_up(client, target, 999999)
        assert response.status_code == 400
    assert not Follow.objects.exists()


def test_bad_input_gets_a_clear_message_not_a_500(client: Client, scene: Scene) -> None:
    response = client.post(FOLLOW_URL, {"email": "nonsense", "target": "planet", "id": "x"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "target", "id"}


# --- Unsubscribing ------------------------------------------------------------------------------


def test_every_message_carries_the_one_click_unsubscribe_headers(
    client: Client, scene: Scene
) -> None:
    sign_up(client, "request", scene.published.pk)
    deliver()
    follow = Follow.objects.get()
    headers = mail.outbox[0].extra_headers
    url = f"http://127.0.0.1:8000/public/follow/unsubscribe/{follow.token}/"
    assert headers["List-Unsubscribe"] == f"<{url}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in mail.outbox[0].body


def test_the_unsubscribe_link_ends_the_follow_without_deleting_it(
    client: Client, scene: Scene
) -> None:
    sign_up(client, "request", scene.published.pk)
    confirm_all(client)
    follow = Follow.objects.get()
    response = client.get(f"/public/follow/unsubscribe/{follow.token}/")
    assert response.status_code == 200
    follow.refresh_from_db()
    assert follow.unsubscribed_at is not None
    assert Follow.objects.count() == 1


def test_a_one_click_post_unsubscribes_without_a_form_or_csrf_token(scene: Scene) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_up(Client(), "request", scene.published.pk)
    follow = Follow.objects.get()
    response = client.post(
        f"/public/follow/unsubscribe/{follow.token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    follow.refresh_from_db()
    assert follow.unsubscribed_at is not None


def test_an_unknown_unsubscribe_link_is_404(client: Client, scene: Scene) -> None:
    assert client.post("/public/follow/unsubscribe/forged-token/").status_code == 404


def test_the_digest_unsubscribe_link_ends_every_follow_of_the_address(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    sign_up(client, "request", scene.published.pk)
    sign_up(client, "district", scene.district_id)
    sign_up(client, "request", scene.published.pk, email="other@example.org")
    confirm_all(client)
    token = services.address_token("reader@example.org")
    assert client.post(f"/public/follow/unsubscribe/{token}/").status_code == 200
    live = Follow.objects.filter(unsubscribed_at__isnull=True)
    assert list(live.values_list("email", flat=True)) == ["other@example.org"]


def test_an_unsubscribed_follower_gets_no_confirmation_that_was_still_pending(
    client: Client, scene: Scene
) -> None:
    sign_up(client, "request", scene.published.pk)
    follow = Follow.objects.get()
    client.get(f"/public/follow/unsubscribe/{follow.token}/")
    deliver()
    assert mail.outbox == []


# --- Throttling -----------------------------------------------------------------------------------


def test_sign_ups_per_address_are_limited(client: Client, scene: Scene) -> None:
    statuses = [
        sign_up(client, "request", scene.published.pk, email="x@example.org").status_code
        for _ in range(throttles.PER_ADDRESS + 1)
    ]
    assert statuses == [200] * throttles.PER_ADDRESS + [429]
    other = sign_up(client, "request", scene.published.pk, email="y@example.org")
    assert other.status_code == 200


def test_sign_ups_per_ip_are_limited_with_a_clear_message(client: Client, scene: Scene) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the message is read in English
    for n in range(throttles.PER_IP):
        response = sign_up(client, "request", scene.published.pk, email=f"r{n}@example.org")
        assert response.status_code == 200
    response = sign_up(client, "request", scene.published.pk, email="last@example.org")
    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode()
    other_ip = Client(REMOTE_ADDR="10.0.0.9")
    assert (
        sign_up(other_ip, "request", scene.published.pk, email="last@example.org").status_code
        == 200
    )


# --- The digest -----------------------------------------------------------------------------------


def follow_everything(client: Client, directory: DemoDirectory, scene: Scene, **extra: str) -> None:
    sign_up(client, "request", scene.published.pk, **extra)
    sign_up(client, "district", scene.district_id, **extra)
    sign_up(client, "deputy", directory.alice.pk, **extra)
    sign_up(client, "department", directory.finance.pk, **extra)
    confirm_all(client)
    deliver()
    mail.outbox.clear()


def test_a_followers_digest_holds_only_public_fields(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    follow_everything(client, directory, scene)
    close(directory, scene.published)
    # A new private request in the followed district, of the followed deputy and department.
    hidden = make_request(
        directory, status=S.SUBMITTED, title=f"Ещё {PRIVATE_WORD}", is_public=False
    )
    route(directory, hidden)
    services.follow_digests_create(day=timezone.localdate())
    deliver()
    assert len(mail.outbox) == 1
    body = str(mail.outbox[0].body)
    assert str(scene.published.number) in body
    assert "Ремонт выполнен в октябре." in body  # the public final answer once closed
    for secret in (PRIVATE_WORD, THREAD_WORD, ADDRESS_WORD):
        assert secret not in body
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_address_gets_at_most_one_digest_a_day(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    follow_everything(client, directory, scene)
    close(directory, scene.published)
    today = timezone.localdate()
    first = services.follow_digests_create(day=today)
    again = services.follow_digests_create(day=today)
    call_command("send_follow_digests", "--date", today.isoformat())
    call_command("send_follow_digests", "--date", today.isoformat())
    assert (first.created, again.created) == (1, 0)
    assert FollowEmail.objects.filter(kind=FollowEmailKind.DIGEST).count() == 1
    assert len(mail.outbox) == 1


def test_a_day_without_public_changes_sends_nothing(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    follow_everything(client, directory, scene)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    call_command("send_follow_digests")  # yesterday by default
    assert services.follow_digests_create(day=yesterday).created == 0
    assert mail.outbox == []


def test_the_digest_is_written_in_the_language_chosen_at_sign_up(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    sign_up(client, "department", directory.finance.pk, language="en")
    sign_up(client, "department", directory.finance.pk, email="ru@example.org", language="ru")
    confirm_all(client)
    deliver()
    mail.outbox.clear()
    close(directory, scene.published)
    services.follow_digests_create(day=timezone.localdate())
    deliver()
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "Finance" in bodies["reader@example.org"]
    assert "Управление финансов" not in bodies["reader@example.org"]
    assert "Управление финансов" in bodies["ru@example.org"]


def test_the_beat_task_records_yesterdays_digests(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    from follows.tasks import send_digests

    follow_everything(client, directory, scene)
    close(directory, scene.published)
    today = timezone.localdate()
    assert send_digests(today.isoformat())["created"] == 1
    assert send_digests()["created"] == 0  # yesterday: nothing changed


def test_the_command_rejects_a_bad_date() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_follow_digests", "--date", "31.12.2026")


# --- Where the buttons are ---------------------------------------------------------------------


def test_public_pages_offer_the_follow_form(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    pages = {
        f"/public/requests/{scene.published.pk}/": ("request", scene.published.pk),
        f"/public/deputies/{directory.alice.pk}/": ("deputy", directory.alice.pk),
        f"/public/requests/?district={scene.district_id}": ("district", scene.district_id),
        f"/public/requests/?department={directory.finance.pk}": (
            "department",
            directory.finance.pk,
        ),
    }
    for url, (target, pk) in pages.items():
        html = client.get(url).content.decode()
        assert 'action="/public/follow/"' in html, url
        assert f'name="target" value="{target}"' in html, url
        assert f'name="id" value="{pk}"' in html, url
        assert 'for="follow-email-' in html, url


def test_a_signed_in_user_sees_and_stops_what_they_follow_in_settings(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    user = directory.alice.user
    user.email = "alice@example.org"
    user.save(update_fields=["email"])
    client.force_login(user)
    page = client.get(f"/public/requests/{scene.published.pk}/").content.decode()
    assert 'value="alice@example.org"' in page
    sign_up(client, "request", scene.published.pk, email="alice@example.org")
    confirm_all(client)
    settings_page = client.get("/accounts/settings/").content.decode()
    follow = Follow.objects.get()
    assert str(scene.published.number) in settings_page
    assert f"/public/follow/unsubscribe/{follow.token}/" in settings_page
    client.post(f"/public/follow/unsubscribe/{follow.token}/")
    assert str(scene.published.number) not in client.get("/accounts/settings/").content.decode()
