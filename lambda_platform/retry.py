"""Retry a throttled call a few times, quickly, before failing the record.

botocore's standard mode already retries throttling, but with waits of up to seconds; a
record that fails instead is delivered again by SQS or the stream poller, at the price of
a whole batch's work. This short retry sits between the two: it covers a burst of
throttling (or of faults injected by `FLEET_FAULTS`, which botocore never sees).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from lambda_platform.errors import RetryLater, translate

T = TypeVar("T")

#: Attempts of one call, the first included; a throttle rate p leaves p**3 failing.
ATTEMPTS = 3
BASE_DELAY = 0.02  # seconds; doubled per attempt, with full jitter


def retrying(call: Callable[[], T], attempts: int = ATTEMPTS, base_delay: float = BASE_DELAY) -> T:
    """Run `call`; while it fails with a retryable AWS error, wait a little and run it again.

    The last failure is raised as it came (callers translate it); anything not retryable
    is raised at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not isinstance(translate(exc), RetryLater):
                raise
            time.sleep(random.uniform(0, base_delay * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")
