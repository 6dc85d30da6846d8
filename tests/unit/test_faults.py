"""FLEET_FAULTS: the fault plan (rates, seed, stage); the hook on real clients is in tests/integration."""

from __future__ import annotations

import pytest

from lambda_platform import faults, settings


@pytest.fixture
def fault_env(monkeypatch):
    def configure(spec: str, stage: str = "local", seed: str = "7") -> None:
        monkeypatch.setenv("FLEET_STAGE", stage)
        monkeypatch.setenv("FLEET_FAULTS", spec)
        monkeypatch.setenv("FLEET_FAULTS_SEED", seed)
        settings.reset()
        faults.reset()

    yield configure
    settings.reset()
    faults.reset()


def decisions(n: int) -> list[bool]:
    plan = faults.current_plan()
    return [plan.decide("dynamodb") is not None for _ in range(n)]


def test_a_seed_makes_the_faults_reproducible_and_the_rate_holds(fault_env):
    fault_env("dynamodb:0.2", seed="42")
    first = decisions(2000)
    faults.reset()
    assert decisions(2000) == first
    assert 300 < sum(first) < 500  # 20% of 2000, give or take


def test_no_faults_off_the_local_stage(fault_env):
    fault_env("dynamodb:1.0", stage="prod")
    assert faults.current_plan() is None


@pytest.mark.parametrize("spec", ["dynamodb", "dynamodb:x", "dynamodb:1.5", "lambda:0.1"])
def test_a_malformed_spec_is_a_clear_error(spec):
    with pytest.raises(ValueError, match="FLEET_FAULTS"):
        faults.parse(spec)


def test_a_spec_parses_into_rates():
    assert faults.parse("ses:0.3, dynamodb:0.1,s3:0") == {"ses": 0.3, "dynamodb": 0.1, "s3": 0.0}
