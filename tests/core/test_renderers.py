"""The portal's form renderer writes select lists exactly as Django's templates do.

``PortalFormRenderer`` replaces the template per option of a ``<select>`` by Python; its
markup must be Django's, character for character: for made-up widgets (groups, choices
chosen, attributes true and false, text that needs escaping, lazy labels, numbers) and for
the real filter forms of the list pages, rendered once each way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import Client, override_settings
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from maslikhat.core.renderers import PortalFormRenderer, render_select
from maslikhat.directory.models import Department
from tests.factories import DemoDirectory
from tests.instruction_helpers import make_instruction, make_world
from tests.requests_helpers import make_request

CHOICES = [
    ("", "---------"),
    ("a", "Алматы & <район>"),
    ("Группа «1»", [("b", gettext_lazy("Answered")), ("c\"'", 'кавычки "и" <теги>')]),
    (3, 1234567),
    (None, mark_safe("<b>уже безопасно</b>")),
]


def widgets() -> Iterator[tuple[forms.Widget, object]]:
    yield forms.Select(choices=CHOICES), "a"
    yield forms.Select(choices=CHOICES, attrs={"class": "form-select", "required": True}), None
    yield forms.Select(choices=CHOICES, attrs={"disabled": True, "data-x": 'a"b'}), 3
    yield forms.Select(choices=[]), None
    yield forms.SelectMultiple(choices=CHOICES), ["a", "b", 3]
    yield forms.SelectMultiple(choices=CHOICES, attrs={"hidden": False}), []
    yield forms.NullBooleanSelect(), True
    yield forms.NullBooleanSelect(), None


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_select_lists_are_django_s_own_markup(language: str) -> None:
    django_renderer, portal = DjangoTemplates(), PortalFormRenderer()
    with override(language):
        for number, (widget, value) in enumerate(widgets()):
            expected = widget.render(
                f"field{number}", value, {"id": f"id_{number}"}, django_renderer
            )
            written = widget.render(f"field{number}", value, {"id": f"id_{number}"}, portal)
            assert written == expected, widget


def test_render_select_escapes_what_is_not_safe() -> None:
    context = forms.Select(choices=CHOICES).get_context("x<y", "a", {"title": "<i>"})
    html = render_select(context["widget"])
    assert 'name="x&lt;y"' in html and 'title="&lt;i&gt;"' in html
    assert "Алматы &amp; &lt;район&gt;" in html and "<b>уже безопасно</b>" in html
    assert '<option value="a" selected>' in html


def forget_renderer() -> None:
    """The default renderer is built once (``functools.lru_cache``): built again."""
    get_default_renderer.cache_clear()  # type: ignore[attr-defined]


def test_the_portal_uses_it() -> None:
    forget_renderer()
    assert isinstance(get_default_renderer(), PortalFormRenderer)


#: The CSRF token is masked afresh on every page: left out of the comparison.
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+"')


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return CSRF.sub(r"\1", response.content.decode())


@pytest.mark.django_db
def test_the_list_pages_are_the_same_with_either_renderer(directory: DemoDirectory) -> None:
    world = make_world(directory)
    make_instruction(world)
    make_request(directory, status="in_progress", lead=Department.objects.first())
    client = Client()
    client.force_login(directory.staff)
    paths = ["/requests/", "/instructions/", "/requests/?status=in_progress"]
    forget_renderer()
    ours = {path: page(client, path) for path in paths}
    assert all("<select" in html for html in ours.values())
    forget_renderer()
    with override_settings(FORM_RENDERER="django.forms.renderers.DjangoTemplates"):
        theirs = {path: page(client, path) for path in paths}
    forget_renderer()
    assert ours == theirs
