"""workers.welcome: one welcome email per new user, from the users table's stream.

Only INSERTs count (moto turns an identical put into a MODIFY); the idempotency table,
keyed by user id and read for the whole batch at once, makes duplicate records, retries
and replays send nothing more.
"""

from __future__ import annotations

from typing import Any

from lambda_platform.batch import process_inserts
from lambda_platform.ports import Mailer, Once
from lambda_platform.telemetry import EMAILS_SENT, count, logger
from workers.emails import Email, inserted_keys, render, send_once

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


def _ports(context: Any, event: Any) -> tuple[Mailer, Once]:
    from lambda_platform.composition import ports

    built = ports()
    return built.mailer, built.batch_once(SCOPE, inserted_keys(event, "user_id"), context)


def _welcome(user: dict[str, Any], ports: tuple[Mailer, Once]) -> None:
    message_id = welcome_user(user, *ports)
    count(EMAILS_SENT)
    logger.info("welcome sent", extra={"user_id": user["user_id"], "ses_message_id": message_id})


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Welcome every user inserted in this batch; report failed records by SequenceNumber."""
    return process_inserts(event, _welcome, lambda: _ports(context, event), context)
