"""SES: the sender's email identity."""

from __future__ import annotations

from fleet.provision.base import Change
from lambda_platform import aws, settings


def ensure_sender_identity() -> Change:
    """Ask SES to verify the sender's email identity, on every stage, unless it is verified.

    On AWS, VerifyEmailIdentity mails a link that a person must click: until then the
    identity is reported `pending`, and no second mail is asked for. moto (the local
    stage) marks it verified at once. A status counts only for an identity SES lists (one
    somebody asked to verify): AWS reports nothing for any other, but emulators answer
    `Pending` (MiniStack) or `Success` (LocalEmu) for an address nobody asked about, and
    trusting either left every email refused, or never asked for.
    """
    from email.utils import parseaddr

    ses = aws.client("ses")
    address = parseaddr(settings.current().sender)[1]

    def status() -> str | None:
        attributes = ses.get_identity_verification_attributes(Identities=[address])
        return attributes.get("VerificationAttributes", {}).get(address, {}).get("VerificationStatus")

    found = status() if _listed(ses, address) else None
    if found == "Success":
        return Change("sender", address, "unchanged")
    if found == "Pending":
        return Change("sender", address, "pending")
    ses.verify_email_identity(EmailAddress=address)
    return Change("sender", address, "created" if status() == "Success" else "pending")


def _listed(ses: object, address: str) -> bool:
    """True when SES lists `address` among its email identities (compared as AWS does, ignoring case)."""
    pages = ses.get_paginator("list_identities").paginate(IdentityType="EmailAddress")  # type: ignore[attr-defined]
    return any(identity.lower() == address.lower() for page in pages for identity in page.get("Identities", []))
