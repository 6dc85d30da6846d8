"""The embedded AWS in two processes (`fleet.runtime.moto_split`): one state for DynamoDB, whichever door a client uses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3
import pytest
import requests

from fleet.runtime.moto_split import endpoint_variables
from tests.conftest import free_port


def moto_client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")


@pytest.fixture(scope="module")
def split():
    """`fleet.runtime.processes aws --dynamodb-port`, for the module (its last test ends it): (main URL, DynamoDB URL, the process)."""
    main, dynamodb = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.runtime.processes", "aws", "--port", str(main), "--dynamodb-port", str(dynamodb)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("ready")
    yield f"http://127.0.0.1:{main}", f"http://127.0.0.1:{dynamodb}", process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def make_table(client, name: str) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def test_a_client_of_either_door_sees_one_dynamodb_and_its_streams(split):
    """Written through the main port (forwarded), read on DynamoDB's own port, streams included; SQS stays in the main."""
    main, dynamodb, _ = split
    requests.post(f"{main}/moto-api/reset", timeout=10).raise_for_status()
    make_table(moto_client("dynamodb", main), "entries")
    moto_client("dynamodb", dynamodb).put_item(TableName="entries", Item={"id": {"S": "a"}})
    assert moto_client("dynamodb", main).get_item(TableName="entries", Key={"id": {"S": "a"}})["Item"] == {"id": {"S": "a"}}
    streams = moto_client("dynamodbstreams", main).list_streams(TableName="entries")["Streams"]
    assert [s["TableName"] for s in streams] == ["entries"]
    moto_client("sqs", main).create_queue(QueueName="q")
    assert moto_client("dynamodb", dynamodb).list_tables()["TableNames"] == ["entries"]
    assert [u.rsplit("/", 1)[1] for u in moto_client("sqs", main).list_queues()["QueueUrls"]] == ["q"]


def test_fleet_clients_go_straight_to_dynamodbs_own_moto(split, monkeypatch):
    """botocore's per-service variables: lambda_platform's DynamoDB clients use DynamoDB's port, others the main."""
    from lambda_platform import aws, settings

    main, dynamodb, _ = split
    monkeypatch.setenv("AWS_ENDPOINT_URL", main)
    for name, value in endpoint_variables(dynamodb).items():
        monkeypatch.setenv(name, value)
    settings.reset()
    aws.reset()
    try:
        assert aws.client("dynamodb").meta.endpoint_url == dynamodb
        assert aws.client("dynamodbstreams").meta.endpoint_url == dynamodb
        assert aws.client("sqs").meta.endpoint_url == main
    finally:
        monkeypatch.undo()
        settings.reset()
        aws.reset()


def test_a_reset_of_the_main_moto_resets_dynamodbs_too(split):
    main, dynamodb, _ = split
    make_table(moto_client("dynamodb", dynamodb), "gone")
    requests.post(f"{main}/moto-api/reset", timeout=10).raise_for_status()
    assert moto_client("dynamodb", dynamodb).list_tables()["TableNames"] == []


def test_dynamodbs_death_ends_the_embedded_aws(split):
    """As moto's own death would: the supervisor sees the aws process end, with status 1."""
    _, dynamodb, process = split
    port = int(dynamodb.rsplit(":", 1)[1])
    child = next(
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit() and f"--port\0{port}".encode() in open(f"/proc/{pid}/cmdline", "rb").read()  # noqa: SIM115
    )
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.returncode == 1
