"""What a provisioning step did to one resource."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """What provisioning did to one resource."""

    kind: str
    name: str
    action: str  # created | updated | unchanged | deferred | pending

    def __str__(self) -> str:
        return f"{self.action:<9} {self.kind:<6} {self.name}"
