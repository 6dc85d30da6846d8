"""A campaign's entries as operators read and review them: the submissions table through its `by_campaign` index.

Every listing is a Query of the index, newest first unless asked otherwise, never a Scan;
a status is a FilterExpression, so the index's order and its keys stay the listing's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from events.models import REJECTED
from events.topology import TOPOLOGY
from lambda_platform.adapters.codes import leave_waitlist
from lambda_platform.adapters.dynamo import call, from_item, get_one, query_count, to_item
from lambda_platform.errors import ConditionFailed
from lambda_platform.resources import index_name, table_name

SUBMISSIONS = TOPOLOGY.table("submissions")
BY_CAMPAIGN = SUBMISSIONS.index("by_campaign")
#: Entries a filtered page's Query evaluates at a time (a rare flag is found in few Queries) ...
FILTERED_EVALUATED = 200
#: ... and the most Queries one filtered page makes before it answers short, with a cursor.
FILTERED_QUERIES = 5


def entry_key(entry: Mapping[str, Any]) -> dict[str, str]:
    """Where an entry sorts in its campaign's listing: `received_at` and `submission_id`."""
    return {"received_at": entry["received_at"], "submission_id": entry["submission_id"]}


class DynamoEntries:
    """The submissions table as a campaign's list of entries."""

    def page(
        self,
        campaign_id: str,
        *,
        limit: int,
        after: Mapping[str, str] | None = None,
        status: str | None = None,
        flagged: bool | None = None,
        reviewed: bool | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Newest first: one Query of `limit + 1` evaluated entries, or, filtered, Queries of
        `FILTERED_EVALUATED` each until `limit + 1` pass (at most `FILTERED_QUERIES`); the key
        to resume from, None on the last page (the extra one tells, without another Query)."""
        request = self._query(campaign_id, status=status, newest_first=True, flagged=flagged, reviewed=reviewed)
        filtered = "FilterExpression" in request
        request["Limit"] = max(limit + 1, FILTERED_EVALUATED) if filtered else limit + 1
        if after is not None:
            request["ExclusiveStartKey"] = self._start_key(campaign_id, after)
        items: list[dict[str, Any]] = []
        for _ in range(FILTERED_QUERIES if filtered else 1):
            response = call("query", **request)
            items.extend(from_item(i) for i in response.get("Items", []))
            if len(items) > limit:
                return items[:limit], entry_key(items[limit - 1])
            if "LastEvaluatedKey" not in response:
                return items, None
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        # The filter dropped some of what the Limits counted: resume after the last evaluated.
        last = request["ExclusiveStartKey"]
        return items, {"received_at": last["received_at"]["S"], "submission_id": last["submission_id"]["S"]}

    def iter_campaign(
        self, campaign_id: str, *, status: str | None = None, newest_first: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every entry of a campaign, in pages of DynamoDB's own size (1 MB), one page held at a time."""
        request = self._query(campaign_id, status=status, newest_first=newest_first)
        while True:
            response = call("query", **request)
            for item in response.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored entry, read consistently, or None."""
        return get_one(SUBMISSIONS, SUBMISSIONS.partition_key, submission_id)

    def count(self, campaign_id: str) -> int:
        """How many entries a campaign has stored (Select COUNT over the index, page by page)."""
        return query_count(**self._query(campaign_id, status=None, newest_first=True))

    def record_review(self, submission_id: str, campaign_id: str, review: Mapping[str, Any]) -> bool:
        """One conditional UpdateItem: the entry is stored and this campaign's, and no review
        received later is recorded (this same review again is recorded again). A rejection
        then takes the entry off the campaign's waitlist (a second conditional write, which a
        retry of the review repeats; the next import's give refuses it in any case)."""
        try:
            call(
                "update_item",
                TableName=table_name(SUBMISSIONS),
                Key={SUBMISSIONS.partition_key: {"S": submission_id}},
                UpdateExpression="SET review = :review",
                ConditionExpression=(
                    "attribute_exists(submission_id) AND campaign_id = :campaign"
                    " AND (attribute_not_exists(review) OR review.reviewed_at < :at OR review.change_id = :change)"
                ),
                ExpressionAttributeValues={
                    ":review": {"M": to_item(review)},
                    ":campaign": {"S": campaign_id},
                    ":at": {"S": review["reviewed_at"]},
                    ":change": {"S": review["change_id"]},
                },
            )
        except ConditionFailed:
            return False
        if review.get("decision") == REJECTED:
            leave_waitlist(campaign_id, submission_id)
        return True

    @staticmethod
    def _query(
        campaign_id: str, *, status: str | None, newest_first: bool, flagged: bool | None = None, reviewed: bool | None = None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": table_name(SUBMISSIONS),
            "IndexName": index_name(SUBMISSIONS, BY_CAMPAIGN),
            "KeyConditionExpression": "campaign_id = :campaign",
            "ExpressionAttributeValues": {":campaign": {"S": campaign_id}},
            "ScanIndexForward": not newest_first,
        }
        conditions = []
        if status is not None:
            conditions.append("#status = :status")
            request["ExpressionAttributeNames"] = {"#status": "status"}
            request["ExpressionAttributeValues"][":status"] = {"S": status}
        if flagged is not None:
            conditions.append(f"attribute_{'' if flagged else 'not_'}exists(duplicate_receipt)")
        if reviewed is not None:
            conditions.append(f"attribute_{'' if reviewed else 'not_'}exists(review)")
        if conditions:
            request["FilterExpression"] = " AND ".join(conditions)
        return request

    @staticmethod
    def _start_key(campaign_id: str, after: Mapping[str, str]) -> dict[str, Any]:
        sort_key = BY_CAMPAIGN.sort_key
        assert sort_key is not None  # the topology declares it: a campaign's entries page in received_at order
        return {
            SUBMISSIONS.partition_key: {"S": after["submission_id"]},
            BY_CAMPAIGN.partition_key: {"S": campaign_id},
            sort_key: {"S": after["received_at"]},
        }
