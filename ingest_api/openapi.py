"""`GET /v1/openapi.json`: the OpenAPI 3 document of this app (built by `ingest_api.spec`)."""

from __future__ import annotations

from flask import Blueprint, current_app

from ingest_api.auth import public
from ingest_api.spec import build_spec

bp = Blueprint("openapi", __name__)


@bp.get("/v1/openapi.json")
@public()
def openapi_document():
    """This API's OpenAPI 3 document."""
    spec = current_app.extensions.get("fleet_openapi")
    if spec is None:
        spec = current_app.extensions.setdefault("fleet_openapi", build_spec(current_app))
    return spec
