"""The DynamoDB adapter of the CodeStore port: the codes table, its `available` index, and the entries' side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from events.models import ACCEPTED, WAITLISTED
from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, cancellation_reasons, from_item, query_count, to_item
from lambda_platform.errors import ConditionFailed, NotFound, RetryLater, error_code
from lambda_platform.ports import CodeGrant
from lambda_platform.resources import index_name, table_name

CODES = TOPOLOGY.table("codes")
AVAILABLE = CODES.index("available")
SUBMISSIONS = TOPOLOGY.table("submissions")
WAITLIST = SUBMISSIONS.index("waitlist")

#: Conditional puts of an import in flight at once (each its own call: a batch write has no condition).
IMPORT_THREADS = 8


class DynamoCodes:
    """Codes keyed by (campaign_id, code); an entry's code and waitlist place on its submission item."""

    def add(self, campaign_id: str, codes: Sequence[tuple[str, str]], added_at: str) -> set[str]:
        """Put each new code in the pool; a code the campaign holds already (even given) is left as it is."""

        def put(pair: tuple[str, str]) -> str | None:
            code, order = pair
            try:
                call(
                    "put_item",
                    TableName=table_name(CODES),
                    Item=to_item(
                        {"campaign_id": campaign_id, "code": code, "pool": campaign_id, "pool_order": order, "added_at": added_at}
                    ),
                    ConditionExpression="attribute_not_exists(code)",
                )
            except ConditionFailed:
                return None
            return code

        with ThreadPoolExecutor(max_workers=IMPORT_THREADS) as pool:
            return {code for code in pool.map(put, codes) if code is not None}

    def available(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """A page of the `available` index, in pool order (eventually consistent on AWS: a give re-checks)."""
        request: dict[str, Any] = {
            "TableName": table_name(CODES),
            "IndexName": index_name(CODES, AVAILABLE),
            "KeyConditionExpression": "#pool = :c",
            "ExpressionAttributeNames": {"#pool": "pool", "#code": "code"},
            "ExpressionAttributeValues": {":c": {"S": campaign_id}},
            "ProjectionExpression": "#code",
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = after
        page = call("query", **request)
        return [from_item(i)["code"] for i in page.get("Items", [])], page.get("LastEvaluatedKey")

    def give(self, campaign_id: str, code: str, submission_id: str, given_at: str) -> CodeGrant:
        """The code's and the entry's conditional updates in one TransactWriteItems."""
        take = {
            "Update": {
                "TableName": table_name(CODES),
                "Key": {"campaign_id": {"S": campaign_id}, "code": {"S": code}},
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
                "ConditionExpression": "attribute_exists(submission_id) AND attribute_not_exists(#code)",
                "ExpressionAttributeNames": {"#code": "code", "#status": "status"},
                "ExpressionAttributeValues": {":code": {"S": code}, ":t": {"S": given_at}, ":accepted": {"S": ACCEPTED}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        try:
            call("transact_write_items", TransactItems=[take, hold])
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            return self._refused(submission_id, cancellation_reasons(exc), exc)
        return CodeGrant(code, given=True)

    def _refused(self, submission_id: str, reasons: Sequence[Mapping[str, Any]], exc: BaseException) -> CodeGrant:
        """What a cancelled give means: the entry's own code, or the code gone to someone else."""
        code_reason, entry_reason = [*reasons, {}, {}][:2]
        if entry_reason.get("Code") == "ConditionalCheckFailed":
            return CodeGrant(self._held(submission_id, entry_reason.get("Item")))
        if entry_reason.get("Code") == "TransactionConflict":
            raise RetryLater(f"entry {submission_id} changed during its code's transaction") from exc
        if code_reason.get("Code") in ("ConditionalCheckFailed", "TransactionConflict"):
            return CodeGrant(None)  # taken, or being taken: the next code is tried
        raise exc

    def _held(self, submission_id: str, item: Mapping[str, Any] | None) -> str:
        """The code of an entry that refused one: as the refusal returned it, or read."""
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
        if not entry.get("code"):
            raise RetryLater(f"entry {submission_id} refused a code but holds none")  # changed meanwhile: look again
        return str(entry["code"])

    def waitlist(self, campaign_id: str, submission_id: str, at: str) -> str | None:
        """Waitlist an entry holding no code; the code it holds instead."""
        try:
            call(
                "update_item",
                TableName=table_name(SUBMISSIONS),
                Key={"submission_id": {"S": submission_id}},
                UpdateExpression="SET #status = :w, waitlisted_in = :c, waitlisted_at = if_not_exists(waitlisted_at, :t)",
                ConditionExpression="attribute_exists(submission_id) AND attribute_not_exists(#code)",
                ExpressionAttributeNames={"#status": "status", "#code": "code"},
                ExpressionAttributeValues={":w": {"S": WAITLISTED}, ":c": {"S": campaign_id}, ":t": {"S": at}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as exc:
            return self._held(submission_id, getattr(exc.__cause__, "response", {}).get("Item"))
        return None

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
