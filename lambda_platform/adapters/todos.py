"""Adapters of the to-do app: each user's to-dos (DynamoDB) and files (their S3 folder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.topology import TOPOLOGY
from lambda_platform import aws
from lambda_platform.adapters.dynamo import call, from_item, put_new, to_item
from lambda_platform.adapters.objects import MEDIA, S3UploadSigner
from lambda_platform.errors import ConditionFailed, translate
from lambda_platform.resources import bucket_name, table_name
from lambda_platform.retry import retrying

TODOS = TOPOLOGY.table("todos")


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
            page = retrying(lambda: aws.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=limit))
        except Exception as exc:
            raise translate(exc) from exc
        return [
            {"key": o["Key"], "bytes": int(o["Size"]), "last_modified": o["LastModified"].isoformat()}
            for o in page.get("Contents", [])
        ]

    def exists(self, key: str) -> bool:
        """True when the object is stored."""
        from lambda_platform.adapters.objects import S3Objects

        return S3Objects(self.logical).head(key) is not None

    def presign_get(self, key: str, expires_in: int) -> str:
        """A presigned GET of `key`."""
        try:
            url: str = aws.client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        except Exception as exc:
            raise translate(exc) from exc
        return url
