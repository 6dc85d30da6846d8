"""SES's feedback over fakes: the worker fed the canonical samples, and the send paths skipping suppressed addresses."""

from __future__ import annotations

import copy
import json

import pytest

from events.email_feedback import parse_feedback
from events.models import user_id_for
from events.sample_payloads import load_sample
from tests.fakes.email_feedback import FakeEmailEvents, FakeEmailStatuses, FakeSuppressionList
from tests.fakes.mail import FakeMailer, MemoryPersistence, once_over
from tests.unit.settling import Settling, entry, stream_event
from workers import confirmations, email_feedback, welcome
from workers.emails import NOT_SENT


def sqs_event(*documents: dict) -> dict:
    """An SQS batch of the feedback queue, each body an SES event record (raw delivery)."""
    template = load_sample("sqs_email_feedback")["Records"][0]
    records = []
    for n, document in enumerate(documents):
        record = copy.deepcopy(template)
        record["messageId"] = f"m-{n}"
        record["body"] = json.dumps(document)
        records.append(record)
    return {"Records": records}


@pytest.fixture
def feedback(monkeypatch):
    """The worker's ports over fakes: an entry and a user of complaint@, an entry of bounce@."""
    address = "complaint@simulator.amazonses.com"
    statuses = FakeEmailStatuses(
        entries={
            "e-1": {"submission_id": "e-1", "email_lower": address},
            "e-2": {"submission_id": "e-2", "email_lower": "bounce@simulator.amazonses.com"},
        },
        users={user_id_for(address): {"user_id": user_id_for(address)}},
    )
    ports = email_feedback.FeedbackPorts(FakeSuppressionList(), statuses, FakeEmailEvents())
    monkeypatch.setattr(email_feedback, "_ports", lambda: ports)
    return ports


def test_a_complaint_suppresses_and_marks_the_entries_and_user_and_a_delivery_after_it_changes_nothing(feedback, lambda_context):
    complaint, delivery = load_sample("ses_complaint"), load_sample("ses_delivery")
    # Out of order, and each twice: SES promises neither order nor once-only.
    event = sqs_event(complaint, delivery, complaint, delivery)
    assert email_feedback.handler(event, lambda_context) == {"batchItemFailures": []}

    address = "complaint@simulator.amazonses.com"
    assert feedback.suppressions.suppressed([address]) == {address}
    assert feedback.suppressions.items[address]["reason"] == "COMPLAINT"
    assert feedback.statuses.entries["e-1"]["email_status"] == "complained"
    assert feedback.statuses.users[user_id_for(address)]["email_status"] == "complained"
    assert "email_status" not in feedback.statuses.entries["e-2"]
    assert feedback.events.counts([f"2025-06-14T{h:02d}" for h in range(24)]) == {"delivered": 1, "complained": 1}
    assert feedback.statuses.changes == 2  # the complaint's two marks; nothing after


def test_a_transient_bounce_is_recorded_and_counted_not_suppressed(feedback, lambda_context):
    bounce = load_sample("ses_bounce")
    bounce["bounce"]["bounceType"] = "Transient"
    bounce["bounce"]["bounceSubType"] = "MailboxFull"
    assert email_feedback.handler(sqs_event(bounce), lambda_context) == {"batchItemFailures": []}
    assert feedback.suppressions.suppressed(["bounce@simulator.amazonses.com"]) == set()
    assert "email_status" not in feedback.statuses.entries["e-2"]
    assert feedback.events.counts(["2025-06-14T09"]) == {"transient_bounces": 1}


def test_an_old_bounce_after_the_lift_does_not_suppress_again(feedback, lambda_context):
    bounce = load_sample("ses_bounce")
    address = "bounce@simulator.amazonses.com"
    email_feedback.handler(sqs_event(bounce), lambda_context)
    assert feedback.suppressions.lift(address, "ops", "2025-06-14T10:00:00.000000Z")
    later = copy.deepcopy(bounce)
    later["mail"]["messageId"] = "another-email"  # an older email's bounce, arriving after the lift
    email_feedback.handler(sqs_event(later), lambda_context)
    assert feedback.suppressions.suppressed([address]) == set()


def test_a_message_that_is_no_ses_event_fails_alone(feedback, lambda_context):
    event = sqs_event({"eventType": "Open", "mail": {"messageId": "x"}}, load_sample("ses_bounce"))
    assert email_feedback.handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert feedback.suppressions.suppressed(["bounce@simulator.amazonses.com"])


def test_the_sns_envelope_and_raw_delivery_read_the_same():
    (record,) = load_sample("sqs_email_feedback")["Records"]
    assert parse_feedback(record["body"]) == parse_feedback(json.dumps(load_sample("ses_bounce")))


def test_a_confirmation_to_a_suppressed_address_is_skipped_recorded_and_not_a_failure(lambda_context, monkeypatch):
    settling = Settling(suppressions=FakeSuppressionList("ana1@example.com"))
    settling.statuses.entries.update({"entry-001": {"submission_id": "entry-001"}, "entry-002": {"submission_id": "entry-002"}})
    ports = settling.ports()
    monkeypatch.setattr(confirmations, "_ports", lambda context, event: ports)
    event = stream_event(("INSERT", entry(1)), ("INSERT", entry(2)))
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    assert [m["to"] for m in settling.mailer.sent] == ["ana2@example.com"]
    assert settling.statuses.entries["entry-001"]["email_status"] == "suppressed"
    assert "email_status" not in settling.statuses.entries["entry-002"]
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}  # a retry: nothing more
    assert len(settling.mailer.sent) == 1


def test_a_suppressed_address_never_hides_its_bounce(lambda_context):
    statuses = FakeEmailStatuses(entries={"e": {"submission_id": "e", "email_lower": "a@example.com"}})
    assert statuses.mark_address("a@example.com", "bounced", "2025-06-14T09:00:00.000000Z") == 1
    assert not statuses.mark_entry("e", "suppressed", "2025-06-14T10:00:00.000000Z")
    assert statuses.entries["e"]["email_status"] == "bounced"


def test_a_welcome_to_a_suppressed_address_is_skipped_and_the_user_marked(lambda_context, monkeypatch):
    mailer, persistence = FakeMailer(), MemoryPersistence()
    suppressions = FakeSuppressionList("ada@example.com")
    user_id = user_id_for("ada@example.com")
    statuses = FakeEmailStatuses(users={user_id: {"user_id": user_id}})
    ports = welcome.WelcomePorts(mailer, once_over(persistence), lambda a: bool(suppressions.suppressed([a])), statuses)
    user = {"user_id": user_id, "email": "Ada@Example.com", "first_name": "Ada", "last_name": "L"}
    assert welcome.welcome_user(user, ports) == NOT_SENT
    assert mailer.sent == [] and statuses.users[user_id]["email_status"] == "suppressed"
