"""In-memory fakes of the ArticleStore, CommentStore and CommentTopic ports."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from events.blog import ACCEPTED, FEED, comment_key
from events.schemas import plain


class FakeArticles:
    """The articles table in a dict; `feed` sorts as the feed index does. Counts reads."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.reads = 0

    def create(self, article: Mapping[str, Any]) -> bool:
        if article["article_id"] in self.items:
            return False
        self.items[article["article_id"]] = plain(copy.deepcopy(dict(article)))
        return True

    def get(self, article_id: str) -> dict[str, Any] | None:
        self.reads += 1
        item = self.items.get(article_id)
        return copy.deepcopy(item) if item is not None else None

    def feed(self, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        self.reads += 1
        listed = sorted((a for a in self.items.values() if a.get("feed") == FEED), key=lambda a: a["feed_key"], reverse=True)
        if after is not None:
            listed = [a for a in listed if a["feed_key"] < after]
        page = listed[:limit]
        return copy.deepcopy(page), (page[-1]["feed_key"] if len(listed) > limit else None)

    def update(
        self,
        article_id: str,
        changes: Mapping[str, Any],
        change_id: str,
        changed_at: str,
        remove: Sequence[str] = (),
    ) -> bool:
        item = self.items.get(article_id)
        if item is None:
            return False
        if "changed_at" in item and item["changed_at"] >= changed_at and item.get("change_id") != change_id:
            return False
        item.update(copy.deepcopy(dict(changes)), change_id=change_id, changed_at=changed_at)
        for name in remove:
            item.pop(name, None)
        return True


class FakeComments:
    """The comments table in a dict; `of_article` reads as one Query on `by_article` does. Counts queries."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.queries = 0

    def create(self, comment: Mapping[str, Any]) -> bool:
        if comment["comment_id"] in self.items:
            return False
        self.items[comment["comment_id"]] = plain(copy.deepcopy(dict(comment)))
        return True

    def get(self, comment_id: str) -> dict[str, Any] | None:
        item = self.items.get(comment_id)
        return copy.deepcopy(item) if item is not None else None

    def of_article(self, article_id: str, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        self.queries += 1
        keyed = sorted(
            (comment_key(c["created_at"], c["comment_id"]), c) for c in self.items.values() if c["article_id"] == article_id
        )
        # The Query's Limit counts what it evaluates; the filter on the status comes after.
        evaluated = [(k, c) for k, c in keyed if after is None or k > after][: limit + 1]
        shown = [(k, c) for k, c in evaluated if c.get("status") == ACCEPTED]
        if len(shown) > limit:
            return copy.deepcopy([c for _, c in shown[:limit]]), shown[limit - 1][0]
        last = evaluated[-1][0] if len(evaluated) == limit + 1 else None
        return copy.deepcopy([c for _, c in shown]), last


class FakeCommentTopic:
    """An SNS topic that keeps what was published and its subscriptions' filter policies.

    The SQS queues that exist are the ARNs in `queues`; a host name resolves to what
    `hosts` says, and any other name does not resolve (no DNS in the unit tier).
    """

    def __init__(self, queues: Iterable[str] = (), hosts: Mapping[str, Sequence[str]] | None = None) -> None:
        self.published: list[dict[str, Any]] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.queues = set(queues)
        self.hosts = {name: tuple(found) for name, found in (hosts or {}).items()}

    def publish(self, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        assert len(subject) <= 100 and "\n" not in subject
        self.published.append({"subject": subject, "message": message, "attributes": dict(attributes)})
        return str(uuid.uuid4())

    def subscribe(self, protocol: str, endpoint: str, article_id: str) -> str:
        subscription_id = str(uuid.uuid4())
        self.subscriptions[subscription_id] = {
            "protocol": protocol,
            "endpoint": endpoint,
            "filter_policy": json.dumps({"article_id": [article_id]}),
        }
        return subscription_id

    def queue_exists(self, queue_arn: str) -> bool:
        return queue_arn in self.queues

    def host_addresses(self, host: str) -> tuple[str, ...]:
        return self.hosts.get(host, ())

    def article_of(self, subscription_id: str) -> str | None:
        found = self.subscriptions.get(subscription_id)
        return json.loads(found["filter_policy"])["article_id"][0] if found else None

    def unsubscribe(self, subscription_id: str) -> None:
        del self.subscriptions[subscription_id]
