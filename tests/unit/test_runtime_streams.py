"""The local stream poller's shard logic: checkpoints, partial failures, retries, bisect, on-failure."""

from __future__ import annotations

import threading
import time

import pytest

from events.topology import RetryPolicy, StreamTrigger
from fleet.runtime.shards import CAUGHT_UP, ShardWorker, first_failed

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/fleet-local-users/stream/2026-01-01T00:00:00.000"


class FakeShard:
    """A shard of records with digit-string sequence numbers, read as GetRecords reads."""

    def __init__(self, count: int, first: int = 1000, created: float | None = None) -> None:
        created = time.time() if created is None else created
        self.records = [
            {
                "eventID": f"e{n}",
                "eventName": "INSERT",
                "dynamodb": {"SequenceNumber": str(first + n), "ApproximateCreationDateTime": created, "Keys": {}},
            }
            for n in range(count)
        ]

    def read(self, after, limit):
        start = (
            0 if after is None else next(i + 1 for i, r in enumerate(self.records) if r["dynamodb"]["SequenceNumber"] == after)
        )
        return [dict(r) for r in self.records[start : start + limit]]


class Handler:
    """A handler that fails the records named in `poison` (always) and `flaky` (first time)."""

    def __init__(self, poison=(), flaky=(), raises=False) -> None:
        self.poison, self.flaky, self.raises = set(poison), set(flaky), raises
        self.calls: list[list[str]] = []
        self.done: list[str] = []

    def __call__(self, event):
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        assert all(r["eventSourceARN"] == ARN for r in event["Records"])
        self.calls.append(sequences)
        failed = []
        for s in sequences:
            if s in self.poison or s in self.flaky:
                self.flaky.discard(s)
                failed.append(s)
            else:
                self.done.append(s)
        if failed and self.raises:
            raise RuntimeError("boom")
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}


def run(worker: ShardWorker, limit: int = 200) -> None:
    for _ in range(limit):
        if worker.step() == CAUGHT_UP:
            return
    raise AssertionError("the shard never caught up")


def make(shard, handler, batch_size=10, retries=2, bisect=True, sent=None):
    trigger = StreamTrigger(
        table="users", batch_size=batch_size, retry=RetryPolicy(maximum_retry_attempts=retries, bisect_on_error=bisect)
    )
    sent = sent if sent is not None else []
    return ShardWorker(trigger, ARN, "shardId-1", shard.read, handler, sent.append, function_arn="arn:fn"), sent


def test_batches_follow_the_batch_size_from_trim_horizon_and_checkpoint():
    shard, handler = FakeShard(25), Handler()
    worker, sent = make(shard, handler, batch_size=10)
    run(worker)
    assert [len(c) for c in handler.calls] == [10, 10, 5]
    assert worker.state.checkpoint == "1024" and sent == []
    shard.records += FakeShard(2, first=1025).records
    run(worker)
    assert handler.calls[-1] == ["1025", "1026"]  # only what came after the checkpoint


def test_a_partial_failure_retries_from_the_first_failed_record():
    shard, handler = FakeShard(6), Handler(flaky={"1002", "1004"})
    worker, sent = make(shard, handler)
    run(worker)
    assert handler.calls[0] == ["1000", "1001", "1002", "1003", "1004", "1005"]
    assert handler.calls[1] == ["1002", "1003", "1004", "1005"]
    assert sent == [] and sorted(set(handler.done)) == [str(n) for n in range(1000, 1006)]


def test_a_poison_record_goes_to_on_failure_after_the_retries_and_the_shard_moves_on():
    shard, handler = FakeShard(5), Handler(poison={"1002"})
    worker, sent = make(shard, handler, retries=2)
    run(worker)
    assert sum(1 for c in handler.calls if "1002" in c) == 3  # the first attempt and two retries
    (failure,) = sent
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1002", "1002", 1)
    assert info["shardId"] == "shardId-1" and info["streamArn"] == ARN
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert {"1003", "1004"} <= set(handler.done)  # the records behind it were processed
    assert worker.state.checkpoint == "1004"


def test_a_function_error_bisects_down_to_the_bad_record():
    shard, handler = FakeShard(8), Handler(poison={"1005"}, raises=True)
    worker, sent = make(shard, handler, batch_size=8, retries=1)
    run(worker)
    (failure,) = sent
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == "1005"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert set(handler.done) == {str(n) for n in range(1000, 1008)} - {"1005"}


def test_without_bisect_a_failing_batch_is_given_up_whole():
    shard, handler = FakeShard(4), Handler(poison={"1001"}, raises=True)
    worker, sent = make(shard, handler, batch_size=4, retries=1, bisect=False)
    run(worker)
    assert len(handler.calls) == 2  # the first attempt and one retry
    (failure,) = sent
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 4


def test_records_past_their_maximum_age_are_given_up_undelivered():
    shard, handler = FakeShard(3, created=time.time() - 7200), Handler()
    worker, sent = make(shard, handler)
    run(worker)
    assert handler.calls == []
    assert sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"
    assert sent[0]["DDBStreamBatchInfo"]["batchSize"] == 3


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, ("ok", None)),
        ({}, ("ok", None)),
        ({"batchItemFailures": []}, ("ok", None)),
        ({"batchItemFailures": None}, ("ok", None)),
        ({"batchItemFailures": [{"itemIdentifier": "11"}, {"itemIdentifier": "9"}]}, ("partial", "9")),
        ({"batchItemFailures": [{"itemIdentifier": "12"}]}, ("error", None)),
        ({"batchItemFailures": "9"}, ("error", None)),
        ("nonsense", ("error", None)),
    ],
)
def test_responses_are_read_as_lambda_reads_them(response, expected):
    assert first_failed(response, ["9", "10", "11"]) == expected


def stream_poller(shard, handler, stop=None):
    """A StreamPoller over one fake shard (no AWS: the shard is known, no checkpoints kept)."""
    from events.topology import Function
    from fleet.runtime.streams import StreamPoller

    trigger = StreamTrigger(table="users", batch_size=10)
    function = Function("welcome", handler="workers.welcome.handler", triggers=(trigger,))
    made = StreamPoller(function, trigger, stop or threading.Event())
    worker, _ = make(shard, handler)
    made.shards = {"shardId-1": worker}
    return made


def test_an_idle_stream_poller_backs_off_to_a_second_and_records_bring_it_back():
    shard = FakeShard(0)
    poller = stream_poller(shard, Handler())

    idle = [poller.poll_once() for _ in range(5)]
    assert idle == [0.25, 0.5, 1.0, 1.0, 1.0]  # four reads a second at first, then one

    shard.records = FakeShard(3).records
    assert poller.poll_once() == 0.0  # records: read on at once
    assert poller.poll_once() == 0.25  # caught up again: a quarter of a second


def test_a_queue_batch_wakes_the_stream_pollers_of_its_runtime():
    from fleet.runtime.streams import wake_stream_pollers

    stop = threading.Event()
    read = threading.Event()
    shard = FakeShard(0)
    reads = []

    def counting_read(after, limit):
        reads.append(after)
        read.set()
        return shard.read(after, limit)

    poller = stream_poller(shard, Handler(), stop)
    poller.shards["shardId-1"].read = counting_read
    poller.idle_wait = poller.idle_max = 60.0  # left alone, it would not read again for a minute
    poller.start()
    try:
        assert read.wait(5)
        read.clear()
        wake_stream_pollers(threading.Event())  # another runtime's: not this one
        assert not read.wait(0.3)
        wake_stream_pollers(stop)
        assert read.wait(5)
    finally:
        stop.set()
        poller.join(timeout=5)
    assert len(reads) == 2
