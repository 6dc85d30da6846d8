"""The rate counters of a public write: counted at once, or with its Idempotency-Key.

`ingest_api.auth.public` decides which counters a write is counted in (per client, per
campaign). A `keyed` route with an Idempotency-Key leaves them in `g` for
`ingest_api.idempotency.queue_once`, which counts them in the same write as the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from ingest_api.errors import ApiError
from ingest_api.services import services

#: One-minute windows for the public write limits.
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Counts:
    """The rate counters one public write is counted in, at `now`."""

    #: (counter, kind, limit) each: kind is "client" or "campaign".
    limits: tuple[tuple[str, str, int], ...]
    now: float
    window_seconds: int = WINDOW_SECONDS

    @property
    def per_counter(self) -> list[tuple[str, int]]:
        """(counter, limit) each, as the ports take them."""
        return [(counter, limit) for counter, _, limit in self.limits]

    def refused(self, full: str) -> ApiError:
        """The 429 of a request whose counter `full` is at its limit, with Retry-After."""
        kind = next(k for counter, k, _ in self.limits if counter == full)
        retry_after = max(1, int(self.window_seconds - self.now % self.window_seconds + 0.999))
        error = ApiError(429, "rate_limited", f"Too many requests ({kind}); try again in {retry_after} s.")
        error.headers = {"Retry-After": str(retry_after)}
        return error


def count(counts: Counts) -> None:
    """Count the request in every counter in one call; 429 when one is full (nothing counted)."""
    full = services().rate_limiter.hit(counts.per_counter, counts.window_seconds, counts.now)
    if full is not None:
        raise counts.refused(full)


def defer(counts: Counts) -> None:
    """Leave a request's counts for its key's claim (`take_deferred_counts`)."""
    g.fleet_deferred_counts = counts


def take_deferred_counts() -> Counts | None:
    """The counts a `keyed` route left for its key's claim, taken (None when counted already)."""
    return g.pop("fleet_deferred_counts", None)


def count_deferred() -> None:
    """Count what a `keyed` route left uncounted, if anything; 429 when a counter is full."""
    counts = take_deferred_counts()
    if counts is not None:
        count(counts)
