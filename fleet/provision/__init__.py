"""Create the topology's resources against whatever `AWS_ENDPOINT_URL` points to.

Every step reads what exists first and creates or corrects only what differs, so a
second run changes nothing. One module per kind of resource; `fleet wire` runs again the
steps that wait for the deployed functions (the pipes, the bucket notification, the
usage plan, the distribution's API origin).
"""

from __future__ import annotations

from collections.abc import Callable

from events.topology import TOPOLOGY, Topology
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
from fleet.provision.edge import ensure_edge
from fleet.provision.pipes import ensure_pipe, ensure_pipe_role
from fleet.provision.queues import ensure_queue, queue_attributes
from fleet.provision.sender import ensure_sender_identity
from fleet.provision.tables import ensure_replicas, ensure_table, table_definition
from fleet.provision.topics import ensure_topic
from lambda_platform import aws  # noqa: F401  (tests replace lambda_platform.aws.client through it)

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
    "ensure_pipe_role",
    "ensure_queue",
    "ensure_replicas",
    "ensure_sender_identity",
    "ensure_table",
    "ensure_topic",
    "find_rest_api",
    "notification_queue_policy",
    "provision",
    "queue_attributes",
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
    for _function, trigger in topology.pipes():
        changes.note(ensure_pipe(trigger.pipe, trigger.queue, trigger.batch_size, trigger.batching_window_seconds))
    changes.note(ensure_sender_identity())
    changes.note(ensure_api_plan(topology.api_plan))
    # After the buckets (the site's) and knowing whether the API exists yet.
    for change in ensure_edge(topology.site):
        changes.note(change)
    return changes
