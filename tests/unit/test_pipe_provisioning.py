"""A second provision leaves a pipe alone when DescribePipe says what we want, even in part."""

from __future__ import annotations

import pytest

from lambda_platform import settings


class FakePipes:
    """Pipes answering DescribePipe with what it stored, less the keys `leaves_out`."""

    def __init__(self, leaves_out: tuple[str, ...] = ()) -> None:
        self.stored: dict = {}
        self.leaves_out = leaves_out
        self.updates = 0

    def describe_pipe(self, Name):
        if Name not in self.stored:
            raise LookupError("NotFoundException")
        return {k: v for k, v in self.stored[Name].items() if k not in self.leaves_out}

    def create_pipe(self, Name, **wanted):
        self.stored[Name] = wanted

    def update_pipe(self, Name, **wanted):
        self.updates += 1
        self.stored[Name].update(wanted)


@pytest.fixture
def pipes(monkeypatch):
    from fleet.provision import pipes as module

    made = FakePipes(("SourceParameters", "TargetParameters"))
    monkeypatch.setattr(module.aws, "client", lambda service: made)
    monkeypatch.setattr(module, "error_code", lambda exc: str(exc))
    monkeypatch.setenv("FLEET_STAGE", "local")
    settings.reset()
    yield made
    settings.reset()


def ensure(batch_size: int = 10):
    from fleet.provision.pipes import ensure_pipe

    return ensure_pipe("submissions", "submissions", batch_size, 1, "arn:aws:iam::123456789012:role/pipes").action


def test_parameters_left_out_of_describe_pipe_are_not_a_change(pipes, monkeypatch):
    """MiniStack's DescribePipe returns no Source/TargetParameters: a second provision changes nothing."""
    monkeypatch.setattr("lambda_platform.aws.account_id", lambda: "123456789012")
    assert ensure() == "created"
    assert ensure() == "unchanged" and pipes.updates == 0


def test_what_describe_pipe_returns_is_still_compared(pipes, monkeypatch):
    """A returned value that differs (the role, here through a changed batch the emulator shows) is updated."""
    monkeypatch.setattr("lambda_platform.aws.account_id", lambda: "123456789012")
    assert ensure() == "created"
    pipes.leaves_out = ("TargetParameters",)
    assert ensure(batch_size=5) == "updated" and pipes.updates == 1
    assert ensure(batch_size=5) == "unchanged"
