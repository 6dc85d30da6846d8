"""The DynamoDB adapter of the CodeStore port: the codes table, its `available` index, and the entries' side.

A code is stored under its key (`events.models.code_key`: codes that differ only by case
are one code) with its `text` as imported, which is what an entry gets. An entry gets a
code only under the condition `ELIGIBLE`, checked in the same conditional write that gives it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from events.models import ACCEPTED, DUPLICATE_RECEIPT, REJECTED, WAITLISTED, code_key
from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, cancellation_reasons, from_item, query_count, to_item
from lambda_platform.errors import ConditionFailed, NotFound, RetryLater, error_code
from lambda_platform.ports import CodeGrant
from lambda_platform.resources import index_name, table_name

CODES = TOPOLOGY.table("codes")
AVAILABLE = CODES.index("available")
SUBMISSIONS = TOPOLOGY.table("submissions")
WAITLIST = SUBMISSIONS.index("waitlist")
BY_CAMPAIGN = SUBMISSIONS.index("by_campaign")

#: Conditional puts of an import in flight at once (each its own call: a batch write has no condition).
IMPORT_THREADS = 8

#: The entry's side of every give and waitlisting: an entry of this campaign (`:campaign`),
#: accepted or waitlisted, not flagged as a duplicate receipt, not rejected in review.
#: (`review.decision <> :rejected` alone would not hold for an entry never reviewed.)
ELIGIBLE = (
    "campaign_id = :campaign AND #status IN (:accepted, :waitlisted) AND attribute_not_exists(duplicate_receipt)"
    " AND (attribute_not_exists(review.decision) OR review.decision <> :rejected)"
)
ELIGIBLE_NAMES = {"#status": "status"}


def eligible_values(campaign_id: str) -> dict[str, Any]:
    """The values `ELIGIBLE` refers to."""
    return {
        ":campaign": {"S": campaign_id},
        ":accepted": {"S": ACCEPTED},
        ":waitlisted": {"S": WAITLISTED},
        ":rejected": {"S": REJECTED},
    }


def may_hold_code(entry: Mapping[str, Any], campaign_id: str) -> bool:
    """`ELIGIBLE` read on a stored entry: whether it may be given a code of this campaign."""
    return (
        entry.get("campaign_id") == campaign_id
        and entry.get("status") in (ACCEPTED, WAITLISTED)
        and not entry.get(DUPLICATE_RECEIPT)
        and (entry.get("review") or {}).get("decision") != REJECTED
    )


def leave_waitlist(campaign_id: str, submission_id: str) -> bool:
    """Take a waitlisted entry that is flagged or rejected off the campaign's waitlist: one
    conditional UpdateItem (`accepted` again, no code, its `waitlisted_at` kept); False when
    it is not on the waitlist, holds a code, or may hold one."""
    try:
        call(
            "update_item",
            TableName=table_name(SUBMISSIONS),
            Key={"submission_id": {"S": submission_id}},
            UpdateExpression="SET #status = :accepted REMOVE waitlisted_in",
            ConditionExpression=(
                "waitlisted_in = :campaign AND #status = :waitlisted AND attribute_not_exists(#code)"
                " AND (attribute_exists(duplicate_receipt) OR review.decision = :rejected)"
            ),
            ExpressionAttributeNames={"#status": "status", "#code": "code"},
            ExpressionAttributeValues=eligible_values(campaign_id),
        )
    except ConditionFailed:
        return False
    return True


class DynamoCodes:
    """Codes keyed by (campaign_id, code); an entry's code and waitlist place on its submission item."""

    def add(self, campaign_id: str, codes: Sequence[tuple[str, str]], added_at: str) -> dict[str, str]:
        """Put each new code in the pool under its key; a code the campaign holds already in any
        case (even given) is left as it is, and its pool order returned (the refusal's ALL_OLD)."""

        def put(pair: tuple[str, str]) -> tuple[str, str] | None:
            code, order = pair
            item = {
                "campaign_id": campaign_id,
                "code": code_key(code),
                "text": code,
                "pool": campaign_id,
                "pool_order": order,
                "added_at": added_at,
            }
            try:
                call(
                    "put_item",
                    TableName=table_name(CODES),
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(code)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ConditionFailed as exc:
                held = getattr(exc.__cause__, "response", {}).get("Item") or {}
                return code, str(from_item(held).get("pool_order", "")) if held else ""
            return None

        if not codes:
            return {}
        with ThreadPoolExecutor(max_workers=min(IMPORT_THREADS, len(codes))) as pool:
            return dict(found for found in pool.map(put, codes) if found is not None)

    def available(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """A page of the `available` index, in pool order (eventually consistent on AWS: a give re-checks)."""
        request: dict[str, Any] = {
            "TableName": table_name(CODES),
            "IndexName": index_name(CODES, AVAILABLE),
            "KeyConditionExpression": "#pool = :c",
            "ExpressionAttributeNames": {"#pool": "pool", "#code": "code", "#text": "text"},
            "ExpressionAttributeValues": {":c": {"S": campaign_id}},
            "ProjectionExpression": "#code, #text",
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = after
        page = call("query", **request)
        codes = [from_item(i) for i in page.get("Items", [])]
        return [str(c.get("text", c["code"])) for c in codes], page.get("LastEvaluatedKey")

    def give(self, campaign_id: str, code: str, submission_id: str, given_at: str) -> CodeGrant:
        """The code's and the entry's conditional updates in one TransactWriteItems."""
        take = {
            "Update": {
                "TableName": table_name(CODES),
                "Key": {"campaign_id": {"S": campaign_id}, "code": {"S": code_key(code)}},
                "UpdateExpression": "REMOVE #pool SET given_to = :s, given_at = :t",
                "ConditionExpression": "#pool = :c",
                "ExpressionAttributeNames": {"#pool": "pool"},
                "ExpressionAttributeValues": {":c": {"S": campaign_id}, ":s": {"S": submission_id}, ":t": {"S": given_at}},
            }
        }
        hold = {
            "Update": {
                "TableName": table_name(SUBMISSIONS),
                "Key": {"submission_id": {"S": submission_id}},
                # Accepted again and off the waitlist, whichever way it came: a waitlisted
                # entry given a code is an accepted one with a code.
                "UpdateExpression": "SET #code = :code, code_given_at = :t, #status = :accepted REMOVE waitlisted_in",
                "ConditionExpression": f"attribute_exists(submission_id) AND attribute_not_exists(#code) AND {ELIGIBLE}",
                "ExpressionAttributeNames": {"#code": "code", **ELIGIBLE_NAMES},
                "ExpressionAttributeValues": {":code": {"S": code}, ":t": {"S": given_at}, **eligible_values(campaign_id)},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        try:
            call("transact_write_items", TransactItems=[take, hold])
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            return self._refused(campaign_id, submission_id, cancellation_reasons(exc), exc)
        return CodeGrant(code, given=True)

    def _refused(
        self, campaign_id: str, submission_id: str, reasons: Sequence[Mapping[str, Any]], exc: BaseException
    ) -> CodeGrant:
        """What a cancelled give means: the entry's own code, an entry that may hold none, or
        the code gone to someone else."""
        code_reason, entry_reason = [*reasons, {}, {}][:2]
        if entry_reason.get("Code") == "ConditionalCheckFailed":
            return self._instead(campaign_id, submission_id, entry_reason.get("Item"))
        if entry_reason.get("Code") == "TransactionConflict":
            raise RetryLater(f"entry {submission_id} changed during its code's transaction") from exc
        if code_reason.get("Code") in ("ConditionalCheckFailed", "TransactionConflict"):
            return CodeGrant(None)  # taken, or being taken: the next code is tried
        raise exc

    def _instead(self, campaign_id: str, submission_id: str, item: Mapping[str, Any] | None) -> CodeGrant:
        """What an entry that refused a code is: as the refusal returned it, or read. The code
        it holds; or not eligible (nothing written, the code stays in the pool)."""
        if not item:
            found = call(
                "get_item",
                TableName=table_name(SUBMISSIONS),
                Key={"submission_id": {"S": submission_id}},
                ConsistentRead=True,
            ).get("Item")
            item = found
        entry = from_item(item) if item else None
        if entry is None:
            raise NotFound(f"entry {submission_id} is not stored")
        if entry.get("code"):
            return CodeGrant(str(entry["code"]))
        if not may_hold_code(entry, campaign_id):
            return CodeGrant(None, eligible=False)
        raise RetryLater(f"entry {submission_id} refused a code but holds none")  # changed meanwhile: look again

    def waitlist(self, campaign_id: str, submission_id: str, at: str) -> CodeGrant | None:
        """Waitlist an entry holding no code, under the condition of `give`; what it is instead."""
        try:
            call(
                "update_item",
                TableName=table_name(SUBMISSIONS),
                Key={"submission_id": {"S": submission_id}},
                UpdateExpression="SET #status = :waitlisted, waitlisted_in = :campaign, waitlisted_at = if_not_exists(waitlisted_at, :t)",
                ConditionExpression=f"attribute_exists(submission_id) AND attribute_not_exists(#code) AND {ELIGIBLE}",
                ExpressionAttributeNames={"#code": "code", **ELIGIBLE_NAMES},
                ExpressionAttributeValues={":t": {"S": at}, **eligible_values(campaign_id)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as exc:
            return self._instead(campaign_id, submission_id, getattr(exc.__cause__, "response", {}).get("Item"))
        return None

    def leave_waitlist(self, campaign_id: str, submission_id: str) -> bool:
        """`leave_waitlist`: one conditional UpdateItem."""
        return leave_waitlist(campaign_id, submission_id)

    def waitlisted(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """A page of the sparse `waitlist` index, oldest entry first."""
        request: dict[str, Any] = {
            "TableName": table_name(SUBMISSIONS),
            "IndexName": index_name(SUBMISSIONS, WAITLIST),
            "KeyConditionExpression": "waitlisted_in = :c",
            "ExpressionAttributeValues": {":c": {"S": campaign_id}},
            "ProjectionExpression": "submission_id",
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = after
        page = call("query", **request)
        return [from_item(i)["submission_id"] for i in page.get("Items", [])], page.get("LastEvaluatedKey")

    def counts(self, campaign_id: str) -> tuple[int, int, int]:
        """(available, given, waitlisted): the pool's index, the campaign's codes less those, the waitlist index."""
        value = {":c": {"S": campaign_id}}
        available = query_count(
            TableName=table_name(CODES),
            IndexName=index_name(CODES, AVAILABLE),
            KeyConditionExpression="#pool = :c",
            ExpressionAttributeNames={"#pool": "pool"},
            ExpressionAttributeValues=value,
        )
        total = query_count(
            TableName=table_name(CODES), KeyConditionExpression="campaign_id = :c", ExpressionAttributeValues=value
        )
        waitlisted = query_count(
            TableName=table_name(SUBMISSIONS),
            IndexName=index_name(SUBMISSIONS, WAITLIST),
            KeyConditionExpression="waitlisted_in = :c",
            ExpressionAttributeValues=value,
        )
        return available, max(total - available, 0), waitlisted

    def unmailed(self, campaign_id: str) -> int:
        """A COUNT Query of the campaign's entries (`by_campaign`), filtered on a code and the email's status."""
        from events.email_feedback import BOUNCED, SUPPRESSED

        return query_count(
            TableName=table_name(SUBMISSIONS),
            IndexName=index_name(SUBMISSIONS, BY_CAMPAIGN),
            KeyConditionExpression="campaign_id = :c",
            FilterExpression="attribute_exists(code) AND email_status IN (:bounced, :suppressed)",
            ExpressionAttributeValues={
                ":c": {"S": campaign_id},
                ":bounced": {"S": BOUNCED},
                ":suppressed": {"S": SUPPRESSED},
            },
        )
