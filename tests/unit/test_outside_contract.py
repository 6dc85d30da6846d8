"""An emulator answering as AWS never does gets an error naming the operation, not a far-away failure."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from fleet.runtime.shards import check_sequence_numbers
from lambda_platform import settings
from lambda_platform.errors import OutsideContract


def record(sequence: str) -> dict:
    return {"eventID": "e", "dynamodb": {"SequenceNumber": sequence}}


def test_aws_sequence_numbers_pass():
    check_sequence_numbers([record("000000000000000000001"), record("4" * 40)])


@pytest.mark.parametrize("sequence", ["1", "2", "12345678901234567890", "x" * 21])
def test_a_sequence_number_aws_never_sends_names_the_operation(sequence):
    """LocalEmu 1.3.2 numbers stream records "1", "2": botocore would refuse them later, when resuming."""
    with pytest.raises(OutsideContract, match=r"DynamoDB Streams GetRecords answered the sequence number"):
        check_sequence_numbers([record("0" * 21), record(sequence)])


def test_a_wrong_error_code_for_a_missing_dashboard_names_the_operation(monkeypatch):
    """GetDashboard's InvalidParameterValue (LocalEmu) where AWS answers ResourceNotFound."""
    from fleet.provision import dashboard

    class Cloudwatch:
        def get_dashboard(self, DashboardName):
            raise ClientError({"Error": {"Code": "InvalidParameterValue", "Message": "?"}}, "GetDashboard")

    monkeypatch.setattr(dashboard.aws, "client", lambda service: Cloudwatch())
    monkeypatch.setenv("FLEET_STAGE", "local")
    settings.reset()
    try:
        with pytest.raises(OutsideContract, match=r"CloudWatch GetDashboard answered InvalidParameterValue"):
            dashboard.ensure_dashboard()
    finally:
        settings.reset()
