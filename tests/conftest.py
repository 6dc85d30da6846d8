"""Shared fixtures: moto's server on a free loopback port, and the whole fleet on top."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

#: Each folder of tests/ is a tier, marked with its name (`pytest -m unit`); `fuzz` is the
#: Schemathesis run, marked in its module. `make test` runs them all.
TIERS = ("unit", "integration", "chaos", "deploy", "browser", "external")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with the tier its folder names."""
    root = config.rootpath / "tests"
    for item in items:
        parts = item.path.relative_to(root).parts if item.path.is_relative_to(root) else ()
        if parts and parts[0] in TIERS:
            item.add_marker(parts[0])


def free_port() -> int:
    """A TCP port that nothing listens on now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def aws_server():
    """moto's server for the whole session; each test resets it."""
    from fleet.runtime.local import EmbeddedAws

    server = EmbeddedAws(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def local_aws(aws_server, monkeypatch, tmp_path_factory):
    """A clean moto (reset) that Fleet's settings and clients point at."""
    import requests

    from lambda_platform import aws, settings

    requests.post(f"{aws_server.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_server.endpoint_url)
    monkeypatch.setenv("FLEET_STAGE", "local")
    monkeypatch.setenv("FLEET_VISIBILITY_TIMEOUT", "1")
    monkeypatch.setenv("FLEET_CAMPAIGN_CACHE_SECONDS", "0")
    # Every test client is 127.0.0.1: bulk tests post hundreds of entries a minute from it.
    # The limiter itself is tested with low limits (tests/integration/test_access_flow.py).
    monkeypatch.setenv("FLEET_RATE_PER_CLIENT", "100000")
    # The development issuer's signing key goes to a fresh state dir, never the work tree.
    monkeypatch.setenv("FLEET_STATE_DIR", str(tmp_path_factory.mktemp("fleet-state")))
    # The run's shared directory, as `fleet up` makes one: the in-process workers' stats for the live view.
    monkeypatch.setenv("FLEET_RUN_DIR", str(tmp_path_factory.mktemp("fleet-run")))
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings.reset()
    aws.reset()
    yield aws_server
    settings.reset()
    aws.reset()


@pytest.fixture
def provisioned(local_aws):
    """The topology, provisioned into a clean moto."""
    from fleet.provision import provision

    provision()
    return local_aws


@dataclass
class RunningFleet:
    """The API and the local runtime, started in this process."""

    api_url: str
    runtime: Any

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every queue is empty and every poller idle."""
        assert self.runtime.drain(timeout), "the fleet did not drain in time"


@pytest.fixture
def running_fleet(provisioned):
    """The whole fleet: provisioned moto, the API on a free port, every poller."""
    from fleet.runtime.local import ApiServer, LocalRuntime

    api = ApiServer(port=0)
    api.start()
    runtime = LocalRuntime()
    runtime.start()
    yield RunningFleet(api.url, runtime)
    runtime.stop()
    api.stop()


@pytest.fixture
def make_campaign(provisioned):
    """A factory storing a campaign open around now (or as the offsets say)."""
    from events.models import Campaign
    from lambda_platform.adapters.tables import DynamoCampaigns

    def make(
        campaign_id: str,
        max_entries_per_email: int = 1,
        opens_in: timedelta = -timedelta(days=1),
        closes_in: timedelta = timedelta(days=7),
    ) -> Campaign:
        now = datetime.now(UTC)
        campaign = Campaign(campaign_id, f"Campaign {campaign_id}", now + opens_in, now + closes_in, max_entries_per_email)
        DynamoCampaigns().put(campaign)
        return campaign

    return make
