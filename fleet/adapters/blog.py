"""DynamoDB adapters of the ArticleStore and CommentStore ports."""

from __future__ import annotations

from typing import Any, Mapping

from events.blog import FEED, article_of_feed_key
from fleet.adapters.dynamo import call, from_item, table_name, to_item
from fleet.errors import ConditionFailed


def _create(logical: str, key: str, item: Mapping[str, Any]) -> bool:
    # A conditional put: a redelivery writes nothing, so the stream sees one INSERT.
    try:
        call(
            "put_item",
            TableName=table_name(logical),
            Item=to_item(item),
            ConditionExpression=f"attribute_not_exists({key})",
        )
    except ConditionFailed:
        return False
    return True


def _get(logical: str, key: str, value: str) -> dict[str, Any] | None:
    response = call("get_item", TableName=table_name(logical), Key={key: {"S": value}}, ConsistentRead=True)
    return from_item(response["Item"]) if "Item" in response else None


class DynamoArticles:
    """The articles table, keyed by article id; published articles are in the `feed` index."""

    def create(self, article: Mapping[str, Any]) -> bool:
        """Store a new article; False when its id is stored already."""
        return _create("articles", "article_id", article)

    def get(self, article_id: str) -> dict[str, Any] | None:
        """The stored article, or None."""
        return _get("articles", "article_id", article_id)

    def feed(self, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One Query on the feed index, newest first; one item more than asked tells whether
        another page follows."""
        request: dict[str, Any] = {
            "TableName": table_name("articles"),
            "IndexName": "feed",
            "KeyConditionExpression": "#feed = :feed",
            "ExpressionAttributeNames": {"#feed": "feed"},
            "ExpressionAttributeValues": {":feed": {"S": FEED}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if after is not None:
            request["ExclusiveStartKey"] = {
                "article_id": {"S": article_of_feed_key(after)},
                "feed": {"S": FEED},
                "feed_key": {"S": after},
            }
        items = [from_item(i) for i in call("query", **request).get("Items", [])]
        page = items[:limit]
        return page, (page[-1]["feed_key"] if len(items) > limit else None)


class DynamoComments:
    """The comments table, keyed by comment id (its stream feeds the notifications)."""

    def create(self, comment: Mapping[str, Any]) -> bool:
        """Store a new comment; False when its id is stored already."""
        return _create("comments", "comment_id", comment)

    def get(self, comment_id: str) -> dict[str, Any] | None:
        """The stored comment, or None."""
        return _get("comments", "comment_id", comment_id)
