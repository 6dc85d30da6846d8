"""FLEET_ALARM_EMAIL: an address, checked as every address we take, or a clear CLI error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fleet import settings


@pytest.fixture
def alarm_email(monkeypatch):
    def use(value: str | None) -> settings.Settings:
        if value is None:
            monkeypatch.delenv("FLEET_ALARM_EMAIL", raising=False)
        else:
            monkeypatch.setenv("FLEET_ALARM_EMAIL", value)
        settings.reset()
        return settings.current()

    yield use
    monkeypatch.delenv("FLEET_ALARM_EMAIL", raising=False)
    settings.reset()


def test_no_alarm_email_by_default(alarm_email):
    assert alarm_email(None).alarm_email == ""
    assert alarm_email("  ").alarm_email == ""


def test_an_alarm_email_is_kept_as_we_send_to_it(alarm_email):
    assert alarm_email(" ops@bücher.example ").alarm_email == "ops@xn--bcher-kva.example"


def test_a_bad_alarm_email_stops_the_command_naming_the_setting(alarm_email, monkeypatch):
    from fleet.cli import main

    monkeypatch.setenv("FLEET_ALARM_EMAIL", "ops@localhost")
    settings.reset()
    result = CliRunner().invoke(main, ["provision"])
    assert result.exit_code == 1
    assert "FLEET_ALARM_EMAIL='ops@localhost'" in result.output and "public DNS name" in result.output
    assert "Traceback" not in result.output
