"""Resolve handlers by dotted path, call them as Lambda does, and read their batch answers as it does."""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from events.topology import Function


def resolve(dotted: str) -> Callable[[Any, Any], Any]:
    """The callable named `package.module.attribute`, imported as Lambda would."""
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def invoke(function: Function, event: Any, function_arn: str) -> Any:
    """Call a function's handler once with a fresh context."""
    context = LocalContext(
        function_name=function.name,
        memory_limit_in_mb=function.memory_mb,
        invoked_function_arn=function_arn,
        timeout_seconds=function.timeout_seconds,
    )
    from lambda_platform.telemetry import run_handler

    return run_handler(function.name, resolve(function.handler), event, context)


def reported_failures(response: Any, batch_ids: list[str]) -> list[str] | None:
    """The ids a handler's partial batch response names as failed, in its order; None when malformed.

    As on AWS: no response, `{}`, or a `batchItemFailures` list that is empty or null mean
    every record succeeded (`[]`); a response naming an id that is not in the batch, or of
    the wrong shape, is malformed, which Lambda and Pipes treat as a failure of the whole
    batch (a function error).
    """
    if response is None or response == {}:
        return []
    if not isinstance(response, dict):
        return None
    items = response.get("batchItemFailures")
    if items is None:
        return []
    if not isinstance(items, list):
        return None
    known = set(batch_ids)
    named: list[str] = []
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        named.append(identifier)
    return named
