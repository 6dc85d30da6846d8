"""The local stage's routes, `/_local/...`, answer only to a loopback Host.

A page on any site can make a browser send requests to 127.0.0.1 under its own name
(DNS rebinding: `attacker.example` resolving to 127.0.0.1); the Host header then names
that site, not loopback, and the local pages (the outbox's addresses, the issuer's keys)
must not answer it.
"""

from __future__ import annotations

from flask import request

from ingest_api.errors import ApiError
from lambda_platform.origins import is_loopback_host

#: The path under which every local-only route lives.
LOCAL_PREFIX = "/_local/"


def require_loopback_host() -> None:
    """Refuse (403) a request for a local route whose Host is not loopback."""
    local = request.path == LOCAL_PREFIX.rstrip("/") or request.path.startswith(LOCAL_PREFIX)
    # The header as sent: `request.host` drops a trailing `:80`, so `127.0.0.1:80:80` would pass.
    if local and not is_loopback_host(request.headers.get("Host", request.host)):
        raise ApiError(
            403,
            "not_loopback",
            "Local pages answer only to a loopback Host: 127.0.0.1, localhost or [::1].",
        )
