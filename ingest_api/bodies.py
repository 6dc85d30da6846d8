"""Reading request bodies and headers strictly, so that no input reaches a 500.

The body is read here from the WSGI stream, never more than the limit and one byte, so
the limit holds however it arrives (a Content-Length or chunks) and under any server.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import request

from ingest_api.errors import ApiError
from ingest_api.limits import MAX_BODY_BYTES

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")
_DIGITS = re.compile(r"[0-9]{1,18}")
#: What is left of a refused body is never read: the connection cannot carry another request.
_CLOSE = {"Connection": "close"}


def json_body() -> dict[str, Any]:
    """The request's JSON object: 415 when not JSON, 413 when too large, 400 when malformed."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    raw = read_body()
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {_short(exc)}") from None
    if not isinstance(document, dict):
        raise ApiError(422, "invalid_fields", "The body must be a JSON object.", {"_body": ["Must be a JSON object."]})
    return document


def read_body(limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, once: 413 past `limit` bytes, 408 when it stops arriving, 400 when cut short."""
    environ = request.environ
    declared = environ.get("CONTENT_LENGTH") or None
    if declared is not None and not _DIGITS.fullmatch(declared):
        raise ApiError(400, "invalid_header", "Content-Length must be a number of bytes.", headers=_CLOSE)
    length = int(declared) if declared is not None else None
    if length is not None and length > limit:
        raise _too_large(limit)
    # A server that sets `wsgi.input_terminated` ends the stream itself (chunks, say);
    # without it and without a length, the stream cannot be read safely, and is empty.
    if environ.get("wsgi.input_terminated"):
        wanted = limit + 1
    elif length is None:
        return b""
    else:
        wanted = length
    body = _read(environ["wsgi.input"], wanted)
    if len(body) > limit:
        raise _too_large(limit)
    if length is not None and len(body) < length and not environ.get("wsgi.input_terminated"):
        raise ApiError(400, "malformed_body", "The body is shorter than its Content-Length.", headers=_CLOSE)
    return body


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


def _read(stream: Any, wanted: int) -> bytes:
    """Up to `wanted` bytes of `stream`, in reads of at most 64 KiB (a read may return fewer)."""
    parts: list[bytes] = []
    left = wanted
    try:
        while left > 0:
            part = stream.read(min(left, 64 * 1024))
            if not part:
                break
            parts.append(part)
            left -= len(part)
    except TimeoutError:  # the server's socket timeout: the client stopped sending
        raise ApiError(408, "request_timeout", "The body stopped arriving.", headers=_CLOSE) from None
    except (OSError, ValueError):  # a malformed chunk, a connection gone
        raise ApiError(400, "malformed_body", "The body could not be read.", headers=_CLOSE) from None
    return b"".join(parts)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body is larger than {limit} bytes.", headers=_CLOSE)


def _refuse_constant(name: str) -> Any:
    # Python's json takes NaN and Infinity; JSON has no such values.
    raise ValueError(f"{name} is not a JSON value")


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
