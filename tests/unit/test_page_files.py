"""The site's pages load every script and style from a file: the response headers policy's CSP
(`script-src 'self'; style-src 'self'`, no `unsafe-inline`) would block anything inline."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("ingest_api/web/*.html"), *ROOT.glob("ingest_api/local_web/*.html"), *ROOT.glob("site/**/*.html")])


class Inline(HTMLParser):
    """Collects what a CSP without `unsafe-inline` refuses: inline scripts, style elements and attributes, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower() for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("an inline <script>")
        if tag == "style":
            self.found.append("a <style> element")
        self.found += [f"a {name}= attribute on <{tag}>" for name in names if name == "style" or name.startswith("on")]
        href = dict(attrs).get("href") or ""
        if href.lower().startswith("javascript:"):
            self.found.append(f"a javascript: link on <{tag}>")


def test_there_are_pages():
    assert len(PAGES) >= 4


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_page_has_nothing_inline(page):
    parser = Inline()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.found == [], page
