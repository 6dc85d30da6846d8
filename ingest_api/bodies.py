"""Reading request bodies and headers strictly, so that no input reaches a 500."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import request

from ingest_api.errors import ApiError

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")


def json_body() -> dict[str, Any]:
    """The request's JSON object: 415 when not JSON, 413 when too large, 400 when malformed."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    raw = request.get_data(cache=True)  # 413 from Werkzeug past MAX_CONTENT_LENGTH
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {_short(exc)}") from None
    if not isinstance(document, dict):
        raise ApiError(422, "invalid_fields", "The body must be a JSON object.", {"_body": ["Must be a JSON object."]})
    return document


def idempotency_key() -> str | None:
    """The `Idempotency-Key` header, if sent; 400 when it is not 1-255 visible ASCII characters."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise ApiError(
            400,
            "invalid_header",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            {"Idempotency-Key": ["Must be 1 to 255 visible ASCII characters."]},
        )
    return key


#: The canonical form of a body, built once (`json.dumps` with options builds an encoder
#: per call); `encode` keeps no state between calls, so threads may share it.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def fingerprint(document: dict[str, Any]) -> str:
    """A digest of a JSON body that ignores key order and white space."""
    return hashlib.sha256(_CANONICAL_JSON.encode(document).encode()).hexdigest()


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
