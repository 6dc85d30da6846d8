"""The DynamoDB adapter of the ApiKeyStore port: API keys, stored by the hash of the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform.adapters.dynamo import call, from_item, to_item
from lambda_platform.resources import table_name

API_KEYS = TOPOLOGY.table("api_keys")


class DynamoApiKeys:
    """The api_keys table."""

    def get(self, key_hash: str) -> dict[str, Any] | None:
        """The key's record, or None."""
        item = call("get_item", TableName=table_name(API_KEYS), Key={"key_hash": {"S": key_hash}}, ConsistentRead=True)
        return from_item(item["Item"]) if "Item" in item else None

    def put(self, record: Mapping[str, Any]) -> None:
        """Store a new key's record."""
        call("put_item", TableName=table_name(API_KEYS), Item=to_item(record))

    def list(self) -> list[dict[str, Any]]:
        """Every key's record (an admin listing: a Scan of a small table)."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table_name(API_KEYS)}
        while True:
            page = call("scan", **kwargs)
            found.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def revoke(self, key_hash: str) -> None:
        """Mark a key revoked."""
        call(
            "update_item",
            TableName=table_name(API_KEYS),
            Key={"key_hash": {"S": key_hash}},
            UpdateExpression="SET revoked = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
