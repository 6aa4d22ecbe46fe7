"""The public portal: published requests with their answers once closed; nothing private, ever.

The requests here go through the real services (publish flag, thread messages, answers), so
the test sees what a visitor would: a private request must not show up on any page, through
search, through a statistics drill-down or on a deputy's page.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from instructions.models import Meeting, MeetingKind
from requests_app import services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory, DistrictFactory
from tests.requests_helpers import category, make_request

pytestmark = pytest.mark.django_db

S = RequestStatus
PUBLIC_WORD = "светофор"
PRIVATE_WORD = "конфиденциально"
THREAD_WORD = "паспортные"


@dataclass
class Scene:
    published_closed: DeputyRequest
    published_answered: DeputyRequest
    published_by_bob: DeputyRequest
    private: DeputyRequest
    public_draft: DeputyRequest


@pytest.fixture
def scene(directory: DemoDirectory) -> Scene:
    district = DistrictFactory.create(code="almaly", name_ru="Алмалинский")
    roads = category("roads")
    closed = make_request(
        directory,
        status=S.CLOSED,
        title=f"Установить {PUBLIC_WORD} у школы",
        body="Дети переходят дорогу без светофора.",
        address="ул. Абая, д. 10, кв. 5",
        district=district,
        category_obj=roads,
        is_public=True,
    )
    answered = make_request(
        directory,
        status=S.ANSWERED,
        title="Освещение парка",
        body="В парке темно.",
        district=district,
        category_obj=roads,
        is_public=True,
    )
    by_bob = make_request(
        directory,
        status=S.IN_PROGRESS,
        author=directory.bob,
        co_authors=[directory.alice],
        title="Ремонт тротуара",
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
    draft = make_request(
        directory,
        status=S.DRAFT,
        title="Черновик для публикации",
        district=district,
        category_obj=roads,
        is_public=True,
    )
    # Private talk in a published request's thread never reaches the public.
    services.deputy_request_message_post(
        pk=by_bob.pk, by=directory.bob.user, text=f"Вот {THREAD_WORD} данные заявителя"
    )
    return Scene(closed, answered, by_bob, private, draft)


def test_the_portal_answers_without_a_login(client: Client, scene: Scene) -> None:
    for name in (
        "reports:public",
        "reports:public-requests",
        "reports:public-statistics",
        "reports:public-rankings",
        "reports:public-methodology",
        "reports:public-deputies",
        "reports:public-plan",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert scene.private.title not in html, name
        assert "<script>" not in html, "no inline script (CSP)"


def test_the_front_page_shows_published_requests_only(client: Client, scene: Scene) -> None:
    html = client.get(reverse("reports:public")).content.decode()
    assert scene.published_closed.title in html
    assert scene.private.title not in html
    assert scene.public_draft.title not in html


def test_the_list_holds_published_registered_requests_only(client: Client, scene: Scene) -> None:
    response = client.get(reverse("reports:public-requests"))
    shown = {row.pk for row in response.context["rows"]}
    assert shown == {
        scene.published_closed.pk,
        scene.published_answered.pk,
        scene.published_by_bob.pk,
    }


def test_search_finds_a_published_request_and_never_a_private_one(
    client: Client, scene: Scene
) -> None:
    found = client.get(reverse("reports:public-requests"), {"search": PUBLIC_WORD})
    assert [row.pk for row in found.context["rows"]] == [scene.published_closed.pk]
    hidden = client.get(reverse("reports:public-requests"), {"search": PRIVATE_WORD})
    assert list(hidden.context["rows"]) == []
    html = hidden.content.decode()
    assert scene.private.title not in html
    number = scene.private.number or ""
    assert number and number not in html
    by_number = client.get(reverse("reports:public-requests"), {"search": number})
    assert list(by_number.context["rows"]) == []


def test_search_does_not_reach_into_threads(client: Client, scene: Scene) -> None:
    # Staff search finds the thread's words; the public one must not tell they are there.
    staff_side = DeputyRequest.objects.filter(search_document__icontains=THREAD_WORD)
    assert staff_side.exists()
    response = client.get(reverse("reports:public-requests"), {"search": THREAD_WORD})
    assert list(response.context["rows"]) == []


def test_a_closed_published_request_shows_its_final_answer(client: Client, scene: Scene) -> None:
    response = client.get(reverse("reports:public-request", args=[scene.published_closed.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert scene.published_closed.body in html
    assert "Ремонт выполнен в октябре." in html  # the final answer's text
    assert directory_name(scene.published_closed) in html
    # Never the address (it may be a citizen's home).
    assert "кв. 5" not in html


def directory_name(item: DeputyRequest) -> str:
    return item.author.user.full_name


def test_an_answer_is_not_public_until_the_request_is_closed(client: Client, scene: Scene) -> None:
    html = client.get(
        reverse("reports:public-request", args=[scene.published_answered.pk])
    ).content.decode()
    assert "Ремонт выполнен в октябре." not in html


def test_a_private_or_draft_request_page_is_404(client: Client, scene: Scene) -> None:
    for item in (scene.private, scene.public_draft):
        assert client.get(reverse("reports:public-request", args=[item.pk])).status_code == 404
    assert client.get("/public/requests/999999/").status_code == 404


def test_a_published_request_page_never_shows_the_thread(client: Client, scene: Scene) -> None:
    html = client.get(
        reverse("reports:public-request", args=[scene.published_by_bob.pk])
    ).content.decode()
    assert THREAD_WORD not in html
    assert "attachment" not in html.lower()


def test_statistics_count_every_request_but_drill_down_lists_only_published(
    client: Client, scene: Scene
) -> None:
    response = client.get(reverse("reports:public-statistics"))
    totals = response.context["totals"]
    registered = DeputyRequest.objects.exclude(status=S.DRAFT)
    assert totals["received"] == registered.count()
    assert totals["published"] == registered.filter(is_public=True).count()
    html = response.content.decode()
    links = re.findall(r'href="(/public/requests/\?[^"]+)" data-drilldown', html)
    assert links, "every statistic with published requests links to them"
    for link in links:
        listed = client.get(link.replace("&amp;", "&"))
        pks = {row.pk for row in listed.context["rows"]}
        assert scene.private.pk not in pks
        assert scene.public_draft.pk not in pks
        assert all(DeputyRequest.objects.get(pk=pk).is_public for pk in pks)


def test_a_deputys_page_shows_their_published_requests_only(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    response = client.get(reverse("reports:public-deputy", args=[directory.alice.pk]))
    assert response.status_code == 200
    shown = {row.pk for row in response.context["requests"]}
    # Their own published ones, and the one they co-authored with bob.
    assert shown == {
        scene.published_closed.pk,
        scene.published_answered.pk,
        scene.published_by_bob.pk,
    }
    html = response.content.decode()
    assert scene.private.title not in html
    assert scene.public_draft.title not in html
    assert directory.alice.user.email not in html
    listed = client.get(reverse("reports:public-requests"), {"author": directory.alice.pk})
    assert {row.pk for row in listed.context["rows"]} == shown
    assert client.get(reverse("reports:public-deputy", args=[999999])).status_code == 404


def test_the_deputies_page_lists_active_deputies_with_their_published_counts(
    client: Client, directory: DemoDirectory, scene: Scene
) -> None:
    response = client.get(reverse("reports:public-deputies"))
    counts = {deputy.pk: deputy.published for deputy in response.context["deputies"]}
    assert counts[directory.alice.pk] == 2  # authored and published (not the private one)
    assert counts[directory.bob.pk] == 1


def test_the_deputy_page_lists_their_activities(client: Client, directory: DemoDirectory) -> None:
    from kpi.models import ActivityKind, DeputyActivity

    DeputyActivity.objects.create(
        deputy=directory.alice,
        kind=ActivityKind.RECEPTION,
        date=timezone.localdate(),
        note="Приём гражданки Ивановой по личному вопросу",
        recorded_by=directory.staff,
    )
    response = client.get(reverse("reports:public-deputy", args=[directory.alice.pk]))
    summary = {str(row["label"]): row["count"] for row in response.context["activity_summary"]}
    assert summary[str(ActivityKind.RECEPTION.label)] == 1
    # The activity's note may name a citizen: it is not shown.
    assert "Ивановой" not in response.content.decode()


def test_the_plan_lists_upcoming_meetings_and_field_visits(
    client: Client, directory: DemoDirectory
) -> None:
    today = timezone.localdate()
    common = {"convocation": directory.convocation, "created_by": directory.staff}
    Meeting.objects.create(
        kind=MeetingKind.SESSION, date=today + datetime.timedelta(days=10), title="Сессия", **common
    )
    Meeting.objects.create(
        kind=MeetingKind.HEARING,
        date=today + datetime.timedelta(days=3),
        title="Выезд на объект",
        is_field_visit=True,
        **common,
    )
    Meeting.objects.create(
        kind=MeetingKind.SESSION, date=today - datetime.timedelta(days=3), title="Прошлая", **common
    )
    response = client.get(reverse("reports:public-plan"))
    titles = [meeting.title for meeting in response.context["meetings"]]
    assert titles == ["Выезд на объект", "Сессия"]
    assert "Прошлая" not in response.content.decode()


def test_the_plan_shows_a_page_of_meetings_and_links_the_later_ones(
    client: Client, directory: DemoDirectory
) -> None:
    from reports.public import PLAN_LIMIT

    today = timezone.localdate()
    # Several meetings a day: a page may end inside a day and the next one goes on from it.
    Meeting.objects.bulk_create(
        Meeting(
            convocation=directory.convocation,
            created_by=directory.staff,
            kind=MeetingKind.SESSION,
            date=today + datetime.timedelta(days=i // 3),
            title=f"Заседание {i}",
        )
        for i in range(PLAN_LIMIT + 5)
    )
    expected = list(
        Meeting.objects.filter(date__gte=today).order_by("date", "id").values_list("pk", flat=True)
    )
    url = reverse("reports:public-plan")
    first = client.get(url)
    assert [m.pk for m in first.context["meetings"]] == expected[:PLAN_LIMIT]
    html = first.content.decode()
    assert "data-plan-later" in html and "data-plan-first" not in html
    later = client.get(url + "?" + first.context["next_query"])
    assert [m.pk for m in later.context["meetings"]] == expected[PLAN_LIMIT:]
    html = later.content.decode()
    assert "data-plan-later" not in html and "data-plan-first" in html
    # Anything else in the address reads as the first page.
    for query in ("?from=nonsense&after=1", "?from=2026-13-01&after=x", "?after=5"):
        response = client.get(url + query)
        assert response.status_code == 200
        assert [m.pk for m in response.context["meetings"]] == expected[:PLAN_LIMIT]
    # The front page shows the nearest five.
    front = client.get(reverse("reports:public"))
    assert [m.pk for m in front.context["upcoming"]] == expected[:5]


def test_rankings_show_an_empty_state_before_any_snapshot(client: Client, scene: Scene) -> None:
    response = client.get(reverse("reports:public-rankings"))
    assert response.status_code == 200
    assert "data-empty-ranking" in response.content.decode()


def test_rankings_and_methodology_read_the_kpi(client: Client, directory: DemoDirectory) -> None:
    from kpi import services as kpi_services
    from tests.kpi.test_kpi_services import AS_OF, Q3, worked_example

    worked_example(directory)
    kpi_services.kpi_compute(as_of=AS_OF, period=Q3)
    response = client.get(reverse("reports:public-rankings"), {"period": Q3})
    assert response.context["period"] == Q3
    html = response.content.decode()
    assert directory.finance.name in html
    assert reverse("reports:export-kpi") in html
    other = client.get(reverse("reports:public-rankings"), {"period": "1999-Q1"})
    assert other.context["unknown_period"] is True
    methodology = client.get(reverse("reports:public-methodology"))
    assert methodology.status_code == 200
    assert "timeliness" not in methodology.context["sections"][0][0]["components"][0]["label"]


def test_the_public_list_rejects_nonsense_quietly(client: Client, scene: Scene) -> None:
    response = client.get(
        reverse("reports:public-requests"),
        {"district": "abc", "month": "2026-13", "page": "x", "search": "x" * 500},
    )
    assert response.status_code == 200


def test_a_deputys_page_shows_the_newest_authored_and_co_authored_requests(
    client: Client, directory: DemoDirectory
) -> None:
    from reports.public import published_requests
    from reports.selectors import own_requests
    from tests.reports_helpers import bulk_requests, places

    made = bulk_requests(directory, 90, places())
    # Alice co-authors some of Bob's requests, published or not, old and new.
    through = DeputyRequest.co_authors.through
    through.objects.bulk_create(
        through(deputyrequest_id=r.pk, deputy_id=directory.alice.pk)
        for r in made[::4]
        if r.author_id == directory.bob.pk
    )
    expected = list(
        own_requests(published_requests(), directory.alice.pk)
        .order_by("-submitted_at", "-id")
        .values_list("pk", flat=True)
    )
    assert len(expected) > 20
    assert {r.author_id for r in DeputyRequest.objects.filter(pk__in=expected[:20])} == {
        directory.alice.pk,
        directory.bob.pk,
    }
    response = client.get(reverse("reports:public-deputy", args=[directory.alice.pk]))
    assert [r.pk for r in response.context["requests"]] == expected[:20]
    assert response.context["more_requests"]
