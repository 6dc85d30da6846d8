"""`GET /admin/`: the review console on the API's own port, local stage only.

The console is static files of the site (`site/admin/`), published to the site bucket and
served through the edge (CloudFront on AWS, :8081 locally) like the blog. Locally the API
serves the same files too, so that the console works against the API alone; on Lambda the
site's files are not in the zip and this blueprint is not registered. Nothing here is
cached: the page's calls carry an API key.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect

from ingest_api.auth import public
from ingest_api.errors import ApiError
from ingest_api.pages import page_security_headers
from ingest_api.spec import documented

bp = Blueprint("console", __name__)

#: The console's files, as the site publishes them (the repository's `site/admin/`).
CONSOLE_FILES = Path(__file__).resolve().parents[1] / "site" / "admin"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@bp.get("/admin")
@public()
@documented(content="text/html")
def console_root():
    """To the console's page, `/admin/`."""
    return redirect("/admin/", 308)


@bp.get("/admin/")
@public()
@documented(content="text/html")
def console_page():
    """The review console."""
    return _file("index.html")


@bp.get("/admin/<name>")
@public()
@documented(content="text/plain")
def console_file(name: str):
    """The console's stylesheet and scripts."""
    return _file(name)


def _file(name: str) -> Response:
    path = CONSOLE_FILES / name
    # One flat folder: a name is a file of it, never a path out of it.
    if "/" in name or "\\" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
        raise ApiError(404, "not_found", "No such file.")
    response = Response(path.read_bytes(), 200, content_type=_TYPES[path.suffix])
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(page_security_headers())
    return response
