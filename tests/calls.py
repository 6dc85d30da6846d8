"""Counting the AWS calls Fleet makes, for the tests that hold a flow to its number of calls."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def counting_calls() -> Iterator[collections.Counter[str]]:
    """Counts, by operation name, of every AWS call of every client made inside the block."""
    from lambda_platform import aws

    counted: collections.Counter[str] = collections.Counter()

    def count(**kwargs: Any) -> None:
        counted.update([kwargs["model"].name])

    aws.on_every_call(count)
    try:
        yield counted
    finally:
        aws.off_every_call(count)
