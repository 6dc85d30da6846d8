"""Each user's own folder in the media bucket, `users/{sub}/`.

`POST /v1/me/files` gives a presigned POST for one named file there, `GET /v1/me/files`
lists that prefix only, `GET /v1/me/files/{name}` gives a presigned GET. A name that would
reach outside the folder (a separator, `..`, a backslash, NUL, an absolute or encoded
path) is refused with a 403 before any key is made from it.
"""

from __future__ import annotations

from flask import Blueprint, g
from werkzeug.routing import PathConverter

from events.schemas import shared
from events.todos import FILE_MAX_BYTES, FILE_NAME, MAX_FILES, FileRequestSchema, escapes_folder
from ingest_api.auth import user
from ingest_api.bodies import json_body
from ingest_api.errors import ApiError
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("files", __name__)


class AnyPath(PathConverter):
    """Everything after the prefix, a leading slash too: `//etc/passwd` must reach the view
    to be refused (403), not fall through to a 404."""

    regex = ".+"
    part_isolating = False  # it spans slashes


@bp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["anypath"] = AnyPath


#: How long a presigned POST or GET stays usable, in seconds.
EXPIRES_IN = 15 * 60


def folder() -> str:
    """The caller's folder (the token's subject is checked to be a plain id)."""
    return f"users/{g.user_sub}/"


def key_of(name: str) -> str:
    """The caller's key for a file name: 403 outside the folder, 422 for a name we do not take."""
    if escapes_folder(name):
        raise ApiError(403, "outside_your_folder", "That name points outside your folder.")
    if not FILE_NAME.match(name):
        raise ApiError(
            422,
            "invalid_fields",
            "Some fields are invalid.",
            {"name": ["Use 1-128 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit."]},
        )
    return folder() + name


@bp.post("/v1/me/files")
@user
@documented(body=FileRequestSchema, status=201)
def create_file():
    """A presigned POST for one file into the caller's folder; 201."""
    document = json_body()
    raw_name = document.get("name")
    if isinstance(raw_name, str) and escapes_folder(raw_name):
        raise ApiError(403, "outside_your_folder", "That name points outside your folder.")
    fields = shared(FileRequestSchema).load(document)
    key = key_of(fields["name"])
    post = services().user_files.presign_post(key, fields["content_type"], fields["content_length"], EXPIRES_IN)
    body = {
        "name": fields["name"],
        "key": key,
        "url": post["url"],
        "fields": post["fields"],
        "expires_in": EXPIRES_IN,
        "max_bytes": FILE_MAX_BYTES,
    }
    return body, 201


@bp.get("/v1/me/files")
@user
def list_files():
    """The files in the caller's folder, and nothing else."""
    prefix = folder()
    found = services().user_files.list(prefix, MAX_FILES)
    return {
        "files": [
            {"name": f["key"][len(prefix) :], "bytes": f["bytes"], "last_modified": f["last_modified"]}
            for f in found
            if f["key"].startswith(prefix)
        ]
    }


@bp.get("/v1/me/files/<anypath:name>")
@user
def get_file(name: str):
    """A presigned GET of one file of the caller's; 404 when it is not there."""
    key = key_of(name)
    files = services().user_files
    if not files.exists(key):
        raise ApiError(404, "file_not_found", "No such file in your folder.")
    return {"name": name, "key": key, "url": files.presign_get(key, EXPIRES_IN), "expires_in": EXPIRES_IN}
