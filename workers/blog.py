"""workers.blog: store the articles and comments queued by the API, and apply the articles' edits.

Both are written with a conditional put under the id the API assigned, so a redelivery
or a replay writes nothing. A comment is stored `accepted` when its article is stored
and published; otherwise it is stored `rejected` with a reason: an outcome, not a failure,
so it never loops to the dead-letter queue. Articles and comments share one queue and
two pollers, so a comment may arrive just before its article: a comment whose article is
missing fails on its first receive (SQS delivers it again after the visibility timeout)
and is rejected from its `REJECT_AFTER_RECEIVES`-th on.

An edit or an unpublishing is applied only if no later change of the article was (the
time the API received it orders them, as for the to-dos); once applied, the edge's copies
of the article, its comments and the list are invalidated. A redelivery of an applied
change applies it again, so a change whose invalidation failed is invalidated on its retry.
A new comment invalidates nothing: it shows within the comments' max-age.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from events.blog import ACCEPTED, ARTICLE_NOT_FOUND, FEED, REJECTED, cached_paths, feed_key
from events.messages.blog import EditArticle, PostComment, PublishArticle, UnpublishArticle
from events.messages.envelope import load_message
from lambda_platform.batch import process_sqs, sqs_records
from lambda_platform.errors import FleetError
from lambda_platform.ports import ArticleStore, CommentStore, EdgeCache
from lambda_platform.telemetry import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

#: From which delivery of a comment a missing article means "rejected", not "not yet".
REJECT_AFTER_RECEIVES = 2

ARTICLE_NOT_PUBLISHED = "article_not_published"


class ArticleNotYetStored(FleetError):
    """The comment's article is not stored (yet): the comment is tried again later."""


def article_item(command: PublishArticle, stored_at: str) -> dict[str, Any]:
    """The articles table item of an article; a published one joins the feed index."""
    item: dict[str, Any] = {
        "article_id": command.article_id,
        "title": command.title,
        "content": command.content,
        "author": command.author,
        "published": command.published,
        "media": command.media,
        "received_at": command.received_at,
        "stored_at": stored_at,
        "created_by": command.created_by,
    }
    if command.published:
        # The time the author sent it: the same on every delivery, so the order is stable.
        item.update(
            published_at=command.received_at,
            feed=FEED,
            feed_key=feed_key(command.received_at, command.article_id),
        )
    return item


def store_article(command: PublishArticle, articles: ArticleStore, now: datetime | None = None) -> bool:
    """Store an article once; True when this call stored it."""
    return articles.create(article_item(command, (now or datetime.now(UTC)).isoformat()))


def store_comment(
    command: PostComment,
    articles: ArticleStore,
    comments: CommentStore,
    final: bool = True,
    now: datetime | None = None,
) -> str:
    """Store a comment `accepted` or `rejected`; return its status.

    Raises ArticleNotYetStored when the article is missing and this is not the `final`
    try. A comment stored before keeps its first status.
    """
    known = comments.get(command.comment_id)
    if known is not None:
        return known["status"]
    article = articles.get(command.article_id)
    if article is None and not final:
        raise ArticleNotYetStored(command.article_id)
    item: dict[str, Any] = {
        "comment_id": command.comment_id,
        "article_id": command.article_id,
        "author": command.author,
        "email": command.email,
        "body": command.body,
        "received_at": command.received_at,
        "created_at": (now or datetime.now(UTC)).isoformat(),
    }
    if article is None:
        item.update(status=REJECTED, reason=ARTICLE_NOT_FOUND)
    elif not article.get("published"):
        item.update(status=REJECTED, reason=ARTICLE_NOT_PUBLISHED)
    else:
        item.update(status=ACCEPTED, article_title=article["title"])
    if not comments.create(item):  # stored concurrently by another delivery
        stored = comments.get(command.comment_id)
        return stored["status"] if stored else item["status"]
    return item["status"]


def article_change(message: EditArticle | UnpublishArticle, stored: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(attributes to set, attributes to remove) that apply a change to the stored article.

    Published means in the feed: `feed` and `feed_key` come and go with `published`. An
    article published again keeps its first `published_at`, so its place in the list.
    """
    if isinstance(message, UnpublishArticle):
        return {"published": False, "unpublished_at": message.received_at}, ["feed", "feed_key"]
    changes = dict(message.changes)
    removed = []
    if "media" in changes and changes["media"] is None:
        del changes["media"]
        removed.append("media")
    if changes.get("published") is True:
        published_at = stored.get("published_at") or message.received_at
        changes.update(published_at=published_at, feed=FEED, feed_key=feed_key(published_at, message.article_id))
        removed.append("unpublished_at")
    elif changes.get("published") is False:
        removed += ["feed", "feed_key"]
    return changes, removed


def change_article(message: EditArticle | UnpublishArticle, articles: ArticleStore, edge: EdgeCache) -> bool:
    """Apply an edit or an unpublishing unless a later change was applied, then invalidate the
    edge's copies of the article; True when applied, False when skipped (older, or no article)."""
    # Only publishing needs what is stored (its first `published_at`); the update's condition
    # finds a missing article by itself.
    publishing = isinstance(message, EditArticle) and message.changes.get("published") is True
    stored = articles.get(message.article_id) if publishing else {}
    if stored is None:
        return False
    changes, removed = article_change(message, stored)
    if not articles.update(message.article_id, changes, message.change_id, message.received_at, removed):
        return False
    edge.invalidate(cached_paths(message.article_id))
    return True


def receive_count(record: SQSRecord) -> int:
    """How many times SQS has handed out this record (1 on the first delivery)."""
    try:
        return int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
    except ValueError:
        return 1


class BlogPorts(NamedTuple):
    """The ports of workers.blog."""

    articles: ArticleStore
    comments: CommentStore
    edge: EdgeCache


def _adapters() -> BlogPorts:
    from lambda_platform.composition import ports

    built = ports()
    return BlogPorts(built.articles, built.comments, built.edge)


def _store(message: Any, record: SQSRecord, ports: BlogPorts) -> None:
    if isinstance(message, PublishArticle):
        created = store_article(message, ports.articles)
        logger.info("article stored" if created else "article known", extra={"article_id": message.article_id})
    elif isinstance(message, PostComment):
        final = receive_count(record) >= REJECT_AFTER_RECEIVES
        status = store_comment(message, ports.articles, ports.comments, final=final)
        logger.info("comment stored", extra={"comment_id": message.comment_id, "status": status})
    elif isinstance(message, (EditArticle, UnpublishArticle)):
        applied = change_article(message, ports.articles, ports.edge)
        logger.info(
            "article changed" if applied else "article change skipped",
            extra={"article_id": message.article_id, "change_id": message.change_id},
        )
    else:
        raise TypeError(f"not a blog message: {type(message).__name__}")


def _articles_first(records: list[dict[str, Any]], parse: Callable[[str], Any]) -> list[dict[str, Any]]:
    """The records, articles first: a comment in the same batch as its article finds it stored."""

    def is_comment(record: dict[str, Any]) -> bool:
        try:
            return isinstance(parse(record["body"]), PostComment)
        except Exception:  # noqa: BLE001 - not swallowed: parsed again on its turn, it fails its record there
            return True

    return sorted(records, key=is_comment)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Store the articles and apply their changes, then store the comments, of an SQS batch;
    report the failed records by messageId."""
    parse = functools.cache(load_message)  # each body parsed once: for the order, then for its record
    records = _articles_first(sqs_records(event), parse)
    return process_sqs(records, lambda record, stores: _store(parse(record.body), record, stores), _adapters, context)
