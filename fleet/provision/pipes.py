"""EventBridge Pipes: each pipe from its queue to the workers unit, and the role they assume."""

from __future__ import annotations

import json
from typing import Any

from events.topology import TOPOLOGY
from fleet.provision.base import Change
from lambda_platform import aws, resources
from lambda_platform.errors import error_code


def ensure_pipe_role() -> str:
    """The IAM role that pipes assume: read the source queue, invoke the workers function."""
    iam = aws.client("iam")
    name = resources.pipes_role_name()
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "pipes.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": resources.stage_queue_arns(),
            },
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resources.function_arn(TOPOLOGY.workers)},
        ],
    }
    iam.put_role_policy(RoleName=name, PolicyName="pipe", PolicyDocument=json.dumps(policy))
    return role["Arn"]


def ensure_pipe(pipe: str, queue: str, batch_size: int, window: int) -> Change:
    """The pipe from a queue to the workers function, which routes by the records' source."""
    pipes = aws.client("pipes")
    name = resources.pipe_name(pipe)
    source = resources.queue_arn(queue)
    wanted: dict[str, Any] = {
        "Source": source,
        "SourceParameters": {"SqsQueueParameters": {"BatchSize": batch_size, "MaximumBatchingWindowInSeconds": window}},
        "Target": resources.function_arn(TOPOLOGY.workers),
        "TargetParameters": {"LambdaFunctionParameters": {"InvocationType": "REQUEST_RESPONSE"}},
        "RoleArn": ensure_pipe_role(),
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
