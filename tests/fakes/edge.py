"""An in-memory EdgeCache: the invalidations asked of it, in order."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_platform.errors import RetryLater


class FakeEdgeCache:
    """An EdgeCache that records each invalidation's paths; `absent` plays a stage with no edge,
    `throttled` an edge that refuses the next N invalidations (CloudFront's in-progress limit)."""

    def __init__(self, absent: bool = False, throttled: int = 0) -> None:
        self.invalidations: list[tuple[str, ...]] = []
        self.absent = absent
        self.throttled = throttled

    def invalidate(self, paths: Sequence[str]) -> str | None:
        """Record the paths (one invalidation); None when absent or nothing to invalidate."""
        if not paths or self.absent:
            return None
        if self.throttled:
            self.throttled -= 1
            raise RetryLater("TooManyInvalidationsInProgress: too many invalidations in progress")
        self.invalidations.append(tuple(paths))
        return f"fake-{len(self.invalidations)}"

    @property
    def paths(self) -> list[str]:
        """Every path invalidated so far, in order."""
        return [path for batch in self.invalidations for path in batch]
