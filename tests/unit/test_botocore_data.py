"""The sessions of lambda_platform.aws load botocore's data faster, and load the same data."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from lambda_platform import aws, settings
from lambda_platform.botocore_data import DataLoader


@pytest.mark.parametrize(
    ("service", "type_name"),
    [("dynamodb", "service-2"), ("sqs", "service-2"), ("dynamodb", "endpoint-rule-set-1"), ("ec2", "paginators-1")],
)
def test_a_model_is_the_one_botocore_loads(service, type_name):
    # ec2's paginators have sdk-extras merged in: they must be there too.
    assert DataLoader().load_service_model(service, type_name) == Loader().load_service_model(service, type_name)


def test_endpoints_are_the_ones_botocore_loads():
    assert DataLoader().load_data("endpoints") == Loader().load_data("endpoints")


def test_an_unknown_service_is_refused_as_botocore_refuses_it():
    with pytest.raises(UnknownServiceError, match="dynamodb"):  # the message lists the known services
        DataLoader().load_service_model("dynamodbb", "service-2")


def test_a_model_on_aws_data_path_comes_first(tmp_path, monkeypatch):
    original = Loader().load_service_model("sqs", "service-2")
    custom = dict(original, metadata=dict(original["metadata"], serviceFullName="Queue Service Of Our Own"))
    version = original["metadata"]["apiVersion"]
    (tmp_path / "sqs" / version).mkdir(parents=True)
    (tmp_path / "sqs" / version / "service-2.json").write_text(json.dumps(custom))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    aws.reset()
    try:
        # A client of the session lambda_platform.aws makes (no call is made: the unit tier has no AWS).
        sqs = aws._session("us-east-1").client("sqs", endpoint_url="http://127.0.0.1:9")
        assert sqs.meta.service_model.metadata["serviceFullName"] == "Queue Service Of Our Own"
    finally:
        monkeypatch.delenv("AWS_DATA_PATH")
        aws.reset()


def test_fleet_sessions_use_it():
    aws.reset()
    session = aws._session(settings.current().region)
    assert isinstance(session._session.get_component("data_loader"), DataLoader)
    # boto3's own data (resource models) is still found.
    assert session.resource("dynamodb", endpoint_url="http://127.0.0.1:9").Table("anything").name == "anything"
