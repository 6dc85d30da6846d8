"""The HTTP baseline of bench.ingest: a bare Flask route that only makes the SendMessage.

Served by the same server as the API (`python -m fleet.runtime.gunicorn_app --app
bench.ingest.bare:create_app`), against the same moto: the body parsed as JSON, a
SubmitEntry built from it without validation, sent by the same SQS adapter as ours (one
SendMessage, the queue URL looked up at start), 202. No origin check, rate limit,
Idempotency-Key, schema, campaign lookup or security headers.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from flask import Flask, request

from events.messages.campaigns import SubmitEntry


def create_app() -> Flask:
    """The bare app, its queue URL resolved."""
    from lambda_platform.adapters.queues import SqsQueue

    app = Flask("bare")
    queue = SqsQueue("submissions")
    queue.resolve()

    @app.post("/v1/campaigns/<campaign_id>/submissions")
    def create_submission(campaign_id: str):
        body = json.loads(request.get_data())
        entry = SubmitEntry(
            submission_id=str(uuid.uuid4()),
            campaign_id=campaign_id,
            first_name=body["first_name"],
            last_name=body["last_name"],
            email=body["email"],
            consent=bool(body["consent"]),
            received_at=datetime.now(UTC).isoformat(),
        )
        queue.send(entry)
        return {"submission_id": entry.submission_id, "status": "queued"}, 202

    return app
