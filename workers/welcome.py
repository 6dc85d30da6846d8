"""workers.welcome: one welcome email per new user, from the users table's stream.

Only INSERTs count (moto turns an identical put into a MODIFY); the idempotency table,
keyed by user id and read for the whole batch at once, makes duplicate records, retries
and replays send nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.email_feedback import SUPPRESSED, TAG_USER, utc_time
from lambda_platform.batch import process_inserts
from lambda_platform.ports import EmailStatuses, Mailer, Once
from lambda_platform.telemetry import EMAILS_SENT, count, logger
from workers.emails import NOT_SENT, Email, addresses_of, inserted_keys, render, send_once, suppression_lookup

SCOPE = "welcome"


def welcome_email(user: dict[str, Any]) -> Email:
    """The welcome email of a stored user."""
    return render(
        "welcome",
        to=user["email"],
        tags=((TAG_USER, user["user_id"]),),
        first_name=user["first_name"],
        last_name=user["last_name"],
        user_id=user["user_id"],
        locale=user.get("locale") or "en",
    )


@dataclass(frozen=True)
class WelcomePorts:
    """What welcoming a user needs."""

    mailer: Mailer
    once: Once
    #: Whether an address is on the suppression list (the batch's read at once).
    suppressed: Callable[[str], bool]
    statuses: EmailStatuses


def welcome_user(user: dict[str, Any], ports: WelcomePorts) -> str:
    """Send a user their welcome email, at most once; SES's message id, or NOT_SENT to a suppressed address."""
    message_id = send_once(welcome_email(user), SCOPE, user["user_id"], ports.mailer, ports.once, ports.suppressed)
    if message_id == NOT_SENT:
        ports.statuses.mark_user(user["user_id"], SUPPRESSED, utc_time(datetime.now(UTC).isoformat()))
    return message_id


def _ports(context: Any, event: Any) -> WelcomePorts:
    from lambda_platform.composition import ports

    built = ports()
    return WelcomePorts(
        mailer=built.mailer,
        once=built.batch_once(SCOPE, inserted_keys(event, "user_id"), context),
        suppressed=suppression_lookup(addresses_of(event, ("INSERT",)), built.suppressions.suppressed),
        statuses=built.email_statuses,
    )


def _welcome(user: dict[str, Any], ports: WelcomePorts) -> None:
    message_id = welcome_user(user, ports)
    if message_id != NOT_SENT:
        count(EMAILS_SENT)
    logger.info(
        "welcome sent" if message_id != NOT_SENT else "welcome not sent: suppressed",
        extra={"user_id": user["user_id"], "ses_message_id": message_id},
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Welcome every user inserted in this batch; report failed records by SequenceNumber."""
    return process_inserts(event, _welcome, lambda: _ports(context, event), context)
