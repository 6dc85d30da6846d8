"""The local stream poller's shard reader against moto: one call per idle poll, nothing skipped."""

from __future__ import annotations

import pytest

from tests.calls import counting_calls

pytestmark = pytest.mark.integration


@pytest.fixture
def calls(provisioned):
    """Counts of every AWS operation made from now on."""
    with counting_calls() as counted:
        yield counted


def _put_users(n: int, start: int = 0) -> None:
    from lambda_platform import aws, settings

    table = settings.current().name("users")
    for i in range(start, start + n):
        aws.client("dynamodb").put_item(TableName=table, Item={"user_id": {"S": f"u{i}"}, "email": {"S": f"u{i}@example.com"}})


def test_an_idle_shard_costs_one_call_per_poll_and_every_record_is_read_once(calls):
    from fleet.runtime.shards import sequence_number
    from fleet.runtime.streams import shard_ids, shard_reader
    from lambda_platform.resources import stream_arn

    arn = stream_arn("users")
    read = shard_reader(arn, shard_ids(arn)[0])
    _put_users(5)
    first = read(None, 3)
    second = read(sequence_number(first[-1]), 3)
    assert [r["dynamodb"]["Keys"]["user_id"]["S"] for r in first + second] == [f"u{i}" for i in range(5)]

    calls.clear()
    checkpoint = sequence_number(second[-1])
    for _ in range(10):
        assert read(checkpoint, 3) == []
    assert calls == {"GetRecords": 10}  # no GetShardIterator while the reader stays where it was

    _put_users(2, start=5)
    news = read(checkpoint, 3)
    assert [r["dynamodb"]["Keys"]["user_id"]["S"] for r in news] == ["u5", "u6"]

    # A retry from an earlier record (a failed batch) reads from there again.
    calls.clear()
    again = read(sequence_number(first[-1]), 10)
    assert [r["dynamodb"]["Keys"]["user_id"]["S"] for r in again] == ["u3", "u4", "u5", "u6"]
    assert calls == {"GetShardIterator": 1, "GetRecords": 1}
