"""The DynamoDB adapter of the UploadStore port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import batch_get, call, get_one, to_item
from lambda_platform.resources import table_name

UPLOADS = TOPOLOGY.table("uploads")


class DynamoUploads:
    """The uploads table, keyed by upload id."""

    def create(self, upload: Mapping[str, Any]) -> None:
        """Store the record of a new upload; an id is never reused."""
        call(
            "put_item",
            TableName=table_name(UPLOADS),
            Item=to_item(upload),
            ConditionExpression="attribute_not_exists(upload_id)",
        )

    def get(self, upload_id: str) -> dict[str, Any] | None:
        """The upload's record, or None."""
        return get_one(UPLOADS, "upload_id", upload_id)

    def get_many(self, upload_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The records of those of `upload_ids` that exist, a BatchGetItem per 100."""
        return batch_get(UPLOADS, "upload_id", upload_ids)

    def record_outcome(self, upload_id: str, outcome: Mapping[str, Any]) -> None:
        """Set the worker's findings on an existing record (None values are removed)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        removes: list[str] = []
        for n, (field, value) in enumerate(sorted(outcome.items())):
            names[f"#f{n}"] = field
            if value is None:
                removes.append(f"#f{n}")
            else:
                values[f":v{n}"] = to_item({"v": value})["v"]
                sets.append(f"#f{n} = :v{n}")
        expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        request: dict[str, Any] = {
            "TableName": table_name(UPLOADS),
            "Key": {"upload_id": {"S": upload_id}},
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
            # The record must exist: the API writes it before presigning the upload.
            "ConditionExpression": "attribute_exists(upload_id)",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        call("update_item", **request)
