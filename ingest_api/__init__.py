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

    from ingest_api import blog, health, submissions, uploads, users

    app.register_blueprint(blog.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(submissions.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(users.bp)
    from ingest_api import campaigns

    app.register_blueprint(campaigns.bp)
    _register_local_routes(app)
    return app


def _register_local_routes(app: Flask) -> None:
    """Routes that exist on the local stage only (`LOCAL` in the config overrides settings)."""
    local = app.config.get("LOCAL")
    if local is None:
        from fleet import settings

        local = settings.current().local
    if local:
        from ingest_api import outbox

        app.register_blueprint(outbox.bp)
