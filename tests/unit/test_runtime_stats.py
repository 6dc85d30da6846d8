"""The local runtime's per-trigger counts: per-second rates, latest failures with their error, the snapshot file."""

from __future__ import annotations

import json
import logging
import threading

from events.topology import TOPOLOGY
from fleet.runtime.stats import (
    LATEST_FAILURES,
    WINDOW_SECONDS,
    PerSecond,
    RuntimeStats,
    SnapshotWriter,
    capturing,
    live_view,
    read_snapshot,
    runtime_stats,
    snapshot_path,
    topology_triggers,
    write_snapshot,
)

T0 = 1_700_000_000.0


def test_counts_land_in_the_bucket_of_their_second_and_age_out_after_the_window():
    ring = PerSecond(seconds=10)
    ring.add(T0, 3, 1)
    ring.add(T0 + 0.9, 2, 0)
    ring.add(T0 + 2, 5, 5)
    first, handled, failed = ring.series(T0 + 2)
    assert first == int(T0) - 7 and len(handled) == 10
    assert handled[-3:] == [5, 0, 5] and failed[-3:] == [1, 0, 5]
    # A lap later the same slots belong to other seconds: the old counts are gone.
    ring.add(T0 + 12, 1, 0)
    _, handled, failed = ring.series(T0 + 12)
    assert sum(handled) == 1 and sum(failed) == 0


def test_a_delivery_counts_its_records_and_keeps_each_failure_with_its_error():
    stats = RuntimeStats()
    stats.record("sqs:uploads->thumbnails", 10, ["m-3", "m-7"], ["OSError: cut short", "ValueError: not an image"], now=T0)
    stats.record("sqs:uploads->thumbnails", 5, [], now=T0 + 1)
    snapshot = stats.snapshot(now=T0 + 1)
    trigger = snapshot["triggers"]["sqs:uploads->thumbnails"]
    assert (trigger["handled"], trigger["failed"]) == (15, 2)
    assert trigger["per_second"]["handled"][-2:] == [10, 5] and trigger["per_second"]["failed"][-2:] == [2, 0]
    assert [(f["record_id"], f["error"]) for f in snapshot["failures"]] == [
        ("m-7", "ValueError: not an image"),  # newest first
        ("m-3", "OSError: cut short"),
    ]


def test_failures_without_one_error_each_get_the_last_one_or_say_none_was_logged():
    stats = RuntimeStats()
    stats.record("t", 3, ["a", "b"], ["KeyError: 'x'"], now=T0)
    stats.record("t", 1, ["c"], [], now=T0)
    errors = {f["record_id"]: f["error"] for f in stats.snapshot(now=T0)["failures"]}
    assert errors == {"a": "KeyError: 'x'", "b": "KeyError: 'x'", "c": "reported failed by the handler (no error logged)"}


def test_only_the_latest_failures_are_kept():
    stats = RuntimeStats()
    for n in range(LATEST_FAILURES + 5):
        stats.record("t", 1, [f"m-{n}"], ["E: boom"], now=T0 + n)
    kept = stats.snapshot(now=T0 + 30)["failures"]
    assert len(kept) == LATEST_FAILURES and kept[0]["record_id"] == f"m-{LATEST_FAILURES + 4}"


def test_capturing_collects_the_errors_this_thread_logs_and_no_other_threads():
    from lambda_platform.telemetry import logger

    def elsewhere():
        try:
            raise RuntimeError("not mine")
        except RuntimeError:
            logging.getLogger("fleet.runtime").exception("another poller")

    with capturing() as errors:
        try:
            raise LookupError("campaign winter")
        except LookupError:
            logger.warning("Record processing exception; skipping this record", exc_info=True)
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
        logger.warning("entry failed", extra={"submission_id": "s-1", "error": "UnknownCampaign('winter')"})
        logger.info("stored", extra={"error": "not a warning"})
    assert errors == ["LookupError: campaign winter", "UnknownCampaign('winter')"]


def test_a_snapshot_is_written_whole_and_read_back(tmp_path):
    stats = RuntimeStats()
    stats.record("pipe:submissions->submissions", 4, ["m-1"], ["UnknownCampaign: winter"], now=T0)
    write_snapshot(snapshot_path(tmp_path), stats.snapshot(now=T0))
    assert [p.name for p in tmp_path.iterdir()] == ["workers-stats.json"]  # no temporary file left
    assert read_snapshot(tmp_path) == json.loads(json.dumps(stats.snapshot(now=T0)))
    assert read_snapshot(tmp_path / "nothing-here") is None and read_snapshot("") is None


def test_the_writer_writes_every_interval_and_a_last_snapshot_when_stopped(tmp_path):
    stats = RuntimeStats()
    writer = SnapshotWriter(stats, tmp_path, interval=30)
    writer.start()
    stats.record("t", 7, [], now=T0)
    writer.stop()
    assert not writer.is_alive()
    assert read_snapshot(tmp_path)["triggers"]["t"]["handled"] == 7


def test_a_restarted_runtime_goes_on_from_the_last_snapshot():
    before = RuntimeStats()
    before.record("t", 4, ["m-1"], ["E: x"], now=T0)
    after = RuntimeStats()
    after.restore(json.loads(json.dumps(before.snapshot(now=T0 + 1))))
    after.record("t", 2, [], now=T0 + 2)
    snapshot = after.snapshot(now=T0 + 2)
    assert snapshot["triggers"]["t"]["handled"] == 6
    assert snapshot["triggers"]["t"]["per_second"]["handled"][-3:] == [4, 0, 2]
    assert [f["record_id"] for f in snapshot["failures"]] == ["m-1"]


def test_the_pollers_of_one_runtime_share_its_counts():
    stop, other = threading.Event(), threading.Event()
    assert runtime_stats(stop) is runtime_stats(stop)
    assert runtime_stats(stop) is not runtime_stats(other)


def test_the_live_view_lists_every_trigger_with_zeros_when_nothing_was_written():
    view = live_view(None, TOPOLOGY, now=T0)
    names = [t["name"] for t in view["triggers"]]
    assert names == [t["name"] for t in topology_triggers()] and "pipe:submissions->submissions" in names
    assert "stream:submissions->confirmations" in names
    assert all(t["handled"] == 0 and t["failed"] == 0 for t in view["triggers"])
    assert all(len(t["per_second"]["handled"]) == WINDOW_SECONDS for t in view["triggers"])
    assert view["failures"] == [] and view["workers"] == {"reporting": False, "written_at": None}


def test_the_live_view_aligns_a_late_snapshot_to_now_and_says_it_is_stale():
    stats = RuntimeStats()
    stats.record("pipe:submissions->submissions", 9, [], now=T0)
    snapshot = json.loads(json.dumps(stats.snapshot(now=T0)))
    fresh = live_view(snapshot, TOPOLOGY, now=T0 + 1)
    late = live_view(snapshot, TOPOLOGY, now=T0 + 60)
    row = lambda view: next(t for t in view["triggers"] if t["name"] == "pipe:submissions->submissions")  # noqa: E731
    assert row(fresh)["per_second"]["handled"][-2:] == [9, 0] and fresh["workers"]["reporting"]
    assert row(late)["per_second"]["handled"][-61] == 9 and sum(row(late)["per_second"]["handled"][-60:]) == 0
    assert not late["workers"]["reporting"] and late["workers"]["written_at"] == T0


# --- The pollers count what they deliver ---------------------------------------------------


def poison_aware_handler(event, context):
    """A worker on Powertools' batch processor: a record whose body says `poison` raises."""
    from lambda_platform.batch import process_sqs

    def handle(record, ports):
        if record.body == "poison":
            raise LookupError(f"no campaign for {record.message_id}")

    return process_sqs(event, handle, lambda: None, context)


def raising_handler(event, context):
    """A worker that fails its whole invocation."""
    raise RuntimeError("handler crashed")


class DeletingSqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_message_batch(self, QueueUrl, Entries):
        self.deleted.extend(e["ReceiptHandle"] for e in Entries)
        return {"Successful": Entries}


def queue_poller(monkeypatch, handler: str):
    from events.topology import Function, SqsTrigger
    from fleet.runtime import queues

    sqs = DeletingSqs()
    monkeypatch.setattr("lambda_platform.aws.client", lambda service: sqs)
    monkeypatch.setattr(queues, "queue_url", lambda name: f"https://sqs.local/{name}")
    monkeypatch.setattr(queues, "queue_arn", lambda name: f"arn:aws:sqs:us-east-1:123456789012:{name}")
    monkeypatch.setattr(queues, "function_arn", lambda name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
    trigger = SqsTrigger(queue="uploads", batch_size=10)
    function = Function("thumbnails", handler=handler, triggers=(trigger,))
    return queues.QueuePoller(function, trigger, threading.Event()), sqs


def messages(*bodies: str) -> list[dict]:
    return [
        {"MessageId": f"m-{n}", "ReceiptHandle": f"r-{n}", "Body": body, "Attributes": {}, "MessageAttributes": {}}
        for n, body in enumerate(bodies, 1)
    ]


def test_a_queue_poller_counts_its_batch_and_keeps_the_poison_records_error(monkeypatch):
    poller, sqs = queue_poller(monkeypatch, f"{__name__}.poison_aware_handler")
    poller._deliver(messages("ok", "poison", "ok"))
    snapshot = runtime_stats(poller.stop_event).snapshot()
    counts = snapshot["triggers"]["sqs:uploads->thumbnails"]
    assert (counts["handled"], counts["failed"]) == (3, 1)
    assert [(f["record_id"], f["error"]) for f in snapshot["failures"]] == [("m-2", "LookupError: no campaign for m-2")]
    assert sqs.deleted == ["r-1", "r-3"]


def test_a_handler_that_raises_fails_every_record_with_its_error(monkeypatch):
    poller, sqs = queue_poller(monkeypatch, f"{__name__}.raising_handler")
    poller._deliver(messages("a", "b"))
    snapshot = runtime_stats(poller.stop_event).snapshot()
    assert snapshot["triggers"]["sqs:uploads->thumbnails"]["failed"] == 2
    assert {(f["record_id"], f["error"]) for f in snapshot["failures"]} == {
        ("m-1", "RuntimeError: handler crashed"),
        ("m-2", "RuntimeError: handler crashed"),
    }
    assert sqs.deleted == []


def stream_event(*keys: str) -> dict:
    return {
        "Records": [
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(100 + n), "Keys": {"user_id": {"S": key}}}}
            for n, key in enumerate(keys)
        ]
    }


def test_a_stream_poller_counts_each_invocation_and_names_the_failed_records_item(monkeypatch):
    from events.topology import Function, StreamTrigger
    from fleet.runtime.streams import StreamPoller

    answers = iter([{"batchItemFailures": [{"itemIdentifier": "101"}]}])

    def partial(event, context):
        from lambda_platform.telemetry import logger

        logger.warning("welcome failed", extra={"error": "Throttling: slow down"})
        return next(answers)

    monkeypatch.setattr("fleet.runtime.invoke.resolve", lambda dotted: partial if dotted == "partial" else raising_handler)
    trigger = StreamTrigger(table="users", batch_size=10)
    poller = StreamPoller(Function("welcome", handler="partial", triggers=(trigger,)), trigger, threading.Event())
    poller._invoke_counted(stream_event("ada", "bob"), "arn:fn")
    failing = StreamPoller(Function("welcome", handler="raises", triggers=(trigger,)), trigger, poller.stop_event)
    try:
        failing._invoke_counted(stream_event("cy"), "arn:fn")
    except RuntimeError:
        pass
    else:
        raise AssertionError("the handler's error must reach the shard worker (it retries or bisects)")
    snapshot = runtime_stats(poller.stop_event).snapshot()
    assert snapshot["triggers"]["stream:users->welcome"]["handled"] == 3
    assert [(f["record_id"], f["error"]) for f in snapshot["failures"]] == [
        ("100 (user_id=cy)", "RuntimeError: handler crashed"),
        ("101 (user_id=bob)", "Throttling: slow down"),
    ]


def test_the_supervisor_gives_every_process_one_run_directory_and_removes_it_at_the_end(tmp_path):
    from pathlib import Path

    from fleet.runtime.supervisor import Output, Role, Supervisor

    roles = [Role("api", ["true"], {"A": "1"}), Role("workers", ["true"], {})]
    fleet = Supervisor(roles, Output(["api", "workers"]), threading.Event())
    dirs = {r.env["FLEET_RUN_DIR"] for r in fleet.roles.values()}
    assert len(dirs) == 1 and Path(next(iter(dirs))).is_dir() and fleet.roles["api"].env["A"] == "1"
    fleet.stop_all()
    assert not Path(next(iter(dirs))).exists()

    chosen = tmp_path / "mine"
    chosen.mkdir()
    kept = Supervisor([Role("api", ["true"], {"FLEET_RUN_DIR": str(chosen)})], Output(["api"]), threading.Event())
    assert kept.roles["api"].env["FLEET_RUN_DIR"] == str(chosen)
    kept.stop_all()
    assert chosen.is_dir()  # a directory the developer named is theirs
