"""Where the local stream pollers got to on each shard, kept in the topology's `checkpoints` table.

A checkpoint is written after each batch that moved a shard on: a runtime killed and
started again (the AWS still up) resumes where it stopped; what it had done after its
last write is delivered again, which the idempotent handlers absorb. Lambda keeps its own
on AWS, so under IAM enforcement the runtime writes them as the operator, not the function.
"""

from __future__ import annotations

from fleet.runtime.credentials import as_operator
from lambda_platform.adapters.dynamo import call
from lambda_platform.resources import table_name


class CheckpointStore:
    """Where each shard of one function's trigger got to, in the `checkpoints` table."""

    def __init__(self, function_name: str, arn: str) -> None:
        self.prefix = f"{function_name}#{arn}#"

    def load(self, shard_id: str) -> str | None:
        """The last sequence number done on a shard, or None when it never moved."""
        with as_operator():
            item = call(
                "get_item",
                TableName=table_name("checkpoints"),
                Key={"shard_key": {"S": self.prefix + shard_id}},
                ConsistentRead=True,
            ).get("Item")
        return item["sequence_number"]["S"] if item else None

    def save(self, shard_id: str, sequence_number: str) -> None:
        """Record that a shard is done up to `sequence_number`."""
        with as_operator():
            call(
                "put_item",
                TableName=table_name("checkpoints"),
                Item={"shard_key": {"S": self.prefix + shard_id}, "sequence_number": {"S": sequence_number}},
            )
