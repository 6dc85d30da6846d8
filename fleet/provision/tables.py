"""DynamoDB: each topology table on demand, with its indexes, stream and TTL, and off the
local stage its replicas (a global table)."""

from __future__ import annotations

import time
from typing import Any

from events.topology import Table
from fleet.provision.base import Change
from lambda_platform import aws, resources, settings
from lambda_platform.errors import error_code

#: How long provisioning waits for a replica to become ACTIVE (AWS takes minutes).
REPLICA_WAIT_SECONDS = 1800.0
REPLICA_POLL_SECONDS = 15.0


def replica_regions(table: Table) -> tuple[str, ...]:
    """The regions where this stage's copy of the table gets a replica: none on the local
    stage, and never the current region (the table itself)."""
    current = settings.current()
    if current.local:
        return ()
    return tuple(r for r in table.replica_regions if r != current.region)


def stream_of(table: Table) -> str | None:
    """The stream view the table needs in this stage: a global table replicates through a
    NEW_AND_OLD_IMAGES stream, which `ensure_replicas` turns on before the first replica."""
    if not replica_regions(table):
        return table.stream
    if table.stream not in (None, "NEW_AND_OLD_IMAGES"):
        # Another view type would be a new stream ARN under the consumers' mappings.
        raise ValueError(f"table {table.name} has replicas: its stream must be NEW_AND_OLD_IMAGES or none")
    return "NEW_AND_OLD_IMAGES"


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
    """Create a table (with indexes, stream and TTL), or correct its stream and TTL.

    Its replicas are `ensure_replicas`' (after this, since they need the stream)."""
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
    wanted_stream = _stream_specification(table)
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


def _stream_specification(table: Table) -> dict[str, Any]:
    view = stream_of(table)
    return {"StreamEnabled": True, "StreamViewType": view} if view else {"StreamEnabled": False}


def _ensure_ttl(table: Table, name: str) -> bool:
    if not table.ttl_attribute:
        return False
    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == table.ttl_attribute:
        return False
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute})
    return True


def ensure_replicas(table: Table, wait_seconds: float = REPLICA_WAIT_SECONDS) -> list[Change]:
    """Add the table's missing replicas (UpdateTable with ReplicaUpdates, one region per call,
    as DynamoDB takes them) and wait until each is ACTIVE, within `wait_seconds`.

    An endpoint that accepts the update and shows no replica afterwards (moto) has none:
    the replica is reported `unsupported`, never claimed."""
    dynamodb = aws.client("dynamodb")
    name = resources.table_name(table)
    changes = []
    regions = replica_regions(table)
    if regions:
        stream = dynamodb.describe_table(TableName=name)["Table"].get("StreamSpecification") or {}
        if not stream.get("StreamEnabled"):
            dynamodb.update_table(TableName=name, StreamSpecification=_stream_specification(table))
            dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            changes.append(Change("stream", name, "updated"))
    for region in regions:
        label = f"{name} {region}"
        status = _replica_status(name, region)
        if status == "ACTIVE":
            changes.append(Change("replica", label, "unchanged"))
            continue
        if status is None:
            dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": region}}])
            if _replica_status(name, region) is None:
                changes.append(Change("replica", label, "unsupported"))
                continue
        changes.append(Change("replica", label, _wait_for_replica(name, region, wait_seconds)))
    return changes


def _replica_status(name: str, region: str) -> str | None:
    described = aws.client("dynamodb").describe_table(TableName=name)["Table"]
    for replica in described.get("Replicas") or []:
        if replica.get("RegionName") == region:
            # The next replica may be added only once the table itself is ACTIVE again.
            if replica.get("ReplicaStatus") == "ACTIVE" and described.get("TableStatus") != "ACTIVE":
                return "UPDATING"
            return replica.get("ReplicaStatus")
    return None


def _wait_for_replica(name: str, region: str, wait_seconds: float) -> str:
    deadline = time.monotonic() + wait_seconds
    while True:
        status = _replica_status(name, region)
        if status == "ACTIVE":
            return "created"
        if status not in ("CREATING", "UPDATING"):
            raise RuntimeError(f"replica of {name} in {region} is {status}")
        if time.monotonic() >= deadline:
            # Still being made: the next run finds it CREATING and waits again.
            return "pending"
        time.sleep(REPLICA_POLL_SECONDS)
