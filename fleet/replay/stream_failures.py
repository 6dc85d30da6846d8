"""Deliver again the stream records parked on an on-failure queue, after a fix.

An on-failure record holds the stream position, not the data (`DDBStreamBatchInfo`: the
shard, the first and last sequence numbers, the stream ARN): a replay reads the records
back from the stream, which keeps them 24 hours, and hands them to the function in this
process, as the local runtime does. A failure record leaves its queue only once every
record it describes succeeded; otherwise it stays for the next replay.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from events.topology import TOPOLOGY, Function, StreamTrigger
from fleet.replay.dead_letters import peek, release
from fleet.runtime.credentials import signing_as
from fleet.runtime.invoke import invoke, reported_failures
from fleet.runtime.shards import check_sequence_numbers, lambda_record, sequence_number
from lambda_platform import aws, settings
from lambda_platform.resources import function_arn, queue_url

log = logging.getLogger("fleet.replay")


def on_failure_function(logical: str) -> str | None:
    """The function whose stream trigger parks failures on this queue, or None."""
    return TOPOLOGY.on_failure_function(logical)


def on_failure_queues(function_name: str) -> list[str]:
    """The queues where a function's stream triggers park their failures (KeyError: no such function)."""
    return [
        t.retry.on_failure_queue
        for t in TOPOLOGY.function(function_name).triggers
        if isinstance(t, StreamTrigger) and t.retry.on_failure_queue
    ]


def parked(logical: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The batch descriptions (`DDBStreamBatchInfo`) of the failure records on a queue; they stay there."""
    url = queue_url(logical)
    held = list(peek(url, limit=limit))
    release(url, held)
    return [json.loads(message["Body"]).get("DDBStreamBatchInfo", {}) for message in held]


def read_failed_records(failure: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream records an on-failure record describes, read back for a replay."""
    info = failure["DDBStreamBatchInfo"]
    start = {"dynamodb": {"SequenceNumber": info["startSequenceNumber"]}}
    check_sequence_numbers([start], "DynamoDB Streams GetRecords (the failed batch's first record)")
    streams = aws.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=max(1, int(info["batchSize"])))["Records"]
    end = int(info["endSequenceNumber"])
    return [{**lambda_record(r), "eventSourceARN": info["streamArn"]} for r in records if int(sequence_number(r)) <= end]


def replay_queue(logical: str, maximum: int = 100, progress: Callable[[int], None] = lambda n: None) -> tuple[int, int]:
    """Deliver again the records described on one on-failure queue; return (replayed, still failing)."""
    function_name = on_failure_function(logical)
    if function_name is None:
        raise ValueError(f"{logical} is not the on-failure queue of a stream trigger")
    function = TOPOLOGY.function(function_name)
    sqs = aws.client("sqs")
    url = queue_url(logical)
    workers_arn = function_arn("workers")
    replayed = failed = 0
    while replayed + failed < maximum:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, maximum - replayed - failed), WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            records = read_failed_records(json.loads(message["Body"]))
            if not records:  # trimmed from the stream (24 h): nothing left to deliver
                log.error("records of %s are no longer on the stream", message["MessageId"])
                failed += 1
                continue
            try:
                response = hand_to_function(function, {"Records": records}, workers_arn)
                succeeded = reported_failures(response, [sequence_number(r) for r in records]) == []
            except Exception:
                log.exception("replay of %s failed", message["MessageId"])
                succeeded = False
            if succeeded:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                replayed += 1
            else:
                failed += 1
            progress(1)
    return replayed, failed


def hand_to_function(function: Function, event: dict[str, Any], workers_arn: str) -> Any:
    """Give a batch to the function as its stream mapping would, with the function's own role.

    On AWS, the deployed workers function is invoked (synchronously: its answer says which
    records failed); locally, its handler runs here, signing as the workers' role when the
    fleet enforces IAM.
    """
    if not settings.current().local:
        answer = aws.client("lambda").invoke(FunctionName=workers_arn, Payload=json.dumps(event).encode())
        if answer.get("FunctionError"):
            raise RuntimeError(f"{function.name} failed on the replayed batch: {answer['Payload'].read()[:500]!r}")
        return json.loads(answer["Payload"].read() or b"null")
    with signing_as(TOPOLOGY.workers.name):
        return invoke(function, event, workers_arn)


def replay_failures(function_name: str, maximum: int = 100, progress: Callable[[int], None] = lambda n: None) -> tuple[int, int]:
    """Deliver again the records described on a function's on-failure queue(s); return (replayed, still failing)."""
    queues = on_failure_queues(function_name)
    if not queues:
        raise ValueError(f"{function_name} has no stream trigger with an on-failure queue")
    replayed = failed = 0
    for logical in queues:
        done, failing = replay_queue(logical, maximum - replayed - failed, progress)
        replayed, failed = replayed + done, failed + failing
    return replayed, failed
