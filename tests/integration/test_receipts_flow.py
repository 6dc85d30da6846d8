"""Duplicate receipts end to end: two entries whose photos are copies, through the API, S3 and the workers.

The earlier entry's photo is ready before its entry is stored; the later entry is stored
while its photo is still pending (its confirmation waits), then the photo lands and the
thumbnail worker's touch brings the entry back to its confirmation, which finds the copy
by the hash's bands. Every DynamoDB call is counted: Queries, never a Scan.
"""

from __future__ import annotations

import pytest
import requests
from PIL import Image

from campaigns.receipts import BANDS
from events.models import DUPLICATE_RECEIPT
from fleet.status import queue_status
from lambda_platform.adapters.entries import DynamoEntries
from tests.calls import counting_calls
from tests.unit import images
from tests.unit.test_receipts import receipt_photo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def calls(running_fleet):
    """Counts of every AWS operation from now on, the workers' included (they run in this process)."""
    with counting_calls() as counted:
        yield counted


def presign(api: str, campaign: str, data: bytes) -> dict:
    answer = requests.post(
        f"{api}/v1/campaigns/{campaign}/uploads", json={"content_type": "image/jpeg", "content_length": len(data)}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def send_file(presigned: dict, data: bytes) -> None:
    sent = requests.post(
        presigned["url"], data=presigned["fields"], files={"file": ("receipt.jpg", data, "image/jpeg")}, timeout=30
    )
    assert sent.status_code in (200, 201, 204), sent.text


def submit(api: str, campaign: str, email: str, upload_key: str) -> str:
    entry = {"first_name": "Ada", "last_name": "Lovelace", "email": email, "consent": True, "upload_key": upload_key}
    queued = requests.post(f"{api}/v1/campaigns/{campaign}/submissions", json=entry, timeout=10)
    assert queued.status_code == 202, queued.text
    return queued.json()["submission_id"]


def confirmed_to() -> list[str]:
    """Every recipient the embedded SES accepted, read in this process."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [d for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages for d in m.destinations["ToAddresses"]]


def test_the_later_of_two_entries_with_copied_photos_is_flagged_with_the_earlier_ones_id(running_fleet, make_campaign, calls):
    make_campaign("dupes")
    api = running_fleet.api_url
    photo = receipt_photo(11)
    original = images.encode(photo, "JPEG", quality=92)
    exif = Image.Exif()
    exif[0x0112] = 6  # the same receipt, stored turned, re-encoded: what a second phone would send
    copy = images.encode(photo.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=70, exif=exif.tobytes())
    distinct = images.encode(receipt_photo(12), "JPEG", quality=92)

    first_upload = presign(api, "dupes", original)
    send_file(first_upload, original)
    running_fleet.drain()
    first = submit(api, "dupes", "first@example.com", first_upload["key"])
    running_fleet.drain()

    other_upload = presign(api, "dupes", distinct)
    send_file(other_upload, distinct)
    other = submit(api, "dupes", "other@example.com", other_upload["key"])
    later_upload = presign(api, "dupes", copy)
    later = submit(api, "dupes", "later@example.com", later_upload["key"])
    running_fleet.drain()
    assert "later@example.com" not in confirmed_to()  # its photo is still pending: the confirmation waits

    send_file(later_upload, copy)
    running_fleet.drain()

    entries = DynamoEntries()
    stored = {sid: entries.get(sid) for sid in (first, other, later)}
    assert set(stored[later].get(DUPLICATE_RECEIPT) or ()) == {first}
    assert DUPLICATE_RECEIPT not in stored[first] and DUPLICATE_RECEIPT not in stored[other]
    assert stored[later]["receipt_ready_at"] and stored[later]["status"] == "accepted"  # a flag, not a rejection
    assert sorted(confirmed_to()) == ["first@example.com", "later@example.com", "other@example.com"]
    assert calls["Scan"] == 0
    assert calls["Query"] >= 3 * BANDS  # each checked photo: one Query per band
    assert all(q.dead_lettered == 0 for q in queue_status())


def test_a_waitlisted_entry_found_later_to_copy_an_earlier_photo_leaves_the_waitlist(running_fleet):
    from datetime import UTC, datetime, timedelta

    from events.models import Campaign
    from lambda_platform.adapters.codes import DynamoCodes
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    # A campaign giving codes, its pool empty: every clean entry waits for a code.
    DynamoCampaigns().put(Campaign("dupcodes", "Dup codes", now - timedelta(days=1), now + timedelta(days=7), gives_codes=True))
    api = running_fleet.api_url
    photo = receipt_photo(13)
    original = images.encode(photo, "JPEG", quality=92)
    copy = images.encode(photo.resize((600, 800)), "JPEG", quality=75)

    # The earlier entry's photo is still pending when the later one, a copy, is checked and waitlisted.
    first_upload = presign(api, "dupcodes", original)
    first = submit(api, "dupcodes", "first@example.com", first_upload["key"])
    later_upload = presign(api, "dupcodes", copy)
    send_file(later_upload, copy)
    running_fleet.drain()
    later = submit(api, "dupcodes", "later@example.com", later_upload["key"])
    running_fleet.drain()
    entries = DynamoEntries()
    assert entries.get(later)["status"] == "waitlisted"

    send_file(first_upload, original)  # the earlier photo lands: its check finds and flags the later copy
    running_fleet.drain()
    stored = {sid: entries.get(sid) for sid in (first, later)}
    assert set(stored[later].get(DUPLICATE_RECEIPT) or ()) == {first}
    assert stored[later]["status"] == "accepted" and "waitlisted_in" not in stored[later]
    assert stored[first]["status"] == "waitlisted"
    assert DynamoCodes().waitlisted("dupcodes", 10) == ([first], None)
