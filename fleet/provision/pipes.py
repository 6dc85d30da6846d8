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
    if _agrees(have, wanted):
        return Change("pipe", name, "unchanged")
    update = {k: v for k, v in wanted.items() if k != "Source"}
    update["SourceParameters"] = {"SqsQueueParameters": wanted["SourceParameters"]["SqsQueueParameters"]}
    pipes.update_pipe(Name=name, **update)
    return Change("pipe", name, "updated")


def _agrees(have: Any, wanted: Any) -> bool:
    """True when what DescribePipe returned says what we want, key by key.

    A key it leaves out is not a difference: MiniStack 1.5.33 returns no `SourceParameters`
    or `TargetParameters` at all, and every provision would otherwise "update" the pipe.
    What it does return is compared.
    """
    if isinstance(wanted, dict) and isinstance(have, dict):
        return all(key not in have or _agrees(have[key], value) for key, value in wanted.items())
    return bool(have == wanted)
