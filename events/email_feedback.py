"""What SES tells us about each email after it was sent: its sending events, read from SNS.

SES publishes an event record (`eventType`, `mail`, and one object named after the type)
to the configuration set's SNS topic for every Bounce, Complaint, Delivery and Reject; the
topic delivers it to the email-feedback queue, raw or in SNS's envelope (`Type`,
`Message`). One record may name several recipients; each becomes one `Feedback`. SES
makes no promise of order or of once-only delivery: a `Feedback` carries its SES message
id, type, recipient and time, which is what the worker needs to apply each once and never
let an older one overwrite a newer one (`workers.email_feedback`).

The shapes are SES's documented ones ("Contents of event data that Amazon SES publishes to
Amazon SNS"); `events/samples/ses_*.json` hold one of each, and the local SES publishes the
same (`fleet.runtime.ses_feedback`).

Fleet sends each email with SES message tags saying what it is about (`TAG_ENTRY`, the
submission id of a confirmation or "your code" email; `TAG_USER`, the user id of a
welcome email). SES copies them into every event record of the email (`mail.tags`), so a
`Feedback` names the one entry or user its email was about, and a delivery marks that one
alone (an email sent without them, or a tag that is no valid SES tag, names nothing).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

#: An entry's or a user's `email_status`: what became of the last email to its address.
DELIVERED = "delivered"
BOUNCED = "bounced"
COMPLAINED = "complained"
#: Nothing was sent: the address is on the suppression list.
SUPPRESSED = "suppressed"
EMAIL_STATUSES = (DELIVERED, BOUNCED, COMPLAINED, SUPPRESSED)

#: The event types the configuration set publishes (SES's `MatchingEventTypes`, lower-case there).
BOUNCE, COMPLAINT, DELIVERY, REJECT = "Bounce", "Complaint", "Delivery", "Reject"
EVENT_TYPES = (BOUNCE, COMPLAINT, DELIVERY, REJECT)

#: The message tags naming what an email is about: the entry (submission id) and the user (user id).
TAG_ENTRY = "fleet-entry"
TAG_USER = "fleet-user"
#: What SES accepts as a message tag's name or value: ASCII letters, digits, `_` and `-`, at most 256.
_TAG_TEXT = re.compile(r"[A-Za-z0-9_-]{1,256}")

#: Why an address is suppressed (SESv2's `Reason`).
REASON_BOUNCE, REASON_COMPLAINT = "BOUNCE", "COMPLAINT"

#: SES's mailbox simulator: each address answers as its name says, without touching a reputation.
SIMULATOR_DOMAIN = "simulator.amazonses.com"
SIMULATOR_SUCCESS = f"success@{SIMULATOR_DOMAIN}"
SIMULATOR_BOUNCE = f"bounce@{SIMULATOR_DOMAIN}"
SIMULATOR_COMPLAINT = f"complaint@{SIMULATOR_DOMAIN}"
SIMULATOR_SUPPRESSED = f"suppressionlist@{SIMULATOR_DOMAIN}"

#: SES's review thresholds (an account goes under review above them), and ours: half.
SES_REVIEW_BOUNCE_RATE = 0.05
SES_REVIEW_COMPLAINT_RATE = 0.001
BOUNCE_ALARM_RATE = SES_REVIEW_BOUNCE_RATE / 2
COMPLAINT_ALARM_RATE = SES_REVIEW_COMPLAINT_RATE / 2


class NotFeedback(ValueError):
    """A message on the feedback queue that is no SES event record (or SNS envelope of one)."""


@dataclass(frozen=True)
class Feedback:
    """One SES event for one recipient of one email."""

    #: SES's id of the email (`mail.messageId`): what makes a redelivered event the same one.
    message_id: str
    #: Bounce, Complaint, Delivery or Reject.
    event_type: str
    #: The recipient, as the email was addressed.
    recipient: str
    #: When it happened (the event object's `timestamp`, else the email's), in UTC (`utc_time`).
    at: str
    #: Permanent, Transient or Undetermined (bounces only).
    bounce_type: str = ""
    #: General, NoEmail, OnAccountSuppressionList, Suppressed...; or a complaint's feedback type.
    detail: str = ""
    #: The submission id the email was about (its `fleet-entry` tag), or "".
    entry: str = ""
    #: The user id the email was about (its `fleet-user` tag), or "".
    user: str = ""

    @property
    def address(self) -> str:
        """The recipient as the suppression list keys it: lower-cased."""
        return normalize_address(self.recipient)

    @property
    def suppresses(self) -> bool:
        """A permanent bounce or a complaint: nothing more may go to this address."""
        return self.event_type == COMPLAINT or (self.event_type == BOUNCE and self.bounce_type == "Permanent")

    @property
    def status(self) -> str | None:
        """The `email_status` this event gives the address's entries and users; None for none."""
        if self.event_type == DELIVERY:
            return DELIVERED
        if self.event_type == COMPLAINT:
            return COMPLAINED
        if self.suppresses:
            return BOUNCED
        return None  # a transient bounce is recorded, not a verdict; a reject names no recipient's fault

    @property
    def key(self) -> str:
        """What makes this event the same one when SES or SNS delivers it again."""
        return f"{self.message_id}#{self.event_type}#{self.address}"


def is_tag_text(text: object) -> TypeGuard[str]:
    """Whether `text` may be an SES message tag's name or value (letters, digits, `_`, `-`; 1 to 256)."""
    return isinstance(text, str) and _TAG_TEXT.fullmatch(text) is not None


def message_tags(tags: object) -> dict[str, str]:
    """The valid tags of an event's `mail.tags` (name -> list of values), each by its first value; others dropped."""
    if not isinstance(tags, dict):
        return {}
    found: dict[str, str] = {}
    for name, values in tags.items():
        value = values[0] if isinstance(values, list) and values else None
        if is_tag_text(name) and is_tag_text(value):
            found[name] = value
    return found


def utc_time(text: str) -> str:
    """An ISO 8601 time as `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC, so that times compare as strings."""
    from datetime import UTC, datetime

    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_address(address: str) -> str:
    """The bare address, lower-cased: `Ada <Ada@Example.com>` -> `ada@example.com`."""
    from email.utils import parseaddr

    return (parseaddr(address)[1] or address).strip().lower()


def parse_feedback(body: str) -> list[Feedback]:
    """Every recipient's `Feedback` in one queue message (raw, or in SNS's envelope); NotFeedback if none."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise NotFeedback(f"not JSON: {exc}") from None
    if isinstance(document, dict) and document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        return parse_feedback(document["Message"])
    if not isinstance(document, dict):
        raise NotFeedback("not a JSON object")
    return event_feedback(document)


def event_feedback(event: dict[str, Any]) -> list[Feedback]:
    """The `Feedback` of one SES event record, one per recipient it names."""
    kind = event.get("eventType") or event.get("notificationType")  # the latter: identity notifications
    mail = event.get("mail")
    if kind not in EVENT_TYPES or not isinstance(mail, dict) or not isinstance(mail.get("messageId"), str):
        raise NotFeedback(f"not an SES event record of a type we publish: {kind!r}")
    detail = event.get(kind.lower())
    detail = detail if isinstance(detail, dict) else {}
    try:
        at = utc_time(str(detail.get("timestamp") or mail.get("timestamp")))
    except ValueError:
        raise NotFeedback(f"a {kind} event of {mail['messageId']} without a valid timestamp") from None
    message_id = mail["messageId"]
    tags = message_tags(mail.get("tags"))
    about = {"entry": tags.get(TAG_ENTRY, ""), "user": tags.get(TAG_USER, "")}
    if kind == BOUNCE:
        recipients = [r.get("emailAddress") for r in detail.get("bouncedRecipients") or [] if isinstance(r, dict)]
        extra = {"bounce_type": str(detail.get("bounceType") or ""), "detail": str(detail.get("bounceSubType") or "")}
    elif kind == COMPLAINT:
        recipients = [r.get("emailAddress") for r in detail.get("complainedRecipients") or [] if isinstance(r, dict)]
        extra = {"detail": str(detail.get("complaintFeedbackType") or "")}
    elif kind == DELIVERY:
        recipients = list(detail.get("recipients") or [])
        extra = {}
    else:  # Reject: SES refused the whole email (a virus); it names no recipient, the email's own do
        recipients = list(mail.get("destination") or [])
        extra = {"detail": str(detail.get("reason") or "")}
    found = [Feedback(message_id, kind, r, at, **extra, **about) for r in recipients if isinstance(r, str) and r]
    if not found:
        raise NotFeedback(f"a {kind} event of {message_id} that names no recipient")
    return found


def outcome(events: list[tuple[str, str]]) -> str:
    """What became of one email, from its applied events `(event type, bounce type)`: the outbox's status.

    `complained`, `bounced` (permanent), `soft-bounced` (transient only), `rejected`,
    `delivered`, or `sent` while SES has reported nothing.
    """
    kinds = {kind for kind, _bounce in events}
    if COMPLAINT in kinds:
        return COMPLAINED
    if any(kind == BOUNCE and bounce == "Permanent" for kind, bounce in events):
        return BOUNCED
    if REJECT in kinds:
        return "rejected"
    if DELIVERY in kinds:
        return DELIVERED
    return "soft-bounced" if BOUNCE in kinds else "sent"
