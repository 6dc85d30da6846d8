"""The blog over fakes: the API's routes and errors, cached reads, workers.blog and the notifier."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events.blog import decode_cursor, encode_cursor, feed_key
from events.messages.blog import PostComment, PublishArticle
from events.messages.envelope import dump_message
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.blog import FakeArticles, FakeComments, FakeCommentTopic
from tests.fakes.edge import FakeEdgeCache
from tests.fakes.tables import FakeQueue
from tests.fakes.uploads import FakeUploads
from workers import blog as blog_worker
from workers.blog import ArticleNotYetStored, BlogPorts, store_article, store_comment
from workers.comment_notifications import notify_comment

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def blog():
    return {
        "queue": FakeQueue(),
        "articles": FakeArticles(),
        "comments": FakeComments(),
        "topic": FakeCommentTopic(),
        "uploads": FakeUploads(),
        "keys": FakeApiKeys(),
    }


@pytest.fixture
def blog_client(blog):
    services = Ports(
        **fake_ports(
            uploads=blog["uploads"],
            blog_queue=blog["queue"],
            articles=blog["articles"],
            comments=blog["comments"],
            comment_topic=blog["topic"],
            api_keys=blog["keys"],
        )
    )
    client = create_app({"TESTING": True, "SERVICES": services, "READ_CACHE_SECONDS": 60}).test_client()
    # The blog's writers are integrations: every request of this client carries their key.
    blog["writer_key"] = blog["keys"].issue("articles:write", "subscriptions:write")
    client.environ_base["HTTP_X_API_KEY"] = blog["writer_key"]
    return client


def publish(articles: FakeArticles, title: str, minutes: int = 0, published: bool = True, created_by: str | None = None) -> str:
    """Store an article through the worker's service, received `minutes` after T0 (created by the key `created_by`)."""
    article_id = str(uuid.uuid4())
    received = (T0 + timedelta(minutes=minutes)).isoformat()
    command = PublishArticle(article_id, title, f"Text of {title}.", "Ada", published, received, created_by=created_by)
    assert store_article(command, articles)
    return article_id


def a_comment(article_id: str, body: str = "Nice") -> PostComment:
    return PostComment(str(uuid.uuid4()), article_id, "Grace", "grace@example.com", body, T0.isoformat())


# --- the API --------------------------------------------------------------------------


def test_an_article_is_queued_with_its_id(blog_client, blog):
    body = {"title": "Hello", "content": "World", "author": "Ada", "media": {"type": "image", "url": "https://x.test/a.jpg"}}
    answer = blog_client.post("/v1/articles", json=body)
    assert answer.status_code == 202
    [sent] = blog["queue"].sent
    assert isinstance(sent, PublishArticle) and sent.article_id == answer.json["article_id"]
    assert sent.published is True and sent.media == {"type": "image", "url": "https://x.test/a.jpg"}
    assert answer.json["status_url"] == f"/v1/articles/{sent.article_id}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "x", "author": "a"}, "title"),
        ({"title": "t", "content": "x", "author": "a", "published": "yes"}, "published"),
        ({"title": "t", "content": "x", "author": "a", "media": {"type": "image"}}, "media.url"),
        ({"title": "t", "content": "x", "author": "a", "media": {"type": "gif", "url": "https://x.test"}}, "media.type"),
        (
            {
                "title": "t",
                "content": "x",
                "author": "a",
                "media": {"type": "image", "upload_key": "uploads/campaigns/s/00/x.jpg"},
            },
            "media.upload_key",
        ),
        ({"title": "t", "content": "x", "author": "a", "extra": 1}, "extra"),
    ],
)
def test_an_invalid_article_is_a_422_naming_the_field(blog_client, blog, body, field):
    answer = blog_client.post("/v1/articles", json=body)
    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"]
    assert blog["queue"].sent == []


def test_the_feed_is_newest_first_in_pages_and_skips_drafts(blog_client, blog):
    ids = [publish(blog["articles"], f"Post {n}", minutes=n) for n in range(5)]
    publish(blog["articles"], "Draft", minutes=10, published=False)
    seen, cursor = [], None
    while True:
        answer = blog_client.get("/v1/articles", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200
        seen.append([a["article_id"] for a in answer.json["articles"]])
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


@pytest.mark.parametrize("cursor", ["", "!!", "bm9wZQ", encode_cursor("2026-01-01#not-an-id"), "A" * 300])
def test_a_bad_cursor_is_a_400_naming_it(blog_client, cursor):
    answer = blog_client.get("/v1/articles", query_string={"cursor": cursor})
    assert answer.status_code == 400
    assert answer.json["error"] == {
        "code": "invalid_cursor",
        "message": "The cursor is not one this API made.",
        "fields": {"cursor": ["Not a valid cursor."]},
    }


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_a_bad_limit_is_a_422(blog_client, limit):
    answer = blog_client.get("/v1/articles", query_string={"limit": limit})
    assert answer.status_code == 422 and "limit" in answer.json["error"]["fields"]


def test_a_cursor_round_trips():
    key = feed_key(T0.isoformat(), str(uuid.uuid4()))
    assert decode_cursor(encode_cursor(key)) == key


def test_reads_are_cached_and_answer_if_none_match_with_304(blog_client, blog):
    article_id = publish(blog["articles"], "Cached")
    first = blog_client.get(f"/v1/articles/{article_id}")
    assert first.status_code == 200 and first.json["content"] == "Text of Cached."
    assert first.headers["Cache-Control"] == "public, max-age=60"
    reads = blog["articles"].reads
    second = blog_client.get(f"/v1/articles/{article_id}", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304 and second.data == b""
    assert blog["articles"].reads == reads  # served from the in-process cache
    other = blog_client.get(f"/v1/articles/{article_id}", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200

    listing = blog_client.get("/v1/articles")
    assert listing.headers["Cache-Control"] == "public, max-age=5"
    assert blog_client.get("/v1/articles", headers={"If-None-Match": listing.headers["ETag"]}).status_code == 304


def test_a_read_through_an_edge_skips_the_in_process_cache(blog_client, blog):
    """The edge stores what it reads and is purged on a change: a copy cached here before
    the change would be stored there again for its whole TTL."""
    article_id = publish(blog["articles"], "Edged")
    assert blog_client.get(f"/v1/articles/{article_id}").status_code == 200
    reads = blog["articles"].reads
    via_edge = {"Via": "1.1 fleet-edge"}
    assert blog_client.get(f"/v1/articles/{article_id}", headers=via_edge).status_code == 200
    assert blog_client.get(f"/v1/articles/{article_id}", headers=via_edge).status_code == 200
    assert blog["articles"].reads == reads + 2
    assert blog_client.get(f"/v1/articles/{article_id}").status_code == 200
    assert blog["articles"].reads == reads + 2  # a direct read still uses the cache


def test_a_missing_article_is_a_404_and_not_cached(blog_client, blog):
    article_id = str(uuid.uuid4())
    assert blog_client.get(f"/v1/articles/{article_id}").status_code == 404
    assert blog_client.get("/v1/articles/not-an-id").json["error"]["code"] == "article_not_found"
    blog["articles"].create({"article_id": article_id, "title": "Late", "content": "x", "author": "a", "published": True})
    assert blog_client.get(f"/v1/articles/{article_id}").status_code == 200


def test_a_comment_is_queued_and_its_status_hides_the_email(blog_client, blog):
    article_id = publish(blog["articles"], "Talk")
    answer = blog_client.post(f"/v1/articles/{article_id}/comments", json={"author": "G", "email": "g@example.com", "body": "Hi"})
    assert answer.status_code == 202
    [command] = blog["queue"].sent
    assert blog_client.get(answer.json["status_url"]).status_code == 404  # not stored yet
    store_comment(command, blog["articles"], blog["comments"])
    status = blog_client.get(answer.json["status_url"]).json
    assert status["status"] == "accepted" and "email" not in status


def test_an_invalid_comment_is_a_422(blog_client, blog):
    article_id = str(uuid.uuid4())
    answer = blog_client.post(f"/v1/articles/{article_id}/comments", json={"author": "G", "email": "nope", "body": ""})
    assert answer.status_code == 422 and set(answer.json["error"]["fields"]) == {"email", "body"}


def test_subscriptions_filter_by_article_and_only_that_article_deletes_them(blog_client, blog):
    first, second = publish(blog["articles"], "One"), publish(blog["articles"], "Two")
    answer = blog_client.post(f"/v1/articles/{first}/subscriptions", json={"email": "reader@example.com"})
    assert answer.status_code == 201
    subscription_id = answer.json["subscription_id"]
    assert blog["topic"].subscriptions[subscription_id]["filter_policy"] == json.dumps({"article_id": [first]})
    assert blog_client.delete(f"/v1/articles/{second}/subscriptions/{subscription_id}").status_code == 404
    assert blog_client.delete(f"/v1/articles/{first}/subscriptions/{subscription_id}").status_code == 204
    assert blog_client.delete(f"/v1/articles/{first}/subscriptions/{subscription_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"protocol": "sqs", "endpoint": "https://example.com"}, "endpoint"),
        ({"protocol": "https", "endpoint": "http://example.com"}, "endpoint"),
        ({"protocol": "lambda", "endpoint": "arn:aws:lambda:x"}, "protocol"),
        ({"protocol": "sqs"}, "endpoint"),
        ({"email": "a@example.com", "protocol": "email", "endpoint": "a@example.com"}, "_body"),
    ],
)
def test_an_invalid_subscription_is_a_422(blog_client, blog, body, field):
    article_id = publish(blog["articles"], "One")
    answer = blog_client.post(f"/v1/articles/{article_id}/subscriptions", json=body)
    assert answer.status_code == 422 and field in answer.json["error"]["fields"]
    assert blog["topic"].subscriptions == {}


def test_subscribing_to_a_missing_article_is_a_404(blog_client):
    answer = blog_client.post(f"/v1/articles/{uuid.uuid4()}/subscriptions", json={"email": "reader@example.com"})
    assert answer.status_code == 404


def test_article_uploads_go_under_the_article(blog_client, blog):
    article_id = publish(blog["articles"], "Photos", created_by=blog["keys"].id_of(blog["writer_key"]))
    answer = blog_client.post(f"/v1/articles/{article_id}/uploads", json={"content_type": "image/png", "content_length": 10})
    assert answer.status_code == 201
    assert answer.json["key"].startswith(f"uploads/articles/{article_id}/")
    assert blog["uploads"].items[answer.json["upload_id"]]["article_id"] == article_id
    missing = blog_client.post(f"/v1/articles/{uuid.uuid4()}/uploads", json={"content_type": "image/png", "content_length": 10})
    assert missing.status_code == 404


# --- workers.blog ---------------------------------------------------------------------


def test_an_article_is_stored_once(blog):
    command = PublishArticle(str(uuid.uuid4()), "T", "C", "A", True, T0.isoformat())
    assert store_article(command, blog["articles"]) is True
    assert store_article(command, blog["articles"]) is False
    assert blog["articles"].items[command.article_id]["feed_key"] == f"{T0.isoformat()}#{command.article_id}"


def test_a_comment_on_a_missing_article_waits_once_then_is_rejected(blog):
    command = a_comment(str(uuid.uuid4()))
    with pytest.raises(ArticleNotYetStored):
        store_comment(command, blog["articles"], blog["comments"], final=False)
    assert store_comment(command, blog["articles"], blog["comments"], final=True) == "rejected"
    assert blog["comments"].items[command.comment_id]["reason"] == "article_not_found"
    assert store_comment(command, blog["articles"], blog["comments"], final=True) == "rejected"


def test_a_comment_on_a_draft_is_rejected(blog):
    draft = publish(blog["articles"], "Draft", published=False)
    assert store_comment(a_comment(draft), blog["articles"], blog["comments"]) == "rejected"


def sqs_record(message, receive_count: int = 1) -> dict:
    return {
        "messageId": str(uuid.uuid4()),
        "body": dump_message(message),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
    }


def test_the_handler_stores_an_article_before_its_comment_and_fails_only_the_early_comment(blog, monkeypatch, lambda_context):
    edge = FakeEdgeCache()
    monkeypatch.setattr(blog_worker, "_adapters", lambda: BlogPorts(blog["articles"], blog["comments"], edge))
    article = PublishArticle(str(uuid.uuid4()), "T", "C", "A", True, T0.isoformat())
    same_batch = a_comment(article.article_id)
    early = a_comment(str(uuid.uuid4()))
    records = [sqs_record(same_batch), sqs_record(early), sqs_record(article), {"messageId": "bad", "body": "{}"}]
    response = blog_worker.handler({"Records": records}, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}, {"itemIdentifier": "bad"}]}
    assert blog["comments"].items[same_batch.comment_id]["status"] == "accepted"
    # Delivered again: now it is rejected, and the record succeeds (no dead-letter loop).
    again = blog_worker.handler({"Records": [sqs_record(early, receive_count=2)]}, lambda_context)
    assert again == {"batchItemFailures": []}
    assert blog["comments"].items[early.comment_id]["status"] == "rejected"
    assert edge.invalidations == []  # new articles and comments show within their max-age


# --- workers.comment_notifications ---------------------------------------------------


def fake_once():
    done: dict = {}

    def once(scope, key, action):
        if (scope, key) not in done:
            done[(scope, key)] = action()
        return done[(scope, key)]

    return once


def test_an_accepted_comment_is_published_once_with_its_attributes(blog):
    article_id = publish(blog["articles"], "Sourdough")
    command = a_comment(article_id, "Lovely crumb")
    store_comment(command, blog["articles"], blog["comments"])
    comment = blog["comments"].items[command.comment_id]
    once = fake_once()
    first = notify_comment(comment, blog["topic"], once)
    assert notify_comment(comment, blog["topic"], once) == first
    [sent] = blog["topic"].published
    assert sent["subject"] == 'New comment by Grace on "Sourdough"'
    assert "Lovely crumb" in sent["message"] and command.comment_id in sent["message"]
    assert sent["attributes"] == {"article_id": article_id, "event_type": "comment_posted"}


def test_a_rejected_comment_is_not_published(blog):
    command = a_comment(str(uuid.uuid4()))
    store_comment(command, blog["articles"], blog["comments"])
    assert notify_comment(blog["comments"].items[command.comment_id], blog["topic"], fake_once()) is None
    assert blog["topic"].published == []
