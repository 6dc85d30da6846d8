"""The embedded SNS delivers each subscription on its own: moto's models in this process, no server."""

from __future__ import annotations

import threading
import time

import pytest
from moto.sns import models as sns_models
from moto.sqs.models import sqs_backends

from fleet.runtime import sns_delivery

#: An account of its own, so that nothing here meets what a moto server of this process holds.
ACCOUNT = "000000000042"
REGION = "us-east-1"


@pytest.fixture
def topic(monkeypatch):
    """A topic in moto's SNS with the delivery installed; moto as it was, afterwards."""
    monkeypatch.setattr(sns_models.Subscription, "publish", sns_models.Subscription.__dict__["publish"])
    monkeypatch.setattr(sns_models, "requests", sns_models.requests)
    sns_delivery.install()
    backend = sns_models.sns_backends[ACCOUNT][REGION]
    made = backend.create_topic("comments")
    yield backend, made
    backend.delete_topic(made.arn)
    sqs_backends[ACCOUNT][REGION].queues.clear()


def queue(name: str) -> str:
    """A queue in moto's SQS; its ARN."""
    return sqs_backends[ACCOUNT][REGION].create_queue(name).queue_arn


def test_a_queue_gone_since_it_subscribed_fails_neither_the_publish_nor_the_next_subscriber(topic):
    backend, made = topic
    gone, good = queue("reader-gone"), queue("reader-good")
    backend.subscribe(made.arn, gone, "sqs")
    backend.subscribe(made.arn, good, "sqs")
    sqs_backends[ACCOUNT][REGION].delete_queue("reader-gone")

    backend.publish("hello", made.arn, subject="New comment")  # moto alone raises QueueDoesNotExist here
    assert len(sqs_backends[ACCOUNT][REGION].get_queue("reader-good").messages) == 1


def test_an_https_delivery_never_holds_the_publish(topic, monkeypatch):
    backend, made = topic
    release, posted = threading.Event(), []

    def post(url, **kwargs):
        posted.append(url)
        release.wait(10)  # a subscriber that does not answer

    monkeypatch.setattr(sns_delivery, "post_to_public_host", post)
    backend.subscribe(made.arn, "https://hooks.example.com/slow", "https")
    good = queue("reader-good")
    backend.subscribe(made.arn, good, "sqs")

    started = time.monotonic()
    backend.publish("hello", made.arn, subject="New comment")
    assert time.monotonic() - started < 1
    assert len(sqs_backends[ACCOUNT][REGION].get_queue("reader-good").messages) == 1
    deadline = time.monotonic() + 5
    while not posted and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    assert posted == ["https://hooks.example.com/slow"]


def test_an_https_subscriber_is_posted_to_within_timeouts_and_without_redirects(monkeypatch):
    calls = []

    class Answer:
        status_code = 204

        def raise_for_status(self) -> None:
            pass

    monkeypatch.setattr(sns_delivery, "resolve_host", lambda host: ("93.184.215.14",))
    monkeypatch.setattr("requests.post", lambda url, **kwargs: calls.append((url, kwargs)) or Answer())
    sns_delivery.post_to_public_host("https://hooks.example.com/hook", json={"Message": "hi"})
    ((url, kwargs),) = calls
    assert url == "https://hooks.example.com/hook" and kwargs["json"] == {"Message": "hi"}
    assert kwargs["allow_redirects"] is False
    assert kwargs["timeout"] == (sns_delivery.CONNECT_TIMEOUT, sns_delivery.READ_TIMEOUT)


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("https://127.0.0.1/hook", ()),
        ("https://[::1]/hook", ()),
        ("https://rebound.example.com/hook", ("127.0.0.1",)),
        ("https://metadata.example.com/hook", ("93.184.215.14", "169.254.169.254")),
        ("https://gone.example.com/hook", ()),
    ],
)
def test_an_https_subscriber_that_leads_to_the_machine_is_never_posted_to(monkeypatch, url, addresses):
    monkeypatch.setattr(sns_delivery, "resolve_host", lambda host: addresses)
    monkeypatch.setattr("requests.post", lambda *a, **k: pytest.fail("posted to a host that is not public"))
    with pytest.raises(sns_delivery.RefusedEndpoint):
        sns_delivery.post_to_public_host(url, json={})
