"""An in-memory fake of the CodeStore port, with the DynamoDB adapter's conditions, safe across threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from events.models import ACCEPTED, WAITLISTED
from lambda_platform.errors import NotFound
from lambda_platform.ports import CodeGrant


class FakeCodes:
    """Codes by (campaign, code) and the entries' side in `entries` (share a FakeSubmissions' `items`).

    `taken_concurrently` holds codes that another worker takes just before this one's give.
    """

    def __init__(self, entries: dict[str, dict[str, Any]] | None = None) -> None:
        self.codes: dict[tuple[str, str], dict[str, Any]] = {}
        self.entries: dict[str, dict[str, Any]] = entries if entries is not None else {}
        self.taken_concurrently: dict[str, str] = {}
        self.gives: list[tuple[str, str]] = []
        self._lock = threading.RLock()

    def add(self, campaign_id: str, codes: Sequence[tuple[str, str]], added_at: str) -> set[str]:
        """Put each new code in the pool; a code held already is left as it is."""
        added: set[str] = set()
        with self._lock:
            for code, order in codes:
                if (campaign_id, code) not in self.codes:
                    self.codes[(campaign_id, code)] = {
                        "campaign_id": campaign_id,
                        "code": code,
                        "pool": campaign_id,
                        "pool_order": order,
                        "added_at": added_at,
                    }
                    added.add(code)
        return added

    def available(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """Codes in the pool by pool order, after the pool order `after`."""
        with self._lock:
            pool = sorted((c["pool_order"], c["code"]) for c in self.codes.values() if c.get("pool") == campaign_id)
        pool = [p for p in pool if after is None or p[0] > after]
        page = pool[:limit]
        more = page[-1][0] if len(pool) > limit else None
        return [code for _, code in page], more

    def give(self, campaign_id: str, code: str, submission_id: str, given_at: str) -> CodeGrant:
        """Both conditional updates, or neither."""
        with self._lock:
            self.gives.append((code, submission_id))
            item = self.codes.get((campaign_id, code))
            if code in self.taken_concurrently and item is not None and item.get("pool"):
                item.pop("pool")
                item["given_to"] = self.taken_concurrently.pop(code)
            entry = self.entries.get(submission_id)
            if entry is None:
                raise NotFound(f"entry {submission_id} is not stored")
            if entry.get("code"):
                return CodeGrant(entry["code"])
            if item is None or item.get("pool") != campaign_id:
                return CodeGrant(None)
            item.pop("pool")
            item.update(given_to=submission_id, given_at=given_at)
            entry.update(code=code, code_given_at=given_at, status=ACCEPTED)
            entry.pop("waitlisted_in", None)
            return CodeGrant(code, given=True)

    def waitlist(self, campaign_id: str, submission_id: str, at: str) -> str | None:
        """Waitlist an entry holding no code; the code it holds instead."""
        with self._lock:
            entry = self.entries.get(submission_id)
            if entry is None:
                raise NotFound(f"entry {submission_id} is not stored")
            if entry.get("code"):
                return entry["code"]
            entry.update(status=WAITLISTED, waitlisted_in=campaign_id)
            entry.setdefault("waitlisted_at", at)
            return None

    def waitlisted(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """Waitlisted entries by `received_at`, after the entry key `after`."""
        with self._lock:
            waiting = sorted(
                (e["received_at"], e["submission_id"]) for e in self.entries.values() if e.get("waitlisted_in") == campaign_id
            )
        waiting = [w for w in waiting if after is None or w > after]
        page = waiting[:limit]
        more = page[-1] if len(waiting) > limit else None
        return [submission_id for _, submission_id in page], more

    def counts(self, campaign_id: str) -> tuple[int, int, int]:
        """(available, given, waitlisted)."""
        with self._lock:
            mine = [c for c in self.codes.values() if c["campaign_id"] == campaign_id]
            available = sum(1 for c in mine if c.get("pool"))
            waiting = sum(1 for e in self.entries.values() if e.get("waitlisted_in") == campaign_id)
        return available, len(mine) - available, waiting

    def given(self, campaign_id: str) -> dict[str, str]:
        """code -> the entry it went to."""
        with self._lock:
            return {c["code"]: c["given_to"] for c in self.codes.values() if c["campaign_id"] == campaign_id and "given_to" in c}
