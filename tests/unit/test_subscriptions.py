"""Subscriptions cannot aim the fleet at itself or at the machine: the API's checks over fakes."""

from __future__ import annotations

import socket
import uuid

import pytest

from events.blog import is_public_address
from events.messages.blog import PublishArticle
from events.topology import TOPOLOGY, physical_name
from ingest_api import create_app
from lambda_platform.adapters.notifications import resolve_host
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.blog import FakeArticles, FakeCommentTopic
from workers.blog import store_article

ACCOUNT = "123456789012"
#: A subscriber's own queue, which exists.
READER_QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:reader-one"
#: What the fake resolver answers; any other name does not resolve.
HOSTS = {
    "hooks.example.com": ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    "loopback.example.com": ("127.0.0.1",),
    "metadata.example.com": ("169.254.169.254",),
    "private.example.com": ("10.1.2.3",),
    "shared.example.com": ("100.64.0.1",),
    "multicast.example.com": ("224.0.0.251",),
    "reserved.example.com": ("240.0.0.1",),
    "unspecified.example.com": ("0.0.0.0",),
    "v6-loopback.example.com": ("::1",),
    "v6-mapped.example.com": ("::ffff:127.0.0.1",),
    "v6-link-local.example.com": ("fe80::1",),
    "v6-unique-local.example.com": ("fd00::1",),
    "v6-multicast.example.com": ("ff02::1",),
    "six-to-four.example.com": ("2002:7f00:1::1",),
    "nat64.example.com": ("64:ff9b::a9fe:a9fe",),
    # One public address next to a private one: a round robin would reach the private one.
    "mixed.example.com": ("93.184.215.14", "192.168.1.10"),
}


@pytest.fixture
def topic() -> FakeCommentTopic:
    everything = [READER_QUEUE]
    for stage in ("local", "prod", "my-stage"):
        everything += [f"arn:aws:sqs:us-east-1:{ACCOUNT}:{physical_name(stage, q)}" for q in TOPOLOGY.queue_names()]
    # Every queue exists, so that a refusal is never for a missing queue but for the rule under test.
    return FakeCommentTopic(queues=everything, hosts=HOSTS)


@pytest.fixture
def articles() -> FakeArticles:
    return FakeArticles()


@pytest.fixture
def client(topic, articles):
    keys = FakeApiKeys()
    services = Ports(**fake_ports(articles=articles, comment_topic=topic, api_keys=keys))
    client = create_app({"TESTING": True, "SERVICES": services}).test_client()
    client.environ_base["HTTP_X_API_KEY"] = keys.issue("subscriptions:write")
    return client


@pytest.fixture
def article_id(articles) -> str:
    article_id = str(uuid.uuid4())
    assert store_article(PublishArticle(article_id, "One", "Text.", "Ada", True, "2026-03-01T12:00:00+00:00"), articles)
    return article_id


def subscribe(client, article_id: str, protocol: str, endpoint: str):
    return client.post(f"/v1/articles/{article_id}/subscriptions", json={"protocol": protocol, "endpoint": endpoint})


def refused(answer, topic: FakeCommentTopic) -> str:
    """The message of a 422 naming `endpoint`, after checking nothing was subscribed."""
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "invalid_fields"
    assert list(answer.json["error"]["fields"]) == ["endpoint"], answer.json
    assert topic.subscriptions == {}
    return answer.json["error"]["fields"]["endpoint"][0]


# --- SQS: never the fleet's own queues, never a queue that does not exist --------------------


@pytest.mark.parametrize("stage", ["local", "prod", "my-stage"])
@pytest.mark.parametrize("queue", TOPOLOGY.queue_names())
def test_no_queue_of_the_topology_in_any_stage(client, topic, article_id, stage, queue):
    for account in (ACCOUNT, "999999999999"):
        arn = f"arn:aws:sqs:us-east-1:{account}:{physical_name(stage, queue)}"
        assert "fleet's own queues" in refused(subscribe(client, article_id, "sqs", arn), topic)


def test_a_subscribers_own_queue_is_taken(client, topic, article_id):
    # Surrounding blanks are trimmed (as in every text field): SNS is given the bare ARN.
    answer = subscribe(client, article_id, "sqs", f" {READER_QUEUE}\n")
    assert answer.status_code == 201, answer.json
    assert topic.subscriptions[answer.json["subscription_id"]]["endpoint"] == READER_QUEUE


def test_a_queue_that_does_not_exist_is_refused(client, topic, article_id):
    message = refused(subscribe(client, article_id, "sqs", f"arn:aws:sqs:us-east-1:{ACCOUNT}:nobody-here"), topic)
    assert "no SQS queue" in message


@pytest.mark.parametrize(
    "arn",
    [
        READER_QUEUE.replace("reader-", "reader\n"),
        READER_QUEUE + ".fifo",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:",
        "https://sqs.us-east-1.amazonaws.com/123456789012/reader-one",
    ],
)
def test_an_sqs_endpoint_is_a_whole_queue_arn(client, topic, article_id, arn):
    refused(subscribe(client, article_id, "sqs", arn), topic)


# --- https: a public host name, on 443, and nothing else ------------------------------------


def test_a_public_https_endpoint_is_taken(client, topic, article_id):
    for endpoint in ("https://hooks.example.com/comments", "https://hooks.example.com:443/comments?x=1"):
        answer = subscribe(client, article_id, "https", endpoint)
        assert answer.status_code == 201, answer.json
    assert len(topic.subscriptions) == 2


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://93.184.215.14/",  # public, but an IP literal all the same
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[fe80::1]/",
    ],
)
def test_an_ip_literal_host_is_refused(client, topic, article_id, endpoint):
    assert "IP address" in refused(subscribe(client, article_id, "https", endpoint), topic)


@pytest.mark.parametrize("host", [h for h in HOSTS if h != "hooks.example.com"])
def test_a_name_that_resolves_to_a_non_public_address_is_refused(client, topic, article_id, host):
    assert "not public" in refused(subscribe(client, article_id, "https", f"https://{host}/hook"), topic)


@pytest.mark.parametrize("host", ["nowhere.example.com", "localhost"])
def test_a_name_that_does_not_resolve_is_refused(client, topic, article_id, host):
    assert "does not resolve" in refused(subscribe(client, article_id, "https", f"https://{host}/hook"), topic)


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [
        ("http://hooks.example.com/", "https"),
        ("file:///etc/passwd", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("gopher://hooks.example.com/", "https"),
        ("https://user:secret@hooks.example.com/", "user name"),
        ("https://user@hooks.example.com/", "user name"),
        ("https://hooks.example.com:8443/", "443"),
        ("https://hooks.example.com:80/", "443"),
        ("https://hooks.example.com/a\nb", "https"),
        ("https://hooks.example.com/a b", "https"),
        ("https://hööks.example.com/", "ASCII"),
    ],
)
def test_only_https_urls_without_credentials_on_443(client, topic, article_id, endpoint, says):
    assert says in refused(subscribe(client, article_id, "https", endpoint), topic)


@pytest.mark.parametrize("protocol", ["http", "file", "lambda", "application", "sms"])
def test_no_protocol_but_email_https_and_sqs(client, topic, article_id, protocol):
    answer = subscribe(client, article_id, protocol, "https://hooks.example.com/")
    assert answer.status_code == 422 and "protocol" in answer.json["error"]["fields"]
    assert topic.subscriptions == {}


def test_the_protocol_and_the_endpoint_must_agree(client, topic, article_id):
    refused(subscribe(client, article_id, "sqs", "https://hooks.example.com/"), topic)
    refused(subscribe(client, article_id, "https", READER_QUEUE), topic)


# --- the rules themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2002:5db8:d70e::1"])
def test_public_addresses(address):
    assert is_public_address(address)


NOT_PUBLIC = {a for h, found in HOSTS.items() if h not in ("hooks.example.com", "mixed.example.com") for a in found}


@pytest.mark.parametrize("address", sorted(NOT_PUBLIC | {"192.168.1.10", "not an address"}))
def test_addresses_that_are_not_public(address):
    assert not is_public_address(address)


def test_the_resolver_lists_each_address_once_and_nothing_for_an_unknown_name(monkeypatch):
    answers = {
        "hooks.example.com": [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", 443, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
        ]
    }

    def getaddrinfo(host, port, *args, **kwargs):
        assert port == 443
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert resolve_host("hooks.example.com") == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert resolve_host("nowhere.example.com") == ()


# --- Email: never an address on the suppression list -----------------------------------------


def test_an_email_subscription_to_a_suppressed_address_is_refused(topic, articles, article_id):
    from tests.fakes.email_feedback import FakeSuppressionList

    keys = FakeApiKeys()
    services = Ports(
        **fake_ports(
            articles=articles,
            comment_topic=topic,
            api_keys=keys,
            suppressions=FakeSuppressionList("bounce@simulator.amazonses.com"),
        )
    )
    client = create_app({"TESTING": True, "SERVICES": services}).test_client()
    client.environ_base["HTTP_X_API_KEY"] = keys.issue("subscriptions:write")
    answer = subscribe(client, article_id, "email", "Bounce@Simulator.AmazonSES.com")
    assert answer.status_code == 422 and answer.json["error"]["code"] == "address_suppressed", answer.json
    assert list(answer.json["error"]["fields"]) == ["endpoint"] and topic.subscriptions == {}
    assert subscribe(client, article_id, "email", "success@simulator.amazonses.com").status_code == 201
