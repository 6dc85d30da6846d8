"""The SNS adapter of the CommentTopic port: the topology's `comments` topic.

It also answers the two questions a subscription's endpoint raises before SNS takes it:
does this SQS queue exist (asked of SQS), and where does this host name lead (asked of
the resolver, `resolve_host` unless another is injected).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from events.blog import HTTPS_PORT, sqs_queue_of
from events.ids import UUID_ID
from events.topology import TOPOLOGY
from lambda_platform import aws, settings
from lambda_platform.errors import RetryLater, error_code, translate
from lambda_platform.resources import topic_arn

COMMENTS = TOPOLOGY.topic("comments")

_SUBSCRIPTION_ID = UUID_ID
#: What SQS answers GetQueueUrl for a queue that does not exist or that we may not see.
_NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")

Resolver = Callable[[str], tuple[str, ...]]


def resolve_host(host: str) -> tuple[str, ...]:
    """Every address `host` resolves to for https, each once, in the resolver's order; () if none."""
    try:
        found = socket.getaddrinfo(host, HTTPS_PORT, type=socket.SOCK_STREAM)
    except UnicodeError:  # a label the IDNA codec refuses: no such name
        return ()
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:  # the resolver is unavailable, the name may exist
            raise RetryLater(f"cannot resolve {host} now: {exc}") from exc
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in found))


class SnsCommentTopic:
    """Publishes comment notifications and manages subscriptions filtered by article id."""

    def __init__(self, logical: str = COMMENTS.name, resolver: Resolver = resolve_host) -> None:
        self.logical = TOPOLOGY.topic(logical).name
        self._resolver = resolver

    @property
    def topic_arn(self) -> str:
        """The topic's ARN in this stage."""
        return topic_arn(self.logical)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(aws.client("sns"), operation)(**kwargs)
        except Exception as exc:  # throttling becomes RetryLater; the rest is raised as is
            raise translate(exc) from exc
        return response

    def publish(self, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        """Publish one notification; SNS subjects are one line of at most 100 characters."""
        response = self._call(
            "publish",
            TopicArn=self.topic_arn,
            Subject=" ".join(subject.split())[:100],
            Message=message,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        message_id: str = response["MessageId"]
        return message_id

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
        subscription_arn: str = response["SubscriptionArn"]
        return subscription_arn.rpartition(":")[2]

    def queue_exists(self, queue_arn: str) -> bool:
        """Whether the queue exists in this region, in the ARN's account (GetQueueUrl, owner given)."""
        region, account, name = sqs_queue_of(queue_arn)
        if region != settings.current().region:
            return False
        try:
            url: str = aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        except Exception as exc:
            if error_code(exc) in _NO_QUEUE:
                return False
            raise translate(exc) from exc
        # moto ignores the owner and answers with the caller's queue of that name: the URL's
        # path, /{account}/{name} on AWS and moto alike, says whose queue it is.
        return urlsplit(url).path.strip("/").split("/") == [account, name]

    def host_addresses(self, host: str) -> tuple[str, ...]:
        """Every address the host name resolves to; empty when it does not resolve."""
        return tuple(self._resolver(host))

    def article_of(self, subscription_id: str) -> str | None:
        """The single article a subscription of this topic filters on, or None."""
        if not _SUBSCRIPTION_ID.match(subscription_id):
            return None
        try:
            attributes = aws.client("sns").get_subscription_attributes(SubscriptionArn=f"{self.topic_arn}:{subscription_id}")[
                "Attributes"
            ]
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
