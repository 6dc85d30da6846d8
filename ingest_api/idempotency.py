"""Idempotency-Key: a client's retry of a request answers with its first id, and what it
queues is stored once and never overtakes a newer change.

A first request with a key makes two AWS calls: the key's conditional put (with the
request's rate counters, one transaction, when the route is `public(keyed=True)`) and the
send. The key is never written again, so nothing says whether its message went out: a
retry sends again under the same id, and every worker stores an id once.

A change's version (its `received_at`, which the workers order changes by) is fixed when
its key is first claimed and stored with the key: a retry sends that same version, so an
older change retried after a newer one is skipped by the worker, never applied over it.
A key is the caller's own: an API key's or a user's key is scoped to its id, so another
caller sending the same key makes a request of its own and never takes over the first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import g

from ingest_api.bodies import fingerprint
from ingest_api.errors import ApiError
from ingest_api.rate_counts import count, take_deferred_counts
from ingest_api.services import services


def queue_once(
    scope: str,
    key: str | None,
    document: dict[str, Any],
    send: Callable[[str, str], None],
    received_at: str | None = None,
) -> str:
    """Queue a request's message under a new id, or under the id its key was first given.

    `send(message_id, received_at)` builds and sends the message; `received_at` is the
    change's version: now (or the given `received_at`) for a new request, the stored one
    for a retry. The same key with the same body answers with the first id and sends
    again under it; with another body it is a 422. Keys are scoped (a campaign, "users")
    so that two routes never share one, and to the caller (`caller_scope`).
    """
    counts = take_deferred_counts()
    message_id = str(uuid.uuid4())
    version = received_at or datetime.now(UTC).isoformat()
    if key is None:
        if counts is not None:
            count(counts)
        send(message_id, version)
        return message_id
    scoped = f"{scope}:{caller_scope()}{key}"
    digest = fingerprint(document)
    if counts is None:
        claim = services().request_keys.claim(scoped, digest, message_id, version)
    else:
        claim = services().request_keys.claim(
            scoped, digest, message_id, version, counts.per_counter, counts.window_seconds, counts.now
        )
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
        # The first request may have stopped before its send: send again under its id and version.
        message_id = claim.known["message_id"]
        version = claim.known["received_at"]
    send(message_id, version)
    return message_id


def caller_scope() -> str:
    """The part of a key's scope that names the caller: `key:{id}:` for an API key,
    `user:{sub}:` for a signed-in user, nothing for a public route (anyone may retry it)."""
    key_id = g.get("api_key_id")
    if key_id:
        return f"key:{key_id}:"
    sub = g.get("user_sub")
    if sub:
        return f"user:{sub}:"
    return ""
