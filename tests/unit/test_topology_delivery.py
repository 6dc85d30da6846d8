"""Never lose a message: what the topology declares, and what provisioning and wiring make of it.

Every queue a trigger consumes redrives to a dead-letter queue and outlasts its consumer;
every stream trigger retries a bounded number of times, bisects, and parks what it gives up
on a declared queue; nothing names a resource the topology does not declare; provisioning
and wiring take every name from the topology.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from events.topology import (
    TOPOLOGY,
    Bucket,
    Function,
    PipeTrigger,
    Queue,
    RetryPolicy,
    SqsTrigger,
    StreamTrigger,
    UnknownResource,
)
from fleet.iam import StageFacts, principals
from fleet.provision import ensure_pipe, queue_attributes, table_definition
from fleet.wire import ensure_mapping, mapping_settings
from lambda_platform import resources, settings

ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def prod(monkeypatch):
    """The `prod` stage (no local visibility override), in a fixed region and account."""
    monkeypatch.setenv("FLEET_STAGE", "prod")
    monkeypatch.delenv("FLEET_VISIBILITY_TIMEOUT", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr("lambda_platform.aws.account_id", lambda: ACCOUNT)
    settings.reset()
    yield
    settings.reset()


def consumed_queues() -> list[tuple[Queue, Function]]:
    """Every queue a trigger consumes, with the function it feeds."""
    return [
        (TOPOLOGY.queue(t.queue), f) for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, (SqsTrigger, PipeTrigger))
    ]


def stream_triggers() -> list[tuple[Function, StreamTrigger]]:
    return [(f, t) for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, StreamTrigger)]


# --- Queues ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("queue", "function"), consumed_queues(), ids=lambda v: getattr(v, "name", None))
def test_a_consumed_queue_redrives_to_its_dead_letter_queue_and_outlasts_its_consumer(queue, function):
    dlq_arn = resources.queue_arn(queue.dlq_name)
    attributes = queue_attributes(queue, dlq_arn)
    policy = json.loads(attributes["RedrivePolicy"])
    assert policy == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
    assert 1 <= queue.max_receive_count <= 10
    visibility = int(attributes["VisibilityTimeout"])
    assert visibility == queue.visibility_timeout
    # AWS: at least six times the consumer's timeout, or a slow batch is delivered twice. On
    # AWS the consumer is the workers unit, which runs every Function with the largest timeout.
    workers_timeout = max(f.timeout_seconds for f in TOPOLOGY.functions)
    assert function.timeout_seconds <= workers_timeout
    assert visibility >= 6 * workers_timeout, f"{queue.name}: {visibility}s for the workers unit's {workers_timeout}s"


@pytest.mark.parametrize("queue", TOPOLOGY.queues, ids=lambda q: q.name)
def test_every_dead_letter_queue_outlives_what_it_catches(queue):
    dead = queue_attributes(queue, None)
    assert "RedrivePolicy" not in dead  # a dead-letter queue redrives nowhere
    assert int(dead["MessageRetentionPeriod"]) == queue.dlq_retention_seconds > queue.retention_seconds
    assert queue.dlq_retention_seconds <= 14 * 24 * 3600  # SQS's maximum


def test_no_queue_is_the_dead_letter_queue_of_another():
    names = {q.name for q in TOPOLOGY.queues}
    assert not names & {q.dlq_name for q in TOPOLOGY.queues}


@pytest.mark.parametrize("function", TOPOLOGY.functions, ids=lambda f: f.name)
def test_every_sqs_mapping_reports_partial_failures_within_lambdas_limits(function):
    for trigger in function.triggers:
        if isinstance(trigger, SqsTrigger):
            wanted = mapping_settings(trigger)
            assert wanted["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            assert wanted["BatchSize"] == trigger.batch_size
            # Lambda takes more than ten records from a standard queue only with a batching window.
            assert 1 <= trigger.batch_size <= 10 or trigger.batching_window_seconds >= 1
            assert wanted["ScalingConfig"] == {"MaximumConcurrency": trigger.maximum_concurrency}
            assert trigger.maximum_concurrency >= 2  # Lambda's minimum


# --- Streams -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", stream_triggers(), ids=lambda p: p[0].name)
def test_every_stream_mapping_retries_a_bounded_number_of_times_and_parks_failures(pair):
    function, trigger = pair
    retry = trigger.retry
    assert TOPOLOGY.table(trigger.table).stream, f"{function.name} reads {trigger.table}, which has no stream"
    assert retry.on_failure_queue, f"{function.name} has no on-failure destination"
    TOPOLOGY.queue(retry.on_failure_queue)  # declared, so provisioned with a dead-letter queue of its own
    consumed = {queue.name for queue, _function in consumed_queues()}
    assert retry.on_failure_queue not in consumed, "a worker would take a failure record for a message"
    wanted = mapping_settings(trigger)
    assert wanted["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Stream retries default to unlimited (-1) and block the shard for a day.
    assert 0 <= wanted["MaximumRetryAttempts"] == retry.maximum_retry_attempts <= 10
    assert 60 <= wanted["MaximumRecordAgeInSeconds"] == retry.maximum_record_age_seconds <= 604_800
    assert wanted["BisectBatchOnFunctionError"] is True
    assert wanted["DestinationConfig"] == {"OnFailure": {"Destination": resources.queue_arn(retry.on_failure_queue)}}


def test_no_two_stream_triggers_share_an_on_failure_queue():
    # `fleet replay` finds the function to invoke again from the queue a failure sits on.
    queues = [t.retry.on_failure_queue for _f, t in stream_triggers()]
    assert len(queues) == len(set(queues))


# --- Nothing names what is not declared ----------------------------------------------------------


def test_the_topology_names_only_what_it_declares():
    TOPOLOGY.validate()


def _first(kind: type) -> tuple[Function, Any]:
    return next((f, t) for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, kind))


def _with_trigger(function: Function, trigger: Any):
    functions = tuple(dataclasses.replace(function, triggers=(trigger,)) if f is function else f for f in TOPOLOGY.functions)
    return dataclasses.replace(TOPOLOGY, functions=functions)


BROKEN: dict[str, Callable[[], Any]] = {
    "sqs trigger on an undeclared queue": lambda: _with_trigger(
        _first(SqsTrigger)[0], dataclasses.replace(_first(SqsTrigger)[1], queue="nowhere")
    ),
    "pipe from an undeclared queue": lambda: _with_trigger(
        _first(PipeTrigger)[0], dataclasses.replace(_first(PipeTrigger)[1], queue="nowhere")
    ),
    "stream of an undeclared table": lambda: _with_trigger(
        _first(StreamTrigger)[0], dataclasses.replace(_first(StreamTrigger)[1], table="nowhere")
    ),
    "on-failure queue undeclared": lambda: _with_trigger(
        _first(StreamTrigger)[0],
        dataclasses.replace(_first(StreamTrigger)[1], retry=RetryPolicy(on_failure_queue="nowhere")),
    ),
    "bucket notifying an undeclared queue": lambda: dataclasses.replace(
        TOPOLOGY, buckets=(Bucket("media", notify_queue="nowhere", notify_prefix="uploads/"),)
    ),
}


@pytest.mark.parametrize("broken", BROKEN.values(), ids=BROKEN.keys())
def test_validation_refuses_a_reference_to_an_undeclared_resource(broken):
    with pytest.raises(UnknownResource, match="'nowhere'"):
        broken().validate()


def test_validation_refuses_a_stream_trigger_on_a_table_without_a_stream_and_a_name_declared_twice():
    function, trigger = _first(StreamTrigger)
    with pytest.raises(ValueError, match="no stream"):
        _with_trigger(function, dataclasses.replace(trigger, table="campaigns")).validate()
    with pytest.raises(ValueError, match=r"declared twice.*users"):
        dataclasses.replace(TOPOLOGY, queues=(*TOPOLOGY.queues, Queue("users"))).validate()
    with pytest.raises(ValueError, match=r"declared twice.*users-dlq"):
        dataclasses.replace(TOPOLOGY, queues=(*TOPOLOGY.queues, Queue("users-dlq"))).validate()


# --- Provisioning and wiring take every name from the topology ------------------------------------


class _Missing(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class Recorder:
    """An AWS client that records every call; `missing` operations answer with an error code."""

    def __init__(self, missing: dict[str, str] | None = None, **answers: Callable[..., dict]) -> None:
        self.missing, self.answers, self.calls = missing or {}, answers, []

    def __getattr__(self, operation: str) -> Callable[..., dict]:
        def call(**kwargs: Any) -> dict:
            self.calls.append((operation, kwargs))
            if operation in self.missing:
                raise _Missing(self.missing[operation])
            return self.answers.get(operation, lambda **_: {})(**kwargs)

        return call

    def called(self, operation: str) -> list[dict]:
        return [kwargs for name, kwargs in self.calls if name == operation]


@pytest.fixture
def clients(monkeypatch) -> dict[str, Recorder]:
    """Recording clients of an account where nothing is deployed yet."""
    made = {
        "iam": Recorder({"get_role": "NoSuchEntity"}, create_role=lambda **k: {"Role": {"Arn": f"arn:role/{k['RoleName']}"}}),
        "pipes": Recorder({"describe_pipe": "NotFoundException"}),
        "lambda": Recorder(list_event_source_mappings=lambda **k: {"EventSourceMappings": []}),
        "dynamodb": Recorder(describe_table=lambda **k: {"Table": {"LatestStreamArn": f"arn:stream/{k['TableName']}"}}),
    }
    monkeypatch.setattr("lambda_platform.aws.client", lambda service: made[service])
    return made


@pytest.mark.parametrize("pair", TOPOLOGY.pipes(), ids=lambda p: p[1].pipe)
def test_a_pipe_reads_its_declared_queue_into_the_workers_unit_with_the_declared_role(pair, clients):
    _function, trigger = pair
    role = f"arn:aws:iam::{ACCOUNT}:role/fleet-prod-{TOPOLOGY.pipes_role}"
    ensure_pipe(trigger.pipe, trigger.queue, trigger.batch_size, trigger.batching_window_seconds, role)
    [created] = clients["pipes"].called("create_pipe")
    workers = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fleet-prod-{TOPOLOGY.workers.name}"
    assert created["Name"] == f"fleet-prod-{trigger.pipe}"
    assert created["Source"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:fleet-prod-{trigger.queue}"
    assert created["Target"] == workers
    assert created["RoleArn"] == role
    # The role may read exactly this pipe's queue and invoke the workers function, nothing else.
    policy = principals(StageFacts("prod", "us-east-1", ACCOUNT, "no-reply@example.com"))[TOPOLOGY.pipes_role].policy
    allowed = {(a, s["Resource"]) for s in policy["Statement"] for a in s["Action"]}
    assert ("lambda:InvokeFunction", workers) in allowed
    assert ("sqs:ReceiveMessage", created["Source"]) in allowed
    assert {a for a, _r in allowed} == {
        "lambda:InvokeFunction",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }


@pytest.mark.parametrize(
    "pair",
    [(f, t) for f in TOPOLOGY.functions for t in f.triggers if isinstance(t, (SqsTrigger, StreamTrigger))],
    ids=lambda p: p[0].name,
)
def test_every_mapping_goes_from_its_declared_source_to_the_workers_unit(pair, clients):
    function, trigger = pair
    ensure_mapping(function, trigger)
    [created] = clients["lambda"].called("create_event_source_mapping")
    assert created["FunctionName"] == f"fleet-prod-{TOPOLOGY.workers.name}"
    if isinstance(trigger, SqsTrigger):
        assert created["EventSourceArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:fleet-prod-{trigger.queue}"
        assert "StartingPosition" not in created
    else:
        assert created["EventSourceArn"] == f"arn:stream/fleet-prod-{trigger.table}"
        assert created["StartingPosition"] == trigger.starting_position
    assert {k: v for k, v in created.items() if k not in ("EventSourceArn", "FunctionName", "StartingPosition")} == (
        mapping_settings(trigger)
    )


@pytest.mark.parametrize("table", TOPOLOGY.tables, ids=lambda t: t.name)
def test_a_table_is_created_as_declared(table):
    definition = table_definition(table)
    assert definition["TableName"] == f"fleet-prod-{table.name}"
    keys = [k["AttributeName"] for k in definition["KeySchema"]]
    assert keys == [k for k in (table.partition_key, table.sort_key) if k]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in definition.get("GlobalSecondaryIndexes", [])}
    assert indexes == {i.name: [k for k in (i.partition_key, i.sort_key) if k] for i in table.indexes}
    assert bool(definition.get("StreamSpecification")) == bool(table.stream)
