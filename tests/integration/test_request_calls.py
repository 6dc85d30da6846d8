"""The AWS calls of a keyed POST against moto, counted by a hook on every `lambda_platform.aws` client:
a first POST is the rate counters with the key's put (one TransactWriteItems) and the
SendMessage; the queue URLs are looked up when a server prepares the app, never on a request."""

from __future__ import annotations

import pytest

from lambda_platform import aws, resources, settings
from tests.calls import counting_calls

URL = "/v1/campaigns/receipts/submissions"
BODY = {"first_name": "Ana", "last_name": "Souza", "email": "ana@example.com", "consent": True}


@pytest.fixture
def calls(provisioned, make_campaign, monkeypatch):
    """Counts of every AWS operation from now on; campaigns cached for a minute, as on AWS."""
    monkeypatch.setenv("FLEET_CAMPAIGN_CACHE_SECONDS", "60")
    settings.reset()
    make_campaign("receipts")
    with counting_calls() as counted:
        yield counted


def app_client(**config):
    """A test client of the app over the boto3 adapters, prepared as a server does, its campaign lookup warmed."""
    from ingest_api import create_app
    from ingest_api.services import prepare

    app = create_app({"TESTING": True, **config})
    prepare(app)
    client = app.test_client()
    assert client.get("/v1/campaigns/receipts").status_code == 200
    return client


def post(client, calls, body=BODY, key: str | None = "form-1"):
    """POST with the Idempotency-Key `key`; the AWS calls it made, by operation."""
    calls.clear()
    response = client.post(URL, json=body, headers={"Idempotency-Key": key} if key else {})
    return response, dict(calls)


def stored_keys() -> list[dict]:
    """Every item of the request_keys table."""
    return aws.client("dynamodb").scan(TableName=settings.current().name("request_keys"))["Items"]


def test_a_prepared_app_has_its_queue_urls_and_no_request_looks_one_up(calls):
    from ingest_api import create_app
    from ingest_api.services import prepare

    resources._queue_url.cache_clear()
    app = create_app({"TESTING": True})
    assert calls == {}, "creating the app calls nothing (the Lambda entry point imports it)"
    prepare(app)
    assert calls == {"GetQueueUrl": 5}, "submissions, users, blog, todos, campaign-admin"
    calls.clear()
    client = app.test_client()
    signup = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    assert client.post("/v1/users", json=signup, headers={"Idempotency-Key": "s-1"}).status_code == 202
    assert client.post(URL, json=BODY, headers={"Idempotency-Key": "e-1"}).status_code == 202
    assert "GetQueueUrl" not in calls, calls


def test_a_first_keyed_post_makes_two_calls_and_a_retry_sends_again_under_its_id(calls):
    client = app_client()

    first, made = post(client, calls)
    assert first.status_code == 202, first.get_json()
    assert made == {"TransactWriteItems": 1, "SendMessage": 1}

    again, made = post(client, calls)
    assert again.get_json() == first.get_json()
    # The key's refusal carries its record (no GetItem); the retry is counted and sent again.
    assert made == {"TransactWriteItems": 2, "SendMessage": 1}

    other, made = post(client, calls, {**BODY, "first_name": "Eve"})
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert made == {"TransactWriteItems": 2}

    (record,) = stored_keys()
    assert record["message_id"]["S"] == first.get_json()["submission_id"]
    assert "state" not in record, "the key is written once, never marked afterwards"


def test_a_post_without_a_key_makes_the_rate_limit_call_and_the_send(calls):
    response, made = post(app_client(), calls, key=None)
    assert response.status_code == 202
    assert made == {"TransactWriteItems": 1, "SendMessage": 1}
    assert stored_keys() == []


def test_a_rate_limited_keyed_post_is_429_and_writes_nothing_for_its_key(calls):
    client = app_client(RATE_PER_CLIENT=1)
    assert post(client, calls, key="k1")[0].status_code == 202

    limited, made = post(client, calls, key="k2")

    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert made == {"TransactWriteItems": 1}
    assert [r["request_key"]["S"] for r in stored_keys()] == ["receipts:k1"]
