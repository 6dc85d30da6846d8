"""SES: the sender's email identity."""

from __future__ import annotations

from fleet.provision.base import Change
from lambda_platform import aws, settings


def ensure_sender_identity() -> Change:
    """Ask SES to verify the sender's email identity, on every stage, unless it is verified.

    On AWS, VerifyEmailIdentity mails a link that a person must click: until then the
    identity is reported `pending`, and no second mail is asked for. moto (the local
    stage) marks it verified at once.
    """
    from email.utils import parseaddr

    ses = aws.client("ses")
    address = parseaddr(settings.current().sender)[1]

    def status() -> str | None:
        attributes = ses.get_identity_verification_attributes(Identities=[address])
        return attributes.get("VerificationAttributes", {}).get(address, {}).get("VerificationStatus")

    found = status()
    if found == "Success":
        return Change("sender", address, "unchanged")
    if found == "Pending":
        return Change("sender", address, "pending")
    ses.verify_email_identity(EmailAddress=address)
    return Change("sender", address, "created" if status() == "Success" else "pending")
