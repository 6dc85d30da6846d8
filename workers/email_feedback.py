"""workers.email_feedback: SES's bounces, complaints and deliveries, from the email-feedback queue.

Each message is one SES event record (SNS raw delivery, or SNS's envelope around it); each
recipient it names is applied on its own:
- a permanent bounce or a complaint puts the address on the suppression list;
- a delivery sets `email_status` on the one entry or user its email was about, as the
  email's SES message tags name it (`Feedback.entry`, `Feedback.user`): one conditional
  write, no lookup by address. A permanent bounce or a complaint sets it on every entry
  and the user of the address (they all share the mailbox that failed), and so does a
  delivery that names neither (an email sent before the tags, or by another path). A
  transient bounce and a reject set nothing: recorded and counted only;
- the event is stored once, by SES message id, type and recipient, and counted in its hour
  (the bounce and complaint rates of `fleet status`).
The writes come in that order, each idempotent and conditional on the event's time, and
the record of the event last: a record that fails halfway is retried whole and changes
nothing twice; a duplicate or an older event arriving late changes nothing.
A message that is no SES event fails its record, and ends in the dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from events.email_feedback import DELIVERY, Feedback, parse_feedback
from lambda_platform.batch import process_sqs
from lambda_platform.ports import EmailEvents, EmailStatuses, SuppressionList
from lambda_platform.telemetry import EMAIL_FEEDBACK, count, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


@dataclass(frozen=True)
class FeedbackPorts:
    """What applying SES's feedback needs."""

    suppressions: SuppressionList
    statuses: EmailStatuses
    events: EmailEvents


def apply_feedback(feedback: Feedback, ports: FeedbackPorts) -> bool:
    """Suppress, mark, then record one recipient's event; True when it was new."""
    suppressed = ports.suppressions.suppress(feedback) if feedback.suppresses else False
    status = feedback.status
    marked = mark(feedback, status, ports.statuses) if status else 0
    new = ports.events.record(feedback)
    if new:
        count(EMAIL_FEEDBACK)
    logger.info(
        "email feedback",
        extra={
            "ses_message_id": feedback.message_id,
            "event_type": feedback.event_type,
            "bounce_type": feedback.bounce_type,
            "suppressed": suppressed,
            "marked": marked,
            "repeat": not new,
        },
    )
    return new


def mark(feedback: Feedback, status: str, statuses: EmailStatuses) -> int:
    """Give `status` to what the event is about: a tagged delivery's entry or user, else the address's all."""
    if feedback.event_type == DELIVERY and (feedback.entry or feedback.user):
        entry = statuses.mark_entry(feedback.entry, status, feedback.at) if feedback.entry else False
        user = statuses.mark_user(feedback.user, status, feedback.at) if feedback.user else False
        return entry + user
    return statuses.mark_address(feedback.address, status, feedback.at)


def apply_message(body: str, ports: FeedbackPorts) -> int:
    """Apply every recipient's event of one queue message; how many were new."""
    return sum(apply_feedback(feedback, ports) for feedback in parse_feedback(body))


def _ports() -> FeedbackPorts:
    from lambda_platform.composition import ports

    built = ports()
    return FeedbackPorts(built.suppressions, built.email_statuses, built.email_events)


def _apply(record: SQSRecord, ports: FeedbackPorts) -> None:
    apply_message(record.body, ports)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Apply every message of this batch; report failed ones by messageId."""
    return process_sqs(event, _apply, _ports, context)
