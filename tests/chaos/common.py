"""Shared by the chaos tests: a campaign's worth of entries, and what the fleet made of them."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from events.messages.campaigns import SubmitEntry
from events.messages.envelope import dump_message, message_type
from lambda_platform import aws, settings
from lambda_platform.adapters.queues import queue_url

CAMPAIGN = "chaos"


@dataclass(frozen=True)
class Planned:
    """One submission of the run; `poison` ones fail until the poison rule is switched off."""

    body: dict
    key: str
    poison: bool
    repeat: bool


def plan(count: int, repeat_share: float, poison_share: float, seed: int = 6) -> list[Planned]:
    """`count` submissions: a share repeating an earlier email (in another case), a share poison."""
    rng = random.Random(seed)
    planned: list[Planned] = []
    emails: list[str] = []
    for n in range(count):
        repeat = bool(emails) and rng.random() < repeat_share
        poison = not repeat and rng.random() < poison_share
        email = rng.choice(emails).upper() if repeat else f"entrant{n}@example.com"
        if not repeat:
            emails.append(email)
        body = {
            "first_name": "Poison" if poison else f"Ada{n}",
            "last_name": "Lovelace",
            "email": email,
            "consent": True,
        }
        planned.append(Planned(body, f"chaos-{n}", poison, repeat))
    return planned


def is_poison(entry: SubmitEntry) -> bool:
    """The poison rule: a stand-in for a bug that fails these entries until it is fixed."""
    return entry.first_name == "Poison"


def queue_directly(planned: list[Planned]) -> list[str]:
    """Put entries straight onto the submissions queue, as the API would; return their ids."""
    ids = []
    now = datetime.now(UTC).isoformat()
    for start in range(0, len(planned), 10):
        entries = []
        for i, p in enumerate(planned[start : start + 10]):
            entry = SubmitEntry(submission_id=str(uuid.uuid4()), campaign_id=CAMPAIGN, received_at=now, **p.body)
            ids.append(entry.submission_id)
            entries.append(
                {
                    "Id": str(i),
                    "MessageBody": dump_message(entry),
                    "MessageAttributes": {
                        "type": {"DataType": "String", "StringValue": message_type(entry)},
                        "message_id": {"DataType": "String", "StringValue": entry.message_id},
                    },
                }
            )
        response = aws.client("sqs").send_message_batch(QueueUrl=queue_url("submissions"), Entries=entries)
        assert not response.get("Failed"), response
    return ids


def sent_confirmations() -> Counter:
    """How many confirmation emails the local SES accepted, per submission id.

    Read from moto's backend in this process (the tests' moto server runs here), not from
    `/moto-api/data.json`, which fails to serialise some DynamoDB stream states.
    """
    import re

    from moto.ses.models import ses_backends

    backend = ses_backends[aws.account_id()][settings.current().region]
    counts: Counter = Counter()
    for message in list(backend.sent_messages):
        found = re.search(r"Entry:\s*([0-9a-f-]{36})", str(getattr(message, "body", "")))
        if found:
            counts[found.group(1)] += 1
    return counts
