"""Idempotency-Key: a client's retry of a request queues its message once."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from ingest_api.bodies import fingerprint
from ingest_api.errors import ApiError
from ingest_api.services import services


def queue_once(scope: str, key: str | None, document: dict[str, Any], send: Callable[[str], None]) -> str:
    """Queue a request's message under a new id, or under the id its key was first given.

    `send(message_id)` builds and sends the message. The same key with the same body
    answers with the first id and sends nothing more; with another body it is a 422.
    Keys are scoped (a campaign, "users") so that two routes never share one.
    """
    message_id = str(uuid.uuid4())
    if key is None:
        send(message_id)
        return message_id
    scoped = f"{scope}:{key}"
    digest = fingerprint(document)
    keys = services().request_keys
    known = keys.claim(scoped, digest, message_id)
    if known is not None:
        if known["fingerprint"] != digest:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different body.",
                {"Idempotency-Key": ["Already used with a different body."]},
            )
        message_id = known["message_id"]
        if known.get("state") == "queued":
            return message_id
        # The first request stopped between recording the key and queueing: send again
        # under the same id (workers store an id once, however often it arrives).
    send(message_id)
    keys.mark_queued(scoped)
    return message_id
