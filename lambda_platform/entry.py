"""The workers' Lambda entry point: one function runs every worker, routed by the topology.

Zappa's `workers` stage names `lambda_platform.entry.lambda_handler`. Zappa's own handler routes by
its AWS_EVENT_MAPPING, crashes on a Pipe's bare list and returns None for a record it
does not know (Lambda then deletes the batch). Here every event is routed by its
source (queue, stream table, bucket) to the function the topology feeds from it,
and an event that cannot be routed raises, so Lambda retries it and the dead-letter
queue or on-failure destination catches it.

Nothing heavy is imported here: the worker module is imported on its first event.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from events.topology import TOPOLOGY, Function, Topology, physical_name

_Route = TypeVar("_Route")


class UnroutableEvent(Exception):
    """An event that no function of the topology consumes."""


_settings_loaded = False


def load_zappa_settings() -> None:
    """Do what Zappa's handler does first: put its settings module's environment in os.environ.

    `zappa package` writes `zappa_settings.py` at the root of the zip; outside a package
    (tests, the local runtime) there is none and the environment is left as it is.
    """
    global _settings_loaded
    if _settings_loaded:
        return
    try:
        zappa_settings = importlib.import_module("zappa_settings")
    except ImportError:
        zappa_settings = None
    if zappa_settings is not None:
        os.environ["SERVERTYPE"] = "AWS Lambda"
        os.environ["FRAMEWORK"] = "Zappa"
        for name, attribute in (("PROJECT", "PROJECT_NAME"), ("STAGE", "API_STAGE")):
            if getattr(zappa_settings, attribute, None):
                os.environ[name] = getattr(zappa_settings, attribute)
        for key, value in (getattr(zappa_settings, "ENVIRONMENT_VARIABLES", None) or {}).items():
            os.environ[key] = value
        level = getattr(zappa_settings, "LOG_LEVEL", None)
        if level:
            logging.getLogger().setLevel(logging.getLevelName(level))
    # X-Ray has no daemon locally: Powertools' Tracer stays off on the local stage.
    if os.environ.get("FLEET_STAGE", "local") == "local":
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    _settings_loaded = True


@dataclass(frozen=True)
class Routes:
    """Which function consumes each physical source of one stage."""

    queues: dict[str, Function]
    tables: dict[str, Function]
    buckets: dict[str, tuple[str, str, Function]]  # bucket -> (prefix, queue, function)

    @classmethod
    def of(cls, stage: str, topology: Topology = TOPOLOGY) -> Routes:
        """The routes of a stage's physical names."""
        queues: dict[str, Function] = {}
        tables: dict[str, Function] = {}
        for function in topology.functions:
            for trigger in function.triggers:
                if trigger.kind in ("sqs", "pipe"):
                    queues[physical_name(stage, trigger.queue)] = function
                elif trigger.kind == "stream":
                    tables[physical_name(stage, trigger.table)] = function
        buckets = {
            physical_name(stage, b.name): (
                b.notify_prefix or "",
                physical_name(stage, b.notify_queue),
                queues[physical_name(stage, b.notify_queue)],
            )
            for b in topology.buckets
            if b.notify_queue and physical_name(stage, b.notify_queue) in queues
        }
        return cls(queues, tables, buckets)

    def function_for(self, event: Any) -> Function:
        """The function that consumes `event`; UnroutableEvent when there is none."""
        records = _records(event)
        if not records:
            raise UnroutableEvent("an event with no records")
        found = {self._route(record).name: self._route(record) for record in records}
        if len(found) != 1:
            raise UnroutableEvent(f"one event for several functions: {', '.join(sorted(found))}")
        return next(iter(found.values()))

    def _route(self, record: Any) -> Function:
        if not isinstance(record, dict):
            raise UnroutableEvent(f"a record that is not an object: {type(record).__name__}")
        # An SNS record spells it EventSource: read both, so that the error names its source.
        source = record.get("eventSource") or record.get("EventSource")
        if source == "aws:sqs":
            queue = _arn_resource(record.get("eventSourceARN", ""))
            return _known(self.queues, queue, "queue")
        if source == "aws:dynamodb":
            # arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
            parts = _arn_resource(record.get("eventSourceARN", "")).split("/")
            table = parts[1] if len(parts) >= 2 and parts[0] == "table" else ""
            return _known(self.tables, table, "stream table")
        if source == "aws:s3":
            bucket = record.get("s3", {}).get("bucket", {}).get("name", "")
            prefix, _queue, function = _known(self.buckets, bucket, "bucket")
            key = record.get("s3", {}).get("object", {}).get("key", "")
            if not key.startswith(prefix):
                raise UnroutableEvent(f"no function for {bucket}/{key}: outside {prefix!r}")
            return function
        raise UnroutableEvent(f"a record from an unknown source: {source!r}")


def _records(event: Any) -> list[Any]:
    if isinstance(event, list):  # an EventBridge Pipe: always a bare array
        return event
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        records: list[Any] = event["Records"]
        return records
    raise UnroutableEvent(f"not a record event: {json.dumps(event, default=str)[:200]}")


def _arn_resource(arn: str) -> str:
    # arn:aws:sqs:REGION:ACCOUNT:NAME -> NAME
    return arn.split(":", 5)[5] if arn.count(":") >= 5 else ""


def _known(routes: Mapping[str, _Route], name: str, kind: str) -> _Route:
    if name not in routes:
        raise UnroutableEvent(f"no function consumes the {kind} {name!r}")
    return routes[name]


@functools.lru_cache(maxsize=4)
def routes_of(stage: str) -> Routes:
    """The (cached) routes of a stage."""
    return Routes.of(stage)


def _as_queue_batch(event: dict[str, Any], queue: str) -> dict[str, Any]:
    """A direct S3 notification, delivered as the bucket's queue would deliver it."""
    return {
        "Records": [
            {
                "messageId": record.get("responseElements", {}).get("x-amz-request-id") or f"s3-{n}",
                "body": json.dumps({"Records": [record]}),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{record.get('awsRegion', '')}::{queue}",
                "attributes": {},
                "messageAttributes": {},
            }
            for n, record in enumerate(event["Records"])
        ]
    }


def lambda_handler(event: Any, context: Any) -> Any:
    """Run the worker that consumes `event` and return its answer (a partial batch response)."""
    load_zappa_settings()
    stage = os.environ.get("FLEET_STAGE", "local")
    routes = routes_of(stage)
    function = routes.function_for(event)
    records = _records(event)
    first = records[0] if records else {}
    if isinstance(first, dict) and (first.get("eventSource") == "aws:s3"):
        bucket = first["s3"]["bucket"]["name"]
        event = _as_queue_batch(event, routes.buckets[bucket][1])
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    from lambda_platform.telemetry import run_handler

    answer = run_handler(function.name, handler, event, context)
    if answer is None:
        raise RuntimeError(f"{function.handler} returned None: no partial batch response")
    return answer
