"""fleet replay, fleet dlq dump, fleet status --check: against moto's server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.status import format_age, queue_status
from lambda_platform import aws
from lambda_platform.adapters.queues import queue_url

pytestmark = pytest.mark.integration

FLEET = str(Path(sys.executable).with_name("fleet"))


def fleet(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def dead_letter(count: int, queue: str = "submissions-dlq") -> list[str]:
    """Put `count` messages on a queue: half campaign summer, half winter; return the bodies."""
    bodies = [
        json.dumps({"type": "SubmitEntry", "body": {"campaign_id": "summer" if n % 2 else "winter", "n": n}})
        for n in range(count)
    ]
    for start in range(0, count, 10):
        aws.client("sqs").send_message_batch(
            QueueUrl=queue_url(queue),
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": body,
                    "MessageAttributes": {
                        "type": {"DataType": "String", "StringValue": "SubmitEntry"},
                        "n": {"DataType": "Number", "StringValue": str(start + i)},
                    },
                }
                for i, body in enumerate(bodies[start : start + 10])
            ],
        )
    return bodies


def drain(queue: str) -> list[dict]:
    """Consume every message of a queue."""
    found: dict[str, dict] = {}
    while True:
        page = (
            aws.client("sqs")
            .receive_message(
                QueueUrl=queue_url(queue),
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
                VisibilityTimeout=30,
            )
            .get("Messages", [])
        )
        if not page:
            return list(found.values())
        for message in page:
            found[message["MessageId"]] = message


def depth(queue: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(queue), AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.mark.quick
def test_replay_moves_every_message_back_with_its_body_and_attributes(provisioned):
    bodies = dead_letter(25)
    result = fleet("replay", "submissions")
    assert "25 message(s) moved from submissions-dlq to submissions" in result.output
    assert depth("submissions-dlq") == 0
    moved = drain("submissions")
    assert sorted(m["Body"] for m in moved) == sorted(bodies)
    assert {m["MessageAttributes"]["type"]["StringValue"] for m in moved} == {"SubmitEntry"}
    assert sorted(int(m["MessageAttributes"]["n"]["StringValue"]) for m in moved) == list(range(25))
    assert {m["MessageAttributes"]["n"]["DataType"] for m in moved} == {"Number"}


def test_dry_run_lists_and_moves_nothing_and_where_and_limit_choose(provisioned):
    dead_letter(12)
    dry = fleet("replay", "submissions", "--dry-run", "--where", "body.body.campaign_id=summer")
    assert "6 message(s) would move" in dry.output and dry.output.count("would move ") == 7  # six lines and the summary
    assert depth("submissions-dlq") == 12 and depth("submissions") == 0

    fleet("replay", "submissions", "--where", "body.body.campaign_id=summer", "--limit", "4")
    moved = drain("submissions")
    assert len(moved) == 4
    assert {json.loads(m["Body"])["body"]["campaign_id"] for m in moved} == {"summer"}
    assert depth("submissions-dlq") == 8  # the rest, winter ones included, stayed

    fleet("replay", "submissions", "--where", "n=2", "--to", "users")  # a winter one: still there
    assert [json.loads(m["Body"])["body"]["n"] for m in drain("users")] == [2]


def test_rate_paces_the_move(provisioned):
    dead_letter(6)
    started = time.monotonic()
    fleet("replay", "submissions", "--rate", "4")
    assert time.monotonic() - started >= 1.0  # 6 messages at 4 a second: not all at once
    assert depth("submissions") == 6


def test_dump_leaves_the_messages_and_a_dump_sends_back(provisioned, tmp_path):
    bodies = dead_letter(15)
    dumped = fleet("dlq", "dump", "submissions")
    lines = [json.loads(line) for line in dumped.stdout.splitlines() if line.startswith("{")]
    assert sorted(line["body"] for line in lines) == sorted(bodies)
    assert all(line["sent_timestamp"] for line in lines)
    assert depth("submissions-dlq") == 15  # read, not consumed
    assert fleet("dlq", "dump", "submissions").stdout.count("\n{") + 1 >= 15  # and visible again at once

    dump_file = tmp_path / "dlq.jsonl"
    dump_file.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    fleet("replay", "--from-file", str(dump_file), "submissions")
    moved = drain("submissions")
    assert sorted(m["Body"] for m in moved) == sorted(bodies)
    assert {m["MessageAttributes"]["type"]["StringValue"] for m in moved} == {"SubmitEntry"}


def test_bad_input_is_a_clear_error(provisioned, tmp_path):
    assert "no queue 'nope'" in fleet("replay", "nope", code=2).output
    assert "FIELD=VALUE" in fleet("replay", "submissions", "--where", "campaign", code=2).output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"body": "ok"}\nnot json\n')
    assert "line 2" in fleet("replay", "--from-file", str(bad), "submissions", code=2).output


def test_status_shows_ages_and_check_fails_on_dead_letters(provisioned):
    assert "no dead-lettered" in fleet("status", "--check").output
    dead_letter(3)
    aws.client("sqs").send_message(QueueUrl=queue_url("users"), MessageBody="{}")
    result = fleet("status", "--check", code=1)
    assert "submissions holds 3 failed message(s)" in result.output
    lines = fleet("status", code=0).output.splitlines()
    row = next(line for line in lines if line.startswith("submissions "))
    assert row.split()[-2:][0] == "3" and row.split()[-1].endswith("s")  # 3 dead-lettered, an age in seconds
    users = next(line for line in lines if line.startswith("users "))
    assert users.split()[1] == "1" and users.split()[3] != "-"

    # The ages are read against the clock: 90 s on, both messages are a minute and a half old.
    later = lambda: time.time() + 90  # noqa: E731
    rows = {r.name: r for r in queue_status(ages=True, clock=later)}
    assert 90 <= rows["users"].oldest_age < 120 and 90 <= rows["submissions"].oldest_dead_age < 120
    assert format_age(rows["users"].oldest_age) == "1m" and rows["submissions"].oldest_age is None
    assert depth("users") == 1 and depth("submissions-dlq") == 3  # peeking consumed nothing


def test_check_fails_on_a_parked_stream_failure(provisioned):
    aws.client("sqs").send_message(QueueUrl=queue_url("welcome-failures"), MessageBody="{}")
    assert "welcome-failures holds 1" in fleet("status", "--check", code=1).output


def test_a_replay_killed_midway_loses_nothing(provisioned):
    bodies = set(dead_letter(40))
    env = {**os.environ, "FLEET_STAGE": "local"}
    process = subprocess.Popen(
        [FLEET, "replay", "submissions", "--rate", "8"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while depth("submissions") < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < depth("submissions") < 40  # it was stopped midway
    # The batch it held stays hidden for the replay's hold (60 s): counted, not read.
    held = int(
        aws.client("sqs").get_queue_attributes(
            QueueUrl=queue_url("submissions-dlq"), AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    )
    assert held <= 10
    seen = {m["Body"] for m in drain("submissions") + drain("submissions-dlq")}
    assert seen <= bodies
    assert len(seen) + held >= len(bodies)  # every message in one of the two queues (a few maybe in both)


def park_gone_failure(count: int) -> None:
    """Park `count` on-failure records of welcome whose stream records are gone (past the stream's end)."""
    from fleet.runtime.streams import shard_ids
    from lambda_platform.resources import stream_arn

    arn = stream_arn("users")
    info = {
        "shardId": shard_ids(arn)[0],
        "startSequenceNumber": "9" * 30,
        "endSequenceNumber": "9" * 30,
        "batchSize": 1,
        "streamArn": arn,
    }
    for _ in range(count):
        aws.client("sqs").send_message(
            QueueUrl=queue_url("welcome-failures"), MessageBody=json.dumps({"DDBStreamBatchInfo": info})
        )


def test_replay_stream_failures_is_a_replay_of_the_functions_on_failure_queue(provisioned):
    park_gone_failure(2)
    by_queue = fleet("replay", "welcome-failures", "--limit", "1", code=1)
    by_function = fleet("replay-stream-failures", "welcome", "--max", "1", code=1)
    assert by_queue.stdout == by_function.stdout == "0 failure record(s) replayed, 1 still failing (left on the queue)\n"
    assert depth("welcome-failures") == 2  # still failing: left on the queue

    unknown = fleet("replay-stream-failures", "users", code=1)
    assert "no function 'users' with a stream on-failure queue" in unknown.output and "welcome" in unknown.output
