"""workers.users: store the users that signed up, one per email address.

The user id is derived from the lower-cased email, and the user is written with a
conditional put: a second signup with the same address (in any case), a redelivery or
a replay writes nothing, so the users stream sees one INSERT and one welcome email.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from events.messages.envelope import load_message
from events.messages.users import RegisterUser
from events.models import user_id_for
from lambda_platform.batch import process_sqs
from lambda_platform.ports import UserStore
from lambda_platform.telemetry import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def user_item(command: RegisterUser, created_at: str) -> dict[str, Any]:
    """The users table item for a signup."""
    return {
        "user_id": command.user_id,
        "email": command.email,
        "email_lower": command.email.strip().lower(),
        "first_name": command.first_name,
        "last_name": command.last_name,
        "locale": command.locale,
        "signup_id": command.signup_id,
        "received_at": command.received_at,
        "created_at": created_at,
    }


def register_user(command: RegisterUser, users: UserStore, now: datetime | None = None) -> bool:
    """Store the user unless its address is known; True when this call created it."""
    if command.user_id != user_id_for(command.email):
        raise ValueError(f"user id {command.user_id} does not belong to its email address")
    created_at = (now or datetime.now(UTC)).isoformat()
    return users.create(user_item(command, created_at))


def _adapters() -> UserStore:
    from lambda_platform.composition import ports

    return ports().users


def _store(record: SQSRecord, users: UserStore) -> None:
    command = load_message(record.body)
    if not isinstance(command, RegisterUser):
        raise TypeError(f"not a RegisterUser message: {type(command).__name__}")
    created = register_user(command, users)
    logger.info("signup stored" if created else "signup of a known address", extra={"user_id": command.user_id})


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Store the users of an SQS batch; report the failed records by messageId."""
    return process_sqs(event, _store, _adapters, context)
