"""The blog: articles, comments and comment subscriptions.

Writes are queued for `workers.blog` (202), an article's edit and unpublishing too; reads
are one GetItem, one Query on the articles table's `feed` index or one on the comments
table's `by_article` index, served through the in-process read cache with `ETag` and
`Cache-Control`. An unpublished article answers 404 (`article_unpublished`), and so do
its comments. Subscriptions go straight to the SNS comments topic, once their endpoint
is found to be neither one of the fleet's own queues nor a way back into the machine.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from events.blog import (
    ARTICLE_ID,
    COMMENT_ID,
    DEFAULT_PAGE,
    MAX_PAGE,
    ArticlePatchSchema,
    ArticleRequestSchema,
    CommentRequestSchema,
    SubscriptionRequestSchema,
    decode_comment_cursor,
    decode_cursor,
    encode_comment_cursor,
    encode_cursor,
    https_host,
    is_public_address,
    subscription_target,
)
from events.messages.blog import EditArticle, PostComment, PublishArticle, UnpublishArticle
from events.schemas import shared
from ingest_api.auth import api_key, public
from ingest_api.bodies import idempotency_key, json_body
from ingest_api.cache import cacheable, read_cache
from ingest_api.errors import ApiError
from ingest_api.idempotency import queue_once
from ingest_api.lookups import page_after, page_limit, stored_article, upload_of_key, writable_article
from ingest_api.queued import queued
from ingest_api.services import services
from ingest_api.spec import documented
from lambda_platform.ports import CommentTopic

bp = Blueprint("blog", __name__)

#: Seconds a client or CDN may reuse an answer: short for the feed, which changes often.
LIST_MAX_AGE = 5
ARTICLE_MAX_AGE = 60
#: A new comment shows within this time (the worker invalidates nothing for a comment).
COMMENTS_MAX_AGE = 10
EXCERPT_CHARS = 280

_ARTICLE_FIELDS = (
    "article_id",
    "title",
    "author",
    "published",
    "published_at",
    "media",
    "received_at",
    "stored_at",
    "changed_at",
)
#: What a listed comment shows: never the commenter's email.
_COMMENT_FIELDS = ("comment_id", "author", "body", "created_at")
_PAGE_QUERY: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    "cursor": {"type": "string"},
}


@bp.post("/v1/articles")
@api_key("articles:write")
@documented(body=ArticleRequestSchema, status=202)
def create_article():
    """Validate an article and queue it; 202 with its id and where to read it once stored."""
    document = json_body()
    key = idempotency_key()
    fields = shared(ArticleRequestSchema).load(document)

    def send(article_id: str, received_at: str) -> None:
        command = PublishArticle(article_id=article_id, received_at=received_at, created_by=g.api_key_id, **fields)
        services().blog_queue.send(command)

    article_id = queue_once("articles", key, document, send)
    return queued(article_id=article_id, status_url=f"/v1/articles/{article_id}")


@bp.get("/v1/articles")
@public()
@documented(query=_PAGE_QUERY)
def list_articles():
    """Published articles, newest first, `limit` (1-100, default 20) a page, `cursor` for the next."""
    limit = page_limit(request.args.get("limit"), DEFAULT_PAGE, MAX_PAGE)
    after = page_after(decode_cursor)

    def load() -> dict[str, Any]:
        page, next_key = services().articles.feed(limit, after)
        body: dict[str, Any] = {"articles": [_summary(a) for a in page], "next_cursor": None}
        if next_key is not None:
            body["next_cursor"] = encode_cursor(next_key)
        return body

    return cacheable(read_cache().get_or_load(f"feed:{limit}:{after or ''}", load), LIST_MAX_AGE)


def _summary(article: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {k: article[k] for k in ("article_id", "title", "author", "published_at", "media") if k in article}
    content = article.get("content", "")
    shown["excerpt"] = content if len(content) <= EXCERPT_CHARS else content[: EXCERPT_CHARS - 1].rstrip() + "…"
    return shown


def _listed_article(article_id: str) -> dict[str, Any]:
    """The stored article, unless it was unpublished: 404 either way."""
    article = stored_article(article_id)
    if article.get("unpublished_at"):
        raise ApiError(404, "article_unpublished", "This article is no longer published.")
    return article


@bp.get("/v1/articles/<article_id>")
@public()
def get_article(article_id: str):
    """One stored article with its content; 404 until the worker has stored it, and once unpublished."""
    article = _listed_article(article_id)
    body = {k: article[k] for k in _ARTICLE_FIELDS if k in article}
    body["content"] = article["content"]
    media = article.get("media")
    if media and media.get("upload_key"):
        body["media"] = {**media, "upload": upload_of_key(media["upload_key"])}
    return cacheable(body, ARTICLE_MAX_AGE)


@bp.patch("/v1/articles/<article_id>")
@api_key("articles:write")
@documented(body=ArticlePatchSchema, status=202)
def edit_article(article_id: str):
    """Queue a change of a stored article the key created (any of its fields, at least one); 202."""
    document = json_body()
    key = idempotency_key()
    changes = shared(ArticlePatchSchema).load(document)
    writable_article(article_id)

    def send(change_id: str, received_at: str) -> None:
        services().blog_queue.send(EditArticle(change_id, article_id, changes, received_at))

    change_id = queue_once(f"articles:{article_id}:edit", key, document, send)
    return queued(article_id=article_id, change_id=change_id, status_url=f"/v1/articles/{article_id}")


@bp.delete("/v1/articles/<article_id>")
@api_key("articles:write")
@documented(status=202)
def unpublish_article(article_id: str):
    """Queue the unpublishing of a stored article the key created: it leaves the list and its reads answer 404; 202."""
    key = idempotency_key()
    writable_article(article_id)

    def send(change_id: str, received_at: str) -> None:
        services().blog_queue.send(UnpublishArticle(change_id, article_id, received_at))

    change_id = queue_once(f"articles:{article_id}:unpublish", key, {}, send)
    return queued(article_id=article_id, change_id=change_id, status_url=f"/v1/articles/{article_id}")


@bp.get("/v1/articles/<article_id>/comments")
@public()
@documented(query=_PAGE_QUERY)
def list_comments(article_id: str):
    """An article's accepted comments, oldest first, `limit` (1-100, default 20) a page, `cursor` for the next."""
    _listed_article(article_id)
    limit = page_limit(request.args.get("limit"), DEFAULT_PAGE, MAX_PAGE)
    after = page_after(lambda cursor: decode_comment_cursor(cursor, article_id))

    def load() -> dict[str, Any]:
        page, next_key = services().comments.of_article(article_id, limit, after)
        body: dict[str, Any] = {
            "article_id": article_id,
            "comments": [{k: c[k] for k in _COMMENT_FIELDS if k in c} for c in page],
            "next_cursor": None,
        }
        if next_key is not None:
            body["next_cursor"] = encode_comment_cursor(article_id, next_key)
        return body

    key = f"comments:{article_id}:{limit}:{after or ''}"
    return cacheable(read_cache().get_or_load(key, load), COMMENTS_MAX_AGE)


@bp.post("/v1/articles/<article_id>/comments")
@public(limited=True, keyed=True)
@documented(body=CommentRequestSchema, status=202)
def create_comment(article_id: str):
    """Validate a comment and queue it; the worker stores it if the article exists, else rejects it."""
    document = json_body()
    key = idempotency_key()
    if not ARTICLE_ID.match(article_id):
        raise ApiError(404, "article_not_found", "No article with this id.")
    fields = shared(CommentRequestSchema).load(document)

    def send(comment_id: str, received_at: str) -> None:
        command = PostComment(
            comment_id=comment_id,
            article_id=article_id,
            received_at=received_at,
            **fields,
        )
        services().blog_queue.send(command)

    comment_id = queue_once(f"comments:{article_id}", key, document, send)
    return queued(comment_id=comment_id, status_url=f"/v1/comments/{comment_id}")


@bp.get("/v1/comments/<comment_id>")
@public()
def get_comment(comment_id: str):
    """A stored comment's status: `accepted`, or `rejected` with a `reason`; 404 until stored."""
    comment = services().comments.get(comment_id) if COMMENT_ID.match(comment_id) else None
    if comment is None:
        raise ApiError(404, "comment_not_found", "No stored comment with this id (yet).")
    # The commenter's email is never shown.
    shown = ("comment_id", "article_id", "status", "reason", "author", "body", "received_at", "created_at")
    return {k: comment[k] for k in shown if k in comment}


@bp.post("/v1/articles/<article_id>/subscriptions")
@api_key("subscriptions:write")
@documented(body=SubscriptionRequestSchema, status=201)
def create_subscription(article_id: str):
    """Subscribe an email address or an endpoint to this article's comment notifications."""
    document = json_body()
    stored_article(article_id)
    protocol, endpoint = subscription_target(shared(SubscriptionRequestSchema).load(document))
    topic = services().comment_topic
    _check_reachable(topic, protocol, endpoint)
    if protocol == "email" and services().suppressions.suppressed([endpoint]):
        # SNS would mail it on every comment: an address that bounced or complained gets nothing more.
        field = "email" if "email" in document else "endpoint"
        problem = "This address is on the suppression list (it bounced or complained): nothing more is mailed to it."
        raise ApiError(422, "address_suppressed", problem, {field: [problem]})
    subscription_id = topic.subscribe(protocol, endpoint, article_id)
    url = f"/v1/articles/{article_id}/subscriptions/{subscription_id}"
    body = {
        "subscription_id": subscription_id,
        "article_id": article_id,
        "protocol": protocol,
        "endpoint": endpoint,
        "url": url,
    }
    return body, 201, {"Location": url}


def _check_reachable(topic: CommentTopic, protocol: str, endpoint: str) -> None:
    """Refuse a queue that does not exist, and a host that leads anywhere but the public internet."""
    problem = None
    if protocol == "sqs" and not topic.queue_exists(endpoint):
        problem = "There is no SQS queue with this ARN in this region that the fleet can see."
    elif protocol == "https":
        # SNS delivers from inside the fleet's network: a name that resolves to the
        # machine itself, or to a private network, would turn a comment into a request there.
        addresses = topic.host_addresses(https_host(endpoint))
        if not addresses:
            problem = "The host name does not resolve."
        elif not all(is_public_address(a) for a in addresses):
            problem = (
                "The host name resolves to an address that is not public (loopback, private, link-local, multicast or reserved)."
            )
    if problem is not None:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", {"endpoint": [problem]})


@bp.delete("/v1/articles/<article_id>/subscriptions/<subscription_id>")
@api_key("subscriptions:write")
@documented(status=204)
def delete_subscription(article_id: str, subscription_id: str):
    """Unsubscribe; 404 unless the subscription is this article's, on the comments topic."""
    topic = services().comment_topic
    if not ARTICLE_ID.match(article_id) or topic.article_of(subscription_id) != article_id:
        raise ApiError(404, "subscription_not_found", "No subscription with this id on this article.")
    topic.unsubscribe(subscription_id)
    return "", 204
