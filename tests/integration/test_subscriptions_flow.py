"""Subscriptions on moto: the fleet cannot be aimed at itself or at the machine, and a subscriber
that fails to deliver never blocks or parks the article's other notifications."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from lambda_platform import aws, settings
from lambda_platform.adapters.notifications import SnsCommentTopic
from lambda_platform.adapters.queues import queue_url
from lambda_platform.resources import queue_arn, topic_arn
from tests.conftest import free_port
from tests.integration.test_blog_flow import (
    HEADERS,
    comment,
    comment_ids,
    create_article,
    post,
    received,
    subscriber_queue,
    writer_key,  # noqa: F401  (the writer's API key, autouse)
)

pytestmark = pytest.mark.integration


def subscriptions() -> list[dict]:
    return aws.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn("comments"))["Subscriptions"]


def subscribe(api: str, article_id: str, queue: str) -> requests.Response:
    return post(api, f"/v1/articles/{article_id}/subscriptions", {"protocol": "sqs", "endpoint": queue})


def refused_endpoint(api: str, article_id: str, protocol: str, endpoint: str) -> str:
    answer = post(api, f"/v1/articles/{article_id}/subscriptions", {"protocol": protocol, "endpoint": endpoint})
    assert answer.status_code == 422, answer.text
    assert list(answer.json()["error"]["fields"]) == ["endpoint"], answer.text
    return answer.json()["error"]["fields"]["endpoint"][0]


def waiting_count(queue: str) -> int:
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url(queue), AttributeNames=counts)["Attributes"]
    return sum(int(v) for v in attributes.values())


@pytest.mark.slow
def test_the_fleet_cannot_be_subscribed_to_itself_or_the_machine(running_fleet):
    api = running_fleet.api_url
    article_id = create_article(api, "Sourdough at altitude")
    running_fleet.drain()
    _, reader = subscriber_queue("reader-elsewhere")

    for queue in ("todos", "todos-dlq", "blog", "comment-notifications-failures"):
        assert "own queues" in refused_endpoint(api, article_id, "sqs", queue_arn(queue))
    other_stage = queue_arn("todos").replace(":fleet-local-", ":fleet-prod-")
    assert "own queues" in refused_endpoint(api, article_id, "sqs", other_stage)
    # Asked of SQS: a queue that does not exist, and one of that name in another account.
    assert "no SQS queue" in refused_endpoint(api, article_id, "sqs", reader.replace("reader-elsewhere", "nobody"))
    assert "no SQS queue" in refused_endpoint(api, article_id, "sqs", reader.replace(aws.account_id(), "999999999999"))

    for endpoint in ("https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data/", "https://[::1]/"):
        assert "IP address" in refused_endpoint(api, article_id, "https", endpoint)
    # The API's real resolver: localhost is the machine itself.
    assert "not public" in refused_endpoint(api, article_id, "https", "https://localhost/hook")
    assert "https" in refused_endpoint(api, article_id, "https", "http://localhost/hook")
    assert subscriptions() == []

    # Nothing reached the to-do worker: one comment later, its queues are still empty.
    comment(api, article_id, "Anyone listening?")
    running_fleet.drain()
    assert waiting_count("todos") == waiting_count("todos-dlq") == 0


@pytest.mark.slow
def test_a_subscriber_that_fails_never_blocks_the_others(running_fleet, monkeypatch, caplog):
    api = running_fleet.api_url
    article_id = create_article(api, "Fermenting hot sauce")
    running_fleet.drain()

    # Subscribed first, so that moto meets them before the good subscriber: a queue deleted
    # since it subscribed, and two https subscriptions made on SNS directly (older than the
    # API's checks): one that refuses connections, one that accepts and never answers.
    gone_url, gone = subscriber_queue("reader-gone")
    assert subscribe(api, article_id, gone).status_code == 201
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        # Loopback stands in for a public subscriber here: the address check at delivery is lifted.
        monkeypatch.setattr("fleet.runtime.sns_delivery.is_public_address", lambda address: True)
        monkeypatch.setattr("fleet.runtime.sns_delivery.READ_TIMEOUT", 1.0)
        topic = SnsCommentTopic()
        topic.subscribe("https", f"https://127.0.0.1:{free_port()}/refuses", article_id)
        topic.subscribe("https", f"https://127.0.0.1:{silent.getsockname()[1]}/hangs", article_id)
        good_url, good = subscriber_queue("reader-good")
        assert subscribe(api, article_id, good).status_code == 201
        aws.client("sqs").delete_queue(QueueUrl=gone_url)

        started = time.monotonic()
        heard = comment(api, article_id, "Still heard")
        running_fleet.drain(timeout=30)
        assert time.monotonic() - started < 20  # no retry, no wait on the silent endpoint
        assert comment_ids(received(good_url)) == [heard]

        # Each failed delivery is its subscription's own, and said so; the silent one's in time.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(f"/{path}" in caplog.text for path in ("refuses", "hangs")):
            time.sleep(0.2)
    failed = [r.getMessage() for r in caplog.records if r.name == "fleet.runtime.sns"]
    assert [m for m in failed if "reader-gone" in m] and [m for m in failed if "/refuses" in m], failed
    assert [m for m in failed if "/hangs" in m and "timed out" in m], failed
    assert waiting_count("comment-notifications-failures") == 0
    status = requests.get(f"{api}/v1/comments/{heard}", headers=HEADERS, timeout=10).json()
    assert status["status"] == "accepted"
    # Published once: the record did not fail and come back.
    from moto.sns.models import sns_backends

    backend = sns_backends[aws.account_id()][settings.current().region]
    assert len(backend.topics[topic_arn("comments")].sent_notifications) == 1
