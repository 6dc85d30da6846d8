"""Response headers for every answer: CORS from the allowlist (never `*`) and security headers.

CORS: an allowed Origin (`FLEET_WEB_ORIGINS`, patterns as in `http://127.0.0.1:*`, where a
`*` is one port or one DNS label: `lambda_platform.origins`) is echoed back with `Vary: Origin`; any
other, and any value that is not a serialized origin, gets no CORS header at all, so the
browser keeps the answer from the page. Preflights (Flask answers OPTIONS for every route) list the
methods and the headers a page may send.

The local stage's own pages (`/_local/...`: the outbox's emails and addresses, the live view's
counts and failures, the replay) never get a CORS header, whatever the allowlist says: their
only reader is a page of the same origin, and the allowlist admits every `127.0.0.1:*` page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from ingest_api.auth import rules_of
from ingest_api.local_only import LOCAL_PREFIX

ALLOWED_HEADERS = "Content-Type, Idempotency-Key, Authorization, x-api-key, If-None-Match"
EXPOSED_HEADERS = "ETag, Location, Retry-After"

#: Sent with every answer; the entry page adds its own Content-Security-Policy.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Resource-Policy": "same-site",
}
#: JSON answers are never rendered as a page: nothing may run or load in them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

_SECURITY = tuple((name.lower(), (name, value)) for name, value in SECURITY_HEADERS.items())
_SECURITY_NAMES = frozenset(lower for lower, _ in _SECURITY)
_SECURITY_HEADERS = [header for _, header in _SECURITY]


def register_response_headers(app: Flask) -> None:
    """Add CORS and security headers to every response of `app`."""
    # Flask's documented way to add WSGI middleware; mypy refuses any assignment to a method.
    app.wsgi_app = ResponseHeaders(app.wsgi_app, app)  # type: ignore[method-assign]


class ResponseHeaders:
    """WSGI middleware that adds the headers to the list the app hands to `start_response`.

    Not an `after_request` hook: there, each constant header went through Werkzeug's value
    checks once when added and once more when the response was copied for the server, on
    every answer. Here they are appended once as they are; only the echoed Origin comes from
    the request, and only a serialized origin of the allowlist (ASCII, no control byte) is.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Serve `environ` through the app, the headers added as the response starts."""

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, self.headers_for(environ, headers), exc_info)

        return self.wsgi_app(environ, start)

    def headers_for(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The app's headers, then the security and CORS headers it did not set itself."""
        present = {name.lower(): value for name, value in headers}
        if present.keys().isdisjoint(_SECURITY_NAMES):
            out = headers + _SECURITY_HEADERS
        else:
            out = headers + [header for lower, header in _SECURITY if lower not in present]
        if "content-security-policy" not in present and _mimetype(present.get("content-type")) == "application/json":
            out.append(("Content-Security-Policy", API_CSP))
        origin = environ.get("HTTP_ORIGIN")
        path = environ.get("PATH_INFO") or ""
        local = path == LOCAL_PREFIX.rstrip("/") or path.startswith(LOCAL_PREFIX)
        if origin and not local and rules_of(self.app).origin_allowed(origin):
            cors = [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]
            if environ.get("REQUEST_METHOD") == "OPTIONS":
                cors += [
                    ("Access-Control-Allow-Methods", present.get("allow", "GET, POST, PATCH, DELETE")),
                    ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
                    ("Access-Control-Max-Age", "600"),
                ]
            names = {name.lower() for name, _ in cors}
            out = [header for header in out if header[0].lower() not in names] + cors
        if "vary" in present:
            out = [(name, _with_origin(value) if name.lower() == "vary" else value) for name, value in out]
        else:
            out.append(("Vary", "Origin"))
        return out


def _mimetype(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def _with_origin(vary: str) -> str:
    """A Vary value with `Origin` in it once (as `response.vary.add("Origin")` would)."""
    names = [v.strip() for v in vary.split(",") if v.strip()]
    if any(n.lower() == "origin" for n in names):
        return vary
    return ", ".join([*names, "Origin"])
