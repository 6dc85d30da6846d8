"""Physical names and ARNs of the topology's resources in the current stage.

Every adapter, provisioning, wiring and the local runtime build names and ARNs here, so
that each is built in one place.
"""

from __future__ import annotations

from fleet import aws, settings


def function_name(unit: str) -> str:
    """The Lambda function of a deploy unit (`api`, `workers`) in the current stage."""
    return settings.current().name(unit)


def function_arn(unit: str) -> str:
    """The ARN of a deploy unit's Lambda function in the current stage."""
    return aws.arn("lambda", f"function:{function_name(unit)}")


def stream_arn(table: str) -> str:
    """The latest stream ARN of a topology table in the current stage."""
    name = settings.current().name(table)
    described = aws.client("dynamodb").describe_table(TableName=name)["Table"]
    if not described.get("LatestStreamArn"):
        raise RuntimeError(f"table {name} has no stream: run fleet provision first")
    return described["LatestStreamArn"]
