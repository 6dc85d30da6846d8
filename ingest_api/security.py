"""Response headers for every answer: CORS from the allowlist (never `*`) and security headers.

CORS: an allowed Origin (`FLEET_WEB_ORIGINS`, globs as in `http://127.0.0.1:*`) is echoed
back with `Vary: Origin`; any other gets no CORS header at all, so the browser keeps the
answer from the page. Preflights (Flask answers OPTIONS for every route) list the
methods and the headers a page may send.
"""

from __future__ import annotations

from flask import Flask, Response, request

from ingest_api.auth import origin_allowed

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


def register_response_headers(app: Flask) -> None:
    """Add CORS and security headers to every response of `app`."""

    @app.after_request
    def _headers(response: Response) -> Response:
        # One pass over the headers the view set, then appends: `setdefault` per header
        # scans the list each time, and this runs on every answer.
        present = {name.lower() for name, _ in response.headers}
        for name, value in SECURITY_HEADERS.items():
            if name.lower() not in present:
                response.headers.add(name, value)
        if "content-security-policy" not in present and response.mimetype == "application/json":
            response.headers.add("Content-Security-Policy", API_CSP)
        origin = request.headers.get("Origin")
        if origin and origin_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = response.headers.get(
                    "Allow", "GET, POST, PATCH, DELETE"
                )
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        if "vary" in present:
            response.vary.add("Origin")
        else:
            response.headers.add("Vary", "Origin")
        return response
