"""The form renderer: Django's, with the select lists written in Python.

Django renders a ``<select>`` through a template and each of its options through one
more: a list page's filter form (departments, districts, categories, executors) made a
few hundred small template renders, about a third of the page's time. ``PortalFormRenderer``
writes the same markup, character for character, without them (``tests/core/
test_renderers.py`` compares the two); every other widget is Django's template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

#: Django's template of a ``Select`` and a ``SelectMultiple`` and of their options.
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    """A value as ``{{ value }}`` prints it: localized, then escaped unless safe."""
    return str(conditional_escape(localize(value)))


def _formatted(value: Any) -> str:
    """A value as ``{{ value|stringformat:'s' }}`` prints it."""
    text = value if isinstance(value, SafeString) else str(value)
    return str(conditional_escape(text))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: ``False`` leaves an attribute out, ``True``
    writes its name alone."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(
            f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        )
    return "".join(parts)


def _options(options: Iterable[Mapping[str, Any]]) -> str:
    return "".join(
        f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>\n"
        for option in options
    )


def render_select(widget: Mapping[str, Any]) -> str:
    """The markup of ``SELECT_TEMPLATE`` for a widget's context (stripped, as Django's
    renderer returns it)."""
    body = []
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            body.append(f'\n  <optgroup label="{_text(group_name)}">')
        body.append(_options(group_choices))
        if group_name:
            body.append("\n  </optgroup>")
    opening = f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>'
    return f"{opening}{''.join(body)}\n</select>".strip()


class PortalFormRenderer(DjangoTemplates):
    """Django's template form renderer; a select list whose options are Django's own is
    written by ``render_select``."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget") if template_name == SELECT_TEMPLATE else None
        if widget is not None and all(
            option.get("template_name") == OPTION_TEMPLATE
            for _name, group, _index in widget["optgroups"]
            for option in group
        ):
            return mark_safe(render_select(widget))
        return super().render(template_name, context, request=request)
