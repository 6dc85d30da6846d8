"""The contract: every canonical sample parses, and agrees with the topology and the code."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

import events
from events.messages.campaigns import SubmitEntry
from events.messages.envelope import dump_message, load_message
from events.sample_payloads import load_sample, sample_names
from events.schemas import SubmissionRequestSchema, plain
from events.topology import TOPOLOGY, physical_name
from fleet.runtime.invoke import resolve
from tests.fakes.tables import campaign

STAGE = "local"  # the samples come from the local stage of account 123456789012
SQS_RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


def queue_arn(logical: str) -> str:
    return f"arn:aws:sqs:us-east-1:123456789012:{physical_name(STAGE, logical)}"


def samples_with_a_contract_test() -> set[str]:
    """The samples that some test of this module loads by name."""
    source = Path(__file__).read_text(encoding="utf-8")
    return set(re.findall(r'load_sample\("([a-z0-9_]+)"\)', source))


def test_every_sample_in_the_folder_has_a_contract_test():
    on_disk = {p.stem for p in (Path(events.__file__).parent / "samples").glob("*.json")}
    assert on_disk, "no samples found"
    assert sample_names() == sorted(on_disk)
    missing = on_disk - samples_with_a_contract_test()
    assert not missing, f"samples without a contract test in {Path(__file__).name}: {sorted(missing)}"


def test_load_sample_returns_a_fresh_copy_and_refuses_unknown_names():
    load_sample("sqs_batch")["Records"].clear()
    assert len(load_sample("sqs_batch")["Records"]) == 3
    for name in ("nope", "../sqs_batch", "sqs_batch.json"):
        with pytest.raises(KeyError):
            load_sample(name)


def test_the_topology_validates():
    TOPOLOGY.validate()


@pytest.mark.parametrize("function", TOPOLOGY.functions, ids=lambda f: f.name)
def test_every_handler_in_the_topology_resolves(function):
    handler = resolve(function.handler)
    assert callable(handler)


# --- SQS and Pipes ------------------------------------------------------------------------


def test_sqs_batch_records_carry_submit_entry_envelopes_exactly_as_dump_message_writes_them():
    records = load_sample("sqs_batch")["Records"]

    assert len(records) == 3
    assert len({r["messageId"] for r in records}) == 3
    for record in records:
        assert set(record) >= SQS_RECORD_KEYS
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == queue_arn("submissions")
        TOPOLOGY.queue("submissions")
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        entry = load_message(record["body"])
        assert isinstance(entry, SubmitEntry)
        assert dump_message(entry) == record["body"]
        # The message attributes SqsQueue.send sets, as Lambda spells them.
        attributes = record["messageAttributes"]
        assert attributes["type"]["stringValue"] == "SubmitEntry"
        assert attributes["message_id"]["stringValue"] == entry.message_id
        assert {a["dataType"] for a in attributes.values()} == {"String"}


def test_sqs_batch_entries_pass_the_api_schema_they_came_through():
    for record in load_sample("sqs_batch")["Records"]:
        entry = load_message(record["body"])
        request = {
            k: v
            for k, v in json.loads(record["body"])["body"].items()
            if k not in ("submission_id", "campaign_id", "received_at") and v is not None
        }
        assert SubmissionRequestSchema().load(request)["email"] == entry.email
        if entry.upload_key:
            assert entry.upload_key.startswith(campaign(entry.campaign_id).uploads_prefix)


def test_pipes_sample_is_the_same_records_as_a_bare_array():
    pipes = load_sample("pipes_sqs")

    assert isinstance(pipes, list)
    assert pipes == load_sample("sqs_batch")["Records"]


def test_the_submissions_function_is_fed_by_the_pipe_the_pipes_sample_imitates():
    function = TOPOLOGY.function("submissions")
    (pipe,) = [t for f, t in TOPOLOGY.pipes() if f is function]
    assert pipe.queue == "submissions"
    assert len(load_sample("pipes_sqs")) <= pipe.batch_size


def test_sqs_campaign_admin_records_are_the_admin_apis_messages_on_the_campaign_admin_queue():
    from events.messages.campaigns import ReviewEntry, SaveCampaign

    records = load_sample("sqs_campaign_admin")["Records"]

    TOPOLOGY.queue("campaign-admin")
    (function,) = [f for f in TOPOLOGY.functions if f.handler == "workers.campaign_admin.handler"]
    assert [t.queue for t in function.triggers] == ["campaign-admin"]
    messages = []
    for record in records:
        assert set(record) >= SQS_RECORD_KEYS
        assert record["eventSourceARN"] == queue_arn("campaign-admin")
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        message = load_message(record["body"])
        assert dump_message(message) == record["body"]
        assert record["messageAttributes"]["type"]["stringValue"] == type(message).__name__
        assert record["messageAttributes"]["message_id"]["stringValue"] == message.message_id
        messages.append(message)
    assert {type(m) for m in messages} == {SaveCampaign, ReviewEntry}


# --- S3 -------------------------------------------------------------------------------------


def test_s3_put_names_the_media_bucket_and_a_form_encoded_key_under_the_campaign():
    (record,) = load_sample("s3_put")["Records"]

    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    bucket = record["s3"]["bucket"]
    TOPOLOGY.bucket("media")
    assert bucket["name"] == physical_name(STAGE, "media")
    assert bucket["arn"] == f"arn:aws:s3:::{bucket['name']}"
    raw_key = record["s3"]["object"]["key"]
    key = unquote_plus(raw_key)
    assert key != raw_key, "the sample should show S3's form encoding"
    assert key.startswith(campaign("summer").uploads_prefix)
    assert isinstance(record["s3"]["object"]["size"], int) and record["s3"]["object"]["size"] > 0


def test_s3_via_sqs_is_the_s3_event_as_an_sqs_body():
    (record,) = load_sample("s3_via_sqs")["Records"]

    assert set(record) >= SQS_RECORD_KEYS
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert json.loads(record["body"]) == load_sample("s3_put")


def test_s3_via_sqs_comes_from_the_media_buckets_notification_queue():
    notify_queue = TOPOLOGY.bucket("media").notify_queue
    if notify_queue is None:
        pytest.skip("the topology declares no notification queue for the media bucket yet")
    (record,) = load_sample("s3_via_sqs")["Records"]
    assert record["eventSourceARN"] == queue_arn(notify_queue)


# --- DynamoDB Streams ------------------------------------------------------------------------


def test_dynamodb_insert_is_the_item_the_worker_stores_for_the_first_sqs_entry():
    from lambda_platform.adapters.dynamo import from_item
    from workers.submissions import submission_item

    (record,) = load_sample("dynamodb_stream_insert")["Records"]
    table = TOPOLOGY.table("submissions")
    stream = record["dynamodb"]

    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"].startswith(
        f"arn:aws:dynamodb:us-east-1:123456789012:table/{physical_name(STAGE, 'submissions')}/stream/"
    )
    assert table.stream == stream["StreamViewType"] == "NEW_IMAGE"
    assert stream["SequenceNumber"].isdigit()
    assert set(stream["Keys"]) == {table.partition_key}

    image = from_item(stream["NewImage"])
    entry = load_message(load_sample("sqs_batch")["Records"][0]["body"])
    assert image == plain(submission_item(entry, image["status"], image["stored_at"]))
    assert image["status"] == "accepted"
    assert stream["Keys"][table.partition_key] == stream["NewImage"][table.partition_key]


# --- API Gateway ---------------------------------------------------------------------------


def test_apigw_request_is_accepted_when_zappa_hands_it_to_the_app(app, queue):
    from werkzeug.test import run_wsgi_app
    from zappa.wsgi import create_wsgi_request

    event = load_sample("apigw_request")
    # What Zappa's handler does for a REST API request on the amazonaws.com host.
    environ = create_wsgi_request(event, script_name=f"/{event['requestContext']['stage']}")

    app_iter, status, _headers = run_wsgi_app(app, environ, buffered=True)
    body = json.loads(b"".join(app_iter))

    assert status.startswith("202"), body
    assert body["status"] == "queued"
    (message,) = queue.sent
    assert message.submission_id == body["submission_id"]
    sent = json.loads(event["body"])
    assert (message.first_name, message.email, message.upload_key) == (
        sent["first_name"],
        sent["email"],
        sent["upload_key"],
    )
    assert event["pathParameters"]["proxy"] == event["path"].lstrip("/")
    assert event["headers"]["Idempotency-Key"]


# --- SES's sending events --------------------------------------------------------------------


def _shape(document: object) -> object:
    """The keys of a JSON document, nested, without its values (lists by their first item)."""
    if isinstance(document, dict):
        return {k: _shape(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_shape(document[0])] if document else []
    return type(document).__name__


def test_ses_events_parse_into_one_feedback_per_recipient():
    from events.email_feedback import parse_feedback

    (bounce,) = parse_feedback(json.dumps(load_sample("ses_bounce")))
    assert (bounce.event_type, bounce.bounce_type, bounce.detail) == ("Bounce", "Permanent", "General")
    assert bounce.suppresses and bounce.status == "bounced" and bounce.address == "bounce@simulator.amazonses.com"
    assert bounce.at == "2025-06-14T09:21:09.311000Z"
    (complaint,) = parse_feedback(json.dumps(load_sample("ses_complaint")))
    (delivery,) = parse_feedback(json.dumps(load_sample("ses_delivery")))
    assert complaint.message_id == delivery.message_id  # the complaint of a delivered email
    assert (complaint.status, delivery.status) == ("complained", "delivered")
    assert complaint.suppresses and not delivery.suppresses and delivery.at < complaint.at
    (reject,) = parse_feedback(json.dumps(load_sample("ses_reject")))
    assert (reject.recipient, reject.status, reject.suppresses) == ("ana.souza@example.com", None, False)


def test_sqs_email_feedback_is_a_bounce_in_snss_envelope_on_the_feedback_queue():
    from events.email_feedback import parse_feedback

    (record,) = load_sample("sqs_email_feedback")["Records"]
    assert set(record) >= SQS_RECORD_KEYS
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    feedback = TOPOLOGY.email_feedback
    assert feedback is not None and record["eventSourceARN"] == queue_arn(feedback.queue)
    envelope = json.loads(record["body"])
    assert envelope["TopicArn"].endswith(f":{physical_name(STAGE, feedback.topic)}")
    assert json.loads(envelope["Message"]) == load_sample("ses_bounce")
    assert parse_feedback(record["body"]) == parse_feedback(envelope["Message"])


@pytest.mark.parametrize(
    ("sample", "recipient"),
    [
        ("ses_bounce", "bounce@simulator.amazonses.com"),
        ("ses_complaint", "complaint@simulator.amazonses.com"),
        ("ses_delivery", "complaint@simulator.amazonses.com"),
    ],
)
def test_the_local_ses_publishes_events_of_the_samples_shape(sample, recipient):
    from datetime import UTC, datetime

    from events.email_feedback import parse_feedback
    from fleet.runtime.ses_feedback import event_record, simulated_events

    wanted = load_sample(sample)
    kind, detail = next((k, d) for k, d in simulated_events(recipient) if k == wanted["eventType"])
    now = datetime(2025, 6, 14, 9, 21, 8, tzinfo=UTC)
    made = event_record(
        kind,
        detail,
        message_id=wanted["mail"]["messageId"],
        source=wanted["mail"]["source"],
        destination=[recipient],
        configuration_set=physical_name(STAGE, "emails"),
        account="123456789012",
        region="us-east-1",
        sent=now,
        at=now,
        subject=wanted["mail"]["commonHeaders"]["subject"],
    )
    assert _shape(made) == _shape(wanted)
    (parsed,) = parse_feedback(json.dumps(made))
    (documented,) = parse_feedback(json.dumps(wanted))
    assert (parsed.event_type, parsed.recipient, parsed.bounce_type, parsed.status) == (
        documented.event_type,
        documented.recipient,
        documented.bounce_type,
        documented.status,
    )
