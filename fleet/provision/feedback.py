"""SES's feedback path: the configuration set, its event destination, and the topic's queue subscription.

Every email goes out with the stage's configuration set (`lambda_platform.adapters.mail`);
its one event destination publishes the declared event types to the email-feedback topic,
and the email-feedback queue is subscribed to that topic with raw delivery, under a queue
policy that lets that topic, and nothing else, send to it. An emulator without event
destinations (MiniStack answers `InvalidAction`) gets the step reported `unsupported`,
never claimed: its emails go out with the set, and no feedback comes back.
"""

from __future__ import annotations

import json
from typing import Any

from events.topology import EmailFeedback
from fleet.provision.base import Change
from lambda_platform import aws, resources
from lambda_platform.errors import error_code


def destination_name() -> str:
    """The configuration set's event destination (one per set)."""
    return f"{resources.configuration_set_name()}-feedback"


def event_destination(feedback: EmailFeedback) -> dict[str, Any]:
    """The event destination the configuration set must have."""
    return {
        "Name": destination_name(),
        "Enabled": True,
        "MatchingEventTypes": [t.lower() for t in feedback.event_types],
        "SNSDestination": {"TopicARN": resources.topic_arn(feedback.topic)},
    }


def ensure_configuration_set(feedback: EmailFeedback) -> list[Change]:
    """The configuration set, then its event destination: created if missing, updated if it drifted."""
    ses = aws.client("ses")
    name = resources.configuration_set_name()
    changes = []
    try:
        found = ses.describe_configuration_set(ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"])
        changes.append(Change("configuration set", name, "unchanged"))
    except Exception as exc:
        if error_code(exc) != "ConfigurationSetDoesNotExist":
            raise
        ses.create_configuration_set(ConfigurationSet={"Name": name})
        changes.append(Change("configuration set", name, "created"))
        found = {}
    wanted = event_destination(feedback)
    have = next((d for d in found.get("EventDestinations") or [] if d and d.get("Name") == wanted["Name"]), None)
    label = f"{name} -> {resources.topic_name(feedback.topic)}"
    if have is None:
        try:
            ses.create_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=wanted)
        except Exception as exc:
            if error_code(exc) not in _UNSUPPORTED:
                raise
            changes.append(Change("event destination", label, "unsupported"))
            return changes
        changes.append(Change("event destination", label, "created"))
    elif _same_destination(have, wanted):
        changes.append(Change("event destination", label, "unchanged"))
    else:
        ses.update_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=wanted)
        changes.append(Change("event destination", label, "updated"))
    return changes


#: What an emulator without the operation answers (AWS never does, for an operation it has).
_UNSUPPORTED = ("InvalidAction", "NotImplemented", "404")


def _same_destination(have: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return (
        str(have.get("Enabled", True)).lower() == "true"
        and sorted(str(t).lower() for t in have.get("MatchingEventTypes") or []) == sorted(wanted["MatchingEventTypes"])
        and (have.get("SNSDestination") or {}).get("TopicARN") == wanted["SNSDestination"]["TopicARN"]
    )


def feedback_queue_policy(topic_arn: str, queue_arn: str) -> dict[str, Any]:
    """The queue policy that lets the feedback topic send to the queue, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FeedbackTopic",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }


def ensure_feedback_subscription(feedback: EmailFeedback) -> list[Change]:
    """The queue's policy for the topic, then the queue's raw subscription to the topic, once."""
    sqs, sns = aws.client("sqs"), aws.client("sns")
    topic_arn, queue_arn = resources.topic_arn(feedback.topic), resources.queue_arn(feedback.queue)
    url = resources.queue_url(feedback.queue)
    queue = resources.queue_name(feedback.queue)
    policy = feedback_queue_policy(topic_arn, queue_arn)
    have = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    changes = []
    if have and json.loads(have) == policy:
        changes.append(Change("queue policy", queue, "unchanged"))
    else:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy, separators=(",", ":"))})
        changes.append(Change("queue policy", queue, "created" if not have else "updated"))
    label = f"{resources.topic_name(feedback.topic)} -> {queue}"
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    if any(s.get("Protocol") == "sqs" and s.get("Endpoint") == queue_arn for p in pages for s in p.get("Subscriptions", [])):
        changes.append(Change("subscription", label, "unchanged"))
    else:
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )
        changes.append(Change("subscription", label, "created"))
    return changes
