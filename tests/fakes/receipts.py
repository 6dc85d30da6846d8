"""In-memory fakes of the ReceiptIndex and ReceiptFlags ports, behaving as their DynamoDB adapters do."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from events.models import DUPLICATE_RECEIPT
from lambda_platform.errors import RetryLater


class FakeReceiptIndex:
    """receipt_bands in a dict of bands; `queries` counts the Queries made (a Scan has no method here).

    `throttle` makes `record` raise RetryLater, as unprocessed items would.
    """

    def __init__(self) -> None:
        self.bands: dict[str, dict[str, dict[str, Any]]] = {}
        self.queries: list[str] = []
        self.throttle = False
        self._lock = threading.Lock()

    def record(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write band items; the same item written again replaces itself."""
        if self.throttle:
            raise RetryLater("ProvisionedThroughputExceededException")
        with self._lock:
            for item in items:
                self.bands.setdefault(item["band"], {})[item["submission_id"]] = dict(item)

    def band(self, band: str) -> list[dict[str, Any]]:
        """Every item of one band, by submission id."""
        with self._lock:
            self.queries.append(band)
            return [copy.deepcopy(self.bands[band][k]) for k in sorted(self.bands.get(band, {}))]


class FakeReceiptFlags:
    """The entries' receipt attributes on `entries` (share a FakeSubmissions' `items`).

    `throttle` names methods that raise RetryLater, as a throttled DynamoDB would.
    """

    def __init__(self, entries: dict[str, dict[str, Any]] | None = None) -> None:
        self.entries: dict[str, dict[str, Any]] = entries if entries is not None else {}
        self.throttle: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _check(self, method: str, submission_id: str) -> None:
        self.calls.append((method, submission_id))
        if method in self.throttle:
            raise RetryLater(f"ProvisionedThroughputExceededException: {method}")

    def flag(self, submission_id: str, copies: Sequence[str]) -> bool:
        """Add ids to the stored entry's `duplicate_receipt` set; False when it is not stored."""
        self._check("flag", submission_id)
        with self._lock:
            entry = self.entries.get(submission_id)
            if entry is None:
                return False
            if copies:
                entry[DUPLICATE_RECEIPT] = set(entry.get(DUPLICATE_RECEIPT) or ()) | set(copies)
            return True

    def senders(self, upload_key: str) -> list[str]:
        """The ids of the stored entries whose `upload_key` is this one."""
        self._check("senders", upload_key)
        with self._lock:
            return sorted(k for k, e in self.entries.items() if e.get("upload_key") == upload_key)

    def mark_ready(self, submission_id: str, at: str) -> bool:
        """Set `receipt_ready_at` on a stored entry; False when it is not stored."""
        self._check("mark_ready", submission_id)
        with self._lock:
            entry = self.entries.get(submission_id)
            if entry is None:
                return False
            entry["receipt_ready_at"] = at
            return True
