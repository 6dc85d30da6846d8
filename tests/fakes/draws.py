"""In-memory fake of the draws table (`lambda_platform.adapters.draws`)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any


class FakeDraws:
    """A DrawStore in dicts: commitments and draws by campaign, frozen ids by (campaign, digest);
    `puts` counts the draws and commitments written."""

    def __init__(self) -> None:
        self.commitments: dict[str, dict[str, Any]] = {}
        self.draws: dict[str, dict[str, Any]] = {}
        self.frozen: dict[tuple[str, str], list[str]] = {}
        self.puts = 0

    def commitment(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's commitment, or None."""
        found = self.commitments.get(campaign_id)
        return copy.deepcopy(found) if found is not None else None

    def commit(self, commitment: Mapping[str, Any]) -> bool:
        """Store the commitment unless the campaign has one, as the conditional put does."""
        if commitment["campaign_id"] in self.commitments:
            return False
        self.commitments[commitment["campaign_id"]] = copy.deepcopy(dict(commitment))
        self.puts += 1
        return True

    def draw(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's draw, or None."""
        found = self.draws.get(campaign_id)
        return copy.deepcopy(found) if found is not None else None

    def put_draw(self, draw: Mapping[str, Any], eligible: Sequence[str]) -> bool:
        """The frozen ids, then the draw unless the campaign has one."""
        self.frozen[(draw["campaign_id"], draw["digest"])] = list(eligible)
        if draw["campaign_id"] in self.draws:
            return False
        self.draws[draw["campaign_id"]] = copy.deepcopy(dict(draw))
        self.puts += 1
        return True

    def eligible(self, campaign_id: str, digest: str) -> list[str] | None:
        """The ids frozen under the digest, or None."""
        found = self.frozen.get((campaign_id, digest))
        return list(found) if found is not None else None
