"""A campaign's public face: `GET /v1/campaigns/{id}` (public fields) and the entry page `GET /c/{id}`.

The page is static (HTML, CSS and a little JavaScript in `ingest_api/web/`, no build
step): it reads the campaign id from its own path and asks this API, at its own origin,
for everything else, so the same files can be served from S3 behind CloudFront.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from flask import Blueprint, Response

from events.ids import CAMPAIGN_ID
from events.uploads import EXTENSIONS
from ingest_api.auth import public
from ingest_api.errors import ApiError
from ingest_api.lookups import campaign_not_found, campaign_of, max_upload_bytes
from ingest_api.pages import page_security_headers
from ingest_api.spec import documented

bp = Blueprint("campaigns", __name__)

#: The page's files and their content types; nothing else under `web/` is served.
_FILES = {
    "entry.html": "text/html; charset=utf-8",
    "entry.css": "text/css; charset=utf-8",
    "entry.js": "text/javascript; charset=utf-8",
}


@bp.get("/v1/campaigns/<campaign_id>")
@public()
def get_campaign(campaign_id: str):
    """A campaign's public fields: name, window, whether it is open now, and upload limits."""
    campaign = campaign_of(campaign_id)
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "opens_at": campaign.opens_at.isoformat(),
        "closes_at": campaign.closes_at.isoformat(),
        "open": campaign.is_open(datetime.now(UTC)),
        "uploads": {"content_types": sorted(EXTENSIONS), "max_bytes": max_upload_bytes()},
    }


@bp.get("/c/<campaign_id>")
@public()
@documented(content="text/html")
def entry_page(campaign_id: str):
    """The campaign's entry page (the same static file for every campaign)."""
    if not CAMPAIGN_ID.match(campaign_id):
        raise campaign_not_found(campaign_id)
    return _web_file("entry.html")


@bp.get("/web/<name>")
@public()
@documented(content="text/plain")
def web_file(name: str):
    """The page's stylesheet and script."""
    if name not in _FILES or name == "entry.html":
        raise ApiError(404, "not_found", "No such file.")
    return _web_file(name)


def _web_file(name: str) -> Response:
    body = resources.files("ingest_api").joinpath("web", name).read_bytes()
    response = Response(body, 200, content_type=_FILES[name])
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(page_security_headers())
    return response
