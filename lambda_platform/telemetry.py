"""Powertools for the workers: one logger, metrics in CloudWatch's embedded format, and a tracer.

Every worker logs through `logger`, under the one service name `fleet`, with
`@logger.inject_lambda_context(clear_state=True)` on its handler. Metrics and the tracer
are made on first use, not at import, so a cold start pays for them only when a worker
runs. Metrics go to stdout as EMF lines (namespace `Fleet`), which CloudWatch Logs
turns into metrics with no API call; the local stage turns them off unless
POWERTOOLS_METRICS_DISABLED says otherwise, and X-Ray tracing is off there too.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

NAMESPACE = "Fleet"
SERVICE = "fleet"

#: The workers' logger: JSON lines carrying the service, the invocation's context and
#: the correlation id a handler sets per record.
logger = Logger(service=SERVICE, child=False)

#: The metric names the workers emit.
SUBMISSIONS_STORED = "submissions_stored"
EMAILS_SENT = "emails_sent"
#: Emails not sent because their address is on the suppression list (not a failure).
EMAILS_SUPPRESSED = "emails_suppressed"
#: SES's sending events applied by workers.email_feedback (a redelivered one is not counted again).
EMAIL_FEEDBACK = "email_feedback"
THUMBNAILS_MADE = "thumbnails_made"
RECORDS_FAILED = "records_failed"


def _local_defaults() -> None:
    if os.environ.get("FLEET_STAGE", "local") == "local":
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


@functools.lru_cache(maxsize=1)
def metrics() -> Any:
    """The process's Powertools Metrics (EMF), namespace `Fleet`."""
    _local_defaults()
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE, service=SERVICE)


@functools.lru_cache(maxsize=1)
def tracer() -> Any:
    """The process's Powertools Tracer (X-Ray); disabled on the local stage."""
    _local_defaults()
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def count(name: str, value: int = 1) -> None:
    """Add `value` to the count metric `name` of the current invocation."""
    if value:
        from aws_lambda_powertools.metrics import MetricUnit

        metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def run_handler(function_name: str, handler: Callable[[Any, Any], Any], event: Any, context: Any) -> Any:
    """Call a worker's handler, count its failed records, and flush the invocation's metrics."""
    try:
        answer = handler(event, context)
        if isinstance(answer, dict):
            count(RECORDS_FAILED, len(answer.get("batchItemFailures") or []))
        return answer
    finally:
        if metrics().metric_set:
            metrics().add_dimension(name="function", value=function_name)
            metrics().flush_metrics()
            metrics().clear_metrics()  # flushing does nothing, and keeps them, when metrics are off
