"""Users: `POST /v1/users` queues a signup."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from flask import Blueprint

from events.messages import RegisterUser
from events.models import user_id_for
from events.schemas import UserSignupSchema
from ingest_api.bodies import fingerprint, idempotency_key, json_body
from ingest_api.errors import ApiError
from ingest_api.services import services

bp = Blueprint("users", __name__)


@bp.post("/v1/users")
def create_user():
    """Validate a signup and queue it; 202 with the user id it will be stored under."""
    document = json_body()
    key = idempotency_key()
    fields = UserSignupSchema().load(document)
    signup_id = str(uuid.uuid4())
    if key is not None:
        digest = fingerprint(document)
        # The request_keys port names its id `submission_id`; here it is the signup's id.
        known = services().request_keys.claim(f"users:{key}", digest, signup_id)
        if known is not None:
            if known["fingerprint"] != digest:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different body.",
                    {"Idempotency-Key": ["Already used with a different body."]},
                )
            signup_id = known["submission_id"]
            if known.get("state") == "queued":
                return _accepted(signup_id, user_id_for(fields["email"]))
            # Stopped between recording the key and queueing: queue again under the same id.

    command = RegisterUser(
        signup_id=signup_id,
        user_id=user_id_for(fields["email"]),
        received_at=datetime.now(timezone.utc).isoformat(),
        **fields,
    )
    services().users_queue.send(command)
    if key is not None:
        services().request_keys.mark_queued(f"users:{key}")
    return _accepted(signup_id, command.user_id)


def _accepted(signup_id: str, user_id: str):
    # The same answer whether or not the address is known: a signup never tells a caller
    # who else has an account.
    return {"signup_id": signup_id, "user_id": user_id, "status": "queued"}, 202
