"""Fakes for the confirmations worker's settle step, and stream records of the submissions table."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from events.sample_payloads import load_sample
from tests.fakes.codes import FakeCodes
from tests.fakes.email_feedback import FakeEmailStatuses, FakeSuppressionList
from tests.fakes.mail import FakeMailer, MemoryPersistence, once_over
from tests.fakes.tables import FakeCampaigns, campaign
from tests.fakes.uploads import FakeUploads
from workers.confirmations import SettlePorts


@dataclass
class StandInReceipts:
    """`check_receipt` on its ports, as far as the settle step sees it: hash -> earlier entries' ids."""

    copies: dict[str, list[str]] = field(default_factory=dict)
    checked: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, entry: Mapping[str, Any], phash: str) -> list[str]:
        self.checked.append((entry["submission_id"], phash))
        return list(self.copies.get(phash, []))


@dataclass
class Settling:
    """Every fake of one settle step, and the SettlePorts over them."""

    campaigns: FakeCampaigns = field(
        default_factory=lambda: FakeCampaigns(
            campaign("summer", name="Summer Receipts"), campaign("promo", name="Promo", gives_codes=True)
        )
    )
    mailer: FakeMailer = field(default_factory=FakeMailer)
    confirmations: MemoryPersistence = field(default_factory=MemoryPersistence)
    code_emails: MemoryPersistence = field(default_factory=MemoryPersistence)
    uploads: FakeUploads = field(default_factory=FakeUploads)
    codes: FakeCodes = field(default_factory=FakeCodes)
    receipts: StandInReceipts = field(default_factory=StandInReceipts)
    upload_reads: list[list[str]] = field(default_factory=list)
    suppressions: FakeSuppressionList = field(default_factory=FakeSuppressionList)
    statuses: FakeEmailStatuses = field(default_factory=FakeEmailStatuses)

    def ports(self) -> SettlePorts:
        """The ports one batch gets."""
        codes_once = once_over(self.code_emails)

        def upload(upload_id: str) -> Mapping[str, Any] | None:
            self.upload_reads.append([upload_id])
            return self.uploads.get(upload_id)

        return SettlePorts(
            campaigns=self.campaigns,
            mailer=self.mailer,
            once=once_over(self.confirmations),
            code_once=lambda: codes_once,
            upload=upload,
            codes=self.codes,
            check_receipt=self.receipts,
            suppressed=lambda address: bool(self.suppressions.suppressed([address])),
            statuses=self.statuses,
        )

    def store(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep the entry where the codes' fake writes its side, as the submissions table holds it."""
        self.codes.entries[entry["submission_id"]] = copy.deepcopy(entry)
        return self.codes.entries[entry["submission_id"]]


def entry(n: int, campaign_id: str = "summer", **extra: Any) -> dict[str, Any]:
    """A stored accepted entry, the n-th received."""
    return {
        "submission_id": f"entry-{n:03d}",
        "campaign_id": campaign_id,
        "first_name": "Ana",
        "last_name": "Souza",
        "email": f"ana{n}@example.com",
        "email_lower": f"ana{n}@example.com",
        "consent": True,
        "received_at": f"2025-06-14T09:21:{n:02d}.000000+00:00",
        "stored_at": f"2025-06-14T09:21:{n:02d}.500000+00:00",
        "status": "accepted",
        **extra,
    }


_serializer = TypeSerializer()


def stream_event(*changes: tuple[str, Mapping[str, Any]], first_sequence: int = 100) -> dict:
    """Records of the submissions stream, `(event name, new image)` each, shaped as the canonical sample."""
    template = load_sample("dynamodb_stream_insert")["Records"][0]
    records = []
    for n, (name, image) in enumerate(changes):
        record = copy.deepcopy(template)
        record["eventName"] = name
        record["dynamodb"]["Keys"] = {"submission_id": {"S": image["submission_id"]}}
        record["dynamodb"]["NewImage"] = {k: _serializer.serialize(v) for k, v in image.items()}
        record["dynamodb"]["SequenceNumber"] = str(first_sequence + n)
        records.append(record)
    return {"Records": records}
