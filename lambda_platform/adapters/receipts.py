"""DynamoDB adapters of the ReceiptIndex and ReceiptFlags ports: hash bands and the entries they flag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from events.models import DUPLICATE_RECEIPT
from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import batch_put, call, from_item
from lambda_platform.errors import ConditionFailed, RetryLater
from lambda_platform.resources import index_name, table_name

RECEIPT_BANDS = TOPOLOGY.table("receipt_bands")
SUBMISSIONS = TOPOLOGY.table("submissions")
BY_UPLOAD = SUBMISSIONS.index("by_upload")


class DynamoReceiptIndex:
    """The receipt_bands table: partition `band`, sort `submission_id`."""

    def record(self, items: Sequence[Mapping[str, Any]]) -> None:
        """BatchWriteItem in 25s; a band left unwritten fails the call, so the record is retried."""
        unwritten = batch_put(RECEIPT_BANDS, list(items), "band")
        if unwritten:
            raise RetryLater(f"{len(unwritten)} receipt bands left unprocessed")

    def band(self, band: str) -> list[dict[str, Any]]:
        """One Query of the band, consistent (a band written just before is seen), every page."""
        request: dict[str, Any] = {
            "TableName": table_name(RECEIPT_BANDS),
            "KeyConditionExpression": "band = :band",
            "ExpressionAttributeValues": {":band": {"S": band}},
            "ProjectionExpression": "submission_id, phash, received_at",
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while True:
            response = call("query", **request)
            found.extend(from_item(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class DynamoReceiptFlags:
    """The submissions table's receipt attributes: `duplicate_receipt`, `receipt_ready_at`, found `by_upload`."""

    def flag(self, submission_id: str, copies: Sequence[str]) -> bool:
        """ADD to the String Set (a redelivery adds nothing new); the entry must be stored."""
        if not copies:
            return True
        return self._update(
            submission_id,
            "ADD #flag :ids",
            {"#flag": DUPLICATE_RECEIPT},
            {":ids": {"SS": sorted(set(copies))}},
        )

    def senders(self, upload_key: str) -> list[str]:
        """A Query of the `by_upload` index, every page."""
        request: dict[str, Any] = {
            "TableName": table_name(SUBMISSIONS),
            "IndexName": index_name(SUBMISSIONS, BY_UPLOAD),
            "KeyConditionExpression": "upload_key = :key",
            "ExpressionAttributeValues": {":key": {"S": upload_key}},
            "ProjectionExpression": "submission_id",
        }
        found: list[str] = []
        while True:
            response = call("query", **request)
            found.extend(i["submission_id"]["S"] for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def mark_ready(self, submission_id: str, at: str) -> bool:
        """SET receipt_ready_at on a stored entry: its stream MODIFY brings it back to its confirmation."""
        return self._update(submission_id, "SET #ready = :at", {"#ready": "receipt_ready_at"}, {":at": {"S": at}})

    def _update(self, submission_id: str, expression: str, names: dict[str, str], values: dict[str, Any]) -> bool:
        try:
            call(
                "update_item",
                TableName=table_name(SUBMISSIONS),
                Key={"submission_id": {"S": submission_id}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                # Never create an entry out of a flag: an update_item that creates emits two INSERTs, too.
                ConditionExpression="attribute_exists(submission_id)",
            )
        except ConditionFailed:
            return False
        return True
