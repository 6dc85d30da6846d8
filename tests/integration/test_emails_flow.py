"""Users and emails end to end: HTTP -> SQS -> workers.users -> the users stream -> SES, on moto."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from events.models import user_id_for
from fleet.replay import read_failed_records, replay_failures
from fleet.status import queue_status
from lambda_platform import aws, settings
from lambda_platform.adapters.queues import queue_url
from lambda_platform.outbox import read_outbox
from tests.tables import scan

pytestmark = pytest.mark.integration


def sent_messages() -> list:
    """moto's SES sent messages, looked up fresh (a reset replaces the backend)."""
    from moto.ses.models import ses_backends

    return list(ses_backends[aws.account_id()][settings.current().region].sent_messages)


def recipients() -> Counter:
    return Counter(m.destinations["ToAddresses"][0].lower() for m in sent_messages())


def queue_messages(logical: str) -> list[dict]:
    """Every message on a queue, peeked: received, then made visible again."""
    found: dict[str, dict] = {}
    for _ in range(5):
        page = aws.client("sqs").receive_message(QueueUrl=queue_url(logical), MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in page.get("Messages", []):
            found[message["MessageId"]] = message
        if not page.get("Messages"):
            break
    for message in found.values():  # peeked, not consumed: visible again at once
        aws.client("sqs").change_message_visibility(
            QueueUrl=queue_url(logical), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return list(found.values())


def signup_requests() -> list[tuple[dict, dict]]:
    """50 signups: 35 addresses, 10 of them again in another case, 5 retries of a keyed one."""
    body = lambda email: {"email": email, "first_name": "Ada", "last_name": f"No{email[:6]}"}  # noqa: E731
    sent = [(body(f"user{n}@example.com"), {}) for n in range(34)]
    sent.append((body("keyed@example.com"), {"Idempotency-Key": "client-7"}))
    sent += [(body(f"USER{n}@Example.COM"), {}) for n in range(10)]
    sent += [(body("keyed@example.com"), {"Idempotency-Key": "client-7"}) for _ in range(5)]
    assert len(sent) == 50
    return sent


def post_all(api: str, sent: list[tuple[dict, dict]]) -> list[requests.Response]:
    def post(item):
        return requests.post(f"{api}/v1/users", json=item[0], headers=item[1], timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(post, sent))


def distinct_addresses(sent) -> set[str]:
    return {b["email"].lower() for b, _ in sent}


def assert_one_user_and_one_welcome_each(expected: set[str]) -> None:
    users = scan("users")
    assert sorted(u["email_lower"] for u in users) == sorted(expected)
    assert all(u["user_id"] == user_id_for(u["email"]) for u in users)
    counts = recipients()
    assert set(counts) == expected
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}


@pytest.mark.slow
def test_fifty_signups_store_the_distinct_users_and_welcome_each_once(running_fleet):
    sent = signup_requests()
    responses = post_all(running_fleet.api_url, sent)
    assert [r.status_code for r in responses] == [202] * 50
    keyed = {r.json()["signup_id"] for r, (b, h) in zip(responses, sent, strict=True) if h}
    assert len(keyed) == 1
    running_fleet.drain()
    expected = distinct_addresses(sent)
    assert len(expected) == 35
    assert_one_user_and_one_welcome_each(expected)
    outbox = read_outbox()
    assert len(outbox) == 35
    assert all(e.subject == "Welcome to Fleet, Ada" and e.text_lines()[0] == "Hello Ada," for e in outbox)
    assert all(q.dead_lettered == 0 and q.idle for q in queue_status())


def recipient(request_dict: dict) -> str:
    """The first recipient of a SendEmail request, as a before-call hook sees it (query form)."""
    return request_dict["body"]["Destination.ToAddresses.member.1"]


def throttle_first_attempts(share: float):
    """A botocore hook failing `share` of the recipients' first SendEmail with Throttling."""
    from botocore.awsrequest import AWSResponse

    attempts: Counter = Counter()
    throttled: list[str] = []

    def hook(params, **kwargs):
        to = recipient(params)
        attempts[to] += 1
        if attempts[to] == 1 and zlib.crc32(to.encode()) % 100 < share * 100:
            throttled.append(to)
            parsed = {
                "Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded.", "Type": "Sender"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://email.local", 400, {}, None), parsed
        return None

    return hook, attempts, throttled


@pytest.mark.slow
def test_throttled_sends_are_retried_and_each_user_still_gets_exactly_one(running_fleet):
    hook, attempts, throttled = throttle_first_attempts(0.3)
    aws.client("ses").meta.events.register("before-call.ses.SendEmail", hook)
    sent = signup_requests()
    assert all(r.status_code == 202 for r in post_all(running_fleet.api_url, sent))
    running_fleet.drain(timeout=90)
    expected = distinct_addresses(sent)
    assert 5 <= len(throttled) <= 20, len(throttled)  # about 30% of 35
    assert all(attempts[t] >= 2 for t in throttled)
    assert_one_user_and_one_welcome_each(expected)
    assert queue_messages("welcome-failures") == []
    assert all(q.dead_lettered == 0 for q in queue_status())


@pytest.mark.slow
def test_a_record_that_always_fails_ends_on_the_on_failure_queue_and_the_shard_moves_on(running_fleet):
    from botocore.awsrequest import AWSResponse

    def reject_poison(params, **kwargs):
        if recipient(params) == "poison@example.com":
            parsed = {"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}}
            return AWSResponse("https://email.local", 400, {}, None), parsed
        return None

    aws.client("ses").meta.events.register("before-call.ses.SendEmail", reject_poison)
    api = running_fleet.api_url
    for email in ["first@example.com", "poison@example.com", "after1@example.com", "after2@example.com"]:
        response = requests.post(f"{api}/v1/users", json={"email": email, "first_name": "P", "last_name": "Q"}, timeout=30)
        assert response.status_code == 202
        running_fleet.drain()  # one at a time, so the poison record has records behind it
    assert set(recipients()) == {"first@example.com", "after1@example.com", "after2@example.com"}
    (message,) = queue_messages("welcome-failures")
    failure = json.loads(message["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 4  # 1 + MaximumRetryAttempts (3)
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"].endswith(info["streamArn"].split("/stream/")[1])
    (record,) = read_failed_records(failure)  # what a replay would deliver
    assert record["dynamodb"]["NewImage"]["email"]["S"] == "poison@example.com"
    assert record["eventSourceARN"] == info["streamArn"]

    # The bug is fixed (the address is accepted now): the operator replays the failure.
    aws.client("ses").meta.events.unregister("before-call.ses.SendEmail", reject_poison)
    assert replay_failures("welcome") == (1, 0)
    assert recipients()["poison@example.com"] == 1
    assert queue_messages("welcome-failures") == []
    assert replay_failures("welcome") == (0, 0)


@pytest.mark.quick
def test_stored_entries_get_one_confirmation_each_and_duplicates_none(running_fleet, make_campaign):
    make_campaign("summer", max_entries_per_email=1)
    api = running_fleet.api_url
    emails = [f"entrant{n}@example.com" for n in range(8)] + ["ENTRANT3@example.com"]
    ids = []
    for email in emails:
        body = {"first_name": "Ana", "last_name": "S", "email": email, "consent": True}
        response = requests.post(f"{api}/v1/campaigns/summer/submissions", json=body, timeout=30)
        assert response.status_code == 202
        ids.append(response.json()["submission_id"])
    running_fleet.drain()
    stored = {s["submission_id"]: s for s in scan("submissions")}
    accepted = {i for i, s in stored.items() if s["status"] == "accepted"}
    assert len(stored) == 9 and len(accepted) == 8
    messages = sent_messages()
    assert len(messages) == 8
    assert recipients() == Counter({f"entrant{n}@example.com": 1 for n in range(8)})
    for message in messages:
        assert "Campaign summer" in message.subject
        assert any(i in message.body for i in accepted)


@pytest.mark.quick
def test_the_outbox_page_and_command_show_what_the_local_ses_accepted(running_fleet):
    import os
    import subprocess
    import sys
    from pathlib import Path

    api = running_fleet.api_url
    body = {"email": "grace@example.com", "first_name": "Grace <i>", "last_name": "Hopper"}
    assert requests.post(f"{api}/v1/users", json=body, timeout=30).status_code == 202
    running_fleet.drain()
    page = requests.get(f"{api}/_local/outbox", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "grace@example.com" in page.text and "Welcome to Fleet, Grace &lt;i&gt;" in page.text
    assert "<i>" not in page.text  # every field is escaped

    fleet = str(Path(sys.executable).with_name("fleet"))
    env = {**os.environ, "AWS_ENDPOINT_URL": settings.current().endpoint_url, "FLEET_STAGE": "local"}
    result = subprocess.run([fleet, "outbox"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "1 email in the local outbox"
    assert "to:      grace@example.com" in result.stdout
    assert "subject: Welcome to Fleet, Grace <i>" in result.stdout
    assert "  Hello Grace <i>," in result.stdout


def test_the_outbox_route_does_not_exist_on_aws(local_aws, monkeypatch):
    from ingest_api import create_app

    monkeypatch.setenv("FLEET_STAGE", "prod")
    settings.reset()
    client = create_app({"TESTING": True}).test_client()
    assert client.get("/_local/outbox").status_code == 404
    assert client.get("/health").status_code == 200


def test_moto_double_insert_and_identical_put_send_one_welcome(running_fleet):
    """moto emits two INSERTs for an update_item that creates an item, and MODIFY for an identical put."""
    user_id = user_id_for("twice@example.com")
    table = settings.current().name("users")
    aws.client("dynamodb").update_item(
        TableName=table,
        Key={"user_id": {"S": user_id}},
        UpdateExpression="SET email = :e, email_lower = :e, first_name = :f, last_name = :l",
        ExpressionAttributeValues={":e": {"S": "twice@example.com"}, ":f": {"S": "Tw"}, ":l": {"S": "Ice"}},
    )
    item = aws.client("dynamodb").get_item(TableName=table, Key={"user_id": {"S": user_id}})["Item"]
    aws.client("dynamodb").put_item(TableName=table, Item=item)
    arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    names = [r["eventName"] for r in records]
    assert names[:3] == ["INSERT", "INSERT", "MODIFY"], names  # the quirks this test is about
    # Any record after them is the running fleet marking the welcome's delivery (email feedback).
    later = [r["dynamodb"].get("NewImage", {}).get("email_status", {}).get("S") for r in records[3:]]
    assert all(name == "MODIFY" for name in names[3:]) and set(later) <= {"delivered"}, (names, later)
    running_fleet.drain()
    assert recipients() == Counter({"twice@example.com": 1})


def test_provisioning_asks_ses_to_verify_the_sender_on_every_stage(local_aws, monkeypatch):
    from fleet.provision import ensure_sender_identity

    monkeypatch.setenv("FLEET_SENDER", "Shop <shop@example.com>")
    settings.reset()
    assert ensure_sender_identity().action == "created"
    assert ensure_sender_identity().action == "unchanged"
    assert aws.client("ses").list_identities()["Identities"] == ["shop@example.com"]

    monkeypatch.setenv("FLEET_STAGE", "prod")  # still moto on loopback, with dummy keys
    monkeypatch.setenv("FLEET_SENDER", "Other <other@example.com>")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fleet-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fleet-test")
    settings.reset()
    aws.reset()
    assert settings.current().endpoint_url == local_aws.endpoint_url
    # moto marks the identity verified at once; AWS mails a link and reports it pending.
    assert ensure_sender_identity().action == "created"
    assert ensure_sender_identity().action == "unchanged"
    assert sorted(aws.client("ses").list_identities()["Identities"]) == ["other@example.com", "shop@example.com"]
