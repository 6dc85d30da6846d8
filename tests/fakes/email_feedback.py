"""In-memory fakes of the email feedback ports, with the DynamoDB adapters' conditions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from events.email_feedback import BOUNCED, COMPLAINED, COMPLAINT, SUPPRESSED, Feedback, normalize_address
from lambda_platform.adapters.email_feedback import COUNTED, hour_of, is_active


class FakeSuppressionList:
    """A SuppressionList in a dict; `reads` keeps each batch read."""

    def __init__(self, *addresses: str) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.reads: list[list[str]] = []
        for address in addresses:
            self.items[normalize_address(address)] = {
                "address": normalize_address(address),
                "reason": "BOUNCE",
                "suppressed_at": "2025-01-01T00:00:00.000000Z",
            }

    def suppressed(self, addresses: Iterable[str]) -> set[str]:
        """Those on the list now."""
        wanted = sorted({normalize_address(a) for a in addresses})
        self.reads.append(wanted)
        return {a for a in wanted if a in self.items and is_active(self.items[a])}

    def suppress(self, feedback: Feedback) -> bool:
        """As the adapter's conditional update."""
        item = self.items.get(feedback.address)
        if item is not None and not (item.get("lifted_at") and item["lifted_at"] < feedback.at and not is_active(item)):
            return False
        reason = "COMPLAINT" if feedback.event_type == COMPLAINT else "BOUNCE"
        self.items[feedback.address] = {
            **(item or {}),
            "address": feedback.address,
            "reason": reason,
            "suppressed_at": feedback.at,
            "ses_message_id": feedback.message_id,
        }
        return True

    def lift(self, address: str, by: str, at: str) -> bool:
        """Record the lift."""
        item = self.items.get(normalize_address(address))
        if item is None or not is_active(item):
            return False
        item.update(lifted_at=at, lifted_by=by)
        return True

    def entries(self) -> list[dict[str, Any]]:
        """Every item, with `active`."""
        return [{**item, "active": is_active(item)} for item in self.items.values()]


class FakeEmailEvents:
    """EmailEvents in dicts."""

    def __init__(self) -> None:
        self.events: dict[str, Feedback] = {}
        self.hours: dict[str, dict[str, int]] = {}

    def record(self, feedback: Feedback) -> bool:
        """Once per key, counted in its hour."""
        if feedback.key in self.events:
            return False
        self.events[feedback.key] = feedback
        kind = COUNTED.get(feedback.event_type) or ("bounced" if feedback.suppresses else "transient_bounces")
        counts = self.hours.setdefault(hour_of(feedback.at), {})
        counts[kind] = counts.get(kind, 0) + 1
        return True

    def counts(self, hours: Sequence[str]) -> dict[str, int]:
        """Summed over the hours."""
        totals: dict[str, int] = {}
        for hour in dict.fromkeys(hours):
            for kind, n in self.hours.get(hour, {}).items():
                totals[kind] = totals.get(kind, 0) + n
        return totals

    def of_message(self, message_id: str) -> list[dict[str, Any]]:
        """The events of one email."""
        return [{"event": f"{f.event_type}#{f.address}", "at": f.at} for f in self.events.values() if f.message_id == message_id]


class FakeEmailStatuses:
    """Entries (by id, with `email_lower`) and users (by id), marked under the adapter's conditions."""

    def __init__(self, entries: dict[str, dict[str, Any]] | None = None, users: dict[str, dict[str, Any]] | None = None) -> None:
        self.entries = entries if entries is not None else {}
        self.users = users if users is not None else {}
        self.changes = 0

    def mark_address(self, address: str, status: str, at: str) -> int:
        """Every entry and the user of the address."""
        from events.models import user_id_for

        address = normalize_address(address)
        ids = [i for i, e in self.entries.items() if e.get("email_lower") == address]
        return sum(self.mark_entry(i, status, at) for i in ids) + self.mark_user(user_id_for(address), status, at)

    def mark_entry(self, submission_id: str, status: str, at: str) -> bool:
        """One entry."""
        return self._mark(self.entries.get(submission_id), status, at)

    def mark_user(self, user_id: str, status: str, at: str) -> bool:
        """One user."""
        return self._mark(self.users.get(user_id), status, at)

    def _mark(self, item: dict[str, Any] | None, status: str, at: str) -> bool:
        if item is None or item.get("email_status_at", "") >= at:
            return False
        if status == SUPPRESSED and item.get("email_status") in (BOUNCED, COMPLAINED):
            return False
        item.update(email_status=status, email_status_at=at)
        self.changes += 1
        return True
