"""SNS: each topology topic."""

from __future__ import annotations

from events.topology import Topic
from fleet.provision.base import Change
from lambda_platform import aws, resources
from lambda_platform.errors import error_code


def ensure_topic(topic: Topic) -> Change:
    """Create the topic (CreateTopic is idempotent; look first to report honestly)."""
    sns = aws.client("sns")
    name = resources.topic_name(topic)
    arn = resources.topic_arn(topic)
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return Change("topic", name, "unchanged")
    except Exception as exc:
        if error_code(exc) not in ("NotFound", "NotFoundException"):
            raise
    sns.create_topic(Name=name)
    return Change("topic", name, "created")
