"""DynamoDB adapters of the ArticleStore and CommentStore ports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from events.blog import ACCEPTED, FEED, article_of_feed_key, comment_key, split_comment_key
from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, from_item, get_one, put_new, to_item
from lambda_platform.errors import ConditionFailed
from lambda_platform.resources import index_name, table_name

ARTICLES = TOPOLOGY.table("articles")
FEED_INDEX = ARTICLES.index("feed")
COMMENTS = TOPOLOGY.table("comments")
BY_ARTICLE = COMMENTS.index("by_article")


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

    def update(
        self,
        article_id: str,
        changes: Mapping[str, Any],
        change_id: str,
        changed_at: str,
        remove: Sequence[str] = (),
    ) -> bool:
        """One conditional UpdateItem: applied only to a stored article that no later change
        reached (the same change again is applied again, so a retry finishes its work)."""
        names = {f"#f{i}": k for i, k in enumerate(changes)}
        values = {f":v{i}": v for i, v in enumerate(changes.values())}
        removed = {f"#r{i}": k for i, k in enumerate(remove)}
        sets = "".join(f"#f{i} = :v{i}, " for i in range(len(changes)))
        expression = f"SET {sets}changed_at = :at, change_id = :change"
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        try:
            call(
                "update_item",
                TableName=table_name(ARTICLES),
                Key={ARTICLES.partition_key: {"S": article_id}},
                UpdateExpression=expression,
                ConditionExpression=(
                    "attribute_exists(article_id)"
                    " AND (attribute_not_exists(changed_at) OR changed_at < :at OR change_id = :change)"
                ),
                ExpressionAttributeNames={**names, **removed},
                ExpressionAttributeValues={**to_item(values), ":at": {"S": changed_at}, ":change": {"S": change_id}},
            )
        except ConditionFailed:
            return False
        return True


class DynamoComments:
    """The comments table, keyed by comment id (its stream feeds the notifications)."""

    def create(self, comment: Mapping[str, Any]) -> bool:
        """Store a new comment; False when its id is stored already."""
        return put_new(COMMENTS, "comment_id", comment)

    def get(self, comment_id: str) -> dict[str, Any] | None:
        """The stored comment, or None."""
        return get_one(COMMENTS, "comment_id", comment_id)

    def of_article(self, article_id: str, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One Query on the `by_article` index, oldest first, rejected comments filtered out;
        `limit + 1` evaluated tells whether another page follows."""
        request: dict[str, Any] = {
            "TableName": table_name(COMMENTS),
            "IndexName": index_name(COMMENTS, BY_ARTICLE),
            "KeyConditionExpression": "#article = :article",
            "FilterExpression": "#status = :accepted",
            "ExpressionAttributeNames": {"#article": BY_ARTICLE.partition_key, "#status": "status"},
            "ExpressionAttributeValues": {":article": {"S": article_id}, ":accepted": {"S": ACCEPTED}},
            "ScanIndexForward": True,
            "Limit": limit + 1,
        }
        if after is not None:
            created_at, comment_id = split_comment_key(after)
            request["ExclusiveStartKey"] = {
                COMMENTS.partition_key: {"S": comment_id},
                BY_ARTICLE.partition_key: {"S": article_id},
                BY_ARTICLE.sort_key: {"S": created_at},
            }
        response = call("query", **request)
        items = [from_item(i) for i in response.get("Items", [])]
        if len(items) > limit:
            return items[:limit], comment_key(items[limit - 1]["created_at"], items[limit - 1]["comment_id"])
        # The filter may have skipped some of what the Limit counted: resume after the last evaluated.
        last = response.get("LastEvaluatedKey")
        if last is None:
            return items, None
        return items, comment_key(last[BY_ARTICLE.sort_key]["S"], last[COMMENTS.partition_key]["S"])
