"""Playwright driving Debian's Chromium: the shared launcher of every browser journey.

Never ``playwright install``: the browser is ``/usr/bin/chromium`` (``.ci/run``
installs it). Every request that does not go to the live server is aborted and
recorded, and the journey fails if any was attempted: the portal must work in a
closed network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def browser_page(live_server_url: str, *, width: int = 1280, height: int = 900) -> Iterator[tuple]:
    """Yield ``(page, blocked)``: a page kept to the live server, and the URLs tried elsewhere."""
    with _launch(live_server_url, width=width, height=height, bypass_csp=False) as opened:
        yield opened


@contextmanager
def checked_browser_page(
    live_server_url: str, *, width: int = 1280, height: int = 900
) -> Iterator[tuple]:
    """Like ``browser_page``, but the test may inject its own script (the accessibility checker).

    The portal's Content-Security-Policy allows only the portal's own files; this page lets
    the test's injected ``<script>`` run without changing the policy the portal sends.
    """
    with _launch(live_server_url, width=width, height=height, bypass_csp=True) as opened:
        yield opened


@contextmanager
def _launch(live_server_url: str, *, width: int, height: int, bypass_csp: bool) -> Iterator[tuple]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev dependency
        skip_or_fail("playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; the test's ORM
    # calls between browser steps are still synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    allowed_host = urlsplit(live_server_url).netloc
    blocked: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == allowed_host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="ru-RU",
                bypass_csp=bypass_csp,
            )
            context.route("**/*", guard)
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page, blocked
        finally:
            browser.close()
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


AXE_SCRIPT = (
    Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe-core" / "axe.min.js"
)
AXE_TAGS = ["wcag2a", "wcag2aa"]
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (vendored for the tests only) on the page: its WCAG 2 A and AA violations.

    The script is injected by the test (on a ``checked_browser_page``), never
    referenced by a template. Each violation is ``{id, impact, help, targets}``.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations that fail the accessibility test: impact serious or critical."""
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
