"""The local development issuer's JWKS, `GET /_local/issuer/.well-known/jwks.json` (local stage only).

Tokens from `fleet token` name this issuer; the API fetches these keys through
PyJWKClient as it would fetch a Cognito pool's, so both take the same path.
"""

from __future__ import annotations

from flask import Blueprint

from ingest_api.auth import public

bp = Blueprint("issuer", __name__)


@bp.get("/_local/issuer/.well-known/jwks.json")
@public()
def local_jwks():
    """The development issuer's public keys."""
    from lambda_platform import access, settings

    response = access.jwks(access.signing_key(settings.current().state_dir))
    return response, 200, {"Cache-Control": "public, max-age=300"}
