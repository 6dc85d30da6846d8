"""What a provisioning or wiring step did to one resource, and the changes of one run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """What provisioning did to one resource."""

    kind: str
    name: str
    action: str  # created | updated | unchanged | deferred | pending | unsupported

    @property
    def changed(self) -> bool:
        """Whether this step changed the resource (deferred, pending, unsupported: not yet, or not here)."""
        return self.action in ("created", "updated")

    def __str__(self) -> str:
        return f"{self.action:<9} {self.kind:<6} {self.name}"


class Changes(list):
    """The changes of one run, in order; each also handed to `report` as it is noted."""

    def __init__(self, report: Callable[[Change], None] | None = None) -> None:
        super().__init__()
        self._report = report

    def note(self, change: Change) -> None:
        """Keep `change` and report it."""
        self.append(change)
        if self._report:
            self._report(change)
