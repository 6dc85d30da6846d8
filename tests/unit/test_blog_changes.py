"""The blog as a site, over fakes: an article's comments in pages, its edit and unpublishing
through the API, and workers.blog applying them in order and invalidating the edge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events.blog import encode_comment_cursor, encode_cursor, feed_key
from events.messages.blog import EditArticle, PostComment, PublishArticle, UnpublishArticle
from events.messages.envelope import dump_message, load_message
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.blog import FakeArticles, FakeComments
from tests.fakes.edge import FakeEdgeCache
from tests.fakes.tables import FakeQueue
from workers import blog as blog_worker
from workers.blog import BlogPorts, change_article, store_article, store_comment

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def site():
    keys = FakeApiKeys()
    writer_key = keys.issue("articles:write")
    return {
        "queue": FakeQueue(),
        "articles": FakeArticles(),
        "comments": FakeComments(),
        "keys": keys,
        "edge": FakeEdgeCache(),
        # The writer's key, which created the articles `publish` stores.
        "writer_key": writer_key,
        "writer_id": keys.id_of(writer_key),
    }


def client_of(site, read_cache_seconds: float = 60):
    services = Ports(
        **fake_ports(blog_queue=site["queue"], articles=site["articles"], comments=site["comments"], api_keys=site["keys"])
    )
    return create_app({"TESTING": True, "SERVICES": services, "READ_CACHE_SECONDS": read_cache_seconds}).test_client()


@pytest.fixture
def reader(site):
    """A client without a key: the blog's pages."""
    return client_of(site)


@pytest.fixture
def writer(site):
    """A client with an `articles:write` key, and no read cache (so a change shows at once)."""
    client = client_of(site, read_cache_seconds=0)
    client.environ_base["HTTP_X_API_KEY"] = site["writer_key"]
    return client


def publish(site, title: str = "Sourdough", minutes: int = 0, published: bool = True) -> str:
    article_id = str(uuid.uuid4())
    received = (T0 + timedelta(minutes=minutes)).isoformat()
    command = PublishArticle(article_id, title, f"All about {title}.", "Ada", published, received, created_by=site["writer_id"])
    assert store_article(command, site["articles"])
    return article_id


def comment(site, article_id: str, body: str, minutes: int) -> str:
    command = PostComment(str(uuid.uuid4()), article_id, "Grace", "grace@example.com", body, T0.isoformat())
    store_comment(command, site["articles"], site["comments"], now=T0 + timedelta(minutes=minutes))
    return command.comment_id


def edit(article_id: str, minutes: int, **changes) -> EditArticle:
    return EditArticle(str(uuid.uuid4()), article_id, changes, (T0 + timedelta(hours=1, minutes=minutes)).isoformat())


def unpublish(article_id: str, minutes: int) -> UnpublishArticle:
    return UnpublishArticle(str(uuid.uuid4()), article_id, (T0 + timedelta(hours=1, minutes=minutes)).isoformat())


# --- GET /v1/articles/{id}/comments ---------------------------------------------------


def test_comments_are_listed_oldest_first_in_pages_one_query_each_without_emails(reader, site):
    article_id = publish(site)
    other = publish(site, "Other")
    ids = [comment(site, article_id, f"Comment {n}", minutes=n) for n in (3, 1, 4, 2, 5)]
    comment(site, other, "Elsewhere", minutes=0)
    # A rejected comment of the same article is never listed.
    site["comments"].create(
        {
            "comment_id": str(uuid.uuid4()),
            "article_id": article_id,
            "status": "rejected",
            "author": "X",
            "email": "x@example.com",
            "body": "no",
            "created_at": (T0 + timedelta(minutes=1, seconds=30)).isoformat(),
        }
    )
    oldest_first = [ids[1], ids[3], ids[0], ids[2], ids[4]]
    pages, cursor = [], None
    while True:
        answer = reader.get(
            f"/v1/articles/{article_id}/comments", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert answer.status_code == 200, answer.json
        assert answer.json["article_id"] == article_id
        for shown in answer.json["comments"]:
            assert set(shown) == {"comment_id", "author", "body", "created_at"}  # never the email
        pages.append([c["comment_id"] for c in answer.json["comments"]])
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    assert [c for page in pages for c in page] == oldest_first
    assert all(len(page) <= 2 for page in pages)
    assert site["comments"].queries == len(pages)  # one Query a page


def test_a_full_page_of_comments_is_the_limit_and_the_default_is_twenty(reader, site):
    article_id = publish(site)
    for n in range(25):
        comment(site, article_id, f"C{n}", minutes=n)
    first = reader.get(f"/v1/articles/{article_id}/comments").json
    assert len(first["comments"]) == 20 and first["next_cursor"]
    rest = reader.get(f"/v1/articles/{article_id}/comments", query_string={"cursor": first["next_cursor"]}).json
    assert [c["body"] for c in rest["comments"]] == [f"C{n}" for n in range(20, 25)] and rest["next_cursor"] is None


def test_comment_cursors_are_checked(reader, site):
    article_id, other = publish(site), publish(site, "Other")
    key = f"{T0.isoformat()}#{uuid.uuid4()}"
    for cursor in [
        "",
        "!!",
        "bm9wZQ",
        "A" * 400,
        encode_cursor(key),
        encode_comment_cursor(other, key),
        encode_comment_cursor(article_id, "2026-01-01#not-an-id"),
    ]:
        answer = reader.get(f"/v1/articles/{article_id}/comments", query_string={"cursor": cursor})
        assert answer.status_code == 400, cursor
        assert answer.json["error"]["code"] == "invalid_cursor"
        assert answer.json["error"]["fields"] == {"cursor": ["Not a valid cursor."]}
    good = reader.get(f"/v1/articles/{article_id}/comments", query_string={"cursor": encode_comment_cursor(article_id, key)})
    assert good.status_code == 200
    # A comments cursor is no cursor of the list either.
    assert reader.get("/v1/articles", query_string={"cursor": encode_comment_cursor(article_id, key)}).status_code == 400


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", "１"])
def test_a_bad_comments_limit_is_a_422(reader, site, limit):
    answer = reader.get(f"/v1/articles/{publish(site)}/comments", query_string={"limit": limit})
    assert answer.status_code == 422 and "limit" in answer.json["error"]["fields"]


def test_comments_are_cacheable_with_an_etag_and_read_through_the_cache(reader, site):
    article_id = publish(site)
    comment(site, article_id, "Hi", minutes=1)
    first = reader.get(f"/v1/articles/{article_id}/comments")
    assert first.headers["Cache-Control"] == "public, max-age=10"
    assert first.headers["ETag"].startswith('"') and not first.headers["ETag"].startswith("W/")
    again = reader.get(f"/v1/articles/{article_id}/comments", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert site["comments"].queries == 1  # the second came from the in-process cache
    other = reader.get(f"/v1/articles/{article_id}/comments", headers={"If-None-Match": '"else"'})
    assert other.status_code == 200


def test_comments_of_a_missing_or_unpublished_article_are_a_404(reader, site):
    assert reader.get(f"/v1/articles/{uuid.uuid4()}/comments").json["error"]["code"] == "article_not_found"
    assert reader.get("/v1/articles/not-an-id/comments").status_code == 404
    article_id = publish(site)
    assert change_article(unpublish(article_id, 0), site["articles"], site["edge"])
    answer = reader.get(f"/v1/articles/{article_id}/comments")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "article_unpublished"
    assert site["comments"].queries == 0


# --- PATCH and DELETE /v1/articles/{id} -----------------------------------------------


@pytest.mark.parametrize(("method", "body"), [("patch", {"title": "New"}), ("delete", None)])
def test_changes_need_an_articles_write_key(site, method, body):
    client = client_of(site)
    path = f"/v1/articles/{publish(site)}"
    call = getattr(client, method)
    missing = call(path, json=body)
    assert missing.status_code == 401 and missing.json["error"]["code"] == "missing_api_key"
    assert call(path, json=body, headers={"x-api-key": "fleet_not-a-key"}).status_code == 401
    wrong = call(path, json=body, headers={"x-api-key": site["keys"].issue("subscriptions:write")})
    assert wrong.status_code == 403 and wrong.json["error"]["code"] == "insufficient_scope"
    assert site["queue"].sent == []


def test_an_edit_is_queued_with_its_changes(writer, site):
    article_id = publish(site)
    answer = writer.patch(f"/v1/articles/{article_id}", json={"title": " New title ", "media": None, "published": False})
    assert answer.status_code == 202
    [sent] = site["queue"].sent
    assert isinstance(sent, EditArticle) and sent.article_id == article_id
    assert sent.changes == {"title": "New title", "media": None, "published": False}
    assert answer.json == {
        "article_id": article_id,
        "change_id": sent.change_id,
        "status": "queued",
        "status_url": f"/v1/articles/{article_id}",
    }
    assert answer.headers["Location"] == f"/v1/articles/{article_id}"
    assert load_message(dump_message(sent)) == sent


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "_body"),
        ({"title": ""}, "title"),
        ({"title": "\u200b"}, "title"),
        ({"published": "yes"}, "published"),
        ({"media": {"type": "gif", "url": "https://x.test"}}, "media.type"),
        ({"article_id": "x"}, "article_id"),
    ],
)
def test_an_invalid_edit_is_a_422_naming_the_field(writer, site, body, field):
    answer = writer.patch(f"/v1/articles/{publish(site)}", json=body)
    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"], answer.json
    assert site["queue"].sent == []


def test_an_unpublishing_is_queued(writer, site):
    article_id = publish(site)
    answer = writer.delete(f"/v1/articles/{article_id}")
    assert answer.status_code == 202
    [sent] = site["queue"].sent
    assert isinstance(sent, UnpublishArticle) and sent.article_id == article_id
    assert answer.json["change_id"] == sent.change_id
    assert load_message(dump_message(sent)) == sent


@pytest.mark.parametrize(("method", "body"), [("patch", {"title": "New"}), ("delete", None)])
def test_changing_an_article_not_stored_is_a_404(writer, site, method, body):
    for path in (f"/v1/articles/{uuid.uuid4()}", "/v1/articles/not-an-id"):
        answer = getattr(writer, method)(path, json=body)
        assert answer.status_code == 404 and answer.json["error"]["code"] == "article_not_found"
    assert site["queue"].sent == []


def test_a_retried_change_keeps_its_id_and_another_body_is_refused(writer, site):
    article_id = publish(site)
    first = writer.patch(f"/v1/articles/{article_id}", json={"title": "A"}, headers={"Idempotency-Key": "edit-1"})
    again = writer.patch(f"/v1/articles/{article_id}", json={"title": "A"}, headers={"Idempotency-Key": "edit-1"})
    assert first.json["change_id"] == again.json["change_id"]
    assert [m.change_id for m in site["queue"].sent] == [first.json["change_id"]] * 2  # sent again, stored once
    other = writer.patch(f"/v1/articles/{article_id}", json={"title": "B"}, headers={"Idempotency-Key": "edit-1"})
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    gone = writer.delete(f"/v1/articles/{article_id}", headers={"Idempotency-Key": "del-1"})
    assert (
        writer.delete(f"/v1/articles/{article_id}", headers={"Idempotency-Key": "del-1"}).json["change_id"]
        == gone.json["change_id"]
    )


# --- workers.blog: applying changes ---------------------------------------------------


def test_an_edit_is_applied_and_invalidates_the_article_its_comments_and_the_list(writer, site):
    article_id = publish(site)
    assert change_article(edit(article_id, 1, title="Rye", content="Denser."), site["articles"], site["edge"])
    shown = writer.get(f"/v1/articles/{article_id}").json
    assert (shown["title"], shown["content"], shown["author"]) == ("Rye", "Denser.", "Ada")
    assert shown["changed_at"] == (T0 + timedelta(hours=1, minutes=1)).isoformat()
    assert site["edge"].invalidations == [(f"/v1/articles/{article_id}", f"/v1/articles/{article_id}/comments*", "/v1/articles*")]


def test_an_older_change_is_ignored_and_invalidates_nothing(site):
    article_id = publish(site)
    assert change_article(edit(article_id, 5, title="Newer"), site["articles"], site["edge"])
    assert not change_article(edit(article_id, 2, title="Older"), site["articles"], site["edge"])
    assert not change_article(unpublish(article_id, 3), site["articles"], site["edge"])
    stored = site["articles"].items[article_id]
    assert stored["title"] == "Newer" and stored["published"] is True and "unpublished_at" not in stored
    assert len(site["edge"].invalidations) == 1


def test_a_redelivered_change_is_applied_again_so_its_invalidation_is_retried(site):
    article_id = publish(site)
    change = edit(article_id, 1, title="Once")
    site["edge"].throttled = 1
    with pytest.raises(Exception, match="TooManyInvalidationsInProgress"):
        change_article(change, site["articles"], site["edge"])
    assert site["articles"].items[article_id]["title"] == "Once"
    assert change_article(change, site["articles"], site["edge"])  # the retry
    assert len(site["edge"].invalidations) == 1


def test_unpublishing_leaves_the_feed_and_the_reads_answer_404(writer, site):
    kept, gone = publish(site, "Kept", minutes=1), publish(site, "Gone", minutes=2)
    assert [a["article_id"] for a in writer.get("/v1/articles").json["articles"]] == [gone, kept]
    assert change_article(unpublish(gone, 0), site["articles"], site["edge"])
    stored = site["articles"].items[gone]
    assert "feed" not in stored and "feed_key" not in stored and stored["published"] is False
    assert [a["article_id"] for a in writer.get("/v1/articles").json["articles"]] == [kept]
    answer = writer.get(f"/v1/articles/{gone}")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "article_unpublished"
    assert site["edge"].paths[0] == f"/v1/articles/{gone}"
    # A comment on it now is rejected, as on a draft.
    assert (
        store_comment(
            PostComment(str(uuid.uuid4()), gone, "G", "g@example.com", "Hi", T0.isoformat()), site["articles"], site["comments"]
        )
        == "rejected"
    )

    # Published again: back in its first place, its reads answer again.
    assert change_article(edit(gone, 1, published=True), site["articles"], site["edge"])
    assert [a["article_id"] for a in writer.get("/v1/articles").json["articles"]] == [gone, kept]
    assert site["articles"].items[gone]["feed_key"] == feed_key((T0 + timedelta(minutes=2)).isoformat(), gone)
    assert writer.get(f"/v1/articles/{gone}").status_code == 200


def test_a_draft_published_by_an_edit_joins_the_feed_at_the_change_and_media_can_go(writer, site):
    draft = publish(site, "Draft", minutes=30, published=False)
    site["articles"].items[draft]["media"] = {"type": "image", "url": "https://x.test/a.jpg"}
    older = publish(site, "Older", minutes=40)
    change = edit(draft, 0, published=True, media=None)
    assert change_article(change, site["articles"], site["edge"])
    stored = site["articles"].items[draft]
    assert stored["published_at"] == change.received_at and stored["feed_key"] == feed_key(change.received_at, draft)
    assert "media" not in stored
    assert [a["article_id"] for a in writer.get("/v1/articles").json["articles"]] == [draft, older]
    # Back to a draft: out of the feed, still readable (as drafts are).
    assert change_article(edit(draft, 1, published=False), site["articles"], site["edge"])
    assert "feed" not in site["articles"].items[draft]
    assert writer.get(f"/v1/articles/{draft}").json["published"] is False


def test_the_handler_applies_changes_in_the_order_received(site, monkeypatch, lambda_context):
    monkeypatch.setattr(blog_worker, "_adapters", lambda: BlogPorts(site["articles"], site["comments"], site["edge"]))
    article_id = publish(site)
    newer, older = edit(article_id, 2, title="Second"), edit(article_id, 1, title="First")
    records = [{"messageId": str(uuid.uuid4()), "body": dump_message(m)} for m in (newer, older, unpublish(article_id, 3))]
    assert blog_worker.handler({"Records": records}, lambda_context) == {"batchItemFailures": []}
    stored = site["articles"].items[article_id]
    assert stored["title"] == "Second" and stored["published"] is False and "feed" not in stored
    assert len(site["edge"].invalidations) == 2  # the older edit changed nothing


def test_a_change_reads_the_article_only_to_publish_it_and_skips_one_not_stored(site):
    article_id = publish(site)
    reads = site["articles"].reads
    assert change_article(edit(article_id, 1, title="No read"), site["articles"], site["edge"])
    assert change_article(unpublish(article_id, 2), site["articles"], site["edge"])
    assert site["articles"].reads == reads
    assert change_article(edit(article_id, 3, published=True), site["articles"], site["edge"])
    assert site["articles"].reads == reads + 1
    missing = str(uuid.uuid4())
    assert not change_article(edit(missing, 4, title="x"), site["articles"], site["edge"])
    assert not change_article(edit(missing, 5, published=True), site["articles"], site["edge"])
    assert not change_article(unpublish(missing, 6), site["articles"], site["edge"])
    assert missing not in site["articles"].items and len(site["edge"].invalidations) == 3
