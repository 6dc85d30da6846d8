"""The embedded SES publishes sending events as SES does, and answers as its mailbox simulator.

moto's SES stores a configuration set's event destination and never publishes to it (its
only feedback is a canned identity notification, without the email's id or recipient).
SES publishes, for an email sent with a configuration set, an event record per event to
the destination's SNS topic. `install` makes the moto of this process do the same, after
it accepted a SendEmail or SendRawEmail naming a configuration set (the parameter, or
the `X-SES-CONFIGURATION-SET` header of a raw email) whose destination is enabled and
matches the event's type. Each recipient gets what SES's mailbox simulator gives:

- `bounce@simulator.amazonses.com`: a permanent bounce (`General`);
- `suppressionlist@simulator.amazonses.com`: a permanent bounce (`OnAccountSuppressionList`);
- `complaint@simulator.amazonses.com`: a delivery, then a complaint (`abuse`);
- any other address, `success@simulator.amazonses.com` included: a delivery.

The records have the documented shape (`events/samples/ses_*.json`, `events.email_feedback`);
their `mail.tags` hold the send's message tags (its `Tags` parameter), as SES's do.
They are published before the send returns (SES publishes them seconds later), so that a
drained fleet has applied them. A Reject (a virus found in the email) is never emulated.
moto's own sandbox rule is unchanged: it checks the sender's identity, not the recipients.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parseaddr
from typing import Any

from events.email_feedback import (
    BOUNCE,
    COMPLAINT,
    DELIVERY,
    SIMULATOR_BOUNCE,
    SIMULATOR_COMPLAINT,
    SIMULATOR_SUPPRESSED,
    normalize_address,
)

log = logging.getLogger("fleet.runtime.ses")

#: Where the simulated MTA says it is.
REPORTING_MTA = "a8-70.smtp-out.amazonses.com"


def simulated_events(recipient: str) -> list[tuple[str, dict[str, Any]]]:
    """The events SES's mailbox simulator gives an email to `recipient`: (type, its object without times)."""
    address = normalize_address(recipient)
    if address in (SIMULATOR_BOUNCE, SIMULATOR_SUPPRESSED):
        sub_type = "OnAccountSuppressionList" if address == SIMULATOR_SUPPRESSED else "General"
        diagnostic = (
            "Amazon SES did not send the message to this address because it is on the suppression list for your account."
            if address == SIMULATOR_SUPPRESSED
            else "smtp; 550 5.1.1 user unknown"
        )
        bounced = {"emailAddress": recipient, "action": "failed", "status": "5.1.1", "diagnosticCode": diagnostic}
        return [
            (
                BOUNCE,
                {
                    "bounceType": "Permanent",
                    "bounceSubType": sub_type,
                    "bouncedRecipients": [bounced],
                    "reportingMTA": f"dns; {REPORTING_MTA}",
                },
            )
        ]
    delivered = (
        DELIVERY,
        {
            "recipients": [recipient],
            "processingTimeMillis": 546,
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": REPORTING_MTA,
            "remoteMtaIp": "127.0.2.0",
        },
    )
    if address == SIMULATOR_COMPLAINT:
        complaint = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "userAgent": "Amazon SES Mailbox Simulator",
            "complaintFeedbackType": "abuse",
        }
        return [delivered, (COMPLAINT, complaint)]
    return [delivered]


def event_record(
    kind: str,
    detail: dict[str, Any],
    *,
    message_id: str,
    source: str,
    destination: list[str],
    configuration_set: str,
    account: str,
    region: str,
    sent: datetime,
    at: datetime,
    subject: str = "",
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One SES event record, as SES publishes it to SNS for a configuration set's destination; `tags`, the send's."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    detail = dict(detail)
    detail["timestamp"] = stamp
    if kind == BOUNCE:
        detail["feedbackId"] = f"{message_id}-bounce"
    elif kind == COMPLAINT:
        detail["feedbackId"] = f"{message_id}-complaint"
        detail["arrivalDate"] = stamp
    domain = parseaddr(source)[1].rpartition("@")[2]
    return {
        "eventType": kind,
        "mail": {
            "timestamp": sent.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{sent.microsecond // 1000:03d}Z",
            "source": source,
            "sourceArn": f"arn:aws:ses:{region}:{account}:identity/{domain}",
            "sendingAccountId": account,
            "messageId": message_id,
            "destination": destination,
            "headersTruncated": False,
            "commonHeaders": {"from": [source], "to": destination, "subject": subject},
            "tags": {
                "ses:configuration-set": [configuration_set],
                "ses:source-ip": ["127.0.0.1"],
                "ses:from-domain": [domain],
                "ses:caller-identity": ["fleet"],
                **{name: [value] for name, value in (tags or {}).items()},
            },
        },
        kind.lower(): detail,
    }


def install() -> None:
    """Make moto's SES, in this process, publish its configuration sets' events (idempotent)."""
    from moto.ses import responses

    if getattr(responses.EmailResponse.send_email, "publishes_events", False):
        return
    send_email, send_raw_email = responses.EmailResponse.send_email, responses.EmailResponse.send_raw_email

    def publishing(moto_send: Callable[[Any], Any], raw: bool) -> Callable[[Any], Any]:
        def send(handler: Any) -> Any:
            result = moto_send(handler)
            try:
                _publish_events(handler, result, raw)
            except Exception:
                log.exception("SES event publishing failed")
            return result

        send.publishes_events = True  # type: ignore[attr-defined]
        return send

    # Replacing moto's handlers is the point; mypy refuses an assignment to a method.
    responses.EmailResponse.send_email = publishing(send_email, raw=False)  # type: ignore[method-assign,assignment]
    responses.EmailResponse.send_raw_email = publishing(send_raw_email, raw=True)  # type: ignore[method-assign,assignment]


def _publish_events(handler: Any, result: Any, raw: bool) -> None:
    from moto.sns.models import sns_backends

    message_id = (getattr(result, "result", None) or {}).get("MessageId")
    if not message_id:
        return
    backend = handler.backend
    configuration_set, source, destination, subject = _sent(handler, raw)
    tags = _tags(handler._get_param("Tags"))
    destination_config = backend.config_set_event_destination.get(configuration_set) if configuration_set else None
    if not destination_config or str(destination_config.get("Enabled", "true")).lower() == "false":
        return
    topic_arn = (destination_config.get("SNSDestination") or {}).get("TopicARN")
    matching = {str(t).lower() for t in _listed(destination_config.get("MatchingEventTypes"))}
    if not topic_arn:
        return
    sns = sns_backends[handler.current_account][handler.region]
    sent = datetime.now(UTC)
    for recipient in destination:
        for step, (kind, detail) in enumerate(simulated_events(recipient)):
            if kind.lower() not in matching:
                continue
            record = event_record(
                kind,
                detail,
                message_id=message_id,
                source=source,
                destination=destination,
                configuration_set=configuration_set,
                account=handler.current_account,
                region=handler.region,
                sent=sent,
                at=sent + timedelta(milliseconds=500 * (step + 1)),
                subject=subject,
                tags=tags,
            )
            sns.publish(json.dumps(record, separators=(",", ":")), arn=topic_arn)


def _listed(value: Any) -> list[Any]:
    """moto's query parser gives a member list as a list, or a dict of `member` entries."""
    if isinstance(value, dict):
        value = value.get("member", list(value.values()))
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] if value else []


def _tags(value: Any) -> dict[str, str]:
    """A send's `Tags` parameter (`[{"Name": ..., "Value": ...}]`, in any of moto's list shapes) as name -> value."""
    tags: dict[str, str] = {}
    for tag in _listed(value):
        if isinstance(tag, dict) and isinstance(tag.get("Name"), str) and isinstance(tag.get("Value"), str):
            tags.setdefault(tag["Name"], tag["Value"])
    return tags


def _sent(handler: Any, raw: bool) -> tuple[str, str, list[str], str]:
    """(configuration set, source, recipients, subject) of the send `handler` answered."""
    configuration_set = handler._get_param("ConfigurationSetName") or ""
    if not raw:
        destinations = handler._get_param("Destination", {}) or {}
        recipients = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in _listed(destinations.get(key))]
        return configuration_set, handler._get_param("Source") or "", recipients, handler._get_param("Message.Subject.Data") or ""
    import email

    data = handler._get_param("RawMessage.Data")
    message = email.message_from_bytes(data if isinstance(data, bytes) else str(data).encode())
    configuration_set = configuration_set or str(message.get("X-SES-CONFIGURATION-SET") or "")
    recipients = _listed(handler._get_param("Destinations", []))
    if not recipients:
        fields = [message[h] for h in ("To", "Cc", "Bcc") if message[h]]
        recipients = [a for _name, a in getaddresses(fields) if a]
    source = handler._get_param("Source") or str(message.get("From") or "")
    return configuration_set, source, recipients, str(message.get("Subject") or "")
