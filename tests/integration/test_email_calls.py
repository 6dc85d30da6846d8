"""The AWS calls of the email workers against moto, counted by a hook on every `lambda_platform.aws`
client: a batch reads what it sent before in one BatchGetItem, and, once an email is due, its
addresses' suppressions in another; then each email is its SendEmail and one write of its
idempotency record, after SES accepted it."""

from __future__ import annotations

import copy
import json

import pytest

from events.models import user_id_for
from events.sample_payloads import load_sample
from fleet.runtime.invoke import LocalContext
from lambda_platform.errors import RetryLater
from tests.calls import counting_calls
from workers import welcome


@pytest.fixture
def calls(provisioned):
    """Counts of every AWS operation from now on."""
    from lambda_platform import idempotency

    idempotency.reset()
    with counting_calls() as counted:
        yield counted
    idempotency.reset()


def context() -> LocalContext:
    return LocalContext("welcome", 256, "arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers", 30)


def users_inserted(*emails: str) -> dict:
    """A users-table stream batch with one INSERT per address, shaped as the canonical sample."""
    template = load_sample("dynamodb_stream_insert")["Records"][0]
    records = []
    for n, email in enumerate(emails):
        record = copy.deepcopy(template)
        record["eventSourceARN"] = record["eventSourceARN"].replace("submissions", "users")
        record["dynamodb"]["Keys"] = {"user_id": {"S": user_id_for(email)}}
        record["dynamodb"]["NewImage"] = {
            "user_id": {"S": user_id_for(email)},
            "email": {"S": email},
            "first_name": {"S": "Ada"},
            "last_name": {"S": "Lovelace"},
            "locale": {"S": "en"},
        }
        record["dynamodb"]["SequenceNumber"] = str(100 + n)
        records.append(record)
    return {"Records": records}


def sent_to() -> list[str]:
    """Every recipient the embedded SES accepted, read in this process (no AWS call)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from lambda_platform import settings

    return [m.destinations["ToAddresses"][0] for m in ses_backends[DEFAULT_ACCOUNT_ID][settings.current().region].sent_messages]


def test_a_batch_reads_once_and_each_email_is_one_send_and_one_write(calls):
    emails = [f"user{n}@example.com" for n in range(5)]
    event = users_inserted(*emails, "user0@example.com")  # moto's second INSERT of an update_item

    assert welcome.handler(event, context()) == {"batchItemFailures": []}
    made = dict(calls)
    assert sorted(sent_to()) == sorted(emails)
    assert made.pop("BatchGetItem") == 2  # what was sent, and the batch's suppressed addresses
    assert made.pop("SendEmail") == 5
    assert sum(made.values()) == 5, f"one write per email, after its send: {made}"

    calls.clear()
    assert welcome.handler(event, context()) == {"batchItemFailures": []}  # a replay of the batch
    assert dict(calls) == {"BatchGetItem": 1}, "found COMPLETED: nothing sent, nothing written"
    assert sorted(sent_to()) == sorted(emails)


def test_a_throttled_send_writes_nothing_and_its_retry_sends_once(calls, monkeypatch):
    from lambda_platform.adapters.mail import SesMailer

    real = SesMailer.send
    throttled: list[str] = []

    def send(self, to, subject, text, html, *, tags=()):
        if to == "bob@example.com" and not throttled:
            throttled.append(to)
            raise RetryLater("Throttling: Maximum sending rate exceeded.")
        return real(self, to, subject, text, html, tags=tags)

    monkeypatch.setattr(SesMailer, "send", send)
    event = users_inserted("ada@example.com", "bob@example.com")

    assert welcome.handler(event, context()) == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    made = dict(calls)
    assert made.pop("BatchGetItem") == 2 and made.pop("SendEmail") == 1
    assert sum(made.values()) == 1, f"ada's record alone, nothing for bob: {made}"

    assert welcome.handler(event, context()) == {"batchItemFailures": []}
    assert sorted(sent_to()) == ["ada@example.com", "bob@example.com"]


def test_a_record_left_in_progress_by_a_crash_is_waited_on_as_before(calls):
    """A key INPROGRESS (an invocation died holding it) goes through Powertools' own conditional put."""
    from lambda_platform.idempotency import once

    def crash():
        raise SystemExit("the process dies after its INPROGRESS record")

    with pytest.raises(SystemExit):
        once(welcome.SCOPE, user_id_for("ada@example.com"), crash, context())
    short = context()
    short.timeout_seconds = 1  # no time left to wait on the record: the record fails, to be retried
    event = users_inserted("ada@example.com")
    assert welcome.handler(event, short) == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert sent_to() == []


def published(message_id: str) -> dict:
    """The event record the local SES published for the email `message_id`, read off the feedback queue."""
    from events.topology import TOPOLOGY
    from lambda_platform import aws
    from lambda_platform.resources import queue_url

    assert TOPOLOGY.email_feedback is not None
    url = queue_url(TOPOLOGY.email_feedback.queue)
    for _ in range(5):
        for message in aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            body = json.loads(message["Body"])
            record = json.loads(body["Message"]) if body.get("Type") == "Notification" else body
            if record["mail"]["messageId"] == message_id:
                return record
    raise AssertionError(f"no event of {message_id} on the feedback queue")


def test_the_mailer_sends_its_tags_and_leaves_out_a_value_ses_would_refuse(provisioned):
    """SES refuses a whole send for one bad tag: the mailer leaves that tag out, and the email goes."""
    from events.email_feedback import TAG_ENTRY, TAG_USER, parse_feedback
    from lambda_platform.adapters.mail import SesMailer
    from lambda_platform.resources import configuration_set_name

    mailer = SesMailer()
    tagged = mailer.send("ada@example.com", "Hi", "Hello", "<p>Hello</p>", tags=[(TAG_ENTRY, "entry-001"), (TAG_USER, "a b")])
    record = published(tagged)
    assert record["mail"]["tags"][TAG_ENTRY] == ["entry-001"] and TAG_USER not in record["mail"]["tags"]
    assert record["mail"]["tags"]["ses:configuration-set"] == [configuration_set_name()]
    (feedback,) = parse_feedback(json.dumps(record))
    assert (feedback.event_type, feedback.entry, feedback.user) == ("Delivery", "entry-001", "")

    untagged = mailer.send("bob@example.com", "Hi", "Hello", "<p>Hello</p>", tags=[(TAG_ENTRY, "x" * 257)])
    assert not {TAG_ENTRY, TAG_USER} & set(published(untagged)["mail"]["tags"])
    assert sorted(sent_to()) == ["ada@example.com", "bob@example.com"]
