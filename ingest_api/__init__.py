"""The ingestion API: a thin Flask app that validates requests and queues work."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ingest_api.errors import register_error_handlers

#: Largest request body the API reads; images go to S3 with presigned posts instead.
MAX_BODY_BYTES = 64 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; `test_config` may carry `SERVICES` (the ports, e.g. fakes)."""
    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)

    register_error_handlers(app)
    # `//` must reach the views (a file name's tricks are refused there), not be redirected.
    app.url_map.merge_slashes = False

    from ingest_api import blog, health, submissions, uploads, users

    app.register_blueprint(blog.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(submissions.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(users.bp)
    from ingest_api import campaigns

    app.register_blueprint(campaigns.bp)
    from ingest_api import files, openapi, todos
    from ingest_api.security import register_response_headers

    app.register_blueprint(todos.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(openapi.bp)
    register_response_headers(app)
    _register_local_routes(app)
    _require_route_classes(app)
    return app


def _require_route_classes(app: Flask) -> None:
    """Refuse to start with a route that is neither public, API key nor user (see ingest_api.auth)."""
    from ingest_api.auth import route_class

    unclassed = sorted(e for e, view in app.view_functions.items() if e != "static" and route_class(view) is None)
    if unclassed:
        raise RuntimeError(f"routes without a class (public, api_key or user): {', '.join(unclassed)}")


def _register_local_routes(app: Flask) -> None:
    """Routes that exist on the local stage only (`LOCAL` in the config overrides settings)."""
    local = app.config.get("LOCAL")
    if local is None:
        from fleet import settings

        local = settings.current().local
    if local:
        from ingest_api import issuer, outbox

        app.register_blueprint(outbox.bp)
        app.register_blueprint(issuer.bp)
