"""FLEET_ALARM_EMAIL: an address, checked as every address we take, or a clear CLI error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lambda_platform import settings


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


def test_an_alarm_email_awaiting_its_click_is_pending_and_not_mailed_again(monkeypatch):
    from fleet.provision import alarms

    class PendingSns:
        """SNS as AWS answers between the confirmation mail and the click."""

        def __init__(self) -> None:
            self.subscribed: list[tuple[str, str]] = []

        def get_paginator(self, operation):
            assert operation == "list_subscriptions_by_topic"
            sns = self

            class Pages:
                def paginate(self, TopicArn):
                    subscriptions = [
                        {"SubscriptionArn": "PendingConfirmation", "Protocol": protocol, "Endpoint": endpoint}
                        for protocol, endpoint in sns.subscribed
                    ]
                    return [{"Subscriptions": subscriptions}]

            return Pages()

        def subscribe(self, TopicArn, Protocol, Endpoint):
            self.subscribed.append((Protocol, Endpoint))
            return {"SubscriptionArn": "pending confirmation"}

    sns = PendingSns()
    monkeypatch.setattr(alarms.aws, "client", lambda service: sns)
    monkeypatch.setattr(alarms.resources, "topic_arn", lambda topic: "arn:aws:sns:us-east-1:1:fleet-prod-alarms")
    assert alarms.ensure_alarm_email("ops@example.com").action == "pending"
    assert alarms.ensure_alarm_email("OPS@example.com").action == "pending"
    assert sns.subscribed == [("email", "ops@example.com")]  # one mail, not one per provision
    assert alarms.ensure_alarm_email("") is None
