"""DynamoDB helpers shared by the table adapters."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from events.topology import Table
from lambda_platform import aws
from lambda_platform.errors import translate
from lambda_platform.resources import table_name
from lambda_platform.retry import retrying

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict as a DynamoDB item (None values left out)."""
    return {k: _serializer.serialize(_number(v)) for k, v in data.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a plain dict, numbers as int where they are whole."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _number(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


def call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """Call a DynamoDB operation, translating its errors into Fleet's."""
    try:
        return retrying(lambda: getattr(aws.client("dynamodb"), operation)(**kwargs))
    except Exception as exc:  # translated, never swallowed
        raise translate(exc) from exc


def put_new(table: str | Table, key: str, item: Mapping[str, Any]) -> bool:
    """Store an item whose key is not stored yet; False (and nothing written) when it is.

    A redelivery of the same message therefore writes nothing, and the table's stream sees
    one INSERT per item.
    """
    from lambda_platform.errors import ConditionFailed

    try:
        call(
            "put_item",
            TableName=table_name(table),
            Item=to_item(item),
            ConditionExpression=f"attribute_not_exists({key})",
        )
    except ConditionFailed:
        return False
    return True


def get_one(table: str | Table, key: str, value: str) -> dict[str, Any] | None:
    """The item under a string key, read consistently, or None."""
    response = call("get_item", TableName=table_name(table), Key={key: {"S": value}}, ConsistentRead=True)
    return from_item(response["Item"]) if "Item" in response else None


def query_count(**request: Any) -> int:
    """The items a Query matches, by `Select=COUNT`, page after page."""
    total: int = 0
    while True:
        page = call("query", Select="COUNT", **request)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_get(table: str | Table, key: str, values: Iterable[str], attributes: str | None = None) -> list[dict[str, Any]]:
    """Read items by key in batches of 100, following UnprocessedKeys."""
    name = table_name(table)
    values = list(dict.fromkeys(values))
    found: list[dict[str, Any]] = []
    for start in range(0, len(values), BATCH_GET_LIMIT):
        request: dict[str, Any] = {"Keys": [{key: {"S": v}} for v in values[start : start + BATCH_GET_LIMIT]]}
        if attributes:
            request["ProjectionExpression"] = attributes
        pending = {name: request}
        for attempt in range(6):
            response = call("batch_get_item", RequestItems=pending)
            found.extend(from_item(i) for i in response.get("Responses", {}).get(name, []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            from lambda_platform.errors import RetryLater

            raise RetryLater(f"batch_get_item on {name} left keys unprocessed")
    return found


def batch_put(table: str | Table, items: Sequence[Mapping[str, Any]], key: str) -> set[str]:
    """Write items in batches of 25, retrying UnprocessedItems; return keys never written."""
    name = table_name(table)
    failed: set[str] = set()
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        requests = [{"PutRequest": {"Item": to_item(i)}} for i in items[start : start + BATCH_WRITE_LIMIT]]
        for attempt in range(6):
            response = call("batch_write_item", RequestItems={name: requests})
            requests = (response.get("UnprocessedItems") or {}).get(name, [])
            if not requests:
                break
            time.sleep(0.05 * 2**attempt)
        failed.update(r["PutRequest"]["Item"][key]["S"] for r in requests)
    return failed


def cancellation_reasons(exc: BaseException) -> list[dict[str, Any]]:
    """The CancellationReasons of a TransactionCanceledException, one per item, in order."""
    return list(getattr(exc, "response", {}).get("CancellationReasons") or [])
