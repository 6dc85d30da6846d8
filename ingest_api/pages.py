"""What the API's HTML pages share: the entry page's Content-Security-Policy and friends.

Not a blueprint: the entry page and the local outbox both import it.
"""

from __future__ import annotations

from ingest_api.services import services


def page_security_headers() -> dict[str, str]:
    """CSP (scripts, styles and fetches from this origin; uploads to the bucket's), and friends."""
    upload_origins = services().upload_signer.origins()
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self' " + " ".join(upload_origins),
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
