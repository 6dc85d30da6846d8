"""Messages of a campaign: an entry (the submissions queue), a campaign's creation or change
and an entry's review (the campaign-admin queue).

The admin messages carry `received_at`, the time the API took the request: it orders the
changes of one campaign (or the reviews of one entry), so that a replay of an older
message never overwrites what a newer one stored.
"""

from __future__ import annotations

from marshmallow import fields, validate

from events.emails import Email
from events.messages.base import ID, field, message
from events.models import REVIEW_DECISIONS

#: The longest reason a reviewer may give.
MAX_REASON = 500


@message(id_field="submission_id")
class SubmitEntry:
    """Store one campaign entry under `submission_id` (assigned at ingestion)."""

    submission_id: str = field(fields.String, validate=ID)
    campaign_id: str = field(fields.String, validate=ID)
    first_name: str = field(fields.String)
    last_name: str = field(fields.String)
    email: str = field(Email)
    consent: bool = field(fields.Boolean)
    received_at: str = field(fields.String)
    phone: str | None = field(fields.String, default=None)
    postal_code: str | None = field(fields.String, default=None)
    upload_key: str | None = field(fields.String, default=None)
    answers: dict[str, str] = field(fields.Dict, keys=fields.String(), values=fields.String(), default_factory=dict)


@message(id_field="change_id")
class SaveCampaign:
    """Create or replace a campaign, unless a change of it received later was stored already."""

    change_id: str = field(fields.String, validate=ID)
    campaign_id: str = field(fields.String, validate=ID)
    name: str = field(fields.String)
    #: ISO 8601 with an offset, as `CampaignSchema` dumps them.
    opens_at: str = field(fields.String)
    closes_at: str = field(fields.String)
    received_at: str = field(fields.String)
    max_entries_per_email: int = field(fields.Integer, default=1)
    gives_codes: bool = field(fields.Boolean, default=False)
    draw_includes_unreviewed: bool = field(fields.Boolean, default=True)
    draw_includes_flagged: bool = field(fields.Boolean, default=False)


@message(id_field="change_id")
class ReviewEntry:
    """Record an operator's decision on an entry: which key, when, why."""

    change_id: str = field(fields.String, validate=ID)
    campaign_id: str = field(fields.String, validate=ID)
    submission_id: str = field(fields.String, validate=ID)
    decision: str = field(fields.String, validate=validate.OneOf(REVIEW_DECISIONS))
    received_at: str = field(fields.String)
    key_id: str = field(fields.String)
    key_name: str = field(fields.String)
    reason: str | None = field(fields.String, default=None, validate=validate.Length(max=MAX_REASON))
