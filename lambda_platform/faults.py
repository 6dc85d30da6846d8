"""Fault injection for the local stage: `FLEET_FAULTS="ses:0.3,dynamodb:0.1,s3:0.1"`.

A botocore `before-call` hook, registered on each client that `lambda_platform.aws` creates, raises
a `ClientError` with the code the real service uses when it is throttled or unwell, at
the configured rate per API call (`FLEET_FAULTS_SEED` makes the sequence reproducible).

Why `before-call`: it runs before botocore's retry loop, so botocore's standard retry
(3 attempts) never sees an injected fault and cannot hide it; every fault reaches Fleet's
code, which must cope with it (`lambda_platform.retry`, then failing the record). The local stage
only: on any other stage the hook is never registered.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: The error each service answers with when it is throttled or unwell, by botocore's
#: event name of the service; several codes are picked among at random.
CODES: dict[str, tuple[tuple[str, int, str], ...]] = {
    "ses": (("Throttling", 400, "Maximum sending rate exceeded."),),
    "dynamodb": (
        (
            "ProvisionedThroughputExceededException",
            400,
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
    ),
    "s3": (
        ("ServiceUnavailable", 503, "Please reduce your request rate."),
        ("InternalError", 500, "We encountered an internal error. Please try again."),
    ),
    "sqs": (("ServiceUnavailable", 503, "The request has failed due to a temporary failure of the server."),),
}


@dataclass
class FaultPlan:
    """Rates per service and a seeded random source; counts what it injected."""

    rates: dict[str, float]
    seed: int | None = None
    injected: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def decide(self, service: str) -> tuple[str, int, str] | None:
        """The fault to inject in this call of `service`, or None."""
        rate = self.rates.get(service, 0.0)
        with self._lock:
            self.calls[service] = self.calls.get(service, 0) + 1
            if rate <= 0 or self._random.random() >= rate:
                return None
            self.injected[service] = self.injected.get(service, 0) + 1
            return self._random.choice(CODES[service])


def parse(spec: str) -> dict[str, float]:
    """`"ses:0.3,dynamodb:0.1"` as {"ses": 0.3, "dynamodb": 0.1}; ValueError when malformed."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        service, sep, value = part.partition(":")
        service = service.strip().lower()
        if not sep or service not in CODES:
            raise ValueError(f"FLEET_FAULTS: {part!r} is not SERVICE:RATE with SERVICE one of {', '.join(sorted(CODES))}")
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"FLEET_FAULTS: rate {value!r} of {service} is not a number") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"FLEET_FAULTS: rate {rate} of {service} is not between 0 and 1")
        rates[service] = rate
    return rates


_suspended = threading.local()


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """No faults in this thread meanwhile: setting up (provisioning) is not what is tested."""
    _suspended.on = True
    try:
        yield
    finally:
        _suspended.on = False


_plans: dict[tuple[str, int | None], FaultPlan] = {}
_plans_lock = threading.Lock()


def current_plan() -> FaultPlan | None:
    """The fault plan of the current settings (one per spec and seed), or None when off."""
    from lambda_platform import settings

    current = settings.current()
    if not current.local or not current.faults:
        return None
    key = (current.faults, current.faults_seed)
    with _plans_lock:
        if key not in _plans:
            _plans[key] = FaultPlan(parse(current.faults), current.faults_seed)
        return _plans[key]


def reset() -> None:
    """Forget every plan (tests start counting afresh)."""
    with _plans_lock:
        _plans.clear()


def _hook(service: str) -> Callable[..., None]:
    def inject(model: Any = None, **_: Any) -> None:
        plan = current_plan()
        if plan is None or getattr(_suspended, "on", False):
            return
        fault = plan.decide(service)
        if fault is None:
            return
        from botocore.exceptions import ClientError

        code, status, message = fault
        operation = getattr(model, "name", "call")
        raise ClientError(
            {
                "Error": {"Code": code, "Message": f"{message} (injected by FLEET_FAULTS)"},
                "ResponseMetadata": {"HTTPStatusCode": status, "injected": True},
            },
            operation,
        )

    return inject


def install(client: Any, service: str) -> None:
    """Register the fault hook on a client of one of the services faults can target."""
    if service not in CODES:
        return
    event_name = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{event_name}.*", _hook(service), unique_id=f"fleet-faults-{service}")
