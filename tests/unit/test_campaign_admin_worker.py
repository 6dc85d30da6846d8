"""workers.campaign_admin: campaigns saved and entries reviewed, once, in the order the API received them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from marshmallow import ValidationError

import workers.campaign_admin as worker
from events.messages.campaigns import ReviewEntry, SaveCampaign
from events.messages.envelope import load_message
from events.sample_payloads import load_sample
from tests.fakes.entries import FakeEntries
from tests.fakes.tables import FakeCampaigns
from workers.campaign_admin import CampaignAdminPorts, apply

SUBMISSION = "3f8a1c52-6d0e-4b7a-9c1e-2a5b7d9e0f13"


def save(**changes) -> SaveCampaign:
    fields = {
        "change_id": "c1",
        "campaign_id": "summer",
        "name": "Summer",
        "opens_at": "2025-06-01T00:00:00+00:00",
        "closes_at": "2025-08-31T00:00:00+00:00",
        "received_at": "2025-06-14T10:00:00+00:00",
    }
    return SaveCampaign(**{**fields, **changes})


def review(**changes) -> ReviewEntry:
    fields = {
        "change_id": "r1",
        "campaign_id": "summer",
        "submission_id": SUBMISSION,
        "decision": "approved",
        "received_at": "2025-06-14T10:00:00+00:00",
        "key_id": "k1",
        "key_name": "reviewer",
    }
    return ReviewEntry(**{**fields, **changes})


@pytest.fixture
def ports() -> CampaignAdminPorts:
    entries = FakeEntries()
    entries.items[SUBMISSION] = {
        "submission_id": SUBMISSION,
        "campaign_id": "summer",
        "status": "accepted",
        "received_at": "2025-06-14T09:00:00+00:00",
    }
    return CampaignAdminPorts(FakeCampaigns(), entries)


def test_a_campaign_is_saved_with_its_reward_settings(ports):
    assert apply(save(gives_codes=True, draw_includes_unreviewed=False, max_entries_per_email=3), ports) == "saved"

    stored = ports.campaigns.get("summer")
    assert (stored.name, stored.max_entries_per_email, stored.gives_codes) == ("Summer", 3, True)
    assert (stored.draw_includes_unreviewed, stored.draw_includes_flagged) == (False, False)
    assert stored.opens_at.isoformat() == "2025-06-01T00:00:00+00:00"


def test_a_replay_of_an_older_change_never_overwrites_a_newer_one(ports):
    newer = save(change_id="c2", name="Newer", received_at="2025-06-14T11:00:00+00:00")
    older = save(change_id="c1", name="Older", received_at="2025-06-14T10:00:00+00:00")

    assert apply(newer, ports) == "saved"
    assert apply(older, ports) == "skipped"
    assert apply(newer, ports) == "saved"  # a redelivery of the newest stores the same again

    assert ports.campaigns.get("summer").name == "Newer"


def test_a_campaign_that_closes_before_it_opens_fails_its_record(ports):
    with pytest.raises(ValidationError) as raised:
        apply(save(closes_at="2025-05-01T00:00:00+00:00"), ports)
    assert "closes_at" in raised.value.messages
    assert ports.campaigns.get("summer") is None


def test_a_review_records_which_key_when_and_why(ports):
    message = review(decision="rejected", reason="Blurry receipt.")

    assert apply(message, ports) == "reviewed"

    assert ports.entries.get(SUBMISSION)["review"] == {
        "decision": "rejected",
        "reason": "Blurry receipt.",
        "key_id": "k1",
        "key_name": "reviewer",
        "reviewed_at": message.received_at,
        "change_id": "r1",
    }


def test_an_older_review_replayed_never_overwrites_a_newer_one(ports):
    newer = review(change_id="r2", decision="rejected", reason="No.", received_at="2025-06-14T12:00:00+00:00")
    older = review(change_id="r1", decision="approved", received_at="2025-06-14T11:00:00+00:00")

    assert apply(newer, ports) == "reviewed"
    assert apply(older, ports) == "skipped"
    assert apply(newer, ports) == "reviewed"
    assert ports.entries.get(SUBMISSION)["review"]["decision"] == "rejected"


def test_a_review_of_a_missing_entry_or_of_another_campaigns_entry_is_skipped(ports):
    assert apply(review(submission_id="0" * 8 + "-0000-4000-8000-" + "0" * 12), ports) == "skipped"
    assert apply(review(campaign_id="winter"), ports) == "skipped"
    assert "review" not in ports.entries.get(SUBMISSION)


def test_the_handler_applies_the_sample_batch_and_reports_only_a_bad_record(ports, monkeypatch, lambda_context):
    monkeypatch.setattr(worker, "_adapters", lambda: ports)
    event = load_sample("sqs_campaign_admin")
    bad = dict(event["Records"][0], messageId="bad", body=json.dumps({"type": "SaveCampaign", "version": 1, "body": {}}))
    event["Records"].append(bad)

    response = worker.handler(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    saved = load_message(event["Records"][0]["body"])
    assert ports.campaigns.get(saved.campaign_id).name == saved.name
    reviewed = load_message(event["Records"][1]["body"])
    assert ports.entries.get(reviewed.submission_id)["review"]["key_name"] == reviewed.key_name


def test_messages_round_trip_through_their_envelope():
    from events.messages.envelope import dump_message

    for message in (save(), review(reason="Fine."), replace(review(), reason=None)):
        assert load_message(dump_message(message)) == message
