"""Physical names, ARNs and URLs of the topology's resources in the current stage.

Every adapter, provisioning, wiring and the local runtime build them here, so each is
built in one place, and each logical name is checked against `events.topology` first: a
name the topology does not declare raises `UnknownResource` (a KeyError) naming the kind
and the known names, before any AWS call. A resource may be given by its logical name or
by its declaration (`TOPOLOGY.table("campaigns")`); the stage is read on every call, so
`settings.reset()` moves every name to the new stage.
"""

from __future__ import annotations

import functools
from typing import Protocol

from events.topology import TOPOLOGY, ApiPlan, Bucket, DeployUnit, Index, Queue, Table, Topic, UnknownResource, project_name
from lambda_platform import aws, settings
from lambda_platform.errors import translate


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def _name(resource: str | _Named) -> str:
    return resource if isinstance(resource, str) else resource.name


def _physical(logical: str) -> str:
    return settings.current().name(logical)


# --- DynamoDB ----------------------------------------------------------------------------


def table_name(table: str | Table) -> str:
    """The physical name of a declared table."""
    return _physical(TOPOLOGY.table(_name(table)).name)


def index_name(table: str | Table, index: str | Index) -> str:
    """The name of a declared index of a declared table (index names have no stage)."""
    return TOPOLOGY.table(_name(table)).index(_name(index)).name


def stream_arn(table: str | Table) -> str:
    """The latest stream ARN of a declared table in the current stage (asked of DynamoDB)."""
    name = table_name(table)
    described = aws.client("dynamodb").describe_table(TableName=name)["Table"]
    if not described.get("LatestStreamArn"):
        raise RuntimeError(f"table {name} has no stream: run fleet provision first")
    stream_arn: str = described["LatestStreamArn"]
    return stream_arn


# --- SQS -----------------------------------------------------------------------------------


def queue_name(queue: str | Queue) -> str:
    """The physical name of a declared queue, or of the dead-letter queue of one."""
    return _physical(TOPOLOGY.sqs_queue(_name(queue)))


def queue_arn(queue: str | Queue) -> str:
    """The ARN of a declared queue (or dead-letter queue) in the current stage."""
    return aws.arn("sqs", queue_name(queue))


def queue_url(queue: str | Queue) -> str:
    """The URL of a declared queue (or dead-letter queue), looked up once, then cached.

    On Lambda the account is known from the context, so the URL is built, as SQS spells
    it, without a GetQueueUrl on the function's first request.
    """
    current = settings.current()
    name = queue_name(queue)
    account = aws.known_account_id()
    if account is not None:
        endpoint = current.endpoint_url or f"https://sqs.{current.region}.amazonaws.com"
        return f"{endpoint.rstrip('/')}/{account}/{name}"
    return _queue_url(name, current.endpoint_url, current.region)


@functools.cache
def _queue_url(name: str, endpoint_url: str | None, region: str) -> str:
    try:
        url: str = aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    except Exception as exc:  # translated, never swallowed
        raise translate(exc) from exc
    return url


# --- S3, SNS, Pipes ------------------------------------------------------------------------


def bucket_name(bucket: str | Bucket) -> str:
    """The physical name of a declared bucket."""
    return _physical(TOPOLOGY.bucket(_name(bucket)).name)


def topic_name(topic: str | Topic) -> str:
    """The physical name of a declared SNS topic."""
    return _physical(TOPOLOGY.topic(_name(topic)).name)


def topic_arn(topic: str | Topic) -> str:
    """The ARN of a declared SNS topic in the current stage."""
    return aws.arn("sns", topic_name(topic))


def configuration_set_name() -> str:
    """The stage's SES configuration set, which every email goes out with."""
    if TOPOLOGY.email_feedback is None:
        raise UnknownResource("configuration set", "of the emails", [])
    return _physical(TOPOLOGY.email_feedback.configuration_set)


def pipe_name(pipe: str) -> str:
    """The physical name of a declared EventBridge pipe."""
    return _physical(TOPOLOGY.pipe(pipe).pipe)


# --- What Zappa deploys ----------------------------------------------------------------------


def function_name(unit: str | DeployUnit) -> str:
    """The Lambda function of a deploy unit (`api`, `workers`) in the current stage."""
    return _physical(TOPOLOGY.unit(_name(unit)).name)


def function_arn(unit: str | DeployUnit) -> str:
    """The ARN of a deploy unit's Lambda function in the current stage."""
    return aws.arn("lambda", f"function:{function_name(unit)}")


def usage_plan_name(plan: str | ApiPlan) -> str:
    """The physical name of the API's usage plan (and of its API key)."""
    if _name(plan) != TOPOLOGY.api_plan.name:
        raise UnknownResource("usage plan", _name(plan), [TOPOLOGY.api_plan.name])
    return _physical(TOPOLOGY.api_plan.name)


def dashboard_name() -> str:
    """The stage's CloudWatch dashboard, named as Zappa names the stage's project."""
    return project_name(settings.current().stage)


# --- The edge ----------------------------------------------------------------------------


def distribution_name() -> str:
    """The physical name of the site's CloudFront distribution (its Comment and CallerReference)."""
    if TOPOLOGY.site is None:
        raise UnknownResource("distribution", "of the site", [])
    return _physical(TOPOLOGY.site.distribution.name)


def origin_access_control_name() -> str:
    """The Origin Access Control through which the distribution reads the site bucket."""
    return distribution_name()


def edge_function_name() -> str:
    """The CloudFront Function of the distribution (URI rewrites, a missing object's 404)."""
    return distribution_name()
