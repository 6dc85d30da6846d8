"""DynamoDB: each topology table on demand, with its indexes, stream and TTL."""

from __future__ import annotations

from typing import Any

from events.topology import Table
from fleet import aws, resources
from fleet.errors import error_code
from fleet.provision.base import Change


def table_definition(table: Table) -> dict[str, Any]:
    """The CreateTable request of a table."""
    attributes = {table.partition_key}
    keys = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key:
        attributes.add(table.sort_key)
        keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    definition: dict[str, Any] = {
        "TableName": resources.table_name(table),
        "KeySchema": keys,
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = []
    for index in table.indexes:
        index_keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        attributes.add(index.partition_key)
        if index.sort_key:
            index_keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
            attributes.add(index.sort_key)
        indexes.append({"IndexName": index.name, "KeySchema": index_keys, "Projection": {"ProjectionType": "ALL"}})
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    definition["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)]
    if table.stream:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return definition


def ensure_table(table: Table) -> Change:
    """Create a table (with indexes, stream and TTL), or correct its stream and TTL."""
    dynamodb = aws.client("dynamodb")
    definition = table_definition(table)
    name = definition["TableName"]
    try:
        described = dynamodb.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        dynamodb.create_table(**definition)
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        _ensure_ttl(table, name)
        return Change("table", name, "created")
    action = "unchanged"
    stream = described.get("StreamSpecification") or {}
    wanted_stream = definition.get("StreamSpecification") or {"StreamEnabled": False}
    if bool(stream.get("StreamEnabled")) != wanted_stream["StreamEnabled"] or (
        wanted_stream["StreamEnabled"] and stream.get("StreamViewType") != wanted_stream["StreamViewType"]
    ):
        if stream.get("StreamEnabled"):
            dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        if wanted_stream["StreamEnabled"]:
            dynamodb.update_table(TableName=name, StreamSpecification=wanted_stream)
        action = "updated"
    if _ensure_ttl(table, name):
        action = "updated"
    return Change("table", name, action)


def _ensure_ttl(table: Table, name: str) -> bool:
    if not table.ttl_attribute:
        return False
    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == table.ttl_attribute:
        return False
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
    )
    return True
