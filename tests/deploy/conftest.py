"""The deploy tests' fixtures: both stages packaged once per session, moto provisioned for prod."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from datetime import UTC
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"


def dummy_aws_env(endpoint_url: str) -> dict[str, str]:
    """An environment that can only reach moto on loopback, with dummy keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLEET_"))}
    env.update(
        AWS_ACCESS_KEY_ID="fleet-test",
        AWS_SECRET_ACCESS_KEY="fleet-test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint_url,
        VIRTUAL_ENV=str(ROOT / ".venv"),
        PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    )
    return env


@pytest.fixture(scope="session")
def packages(aws_server, tmp_path_factory):
    """Both stages packaged once per session, unzipped: {stage: (zip path, folder)}."""
    out = tmp_path_factory.mktemp("zappa")
    built = {}
    for zappa_stage in ("api", "workers"):
        zip_path = out / f"{zappa_stage}.zip"
        subprocess.run(
            [sys.executable, "-m", "tests.deploy.zappa_offline", "package", zappa_stage, "-o", str(zip_path)],
            cwd=ROOT,
            env=dummy_aws_env(aws_server.endpoint_url),
            check=True,
            capture_output=True,
            timeout=300,
        )
        folder = out / zappa_stage
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)
        built[zappa_stage] = (zip_path, folder)
        print(f"zappa package {zappa_stage}: {zip_path.stat().st_size / 2**20:.1f} MiB zipped")
    return built


@pytest.fixture
def prod_stage(local_aws, monkeypatch):
    """moto provisioned for the `prod` stage, with the samples' campaign and a verified sender."""
    from datetime import datetime, timedelta

    from events.models import Campaign
    from fleet.provision import provision
    from lambda_platform import aws, settings
    from lambda_platform.adapters.tables import DynamoCampaigns

    monkeypatch.setenv("FLEET_STAGE", STAGE)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fleet-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fleet-test")
    settings.reset()
    aws.reset()
    provision()
    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("summer", "Summer", now - timedelta(days=1), now + timedelta(days=7), 5))
    aws.client("ses").verify_email_identity(EmailAddress="no-reply@example.com")
    return local_aws
