"""Pages parse input, read through selectors, present and render: no view module of the
KPI, the reports (dashboards, exports, the public portal), the deputy requests, the
protocol instructions or the shared item machinery (``maslikhat/core``: the notification
pages, the item kit) touches a model manager (``Model.objects``) itself. The reads live in
the apps' ``selectors.py`` (and ``reports/public.py``, ``instructions/queries.py``,
``maslikhat/core/notifications.py``), where visibility and query budgets are kept."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Apps whose pages are held to the rule.
APPS = (
    "kpi",
    "reports",
    "requests_app",
    "instructions",
    "imports",
    "commitments",
    "maslikhat/core",
    "maslikhat/directory",
)


def view_modules(app: str) -> list[Path]:
    """``views.py``, ``*_views.py`` and every module of a ``views/`` package."""
    base = ROOT / app
    found = {
        *base.glob("views.py"),
        *base.glob("*_views.py"),
        *base.glob("views/*.py"),
        *base.glob("web.py"),
    }
    return sorted(found)


def manager_uses(source: str) -> list[int]:
    """Lines where the source reads an attribute called ``objects`` (``Model.objects``)."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    )


MODULES = [path for app in APPS for path in view_modules(app)]


def test_the_check_finds_the_view_modules_of_every_app() -> None:
    names = {str(path.relative_to(ROOT)) for path in MODULES}
    assert {"kpi/views/rankings.py", "reports/views.py", "reports/public_views.py"} <= names
    assert {"requests_app/views.py", "instructions/views.py"} <= names
    assert {"maslikhat/core/notification_views.py", "maslikhat/core/item_views.py"} <= names


def test_the_check_sees_a_manager_however_it_is_reached() -> None:
    source = (
        "def page(request):\n    return Thing.objects.filter(a=1)\n\nx = models.Other.objects\n"
    )
    assert manager_uses(source) == [2, 4]
    assert manager_uses("def page(request):\n    return selectors.things(objects=1)\n") == []


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_view_module_reads_through_selectors_not_the_orm(path: Path) -> None:
    lines = manager_uses(path.read_text(encoding="utf-8"))
    assert lines == [], f"{path.relative_to(ROOT)} uses Model.objects on lines {lines}"
