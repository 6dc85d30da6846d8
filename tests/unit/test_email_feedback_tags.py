"""The message tags that say what an email is about, read back from SES's event records: the contract's
reading (hostile values name nothing), and the local SES handing back the send's tags as SES does."""

from __future__ import annotations

import pytest

from events.email_feedback import TAG_ENTRY, TAG_USER, event_feedback
from events.sample_payloads import load_sample

ADDRESS = "ana@example.com"


def tagged(sample: str, tags: object) -> dict:
    """A canonical SES event record whose `mail.tags` also hold `tags` (or are `tags`, when no dict)."""
    record = load_sample(sample)
    record["mail"]["tags"] = {**record["mail"]["tags"], **tags} if isinstance(tags, dict) else tags
    return record


def test_an_event_names_the_entry_and_user_of_its_tags():
    (delivery,) = event_feedback(tagged("ses_delivery", {TAG_ENTRY: ["entry-001", "ignored"], TAG_USER: ["u-1"]}))
    assert (delivery.entry, delivery.user) == ("entry-001", "u-1")
    (bounce,) = event_feedback(tagged("ses_bounce", {TAG_ENTRY: ["entry-002"]}))
    assert (bounce.entry, bounce.user) == ("entry-002", "")


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {TAG_ENTRY: ["a b"]},
        {TAG_ENTRY: ["x" * 257]},
        {TAG_ENTRY: ["entry/../001"]},
        {TAG_ENTRY: ["entrée"]},
        {TAG_ENTRY: [""]},
        {TAG_ENTRY: []},
        {TAG_ENTRY: "entry-001"},  # not a list
        {TAG_ENTRY: [7]},
        {TAG_ENTRY: [["entry-001"]]},
        ["entry-001"],  # `mail.tags` not a dict
        "fleet-entry",
        None,
    ],
)
def test_a_missing_or_hostile_tag_names_nothing_and_is_no_error(tags):
    (delivery,) = event_feedback(tagged("ses_delivery", tags))
    assert (delivery.entry, delivery.user) == ("", "")
    assert delivery.status == "delivered" and delivery.address == "complaint@simulator.amazonses.com"


def test_a_tag_of_256_characters_is_read_one_of_257_is_not():
    (delivery,) = event_feedback(tagged("ses_delivery", {TAG_ENTRY: ["e" * 256], TAG_USER: ["u" * 257]}))
    assert (delivery.entry, delivery.user) == ("e" * 256, "")


@pytest.mark.parametrize(
    "parameter",
    [
        [{"Name": TAG_ENTRY, "Value": "entry-001"}],
        {"member": [{"Name": TAG_ENTRY, "Value": "entry-001"}]},  # moto's query parser, another version
        [{"Name": TAG_ENTRY, "Value": "entry-001"}, {"Name": TAG_ENTRY, "Value": "later"}, {"Name": "x"}, "junk"],
    ],
)
def test_the_local_ses_hands_back_the_sends_tags_in_its_events(parameter):
    from datetime import UTC, datetime

    from fleet.runtime.ses_feedback import _tags, event_record, simulated_events

    tags = _tags(parameter)
    assert tags == {TAG_ENTRY: "entry-001"}
    ((kind, detail),) = simulated_events(ADDRESS)
    now = datetime(2025, 6, 14, 9, 21, 8, tzinfo=UTC)
    record = event_record(
        kind,
        detail,
        message_id="m-1",
        source="Fleet <no-reply@example.com>",
        destination=[ADDRESS],
        configuration_set="fleet-local-emails",
        account="123456789012",
        region="us-east-1",
        sent=now,
        at=now,
        tags=tags,
    )
    assert record["mail"]["tags"][TAG_ENTRY] == ["entry-001"]
    assert record["mail"]["tags"]["ses:configuration-set"] == ["fleet-local-emails"]
    (feedback,) = event_feedback(record)
    assert (feedback.event_type, feedback.entry) == ("Delivery", "entry-001")
    assert _tags(None) == _tags([]) == {}
