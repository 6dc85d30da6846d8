"""The blog's static pages (site/blog/) as the edge serves them: CSP-friendly and labelled.

Their behaviour in Chromium is the browser tier's; here, what a reading of the files shows.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from events.topology import TOPOLOGY

SITE = Path(__file__).resolve().parents[2] / "site" / "blog"
PAGES = ("index.html", "article.html")


class Page(HTMLParser):
    """Every element's tag and attributes, and whether a script or style has inline text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._open = tag

    def handle_data(self, data: str) -> None:
        if self._open in ("script", "style") and data.strip():
            self.inline.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def parsed(name: str) -> Page:
    page = Page()
    page.feed((SITE / name).read_text(encoding="utf-8"))
    return page


@pytest.mark.parametrize("name", PAGES)
def test_a_page_has_no_inline_script_or_style_and_loads_only_its_own_files(name):
    page = parsed(name)
    assert page.inline == []
    for tag, attrs in page.elements:
        assert tag != "style" and "style" not in attrs, (tag, attrs)
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        if tag == "script":
            assert attrs["src"] == "/blog/blog.js" and "defer" in attrs
        if tag == "link" and attrs.get("rel") == "stylesheet":
            assert attrs["href"] == "/blog/blog.css"
    assert (SITE / "blog.js").is_file() and (SITE / "blog.css").is_file()


@pytest.mark.parametrize("name", PAGES)
def test_every_field_is_labelled_and_described_by_elements_that_exist(name):
    page = parsed(name)
    ids = {attrs["id"] for _, attrs in page.elements if "id" in attrs}
    labelled = {attrs["for"] for tag, attrs in page.elements if tag == "label"}
    for tag, attrs in page.elements:
        if tag in ("input", "textarea", "select"):
            assert attrs["id"] in labelled, attrs
            assert f"{attrs['id']}-error" in attrs["aria-describedby"].split(), attrs
        for referenced in attrs.get("aria-describedby", "").split() + attrs.get("aria-labelledby", "").split():
            assert referenced in ids, (tag, referenced)
    assert len(ids) == len([a for _, a in page.elements if "id" in a])  # ids are unique


def test_the_pages_carry_the_ids_a_browser_test_drives():
    index = {a["id"] for _, a in parsed("index.html").elements if "id" in a}
    article = {a["id"] for _, a in parsed("article.html").elements if "id" in a}
    assert {"articles", "older", "newest", "list-state"} <= index
    assert {
        "article-title",
        "article-content",
        "comments",
        "more-comments",
        "comment-form",
        "author",
        "email",
        "body",
        "submit",
        "form-error",
        "thanks",
        "thanks-heading",
        "comment-id",
    } <= article


def test_the_edge_serves_the_pages_where_they_link_to():
    site = TOPOLOGY.site
    assert site is not None
    assert any(f.folder == "site/blog" and f.prefix == "blog/" for f in site.files)
    rewrites = {b.path_pattern: b.rewrite for b in site.distribution.behaviours}
    assert rewrites["/blog/"] == "/blog/index.html" and rewrites["/blog/a/*"] == "/blog/article.html"
    script = (SITE / "blog.js").read_text(encoding="utf-8")
    assert "`/blog/a/${" in script and "/blog/?cursor=" in script
    assert "innerHTML" not in script  # every text is set as text
