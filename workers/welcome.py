"""workers.welcome: one welcome email per new user, from the users table's stream.

Only INSERTs count (moto turns an identical put into a MODIFY); the idempotency table,
keyed by user id, makes duplicate records, retries and replays send nothing more.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from fleet.batch import batch_response
from fleet.telemetry import EMAILS_SENT, count
from fleet.ports import Mailer
from fleet.stream_events import stream_records
from workers.emails import Email, Once, render, send_once

logger = Logger(service="fleet", child=False)

SCOPE = "welcome"


def welcome_email(user: dict[str, Any]) -> Email:
    """The welcome email of a stored user."""
    return render(
        "welcome",
        to=user["email"],
        first_name=user["first_name"],
        last_name=user["last_name"],
        user_id=user["user_id"],
        locale=user.get("locale") or "en",
    )


def welcome_user(user: dict[str, Any], mailer: Mailer, once: Once) -> str:
    """Send a user their welcome email, at most once; return SES's message id."""
    return send_once(welcome_email(user), SCOPE, user["user_id"], mailer, once)


def _ports(context: Any) -> tuple[Mailer, Once]:
    from fleet.adapters.mail import SesMailer
    from fleet.idempotency import once

    return SesMailer(), lambda scope, key, action: once(scope, key, action, context)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Welcome every user inserted in this batch; report failed records by SequenceNumber."""
    failed: list[str] = []
    ports: tuple[Mailer, Once] | None = None
    for record in stream_records(event):
        if not record.is_insert or record.new_image is None:
            continue
        logger.set_correlation_id(record.new_image.get("user_id"))
        try:
            ports = ports or _ports(context)
            message_id = welcome_user(record.new_image, *ports)
        except Exception as exc:  # throttled or in progress elsewhere: this record is retried
            logger.warning("welcome failed", extra={"sequence_number": record.sequence_number, "error": repr(exc)})
            failed.append(record.sequence_number)
            continue
        count(EMAILS_SENT)
        logger.info("welcome sent", extra={"user_id": record.new_image["user_id"], "ses_message_id": message_id})
    return batch_response(failed)
