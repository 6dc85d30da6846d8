"""The blog's pages in a real browser, through the local edge: the list, an article, a comment."""

from __future__ import annotations

import time

import pytest
import requests

from ingest_api.cache import DEFAULT_TTL_SECONDS

from .conftest import open_page

pytestmark = pytest.mark.browser


def outlive_the_apis_read_cache(read_at: float) -> None:
    """Wait until the API's own read cache no longer holds what was read at `read_at`.

    The API answers a repeated read from its in-process cache for 5 s; a purge that lands
    sooner lets the edge store that older copy again, for its whole TTL.
    """
    time.sleep(max(0.0, read_at + DEFAULT_TTL_SECONDS + 0.5 - time.monotonic()))


def publish_article(api_url: str, title: str) -> str:
    """An article posted with a writer's key, as the blog's integration does; its id."""
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys

    key = new_key("blog-browser", ["articles:write"], DynamoApiKeys())[0]
    body = {"title": title, "content": f"All about {title}.\n\nA second paragraph.", "author": "Ada"}
    posted = requests.post(f"{api_url}/v1/articles", json=body, headers={"x-api-key": key}, timeout=10)
    assert posted.status_code == 202, posted.text
    return posted.json()["article_id"]


def test_the_list_an_article_and_a_comment_that_shows_once_its_cached_page_is_purged(running_fleet, edge, browser, page, shots):
    article_id = publish_article(running_fleet.api_url, "Caching at the edge")
    running_fleet.drain()

    listed = page.goto(f"{edge.url}/blog/")
    assert listed.headers["x-cache"] in ("Miss from fleet-edge", "Hit from fleet-edge")
    link = page.get_by_role("link", name="Caching at the edge")
    link.wait_for()
    shots.take(page, "list")
    link.click()
    page.get_by_role("heading", name="Caching at the edge").wait_for()
    assert page.url == f"{edge.url}/blog/a/{article_id}"
    assert "A second paragraph." in page.locator("#article-content").inner_text()
    page.locator("#comments-section").wait_for()
    # The page's reads went through the edge and are stored there now.
    comments = f"{edge.url}/v1/articles/{article_id}/comments?limit=20"
    assert requests.get(comments, timeout=10).headers["X-Cache"] == "Hit from fleet-edge"
    read_at = time.monotonic()

    page.get_by_label("Name").fill("Grace")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("textbox", name="Comment").fill("Served from the cache, and purged.")
    page.get_by_role("button", name="Send my comment").click()
    page.locator("#thanks").wait_for(timeout=20_000)
    shots.take(page, "thanks")
    running_fleet.drain()

    # A new comment invalidates nothing: the edge still has the page of comments without it.
    stale = requests.get(comments, timeout=10)
    if time.monotonic() - read_at < 9:  # within the comments' 10 s TTL
        assert stale.headers["X-Cache"] == "Hit from fleet-edge" and stale.json()["comments"] == []
    # A purge (or the comments' TTL) brings it to every reader whose browser holds no copy.
    assert page.problems == []
    outlive_the_apis_read_cache(read_at)
    purged = requests.post(f"{edge.url}/_edge/purge", json={"paths": [f"/v1/articles/{article_id}/comments*"]}, timeout=10)
    assert purged.json()["purged"] >= 1
    context, reader = open_page(browser, shots, viewport={"width": 1100, "height": 900})
    try:
        reader.goto(f"{edge.url}/blog/a/{article_id}")
        reader.get_by_text("Served from the cache, and purged.").wait_for(timeout=10_000)
        assert reader.locator("#comments li").count() == 1
        shots.take(reader, "comment-shown")
        assert reader.problems == []
    finally:
        context.close()


def test_an_edited_article_shows_through_the_edge_as_soon_as_the_worker_purged_it(running_fleet, edge, browser, shots):
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys

    article_id = publish_article(running_fleet.api_url, "Before the edit")
    running_fleet.drain()
    context, page = open_page(browser, shots)
    page.goto(f"{edge.url}/blog/a/{article_id}")
    page.get_by_role("heading", name="Before the edit").wait_for()
    context.close()
    assert requests.get(f"{edge.url}/v1/articles/{article_id}", timeout=10).headers["X-Cache"] == "Hit from fleet-edge"
    outlive_the_apis_read_cache(time.monotonic())

    # Another key than the one that wrote it: an editor, who may change every article.
    key = new_key("blog-editor", ["articles:write", "articles:admin"], DynamoApiKeys())[0]
    edited = requests.patch(
        f"{edge.url}/v1/articles/{article_id}", json={"title": "After the edit"}, headers={"x-api-key": key}, timeout=10
    )
    assert edited.status_code == 202, edited.text
    running_fleet.drain()  # the worker applied it and purged the article, its comments and the list
    # A reader whose browser holds no copy sees the edit at once, not after the article's TTL.
    context, page = open_page(browser, shots)
    try:
        page.goto(f"{edge.url}/blog/a/{article_id}")
        page.get_by_role("heading", name="After the edit").wait_for(timeout=10_000)
        assert page.problems == []
    finally:
        context.close()
