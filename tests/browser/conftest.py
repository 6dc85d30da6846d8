"""Fixtures of the browser tier: Debian's Chromium driven by Playwright, screenshots kept.

The browser is `/usr/bin/chromium` (`make test` and `.ci/run` install it with apt-get);
Playwright's own downloaded browsers are never used. A missing browser fails the tier,
it never skips it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FLEET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots land here (gitignored), one folder per test.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or run make test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Shots:
    """Saves numbered screenshots of a page under test-artifacts/browser/<test>/."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def take(self, page, name: str) -> Path:
        """A full-page screenshot named `NN-name.png`."""
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request) -> Shots:
    """Where this test's screenshots go."""
    return Shots(ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name))


def open_page(browser, shots: Shots, **context_options):
    """A fresh context and page that records console errors and failed requests."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    # The page carries what went wrong for the test to read: Playwright's Page declares no such attribute.
    page.problems = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: page.problems.append(f"request failed: {r.method} {r.url} {r.failure}"))
    return context, page


@pytest.fixture
def page(browser, shots, request):
    """A desktop-sized page; a screenshot of its last state is kept whatever happens."""
    context, opened = open_page(browser, shots, viewport={"width": 1100, "height": 900})
    yield opened
    shots.take(opened, "last")
    context.close()


@pytest.fixture
def edge(running_fleet, monkeypatch):
    """The local edge in front of the test's API, the site published into its bucket: pages load through it."""
    from fleet.edge.server import EdgeServer
    from fleet.publish import publish
    from lambda_platform import settings
    from lambda_platform.adapters.edge import LocalEdgePurge

    server = EdgeServer(running_fleet.api_url)
    server.start()
    # The workers purge this edge once they change an article, as `fleet up` points them at its own.
    monkeypatch.setenv("FLEET_EDGE_URL", server.url)
    settings.reset()
    publish(edge=LocalEdgePurge(server.url))
    yield server
    server.stop()
