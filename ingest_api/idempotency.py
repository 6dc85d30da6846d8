"""Idempotency-Key: a client's retry of a request answers with its first id, and what it
queues is stored once.

A first request with a key makes two AWS calls: the key's conditional put (with the
request's rate counters, one transaction, when the route is `public(keyed=True)`) and the
send. The key is never written again, so nothing says whether its message went out: a
retry sends again under the same id, and every worker stores an id once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ingest_api.bodies import fingerprint
from ingest_api.errors import ApiError
from ingest_api.rate_counts import count, take_deferred_counts
from ingest_api.services import services


def queue_once(scope: str, key: str | None, document: dict[str, Any], send: Callable[[str], None]) -> str:
    """Queue a request's message under a new id, or under the id its key was first given.

    `send(message_id)` builds and sends the message. The same key with the same body
    answers with the first id and sends again under it; with another body it is a 422.
    Keys are scoped (a campaign, "users") so that two routes never share one.
    """
    counts = take_deferred_counts()
    message_id = str(uuid.uuid4())
    if key is None:
        if counts is not None:
            count(counts)
        send(message_id)
        return message_id
    scoped = f"{scope}:{key}"
    digest = fingerprint(document)
    if counts is None:
        claim = services().request_keys.claim(scoped, digest, message_id)
    else:
        claim = services().request_keys.claim(scoped, digest, message_id, counts.per_counter, counts.window_seconds, counts.now)
        if claim.full is not None:
            raise counts.refused(claim.full)
    if claim.known is not None:
        if counts is not None:
            count(counts)  # a retry sends again: it is counted as any request
        if claim.known["fingerprint"] != digest:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different body.",
                {"Idempotency-Key": ["Already used with a different body."]},
            )
        # The first request may have stopped before its send: send again under its id.
        message_id = claim.known["message_id"]
    send(message_id)
    return message_id
