"""Table adapters: campaigns, submissions with their entry claims, request keys."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from events.models import Campaign
from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import batch_get, batch_put, call, cancellation_reasons, from_item, to_item
from lambda_platform.adapters.rate_limits import counter_updates, full_counter
from lambda_platform.errors import ConditionFailed, error_code
from lambda_platform.ports import KeyClaim
from lambda_platform.resources import table_name

CAMPAIGNS = TOPOLOGY.table("campaigns")
SUBMISSIONS = TOPOLOGY.table("submissions")
ENTRY_CLAIMS = TOPOLOGY.table("entry_claims")
REQUEST_KEYS = TOPOLOGY.table("request_keys")


def campaign_from_item(data: Mapping[str, Any]) -> Campaign:
    """A stored campaign item as a Campaign."""
    return Campaign(
        campaign_id=data["campaign_id"],
        name=data["name"],
        opens_at=datetime.fromisoformat(data["opens_at"]),
        closes_at=datetime.fromisoformat(data["closes_at"]),
        max_entries_per_email=int(data.get("max_entries_per_email", 1)),
        gives_codes=bool(data.get("gives_codes", False)),
        draw_includes_unreviewed=bool(data.get("draw_includes_unreviewed", True)),
        draw_includes_flagged=bool(data.get("draw_includes_flagged", False)),
    )


def campaign_item(campaign: Campaign) -> dict[str, Any]:
    """A Campaign as its campaigns table item."""
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "opens_at": campaign.opens_at.isoformat(),
        "closes_at": campaign.closes_at.isoformat(),
        "max_entries_per_email": campaign.max_entries_per_email,
        "gives_codes": campaign.gives_codes,
        "draw_includes_unreviewed": campaign.draw_includes_unreviewed,
        "draw_includes_flagged": campaign.draw_includes_flagged,
    }


class DynamoCampaigns:
    """The campaigns table, with a short read cache: campaigns change rarely, entries often."""

    def __init__(self, cache_seconds: float = 0.0) -> None:
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Campaign]] = {}

    def get(self, campaign_id: str, fresh: bool = False) -> Campaign | None:
        """The campaign, or None (misses are not cached: a new campaign shows at once); `fresh`
        reads it consistently, past the cache (the draw's close must be the stored one)."""
        hit = self._cache.get(campaign_id)
        if hit and not fresh and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        response = call(
            "get_item", TableName=table_name(CAMPAIGNS), Key={"campaign_id": {"S": campaign_id}}, ConsistentRead=fresh
        )
        if "Item" not in response:
            return None
        campaign = campaign_from_item(from_item(response["Item"]))
        self._cache[campaign_id] = (time.monotonic(), campaign)
        return campaign

    def put(self, campaign: Campaign) -> None:
        """Create or replace a campaign."""
        call("put_item", TableName=table_name(CAMPAIGNS), Item=to_item(campaign_item(campaign)))
        self._cache.pop(campaign.campaign_id, None)

    def save(self, campaign: Campaign, change_id: str, changed_at: str) -> bool:
        """One conditional put: stored unless a change received later is (a replay of an
        older change never overwrites a newer one; the same change again is stored again)."""
        item = {**campaign_item(campaign), "changed_at": changed_at, "change_id": change_id}
        try:
            call(
                "put_item",
                TableName=table_name(CAMPAIGNS),
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(changed_at) OR changed_at < :at OR change_id = :change",
                ExpressionAttributeValues={":at": {"S": changed_at}, ":change": {"S": change_id}},
            )
        except ConditionFailed:
            return False
        finally:
            self._cache.pop(campaign.campaign_id, None)
        return True

    def list(self) -> list[Campaign]:
        """Every campaign, by id (a small table, so a paginated scan is fine)."""
        items: list[Campaign] = []
        kwargs: dict[str, Any] = {"TableName": table_name(CAMPAIGNS)}
        while True:
            response = call("scan", **kwargs)
            items.extend(campaign_from_item(from_item(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return sorted(items, key=lambda c: c.campaign_id)
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class DynamoSubmissions:
    """The submissions table and the entry_claims table."""

    def get(self, submission_id: str) -> dict[str, Any] | None:
        """The stored submission, or None."""
        response = call(
            "get_item",
            TableName=table_name(SUBMISSIONS),
            Key={"submission_id": {"S": submission_id}},
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def existing(self, submission_ids: Iterable[str]) -> set[str]:
        """The ids among `submission_ids` that are stored already."""
        found = batch_get(SUBMISSIONS, "submission_id", submission_ids, attributes="submission_id")
        return {i["submission_id"] for i in found}

    def claim_owners(self, claim_ids: Iterable[str]) -> dict[str, str]:
        """claim id -> the submission id that holds it, for the claims that are taken."""
        found = batch_get(ENTRY_CLAIMS, "claim_id", claim_ids)
        return {i["claim_id"]: i["submission_id"] for i in found}

    def claim(self, claim_id: str, submission_id: str) -> bool:
        """Take a claim; a second call by the same submission succeeds again."""
        try:
            call(
                "put_item",
                TableName=table_name(ENTRY_CLAIMS),
                Item=to_item({"claim_id": claim_id, "submission_id": submission_id}),
                ConditionExpression="attribute_not_exists(claim_id) OR submission_id = :s",
                ExpressionAttributeValues={":s": {"S": submission_id}},
            )
        except ConditionFailed:
            return False
        return True

    def put_many(self, items: Sequence[Mapping[str, Any]]) -> set[str]:
        """Store submissions in batches; return the ids that could not be written."""
        return batch_put(SUBMISSIONS, items, key="submission_id")


class DynamoRequestKeys:
    """Idempotency-Key records, kept for a day.

    A new key is written once, with the id its message goes out under and the change's
    version (`received_at`), and never again: a retry sends again under that id and that
    version, so the workers store an id once and a retry never overtakes a newer change.
    When the request is rate-limited, its counters and the key's conditional put are one
    transaction.
    """

    ttl_seconds = 24 * 3600

    def claim(
        self,
        key: str,
        fingerprint: str,
        message_id: str,
        received_at: str,
        limits: Sequence[tuple[str, int]] = (),
        window_seconds: int = 60,
        now: float = 0.0,
    ) -> KeyClaim:
        """Record a new key and count the request, in one write; the full counter or the
        known record instead (nothing written then)."""
        put = {
            "TableName": table_name(REQUEST_KEYS),
            "Item": to_item(
                {
                    "request_key": key,
                    "fingerprint": fingerprint,
                    "message_id": message_id,
                    "received_at": received_at,
                    "expires_at": int(time.time()) + self.ttl_seconds,
                }
            ),
            "ConditionExpression": "attribute_not_exists(request_key)",
            # The known record comes back with the refusal: no GetItem for a retry.
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if not limits:
            try:
                call("put_item", **put)
            except ConditionFailed as exc:
                return KeyClaim(known=self._known(key, getattr(exc.__cause__, "response", {}).get("Item")))
            return KeyClaim()
        try:
            call("transact_write_items", TransactItems=[*counter_updates(limits, window_seconds, now), {"Put": put}])
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(exc)
            full = full_counter(limits, reasons)
            if full is not None:
                return KeyClaim(full=full)
            mine = reasons[len(limits)] if len(reasons) > len(limits) else {}
            if mine.get("Code") != "ConditionalCheckFailed":
                raise  # cancelled for another reason (a conflict): the caller's 5xx/503 path
            return KeyClaim(known=self._known(key, mine.get("Item")))
        return KeyClaim()

    def _known(self, key: str, item: Mapping[str, Any] | None) -> dict[str, Any]:
        """The known key's record: as the refusal returned it, or read (an emulator may not return it)."""
        if not item:
            item = call(
                "get_item",
                TableName=table_name(REQUEST_KEYS),
                Key={"request_key": {"S": key}},
                ConsistentRead=True,
            )["Item"]
        record = from_item(item)
        if "received_at" not in record:
            # A key claimed before versions were stored: it was claimed a TTL before it expires.
            claimed = int(record["expires_at"]) - self.ttl_seconds
            record["received_at"] = datetime.fromtimestamp(claimed, UTC).isoformat()
        return record
