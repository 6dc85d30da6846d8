"""The SNS adapter of the CommentTopic port: the topology's `comments` topic."""

from __future__ import annotations

import json
from typing import Any, Mapping

from events.ids import UUID_ID
from events.topology import TOPOLOGY
from fleet import aws
from fleet.errors import error_code, translate
from fleet.resources import topic_arn

COMMENTS = TOPOLOGY.topic("comments")

_SUBSCRIPTION_ID = UUID_ID


class SnsCommentTopic:
    """Publishes comment notifications and manages subscriptions filtered by article id."""

    def __init__(self, logical: str = COMMENTS.name) -> None:
        self.logical = TOPOLOGY.topic(logical).name

    @property
    def topic_arn(self) -> str:
        """The topic's ARN in this stage."""
        return topic_arn(self.logical)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(aws.client("sns"), operation)(**kwargs)
        except Exception as exc:  # throttling becomes RetryLater; the rest is raised as is
            raise translate(exc) from exc

    def publish(self, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        """Publish one notification; SNS subjects are one line of at most 100 characters."""
        response = self._call(
            "publish",
            TopicArn=self.topic_arn,
            Subject=" ".join(subject.split())[:100],
            Message=message,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        return response["MessageId"]

    def subscribe(self, protocol: str, endpoint: str, article_id: str) -> str:
        """Subscribe with a filter policy on the `article_id` message attribute."""
        response = self._call(
            "subscribe",
            TopicArn=self.topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes={"FilterPolicy": json.dumps({"article_id": [article_id]})},
            ReturnSubscriptionArn=True,
        )
        return response["SubscriptionArn"].rpartition(":")[2]

    def article_of(self, subscription_id: str) -> str | None:
        """The single article a subscription of this topic filters on, or None."""
        if not _SUBSCRIPTION_ID.match(subscription_id):
            return None
        try:
            attributes = aws.client("sns").get_subscription_attributes(
                SubscriptionArn=f"{self.topic_arn}:{subscription_id}"
            )["Attributes"]
        except Exception as exc:
            if error_code(exc) in ("NotFound", "NotFoundException", "InvalidParameter"):
                return None
            raise translate(exc) from exc
        if attributes.get("TopicArn") != self.topic_arn:
            return None
        try:
            articles = json.loads(attributes.get("FilterPolicy") or "{}").get("article_id")
        except ValueError:
            return None
        return articles[0] if isinstance(articles, list) and len(articles) == 1 else None

    def unsubscribe(self, subscription_id: str) -> None:
        """Remove a subscription of this topic."""
        self._call("unsubscribe", SubscriptionArn=f"{self.topic_arn}:{subscription_id}")
