"""The external tier: the same Fleet, `fleet up --external`, on MiniStack (requirements-ministack.txt).

One MiniStack on a free port and one fleet on it for the whole tier (`make test-external`,
and `make test`): what `--external` claims is checked end to end on an emulator that is
not the embedded one.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from bench.ministack import MiniStack, ministack_python
from tests.conftest import free_port
from tests.integration.fleet_up import FleetUp


@pytest.fixture(scope="session")
def ministack():
    """MiniStack for the whole tier, on a free loopback port."""
    if ministack_python() is None:
        pytest.skip("MiniStack is not installed: make ministack")
    with MiniStack() as running:
        yield running


@pytest.fixture(scope="session")
def fleet_env(ministack) -> dict[str, str]:
    """The environment of a developer who points Fleet at MiniStack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLEET_"))}
    env.update(
        FLEET_STAGE="local",
        AWS_ENDPOINT_URL=ministack.url,
        FLEET_STATE_DIR=tempfile.mkdtemp(prefix="fleet-external-"),
        FLEET_RATE_PER_CLIENT="100000",
        FLEET_CAMPAIGN_CACHE_SECONDS="0",
    )
    return env


@pytest.fixture(scope="session")
def external_fleet(fleet_env):
    """`fleet up --external` on MiniStack, with the demo campaign, for the whole tier."""
    api_port = free_port()
    fleet = FleetUp("--external", "--no-reload", "--api-port", str(api_port), env=dict(fleet_env))
    try:
        fleet.wait_ready(timeout=240)
        fleet.api_url = f"http://127.0.0.1:{api_port}"
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="session")
def on_ministack(fleet_env):
    """This process's own Fleet calls (settings, clients) against MiniStack for the tier."""
    from lambda_platform import aws, settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(fleet_env)
    settings.reset()
    aws.reset()
    yield
    os.environ.clear()
    os.environ.update(saved)
    settings.reset()
    aws.reset()
