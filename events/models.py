"""Stored records shared by the API and the workers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

#: The namespace of user ids: a user id is a UUID5 of the lower-cased email address.
USERS_NAMESPACE = uuid.UUID("6f1c2b0e-4f7a-5d93-9a61-2c0b8e4d7f15")


@dataclass(frozen=True)
class Campaign:
    """A campaign that takes entries between `opens_at` and `closes_at`."""

    campaign_id: str
    name: str
    opens_at: datetime
    closes_at: datetime
    max_entries_per_email: int = 1
    #: Each eligible entry gets one discount code from the campaign's pool (a waitlist when it is empty).
    gives_codes: bool = False
    #: Who the draw picks from, beside accepted entries that no reviewer rejected:
    #: entries not reviewed yet (else only approved ones), and entries flagged as duplicates.
    draw_includes_unreviewed: bool = True
    draw_includes_flagged: bool = False

    def is_open(self, now: datetime) -> bool:
        """True while the campaign takes entries."""
        return self.opens_at <= now < self.closes_at

    @property
    def uploads_prefix(self) -> str:
        """The S3 prefix under which this campaign's uploads are written."""
        return f"uploads/campaigns/{self.campaign_id}/"


#: Statuses of a stored submission. `duplicate`: over the campaign's entries per email.
#: `waitlisted`: accepted, eligible for a code, but the pool was empty; importing codes gives
#: them out to the waitlist in order of entry, and the entry becomes `accepted` again.
ACCEPTED = "accepted"
DUPLICATE = "duplicate"
WAITLISTED = "waitlisted"

#: Review decisions an operator records on an entry (`review` attribute of the entry).
APPROVED = "approved"
REJECTED = "rejected"
REVIEW_DECISIONS = (APPROVED, REJECTED)


def code_key(code: str) -> str:
    """The key a discount code is stored and compared under: codes that differ only by case
    are one code (a checkout rarely tells `abc` from `ABC`). Codes are ASCII (see
    `campaigns.codes`), so upper case is a full case fold."""
    return code.upper()


#: Flags on an entry, information for the reviewer and the draw (never a rejection):
#: its photo is within a small distance of an earlier entry's in the same campaign.
DUPLICATE_RECEIPT = "duplicate_receipt"


def user_id_for(email: str) -> str:
    """The user id of an email address: the same for every case of the same address."""
    return str(uuid.uuid5(USERS_NAMESPACE, email.strip().lower()))
