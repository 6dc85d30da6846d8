"""DynamoDB adapters of the ArticleStore and CommentStore ports."""

from __future__ import annotations

from typing import Any, Mapping

from events.blog import FEED, article_of_feed_key
from events.topology import TOPOLOGY
from fleet.adapters.dynamo import call, from_item, get_one, put_new
from fleet.resources import index_name, table_name

ARTICLES = TOPOLOGY.table("articles")
FEED_INDEX = ARTICLES.index("feed")
COMMENTS = TOPOLOGY.table("comments")


class DynamoArticles:
    """The articles table, keyed by article id; published articles are in the `feed` index."""

    def create(self, article: Mapping[str, Any]) -> bool:
        """Store a new article; False when its id is stored already."""
        return put_new(ARTICLES, "article_id", article)

    def get(self, article_id: str) -> dict[str, Any] | None:
        """The stored article, or None."""
        return get_one(ARTICLES, "article_id", article_id)

    def feed(self, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One Query on the feed index, newest first; one item more than asked tells whether
        another page follows."""
        request: dict[str, Any] = {
            "TableName": table_name(ARTICLES),
            "IndexName": index_name(ARTICLES, FEED_INDEX),
            "KeyConditionExpression": "#feed = :feed",
            "ExpressionAttributeNames": {"#feed": FEED_INDEX.partition_key},
            "ExpressionAttributeValues": {":feed": {"S": FEED}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if after is not None:
            # A cursor into an index names the table's key and the index's key.
            request["ExclusiveStartKey"] = {
                ARTICLES.partition_key: {"S": article_of_feed_key(after)},
                FEED_INDEX.partition_key: {"S": FEED},
                FEED_INDEX.sort_key: {"S": after},
            }
        items = [from_item(i) for i in call("query", **request).get("Items", [])]
        page = items[:limit]
        return page, (page[-1]["feed_key"] if len(items) > limit else None)


class DynamoComments:
    """The comments table, keyed by comment id (its stream feeds the notifications)."""

    def create(self, comment: Mapping[str, Any]) -> bool:
        """Store a new comment; False when its id is stored already."""
        return put_new(COMMENTS, "comment_id", comment)

    def get(self, comment_id: str) -> dict[str, Any] | None:
        """The stored comment, or None."""
        return get_one(COMMENTS, "comment_id", comment_id)
