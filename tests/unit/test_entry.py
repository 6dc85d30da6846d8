"""lambda_platform.entry routes every event by its source, as the topology says, and never returns None."""

from __future__ import annotations

import json

import pytest

from events.sample_payloads import load_sample
from events.topology import TOPOLOGY
from lambda_platform import entry
from lambda_platform.entry import Routes, UnroutableEvent

ROUTES = Routes.of("local")


@pytest.mark.parametrize(
    ("sample", "function"),
    [
        ("sqs_batch", "submissions"),
        ("pipes_sqs", "submissions"),
        ("s3_via_sqs", "thumbnails"),
        ("s3_put", "thumbnails"),
        ("dynamodb_stream_insert", "confirmations"),
    ],
)
def test_each_sample_goes_to_the_function_the_topology_feeds_from_its_source(sample, function):
    assert ROUTES.function_for(load_sample(sample)).name == function


def test_every_trigger_of_the_topology_has_a_route():
    routed = {f.name for f in [*ROUTES.queues.values(), *ROUTES.tables.values()]}
    assert routed == {f.name for f in TOPOLOGY.functions if f.triggers}


def test_routes_follow_the_stage_of_the_physical_names():
    event = load_sample("sqs_batch")
    with pytest.raises(UnroutableEvent, match="fleet-local-submissions"):
        Routes.of("prod").function_for(event)
    for record in event["Records"]:
        record["eventSourceARN"] = record["eventSourceARN"].replace("fleet-local-", "fleet-prod-")
    assert Routes.of("prod").function_for(event).name == "submissions"


def _stream_event(table: str) -> dict:
    event = load_sample("dynamodb_stream_insert")
    for record in event["Records"]:
        record["eventSourceARN"] = record["eventSourceARN"].replace("fleet-local-submissions", f"fleet-local-{table}")
    return event


def test_a_stream_is_routed_by_the_table_in_its_arn():
    assert ROUTES.function_for(_stream_event("users")).name == "welcome"
    assert ROUTES.function_for(_stream_event("comments")).name == "comment_notifications"
    with pytest.raises(UnroutableEvent, match="fleet-local-campaigns"):
        ROUTES.function_for(_stream_event("campaigns"))


@pytest.mark.parametrize(
    "event",
    [
        {"detail-type": "Scheduled Event"},  # Zappa's keep-warm or any rule we never set up
        [],
        {"Records": []},
        {"Records": [{"eventSource": "aws:kinesis"}]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"TopicArn": "arn:aws:sns:us-east-1:1:fleet-local-comments"}}]},
        [{"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:fleet-local-nowhere"}],
        "a string",
    ],
)
def test_an_event_it_cannot_route_raises(event):
    with pytest.raises(UnroutableEvent):
        entry.lambda_handler(event, None)


def test_an_s3_object_outside_the_notified_prefix_is_not_routed():
    event = load_sample("s3_put")
    event["Records"][0]["s3"]["object"]["key"] = "thumbnails/x/256.jpg"
    with pytest.raises(UnroutableEvent, match="outside"):
        ROUTES.function_for(event)


def test_one_event_mixing_two_functions_raises():
    event = load_sample("sqs_batch")
    other = json.loads(json.dumps(event["Records"][0]))
    other["eventSourceARN"] = other["eventSourceARN"].replace("submissions", "users")
    event["Records"].append(other)
    with pytest.raises(UnroutableEvent, match="several"):
        ROUTES.function_for(event)


def test_the_handler_runs_the_routed_worker_and_returns_its_answer(monkeypatch):
    seen = {}

    def fake_submissions(event, context):
        seen["event"] = event
        return {"batchItemFailures": [{"itemIdentifier": event[0]["messageId"]}]}

    monkeypatch.setattr("workers.submissions.handler", fake_submissions)
    event = load_sample("pipes_sqs")
    answer = entry.lambda_handler(event, None)
    assert seen["event"] is event
    assert answer == {"batchItemFailures": [{"itemIdentifier": event[0]["messageId"]}]}


def test_a_worker_that_answers_none_fails_the_invocation(monkeypatch):
    monkeypatch.setattr("workers.submissions.handler", lambda event, context: None)
    with pytest.raises(RuntimeError, match="None"):
        entry.lambda_handler(load_sample("sqs_batch"), None)


def test_a_direct_s3_event_reaches_the_thumbnail_worker_as_its_queue_would_deliver_it(monkeypatch):
    seen = {}
    monkeypatch.setattr(
        "workers.thumbnails.handler", lambda event, context: seen.setdefault("event", event) and {"batchItemFailures": []}
    )
    s3 = load_sample("s3_put")
    entry.lambda_handler(s3, None)
    (record,) = seen["event"]["Records"]
    assert record["eventSourceARN"].endswith(":fleet-local-uploads")
    assert json.loads(record["body"]) == {"Records": s3["Records"]}
