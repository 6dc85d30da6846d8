"""The ingestion API: a thin Flask app that validates requests and queues work."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from flask import Flask

from ingest_api.errors import register_error_handlers
from ingest_api.limits import MAX_BODY_BYTES  # also read as ingest_api.MAX_BODY_BYTES

#: The blueprint modules (one per resource, each a `bp`), registered in this order on every
#: stage. A blueprint module imports no other: what views share lives in `ingest_api.lookups`.
BLUEPRINTS = (
    "blog",
    "health",
    "submissions",
    "uploads",
    "users",
    "campaigns",
    "todos",
    "files",
    "admin_campaigns",
    "admin_outcome",
    "openapi",
)
#: The blueprint modules of the local stage only.
LOCAL_BLUEPRINTS = ("outbox", "issuer", "dashboard", "console")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; `test_config` may carry `SERVICES` (the ports, e.g. fakes)."""
    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)

    register_error_handlers(app)
    from ingest_api.local_only import require_loopback_host

    # Before every route: a `/_local/...` route added anywhere is held to loopback too.
    app.before_request(require_loopback_host)
    from ingest_api.queries import refuse_repeated_parameters

    # Before every route too: a repeated query parameter is read one way here and another elsewhere.
    app.before_request(refuse_repeated_parameters)
    # `//` must reach the views (a file name's tricks are refused there), not be redirected.
    app.url_map.merge_slashes = False

    from ingest_api.security import register_response_headers

    _register_blueprints(app, BLUEPRINTS)
    register_response_headers(app)
    if _is_local(app):
        _register_blueprints(app, LOCAL_BLUEPRINTS)
    _require_route_classes(app)
    _require_campaign_in_campaign_routes(app)
    return app


def _require_route_classes(app: Flask) -> None:
    """Refuse to start with a route that is neither public, API key nor user (see ingest_api.auth)."""
    from ingest_api.auth import route_class

    unclassed = sorted(e for e, view in app.view_functions.items() if e != "static" and route_class(view) is None)
    if unclassed:
        raise RuntimeError(f"routes without a class (public, api_key or user): {', '.join(unclassed)}")


def _require_campaign_in_campaign_routes(app: Flask) -> None:
    """Refuse to start with a `campaigns:*` route whose path names no campaign: a key's
    binding to its campaigns could not be checked there (see ingest_api.auth.api_key); a
    route declared as listing the key's campaigns filters them itself."""
    from lambda_platform.access import CAMPAIGN_SCOPES

    unbound = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "scope", None) in CAMPAIGN_SCOPES
        and "campaign_id" not in rule.arguments
        and not getattr(app.view_functions[rule.endpoint], "lists_campaigns", False)
    )
    if unbound:
        raise RuntimeError(f"campaigns:* routes without a <campaign_id>: {', '.join(unbound)}")


def _register_blueprints(app: Flask, modules: Iterable[str]) -> None:
    for module in modules:
        app.register_blueprint(importlib.import_module(f"ingest_api.{module}").bp)


def _is_local(app: Flask) -> bool:
    """True on the local stage (`LOCAL` in the config overrides the settings)."""
    local = app.config.get("LOCAL")
    if local is None:
        from lambda_platform import settings

        local = settings.current().local
    return bool(local)
