"""`GET /_local/dashboard`: the fleet at work, live. Local stage only, loopback Host only.

The page (`ingest_api/local_web/`, plain files, no build step) polls
`/_local/dashboard.json` every second and a half: every queue's visible, in-flight and
dead-lettered counts, each trigger's records handled and failed per second over the last
five minutes (the workers' stats), the latest failed records with
their error, and the outbox's count. A dead-letter or on-failure queue that holds
messages gets a dry run and a replay, `POST /_local/dashboard/replay`, which do what
`fleet replay QUEUE [--dry-run]` does. The page reaches all of it through the API's
`FleetMonitor` port, which the local runtime gives it (`fleet.monitor.LocalMonitor`).

The replay is a write that a page on another origin must not make: the Host is loopback
(`ingest_api.local_only`, against DNS rebinding), the Origin must be this page's own
origin, and the body JSON (a cross-origin form cannot send that content type without a
preflight, and the Origin check refuses what a preflight lets through).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from flask import Blueprint, Response, request, send_from_directory

from events.topology import TOPOLOGY
from ingest_api.auth import public
from ingest_api.errors import ApiError
from ingest_api.pages import page_security_headers
from ingest_api.services import services
from ingest_api.spec import documented

bp = Blueprint("dashboard", __name__)

#: The page's files: local-only, never published to the site bucket.
LOCAL_WEB = Path(__file__).with_name("local_web")
_TYPES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


@bp.get("/_local/dashboard")
@public()
@documented(content="text/html")
def dashboard():
    """The live view of the local fleet."""
    page = send_from_directory(LOCAL_WEB, "dashboard.html", mimetype="text/html", max_age=0)
    page.headers.update(page_security_headers())
    page.headers["Cache-Control"] = "no-cache"
    return page


@bp.get("/_local/dashboard.js")
@public()
@documented(content="text/javascript")
def dashboard_script():
    """The live view's script."""
    return _file("dashboard.js")


@bp.get("/_local/dashboard.css")
@public()
@documented(content="text/css")
def dashboard_style():
    """The live view's stylesheet."""
    return _file("dashboard.css")


def _file(name: str) -> Response:
    answer = send_from_directory(LOCAL_WEB, name, mimetype=_TYPES[name], max_age=0)
    answer.headers["Cache-Control"] = "no-cache"
    return answer


@bp.get("/_local/dashboard.json")
@public()
@documented()
def dashboard_state():
    """Queues, triggers' per-second counts, latest failures, the outbox's count and the bounce and complaint rates, now."""
    monitor = services().monitor
    now = time.time()
    parking = TOPOLOGY.on_failure_queues()
    queues = []
    for row in monitor.queues():
        function = _parks_failures_of(row.name) if row.name in parking else None
        queues.append(
            {
                "name": row.name,
                "visible": row.visible,
                "in_flight": row.in_flight,
                "dead_lettered": row.dead_lettered,
                "dead_letter_queue": TOPOLOGY.queue(row.name).dlq_name,
                # An on-failure queue's own messages are the failures; any other's are in its DLQ.
                "parks_failures_of": function,
                "replayable": row.visible + row.in_flight if function else row.dead_lettered,
            }
        )
    view = monitor.live_view(now)
    answer = {
        "now": now,
        "queues": queues,
        "emails_accepted": monitor.emails_accepted(),
        "email_health": monitor.email_health(),
        **view,
    }
    return answer, 200, {"Cache-Control": "no-store"}


@bp.get("/_local/dashboard/replay")
@public()
@documented()
def replayable_queues():
    """The queues a replay may name, and where each one's failed work goes back to."""
    rows = []
    for queue in TOPOLOGY.queues:
        function = _parks_failures_of(queue.name)
        source = queue.name if function else queue.dlq_name
        rows.append({"queue": queue.name, "reads": source, "puts_back_to": function or queue.name})
    return {"queues": rows}, 200, {"Cache-Control": "no-store"}


@bp.post("/_local/dashboard/replay")
@public()
@documented(status=200)
def replay():
    """Replay a queue's failed work (or list it: `dry_run`), as `fleet replay QUEUE` does."""
    _require_same_origin()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.", {"_body": ["Expected a JSON object."]})
    queue, dry_run = body.get("queue"), body.get("dry_run", False)
    known = [q.name for q in TOPOLOGY.queues]
    if not isinstance(queue, str) or queue not in known:
        raise ApiError(
            400,
            "unknown_queue",
            f"No queue {queue!r} in the topology; one of: {', '.join(known)}.",
            {"queue": [f"One of: {', '.join(known)}."]},
        )
    if not isinstance(dry_run, bool):
        raise ApiError(400, "bad_request", "dry_run must be true or false.", {"dry_run": ["Expected true or false."]})
    outcome = services().monitor.replay(queue, dry_run)
    return asdict(outcome), 200, {"Cache-Control": "no-store"}


def _parks_failures_of(queue: str) -> str | None:
    return TOPOLOGY.on_failure_function(queue)


def _require_same_origin() -> None:
    """Refuse a write that is not from this page: its Origin, and a JSON body."""
    host = request.headers.get("Host", "")
    origin = request.headers.get("Origin")
    if origin != f"{request.scheme}://{host}" or request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        raise ApiError(403, "cross_origin", "Replays are taken from the dashboard's own page only (its Origin).")
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json).")
