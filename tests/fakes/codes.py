"""An in-memory fake of the CodeStore port, with the DynamoDB adapter's conditions, safe across threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from events.models import ACCEPTED, DUPLICATE_RECEIPT, REJECTED, WAITLISTED, code_key
from lambda_platform.adapters.codes import may_hold_code
from lambda_platform.errors import NotFound
from lambda_platform.ports import CodeGrant


class FakeCodes:
    """Codes by (campaign, code key) and the entries' side in `entries` (share a FakeSubmissions' `items`).

    `taken_concurrently` holds codes that another worker takes just before this one's give;
    `before_give` runs (under the lock) just before each give checks the entry, as another
    writer would (a flag, a review).
    """

    def __init__(self, entries: dict[str, dict[str, Any]] | None = None) -> None:
        self.codes: dict[tuple[str, str], dict[str, Any]] = {}
        self.entries: dict[str, dict[str, Any]] = entries if entries is not None else {}
        self.taken_concurrently: dict[str, str] = {}
        self.before_give: Callable[[str], None] | None = None
        self.gives: list[tuple[str, str]] = []
        self._lock = threading.RLock()

    def add(self, campaign_id: str, codes: Sequence[tuple[str, str]], added_at: str) -> dict[str, str]:
        """Put each new code in the pool under its key; a code held already (in any case) is left as it is."""
        held: dict[str, str] = {}
        with self._lock:
            for code, order in codes:
                known = self.codes.get((campaign_id, code_key(code)))
                if known is not None:
                    held[code] = known["pool_order"]
                    continue
                self.codes[(campaign_id, code_key(code))] = {
                    "campaign_id": campaign_id,
                    "code": code_key(code),
                    "text": code,
                    "pool": campaign_id,
                    "pool_order": order,
                    "added_at": added_at,
                }
        return held

    def available(self, campaign_id: str, limit: int, after: Any = None) -> tuple[list[str], Any]:
        """Codes in the pool, as imported, by pool order, after the pool order `after`."""
        with self._lock:
            pool = sorted((c["pool_order"], c["text"]) for c in self.codes.values() if c.get("pool") == campaign_id)
        pool = [p for p in pool if after is None or p[0] > after]
        page = pool[:limit]
        more = page[-1][0] if len(pool) > limit else None
        return [code for _, code in page], more

    def give(self, campaign_id: str, code: str, submission_id: str, given_at: str) -> CodeGrant:
        """Both conditional updates, or neither."""
        with self._lock:
            self.gives.append((code, submission_id))
            if self.before_give is not None:
                self.before_give(submission_id)
            item = self.codes.get((campaign_id, code_key(code)))
            if code in self.taken_concurrently and item is not None and item.get("pool"):
                item.pop("pool")
                item["given_to"] = self.taken_concurrently.pop(code)
            entry = self.entries.get(submission_id)
            if entry is None:
                raise NotFound(f"entry {submission_id} is not stored")
            if entry.get("code"):
                return CodeGrant(entry["code"])
            if not may_hold_code(entry, campaign_id):
                return CodeGrant(None, eligible=False)
            if item is None or item.get("pool") != campaign_id:
                return CodeGrant(None)
            item.pop("pool")
            item.update(given_to=submission_id, given_at=given_at)
            entry.update(code=code, code_given_at=given_at, status=ACCEPTED)
            entry.pop("waitlisted_in", None)
            return CodeGrant(code, given=True)

    def waitlist(self, campaign_id: str, submission_id: str, at: str) -> CodeGrant | None:
        """Waitlist an entry holding no code that may hold one; what it is instead."""
        with self._lock:
            entry = self.entries.get(submission_id)
            if entry is None:
                raise NotFound(f"entry {submission_id} is not stored")
            if entry.get("code"):
                return CodeGrant(entry["code"])
            if not may_hold_code(entry, campaign_id):
                return CodeGrant(None, eligible=False)
            entry.update(status=WAITLISTED, waitlisted_in=campaign_id)
            entry.setdefault("waitlisted_at", at)
            return None

    def leave_waitlist(self, campaign_id: str, submission_id: str) -> bool:
        """Off the waitlist, accepted again, when flagged or rejected (the conditional update's rule)."""
        with self._lock:
            entry = self.entries.get(submission_id)
            if entry is None or entry.get("waitlisted_in") != campaign_id or entry.get("status") != WAITLISTED:
                return False
            if entry.get("code") or not (entry.get(DUPLICATE_RECEIPT) or (entry.get("review") or {}).get("decision") == REJECTED):
                return False
            entry["status"] = ACCEPTED
            entry.pop("waitlisted_in")
            return True

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

    def unmailed(self, campaign_id: str) -> int:
        """Entries of the campaign holding a code whose address bounced or was suppressed."""
        with self._lock:
            return sum(
                1
                for e in self.entries.values()
                if e.get("campaign_id") == campaign_id and e.get("code") and e.get("email_status") in ("bounced", "suppressed")
            )

    def given(self, campaign_id: str) -> dict[str, str]:
        """code -> the entry it went to."""
        with self._lock:
            return {c["text"]: c["given_to"] for c in self.codes.values() if c["campaign_id"] == campaign_id and "given_to" in c}
