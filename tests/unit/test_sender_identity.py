"""Provisioning asks SES to verify the sender once, and reports it pending until it is clicked."""

from __future__ import annotations

from lambda_platform import settings


def test_a_sender_awaiting_its_click_is_reported_pending_and_not_mailed_again(monkeypatch):
    from fleet import provision

    class PendingSes:
        """SES as AWS answers between the verification mail and the click."""

        def __init__(self) -> None:
            self.asked: list[str] = []

        def get_identity_verification_attributes(self, Identities):
            return {"VerificationAttributes": {a: {"VerificationStatus": "Pending"} for a in self.asked}}

        def verify_email_identity(self, EmailAddress):
            self.asked.append(EmailAddress)

    ses = PendingSes()
    monkeypatch.setattr(provision.aws, "client", lambda service: ses)
    monkeypatch.setenv("FLEET_STAGE", "prod")
    monkeypatch.delenv("FLEET_SENDER", raising=False)
    settings.reset()
    try:
        assert provision.ensure_sender_identity().action == "pending"
        assert provision.ensure_sender_identity().action == "pending"
    finally:
        settings.reset()
    assert ses.asked == ["no-reply@example.com"]  # one mail, not one per provision
