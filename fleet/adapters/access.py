"""Adapters of who-may-do-what and of the to-do app: API keys, rate counters, to-dos, user files."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from events.topology import TOPOLOGY
from fleet import aws
from fleet.adapters.dynamo import call, from_item, put_new, to_item
from fleet.adapters.objects import MEDIA, S3UploadSigner
from fleet.errors import ConditionFailed, error_code, translate
from fleet.resources import bucket_name, table_name
from fleet.retry import retrying

API_KEYS = TOPOLOGY.table("api_keys")
RATE_LIMITS = TOPOLOGY.table("rate_limits")
TODOS = TOPOLOGY.table("todos")


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


class DynamoRateLimiter:
    """Fixed windows in the rate_limits table, old windows expiring by TTL.

    Every counter of a request is counted in one call: a transaction of conditional ADDs,
    cancelled as a whole when one counter is at its limit (the reasons say which).
    """

    def hit(self, limits: Sequence[tuple[str, int]], window_seconds: int, now: float) -> str | None:
        """Count one request in each counter's window, all or none; the first full counter, or None."""
        if not limits:
            return None
        try:
            call("transact_write_items", TransactItems=counter_updates(limits, window_seconds, now))
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            full = full_counter(limits, cancellation_reasons(exc))
            if full is None:
                raise  # cancelled for another reason (a conflict): the caller's 5xx/503 path
            return full
        return None


def counter_updates(limits: Sequence[tuple[str, int]], window_seconds: int, now: float) -> list[dict[str, Any]]:
    """The transaction items that count one request in each `(counter, limit)`'s window of `now`."""
    window = int(now) // window_seconds
    table = table_name(RATE_LIMITS)
    return [
        {
            "Update": {
                "TableName": table,
                "Key": {"counter": {"S": f"{counter}#{window}"}},
                "UpdateExpression": "ADD hits :one SET expires_at = if_not_exists(expires_at, :expires)",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str((window + 2) * window_seconds)},
                },
            }
        }
        for counter, limit in limits
    ]


def cancellation_reasons(exc: BaseException) -> list[dict[str, Any]]:
    """The CancellationReasons of a TransactionCanceledException, one per item, in order."""
    return list(getattr(exc, "response", {}).get("CancellationReasons") or [])


def full_counter(limits: Sequence[tuple[str, int]], reasons: Sequence[Mapping[str, Any]]) -> str | None:
    """The first counter whose update of `counter_updates(limits, ...)` failed its condition, or None."""
    for (counter, _limit), reason in zip(limits, reasons):
        if reason.get("Code") == "ConditionalCheckFailed":
            return counter
    return None


class DynamoTodos:
    """The todos table (owner, todo_id)."""

    def get(self, owner: str, todo_id: str) -> dict[str, Any] | None:
        """The owner's to-do, or None."""
        item = call(
            "get_item",
            TableName=table_name(TODOS),
            Key={"owner": {"S": owner}, "todo_id": {"S": todo_id}},
            ConsistentRead=True,
        )
        return from_item(item["Item"]) if "Item" in item else None

    def list(self, owner: str, limit: int) -> list[dict[str, Any]]:
        """The owner's to-dos: one Query (paged), at most `limit`."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": table_name(TODOS),
            "KeyConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": owner}},
        }
        while len(found) < limit:
            page = call("query", Limit=limit - len(found), **kwargs)
            found.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def create(self, item: Mapping[str, Any]) -> bool:
        """Store a new to-do once; a redelivery writes nothing."""
        return put_new(TODOS, "todo_id", item)

    def update(self, owner: str, todo_id: str, changes: Mapping[str, Any], changed_at: str) -> bool:
        """Apply changes if the to-do is the owner's, still there, and not changed after `changed_at`."""
        names = {f"#f{i}": k for i, k in enumerate(changes)}
        values = {f":v{i}": v for i, v in enumerate(changes.values())}
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
        try:
            call(
                "update_item",
                TableName=table_name(TODOS),
                Key={"owner": {"S": owner}, "todo_id": {"S": todo_id}},
                UpdateExpression=f"SET {sets}, updated_at = :at",
                ConditionExpression="attribute_exists(todo_id) AND updated_at < :at",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**to_item(values), ":at": {"S": changed_at}},
            )
        except ConditionFailed:
            return False
        return True

    def delete(self, owner: str, todo_id: str) -> None:
        """Delete the owner's to-do."""
        call("delete_item", TableName=table_name(TODOS), Key={"owner": {"S": owner}, "todo_id": {"S": todo_id}})


class S3UserFiles:
    """Users' folders in a topology bucket: presigned POSTs and GETs, listings by prefix."""

    def __init__(self, logical: str = MEDIA.name) -> None:
        self.logical = TOPOLOGY.bucket(logical).name
        self._signer = S3UploadSigner(logical)

    @property
    def bucket(self) -> str:
        """The physical bucket name in this stage."""
        return bucket_name(self.logical)

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        """A POST whose policy fixes the exact key, the content type and the exact size."""
        return self._signer.presign_post(key, content_type, size, expires_in)

    def list(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        """The objects under `prefix`, up to `limit`."""
        try:
            page = retrying(
                lambda: aws.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=limit)
            )
        except Exception as exc:
            raise translate(exc) from exc
        return [
            {"key": o["Key"], "bytes": int(o["Size"]), "last_modified": o["LastModified"].isoformat()}
            for o in page.get("Contents", [])
        ]

    def exists(self, key: str) -> bool:
        """True when the object is stored."""
        from fleet.adapters.objects import S3Objects

        return S3Objects(self.logical).head(key) is not None

    def presign_get(self, key: str, expires_in: int) -> str:
        """A presigned GET of `key`."""
        try:
            return aws.client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        except Exception as exc:
            raise translate(exc) from exc

