"""FLEET_FAULTS on real clients against moto: the services' own codes, before botocore's retry."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lambda_platform import aws, faults, settings
from lambda_platform.errors import RetryLater, translate

pytestmark = pytest.mark.integration


@pytest.fixture
def faulty(provisioned, monkeypatch):
    def configure(spec: str) -> None:
        monkeypatch.setenv("FLEET_FAULTS", spec)
        monkeypatch.setenv("FLEET_FAULTS_SEED", "7")
        settings.reset()
        faults.reset()

    yield configure
    monkeypatch.delenv("FLEET_FAULTS")
    settings.reset()
    faults.reset()


@pytest.mark.parametrize(
    ("service", "call", "codes"),
    [
        (
            "ses",
            lambda c: c.send_email(Source="a@b.c", Destination={}, Message={"Subject": {"Data": "s"}, "Body": {}}),
            {"Throttling"},
        ),
        (
            "dynamodb",
            lambda c: c.get_item(TableName=settings.current().name("campaigns"), Key={"campaign_id": {"S": "v"}}),
            {"ProvisionedThroughputExceededException"},
        ),
        (
            "s3",
            lambda c: c.head_object(Bucket=settings.current().name("media"), Key="k"),
            {"ServiceUnavailable", "InternalError"},
        ),
    ],
)
def test_a_rate_of_one_fails_every_call_with_the_services_own_code(faulty, service, call, codes):
    faulty(f"{service}:1.0")
    seen = set()
    for _ in range(20):
        with pytest.raises(ClientError) as raised:
            call(aws.client(service))
        seen.add(raised.value.response["Error"]["Code"])
        assert isinstance(translate(raised.value), RetryLater)  # throttled, never a bad record
    assert seen == codes
    assert faults.current_plan().injected[service] == 20


def test_the_rates_apply_per_call_and_the_rest_goes_through(faulty):
    faulty("dynamodb:0.5")
    outcomes = []
    for _ in range(60):
        try:
            aws.client("dynamodb").get_item(TableName=settings.current().name("campaigns"), Key={"campaign_id": {"S": "v"}})
            outcomes.append("ok")
        except ClientError as exc:
            # A run of calls, some refused: each refusal is checked as it comes.
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # noqa: PT017
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes.count("ok") == faults.current_plan().calls["dynamodb"] - faults.current_plan().injected["dynamodb"]
    assert 10 < outcomes.count("ok") < 50
    aws.client("sqs").list_queues()  # a service not named is untouched
