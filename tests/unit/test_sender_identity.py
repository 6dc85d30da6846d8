"""Provisioning asks SES to verify the sender once, and reports it pending until it is clicked."""

from __future__ import annotations

import pytest

from lambda_platform import settings


class FakeSes:
    """SES as AWS answers between the verification mail and the click; `unasked` is what an
    emulator reports for an identity nobody asked to verify (AWS reports nothing)."""

    def __init__(self, unasked: str | None = None) -> None:
        self.asked: list[str] = []
        self.unasked = unasked

    def get_identity_verification_attributes(self, Identities):
        found = {a: {"VerificationStatus": "Pending"} for a in self.asked}
        if self.unasked:
            found.update({a: {"VerificationStatus": self.unasked} for a in Identities if a not in self.asked})
        return {"VerificationAttributes": found}

    def verify_email_identity(self, EmailAddress):
        self.asked.append(EmailAddress)

    def get_paginator(self, name):
        assert name == "list_identities"
        asked = self.asked

        class Pages:
            def paginate(self, IdentityType):
                return [{"Identities": list(asked)}]

        return Pages()


@pytest.fixture
def ses(monkeypatch, request):
    from fleet import provision

    made = FakeSes(getattr(request, "param", None))
    monkeypatch.setattr(provision.aws, "client", lambda service: made)
    monkeypatch.setenv("FLEET_STAGE", "prod")
    monkeypatch.delenv("FLEET_SENDER", raising=False)
    settings.reset()
    yield made
    settings.reset()


def test_a_sender_awaiting_its_click_is_reported_pending_and_not_mailed_again(ses):
    from fleet import provision

    assert provision.ensure_sender_identity().action == "pending"
    assert provision.ensure_sender_identity().action == "pending"
    assert ses.asked == ["no-reply@example.com"]  # one mail, not one per provision


@pytest.mark.parametrize("ses", ["Pending", "Success"], indirect=True)
def test_a_status_for_an_identity_nobody_asked_about_is_not_trusted(ses):
    """MiniStack answers Pending, LocalEmu Success, for an address never asked: Fleet asks, once."""
    from fleet import provision

    provision.ensure_sender_identity()
    provision.ensure_sender_identity()
    assert ses.asked == ["no-reply@example.com"]
