"""Post-deploy wiring: what Zappa does not do, or does wrong, from the topology.

`fleet wire --stage S` and Zappa's post-deploy callback (`zappa_post_deploy`) both run
`wire()`: every SQS and DynamoDB Streams event source mapping of the workers function
(with ReportBatchItemFailures, and for streams a starting position, retry limit, record
age, bisect and on-failure destination), the pipes, the bucket's S3 -> SQS notification,
the API's usage plan, its endpoint type and stage cache (`fleet.provision.api_cache`), and
the edge, whose distribution gains the API origin once the API exists. Every step reads
first and changes only what differs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from events.topology import TOPOLOGY, Function, SqsTrigger, StreamTrigger, Topology
from fleet.provision import (
    Change,
    Changes,
    ensure_api_plan,
    ensure_bucket_notification,
    ensure_edge,
    ensure_pipe,
    role_arn,
    stage_principals,
)
from fleet.provision.api_cache import ensure_api_cache
from fleet.provision.api_plan import find_rest_api
from lambda_platform import aws, resources, settings
from lambda_platform.errors import error_code


def workers_function_name() -> str:
    """The workers function of the current stage, as Zappa names it."""
    return resources.function_name(TOPOLOGY.workers)


def mapping_settings(trigger: SqsTrigger | StreamTrigger) -> dict[str, Any]:
    """The settings an event source mapping must have, for create and update alike."""
    wanted: dict[str, Any] = {
        "BatchSize": trigger.batch_size,
        "MaximumBatchingWindowInSeconds": trigger.batching_window_seconds,
        # Without it, Lambda ignores batchItemFailures and deletes (or retries) the whole batch.
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "Enabled": True,
    }
    if isinstance(trigger, SqsTrigger):
        wanted["ScalingConfig"] = {"MaximumConcurrency": trigger.maximum_concurrency}
        return wanted
    retry = trigger.retry
    # Stream retries default to unlimited and block the shard for a day: always bounded.
    wanted["MaximumRetryAttempts"] = retry.maximum_retry_attempts
    wanted["MaximumRecordAgeInSeconds"] = retry.maximum_record_age_seconds
    wanted["BisectBatchOnFunctionError"] = retry.bisect_on_error
    if retry.on_failure_queue:
        on_failure = resources.queue_arn(retry.on_failure_queue)
        wanted["DestinationConfig"] = {"OnFailure": {"Destination": on_failure}}
    return wanted


def ensure_mapping(function: Function, trigger: SqsTrigger | StreamTrigger) -> Change:
    """Create or correct the mapping from a trigger's source to the workers function."""
    lam = aws.client("lambda")
    function_name = workers_function_name()
    if isinstance(trigger, SqsTrigger):
        source = resources.queue_arn(trigger.queue)
        label = f"{function.name} <- {resources.queue_name(trigger.queue)}"
    else:
        source = resources.stream_arn(trigger.table)
        label = f"{function.name} <- {resources.table_name(trigger.table)} stream"
    wanted = mapping_settings(trigger)
    found = lam.list_event_source_mappings(EventSourceArn=source, FunctionName=function_name)["EventSourceMappings"]
    if not found:
        extra = {"StartingPosition": trigger.starting_position} if isinstance(trigger, StreamTrigger) else {}
        lam.create_event_source_mapping(EventSourceArn=source, FunctionName=function_name, **extra, **wanted)
        return Change("mapping", label, "created")
    have = found[0]
    differs = {k: v for k, v in wanted.items() if k != "Enabled" and have.get(k) != v}
    if have.get("State") in ("Disabled", "Disabling"):
        differs["Enabled"] = True
    if not differs:
        return Change("mapping", label, "unchanged")
    lam.update_event_source_mapping(UUID=have["UUID"], FunctionName=function_name, **differs)
    return Change("mapping", label, "updated")


def workers_deployed() -> bool:
    """Whether the stage's workers function exists (Zappa has deployed it)."""
    try:
        aws.client("lambda").get_function(FunctionName=workers_function_name())
        return True
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return False


def wire(topology: Topology = TOPOLOGY, report: Callable[[Change], None] | None = None) -> list[Change]:
    """Wire every trigger of the topology to the deployed workers function; return what changed."""
    topology.validate()
    changes = Changes(report)

    if workers_deployed():
        for function in topology.functions:
            for trigger in function.triggers:
                if isinstance(trigger, (SqsTrigger, StreamTrigger)):
                    changes.note(ensure_mapping(function, trigger))
        pipes_role = role_arn(stage_principals(topology)[topology.pipes_role]) if topology.pipes() else ""
        for _function, trigger in topology.pipes():
            changes.note(
                ensure_pipe(trigger.pipe, trigger.queue, trigger.batch_size, trigger.batching_window_seconds, pipes_role)
            )
    else:
        changes.note(Change("lambda", workers_function_name(), "deferred"))
    for bucket in topology.buckets:
        if bucket.notify_queue:
            changes.note(ensure_bucket_notification(bucket))
    changes.note(ensure_api_plan(topology.api_plan))
    api = find_rest_api(resources.function_name(topology.api))
    if api is None:
        changes.note(Change("cache", f"stage {topology.api.name}", "deferred"))
    else:
        for change in ensure_api_cache(api["id"], topology.api_edge, topology.api.name):
            changes.note(change)
    for change in ensure_edge(topology.site):
        changes.note(change)
    return changes


def zappa_post_deploy(zappa_cli: Any) -> None:
    """Zappa's `callbacks.post`: wire the stage that was just deployed or updated.

    Zappa calls it with its ZappaCLI after `zappa deploy` and `zappa update`; the Fleet
    stage comes from the Zappa stage's environment variables.
    """
    import click

    environment = (getattr(zappa_cli, "stage_config", None) or {}).get("environment_variables") or {}
    if environment.get("FLEET_STAGE"):
        os.environ["FLEET_STAGE"] = environment["FLEET_STAGE"]
    settings.reset()
    aws.reset()
    changes = wire(report=lambda change: click.echo(f"fleet wire: {change}"))
    changed = sum(1 for c in changes if c.changed)
    click.echo(f"fleet wire: {len(changes)} wired, {changed} changed")
