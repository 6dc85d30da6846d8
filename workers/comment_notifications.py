"""workers.comment_notifications: one SNS publish per accepted comment, from the comments stream.

The message carries the `article_id` and `event_type` attributes that subscribers' filter
policies match. Only INSERTs of `accepted` comments count; the idempotency table, keyed
by comment id, makes duplicate records, retries and replays publish nothing more.
Publish only hands the message to SNS: a subscriber that cannot be reached is its own
subscription's failure, never this record's (the embedded SNS of `fleet up` delivers the
same way, see `fleet.runtime.sns_delivery`).
"""

from __future__ import annotations

from typing import Any

from events.blog import ACCEPTED, COMMENT_POSTED
from lambda_platform.batch import process_inserts
from lambda_platform.ports import CommentTopic, Once
from lambda_platform.telemetry import logger

SCOPE = "comment-notification"


def notification(comment: dict[str, Any], api_base_url: str = "") -> tuple[str, str, dict[str, str]]:
    """(subject, body, message attributes) of a comment's notification."""
    title = comment.get("article_title") or comment["article_id"]
    subject = f'New comment by {comment["author"]} on "{title}"'
    body = (
        f'{comment["author"]} commented on "{title}":\n\n'
        f"{comment['body']}\n\n"
        f"Article: {api_base_url}/v1/articles/{comment['article_id']}\n"
        f"Comment: {comment['comment_id']}\n"
    )
    return subject, body, {"article_id": comment["article_id"], "event_type": COMMENT_POSTED}


def notify_comment(comment: dict[str, Any], topic: CommentTopic, once: Once, api_base_url: str = "") -> str | None:
    """Publish a comment's notification at most once; None for a comment that was not accepted."""
    if comment.get("status") != ACCEPTED:
        return None
    subject, body, attributes = notification(comment, api_base_url)
    return once(SCOPE, comment["comment_id"], lambda: topic.publish(subject, body, attributes))


def _ports(context: Any) -> tuple[CommentTopic, Once, str]:
    from lambda_platform import settings
    from lambda_platform.composition import ports

    built = ports()
    return built.comment_topic, built.once(context), settings.current().api_base_url


def _notify(comment: dict[str, Any], ports: tuple[CommentTopic, Once, str]) -> None:
    message_id = notify_comment(comment, *ports)
    if message_id is not None:
        logger.info("comment notified", extra={"comment_id": comment["comment_id"], "sns_message_id": message_id})


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Notify every comment inserted in this batch; report failed records by SequenceNumber."""
    return process_inserts(event, _notify, lambda: _ports(context), context)
