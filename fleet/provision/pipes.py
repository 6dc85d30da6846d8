"""EventBridge Pipes: each pipe from its queue to the workers unit (their role: `fleet.provision.roles`)."""

from __future__ import annotations

from typing import Any

from events.topology import TOPOLOGY
from fleet.provision.base import Change
from lambda_platform import aws, resources
from lambda_platform.errors import error_code


def ensure_pipe(pipe: str, queue: str, batch_size: int, window: int, role_arn: str) -> Change:
    """The pipe from a queue to the workers function, which routes by the records' source, as `role_arn`."""
    pipes = aws.client("pipes")
    name = resources.pipe_name(pipe)
    source = resources.queue_arn(queue)
    wanted: dict[str, Any] = {
        "Source": source,
        "SourceParameters": {"SqsQueueParameters": {"BatchSize": batch_size, "MaximumBatchingWindowInSeconds": window}},
        "Target": resources.function_arn(TOPOLOGY.workers),
        "TargetParameters": {"LambdaFunctionParameters": {"InvocationType": "REQUEST_RESPONSE"}},
        "RoleArn": role_arn,
        "DesiredState": "RUNNING",
    }
    try:
        have = pipes.describe_pipe(Name=name)
    except Exception as exc:
        if error_code(exc) not in ("NotFoundException", "ResourceNotFoundException"):
            raise
        pipes.create_pipe(Name=name, **wanted)
        return Change("pipe", name, "created")
    if all(have.get(k) == v for k, v in wanted.items()):
        return Change("pipe", name, "unchanged")
    update = {k: v for k, v in wanted.items() if k != "Source"}
    update["SourceParameters"] = {"SqsQueueParameters": wanted["SourceParameters"]["SqsQueueParameters"]}
    pipes.update_pipe(Name=name, **update)
    return Change("pipe", name, "updated")
