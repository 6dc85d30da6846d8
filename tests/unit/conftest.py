"""Fixtures of the unit tier: in-memory fakes of every port, the app over them, no AWS."""

from __future__ import annotations

import pytest

from fleet.runtime.invoke import LocalContext
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.tables import FakeCampaigns, FakeQueue, FakeRequestKeys, FakeSubmissions, campaign


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """Fail loudly if anything in the unit tier reaches for a real AWS client."""

    def refuse(service, *args, **kwargs):
        raise AssertionError(f"the unit tier must not create an AWS client ({service}); pass a fake")

    monkeypatch.setattr("lambda_platform.aws.client", refuse)
    monkeypatch.setattr("lambda_platform.aws.resource", refuse)


@pytest.fixture
def campaigns() -> FakeCampaigns:
    """`summer` (open, one entry per email), `spring` (closed), `autumn` (not open yet)."""
    return FakeCampaigns(
        campaign("summer"),
        campaign("spring", opens_in_days=-60, closes_in_days=-1),
        campaign("autumn", opens_in_days=10, closes_in_days=40),
    )


@pytest.fixture
def submissions() -> FakeSubmissions:
    return FakeSubmissions()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def request_keys() -> FakeRequestKeys:
    return FakeRequestKeys()


@pytest.fixture
def services(queue, campaigns, submissions, request_keys) -> Ports:
    """Every port a fake (`tests.fakes.fake_ports`); the campaign ones are the fixtures above."""
    return Ports(**fake_ports(submissions_queue=queue, campaigns=campaigns, submissions=submissions, request_keys=request_keys))


@pytest.fixture
def app(services):
    return create_app({"TESTING": True, "SERVICES": services})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def lambda_context() -> LocalContext:
    """A Lambda context as the local runtime builds it."""
    return LocalContext(
        function_name="submissions",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers",
        timeout_seconds=30,
    )


@pytest.fixture
def worker_stores(monkeypatch, campaigns, submissions):
    """Point workers.submissions at the fakes instead of DynamoDB."""
    monkeypatch.setattr("workers.submissions._adapters", lambda: (campaigns, submissions))
    return campaigns, submissions
