"""Create the topology's resources against whatever `AWS_ENDPOINT_URL` points to.

Every step reads what exists first and creates or corrects only what differs, so a
second run changes nothing. One module per kind of resource; `fleet wire` runs again the
steps that wait for the deployed functions (the pipes, the bucket notification, the
usage plan, the distribution's API origin).
"""

from __future__ import annotations

from collections.abc import Callable

from events.topology import TOPOLOGY, Topology
from fleet.iam import Principal, principals, stage_facts
from fleet.provision.alarms import ensure_alarm_email, ensure_alarms
from fleet.provision.api_plan import ensure_api_plan, find_rest_api
from fleet.provision.base import Change, Changes
from fleet.provision.buckets import (
    bucket_cors_rules,
    ensure_bucket,
    ensure_bucket_cors,
    ensure_bucket_notification,
    notification_queue_policy,
)
from fleet.provision.dashboard import ensure_dashboard
from fleet.provision.edge import ensure_edge, find_distribution
from fleet.provision.feedback import ensure_configuration_set, ensure_feedback_subscription
from fleet.provision.pipes import ensure_pipe
from fleet.provision.queues import ensure_queue, queue_attributes
from fleet.provision.roles import ensure_roles, role_arn
from fleet.provision.sender import ensure_sender_identity
from fleet.provision.tables import ensure_replicas, ensure_table, table_definition
from fleet.provision.topics import ensure_topic
from lambda_platform import aws, resources, settings

__all__ = [
    "Change",
    "Changes",
    "bucket_cors_rules",
    "ensure_alarm_email",
    "ensure_alarms",
    "ensure_api_plan",
    "ensure_bucket",
    "ensure_bucket_cors",
    "ensure_bucket_notification",
    "ensure_dashboard",
    "ensure_edge",
    "ensure_pipe",
    "ensure_queue",
    "ensure_replicas",
    "ensure_roles",
    "ensure_sender_identity",
    "ensure_table",
    "ensure_topic",
    "find_rest_api",
    "notification_queue_policy",
    "provision",
    "queue_attributes",
    "role_arn",
    "stage_principals",
    "table_definition",
]


def provision(topology: Topology = TOPOLOGY, report: Callable[[Change], None] | None = None) -> list[Change]:
    """Create or correct every resource of the topology; return what changed."""
    topology.validate()
    changes = Changes(report)

    for queue in topology.queues:
        for change in ensure_queue(queue):
            changes.note(change)
    for table in topology.tables:
        changes.note(ensure_table(table))
        for change in ensure_replicas(table):
            changes.note(change)
    for bucket in topology.buckets:
        changes.note(ensure_bucket(bucket))
        if bucket.notify_queue:
            changes.note(ensure_bucket_notification(bucket))
        if bucket.browser_uploads:
            changes.note(ensure_bucket_cors(bucket))
    for topic in topology.topics:
        changes.note(ensure_topic(topic))
    # After the topics: every alarm notifies the alarms topic.
    if (subscription := ensure_alarm_email()) is not None:
        changes.note(subscription)
    for change in ensure_alarms(topology):
        changes.note(change)
    changes.note(ensure_dashboard(topology))
    # The execution roles before what assumes them (the pipes; Zappa's functions, on deploy).
    found = stage_principals(topology)
    for change in ensure_roles(found, local_operators()):
        changes.note(change)
    pipes_role = role_arn(found[topology.pipes_role])
    for _function, trigger in topology.pipes():
        changes.note(ensure_pipe(trigger.pipe, trigger.queue, trigger.batch_size, trigger.batching_window_seconds, pipes_role))
    changes.note(ensure_sender_identity())
    if topology.email_feedback is not None:  # after the topics and queues it joins
        for change in (
            *ensure_configuration_set(topology.email_feedback),
            *ensure_feedback_subscription(topology.email_feedback),
        ):
            changes.note(change)
    changes.note(ensure_api_plan(topology.api_plan))
    # After the buckets (the site's) and knowing whether the API exists yet.
    for change in ensure_edge(topology.site):
        changes.note(change)
    workers = topology.workers.name
    if topology.site is not None and found[workers].policy != (now := stage_principals(topology))[workers].policy:
        # The distribution was made just now: the workers may invalidate it from here on.
        for change in ensure_roles(now, local_operators()):
            if change.changed:
                changes.note(change)
    return changes


def stage_principals(topology: Topology = TOPOLOGY) -> dict[str, Principal]:
    """The current stage's principals, their ARNs naming its distribution when it exists."""
    found = find_distribution(resources.distribution_name()) if topology.site is not None else None
    return principals(stage_facts(distribution_id=found["Id"] if found else None), topology)


def local_operators() -> list[str]:
    """Who may assume the execution roles besides their services: locally, the local operator."""
    from fleet.iam import OPERATOR, role_name

    current = settings.current()
    if not current.local:
        return []
    facts = stage_facts(account=aws.account_id())
    return [f"arn:{facts.partition}:iam::{facts.account}:user/{role_name(facts, OPERATOR)}"]
