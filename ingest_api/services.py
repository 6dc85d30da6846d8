"""The ports the views use: the app's `Ports` from the composition root.

An app built with `SERVICES` in its config (a `Ports` holding the unit tier's in-memory
fakes, or the local runtime's, which carries the live view's monitor) uses those;
otherwise it gets its own `Ports`, each adapter built on the first request that needs it.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from lambda_platform.composition import Ports


def services() -> Ports:
    """The app's ports, created on first use."""
    extensions = current_app.extensions
    found = extensions.get("fleet_services")
    if found is None:
        found = extensions["fleet_services"] = current_app.config.get("SERVICES") or Ports()
    return found


def prepare(app: Flask) -> None:
    """Look the app's queue URLs up now, so that no request pays a GetQueueUrl.

    For a server that is about to serve the app (the local API process), not for
    `create_app`: importing the Lambda entry point creates no AWS client (a cold start
    pays for what it uses, on its first request). Queues given as fakes are left alone.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from lambda_platform.adapters.queues import SqsQueue
    from lambda_platform.errors import FleetError

    with app.app_context():
        built = services()
    try:
        queues = (built.submissions_queue, built.users_queue, built.blog_queue, built.todos_queue, built.campaign_admin_queue)
        for queue in queues:
            if isinstance(queue, SqsQueue):
                queue.resolve()
    except (FleetError, BotoCoreError, ClientError) as exc:
        # Not provisioned yet, or AWS not reachable: the first send looks its URL up instead.
        logging.getLogger(__name__).warning("queue URLs not looked up at start: %s", exc)
