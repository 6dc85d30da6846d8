"""In-memory fake of the draws table (`lambda_platform.adapters.draws`)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class FakeDraws:
    """A DrawStore in a dict keyed by (campaign id, seed); `puts` counts the writes that stored."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.puts = 0

    def get(self, campaign_id: str, seed: str) -> dict[str, Any] | None:
        """The stored draw, or None."""
        item = self.items.get((campaign_id, seed))
        return copy.deepcopy(item) if item is not None else None

    def put_new(self, draw: Mapping[str, Any]) -> bool:
        """Store a draw unless its campaign and seed are stored already, as the conditional put does."""
        key = (draw["campaign_id"], draw["seed"])
        if key in self.items:
            return False
        self.items[key] = copy.deepcopy(dict(draw))
        self.puts += 1
        return True
