"""lambda_platform.batch: the workers' batch skeleton over Powertools' BatchProcessor, fed the canonical samples."""

from __future__ import annotations

import pytest

from events.sample_payloads import load_sample
from lambda_platform.batch import process_inserts, process_sqs, process_whole_batch


def no_ports():
    raise AssertionError("nothing to do, no ports")


def fail_the_second(record, ports):
    if record.message_id == ports["fail"]:
        raise RuntimeError("throttled")


@pytest.mark.parametrize("sample", ["sqs_batch", "pipes_sqs"])
def test_sqs_and_pipe_batches_report_the_failed_record_by_message_id(sample, lambda_context):
    event = load_sample(sample)
    records = event["Records"] if isinstance(event, dict) else event
    ports = {"fail": records[1]["messageId"]}

    response = process_sqs(event, fail_the_second, lambda: ports, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}


def test_a_batch_whose_every_record_fails_is_reported_not_raised(lambda_context):
    event = load_sample("pipes_sqs")

    def fail(record, ports):
        raise RuntimeError("throttled")

    response = process_sqs(event, fail, dict, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event]}


def test_the_ports_are_made_once_per_batch_and_not_for_an_empty_one(lambda_context):
    made = []

    def ports():
        made.append(1)
        return {"fail": None}

    assert process_sqs(load_sample("sqs_batch"), fail_the_second, ports, lambda_context) == {"batchItemFailures": []}
    assert made == [1]
    assert process_sqs([], fail_the_second, no_ports, lambda_context) == {"batchItemFailures": []}
    assert process_sqs({"Records": []}, fail_the_second, no_ports, lambda_context) == {"batchItemFailures": []}


@pytest.mark.parametrize("event", [{"Records": "nope"}, {"detail-type": "Scheduled Event"}, "a string"])
def test_an_event_that_is_not_a_batch_raises(event, lambda_context):
    with pytest.raises(TypeError):
        process_sqs(event, fail_the_second, no_ports, lambda_context)
    with pytest.raises(TypeError):
        process_inserts(event, fail_the_second, no_ports, lambda_context)
    with pytest.raises(TypeError):
        process_whole_batch(event, parse=str, key=str, handle=dict)


def stream_event(*event_names: str) -> dict:
    template = load_sample("dynamodb_stream_insert")["Records"][0]
    records = []
    for n, name in enumerate(event_names):
        record = {**template, "eventName": name, "dynamodb": {**template["dynamodb"], "SequenceNumber": str(100 + n)}}
        records.append(record)
    return {"Records": records}


def test_only_inserts_reach_the_handler_as_plain_images_and_failures_name_their_sequence_number(lambda_context):
    seen = []

    def handle(image, ports):
        seen.append(image)
        if len(seen) == 2:
            raise RuntimeError("throttled")

    event = stream_event("INSERT", "MODIFY", "INSERT", "REMOVE")
    response = process_inserts(event, handle, dict, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert [image["submission_id"] for image in seen] == ["3f8a1c52-6d0e-4b7a-9c1e-2a5b7d9e0f13"] * 2
    assert seen[0]["consent"] is True and seen[0]["answers"]["favourite_flavour"] == "mango"


def test_a_batch_with_no_insert_makes_no_ports(lambda_context):
    event = stream_event("MODIFY", "REMOVE")
    assert process_inserts(event, fail_the_second, no_ports, lambda_context) == {"batchItemFailures": []}


def test_the_whole_batch_skeleton_fails_every_record_of_a_failed_key_and_each_unparseable_one():
    records = [{"messageId": f"m-{n}", "body": body} for n, body in enumerate(["a", "b", "", "a"])]

    def parse(record):
        if not record.body:
            raise ValueError("empty")
        return record.body

    handled = []

    def handle(messages):
        handled.append(messages)
        return {"a": RuntimeError("throttled")}

    response = process_whole_batch(records, parse=parse, key=str, handle=handle)

    assert response == {"batchItemFailures": [{"itemIdentifier": i} for i in ("m-0", "m-2", "m-3")]}
    assert handled == [["a", "b", "a"]]
    nothing_parsed = [records[2]]
    assert process_whole_batch(nothing_parsed, parse=parse, key=str, handle=lambda messages: pytest.fail("called")) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}]
    }
