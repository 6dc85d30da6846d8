"""Users: `POST /v1/users` queues a signup."""

from __future__ import annotations

from flask import Blueprint

from events.messages.users import RegisterUser
from events.models import user_id_for
from events.schemas import UserSignupSchema, shared
from ingest_api.auth import public
from ingest_api.bodies import idempotency_key, json_body
from ingest_api.idempotency import queue_once
from ingest_api.queued import queued
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("users", __name__)


@bp.post("/v1/users")
@public(limited=True, keyed=True)
@documented(body=UserSignupSchema, status=202)
def create_user():
    """Validate a signup and queue it; 202 with the user id it will be stored under."""
    document = json_body()
    key = idempotency_key()
    fields = shared(UserSignupSchema).load(document)
    user_id = user_id_for(fields["email"])

    def send(signup_id: str, received_at: str) -> None:
        command = RegisterUser(
            signup_id=signup_id,
            user_id=user_id,
            received_at=received_at,
            **fields,
        )
        services().users_queue.send(command)

    signup_id = queue_once("users", key, document, send)
    # The same answer whether or not the address is known: a signup never tells a caller
    # who else has an account.
    return queued(signup_id=signup_id, user_id=user_id)
