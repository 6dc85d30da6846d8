"""SES's feedback over fakes: the worker fed the canonical samples, a tagged delivery marking its one entry or user,
and the send paths skipping suppressed addresses."""

from __future__ import annotations

import copy
import json

import pytest

from events.email_feedback import TAG_ENTRY, Feedback, parse_feedback
from events.models import user_id_for
from events.sample_payloads import load_sample
from tests.fakes.email_feedback import FakeEmailEvents, FakeEmailStatuses, FakeSuppressionList
from tests.fakes.mail import FakeMailer, MemoryPersistence, once_over
from tests.unit.settling import Settling, entry, stream_event
from workers import confirmations, email_feedback, welcome
from workers.emails import NOT_SENT

#: The address of the tests of message tags.
TAGGED = "ana@example.com"


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


class CountingStatuses(FakeEmailStatuses):
    """The fake statuses, keeping each call by its method's name."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, str]] = []

    def mark_address(self, address: str, status: str, at: str) -> int:
        self.calls.append(("mark_address", address))
        return super().mark_address(address, status, at)

    def mark_entry(self, submission_id: str, status: str, at: str) -> bool:
        self.calls.append(("mark_entry", submission_id))
        return super().mark_entry(submission_id, status, at)

    def mark_user(self, user_id: str, status: str, at: str) -> bool:
        self.calls.append(("mark_user", user_id))
        return super().mark_user(user_id, status, at)


@pytest.fixture
def ports():
    """Two entries and the user of one address, over fakes that keep their calls."""
    statuses = CountingStatuses(
        entries={e: {"submission_id": e, "email_lower": TAGGED} for e in ("e-1", "e-2")},
        users={user_id_for(TAGGED): {"user_id": user_id_for(TAGGED)}},
    )
    return email_feedback.FeedbackPorts(FakeSuppressionList(), statuses, FakeEmailEvents())


def event_of(kind: str = "Delivery", entry: str = "", user: str = "", at: str = "2025-06-14T09:21:10.977000Z") -> Feedback:
    extra = {"bounce_type": "Permanent", "detail": "General"} if kind == "Bounce" else {}
    return Feedback("m-1", kind, TAGGED, at, entry=entry, user=user, **extra)


def test_a_tagged_delivery_marks_its_one_entry_and_never_the_address(ports):
    assert email_feedback.apply_feedback(event_of(entry="e-1"), ports)
    assert ports.statuses.calls == [("mark_entry", "e-1")]
    assert ports.statuses.entries["e-1"]["email_status"] == "delivered"
    assert "email_status" not in ports.statuses.entries["e-2"]
    assert "email_status" not in ports.statuses.users[user_id_for(TAGGED)]
    assert not email_feedback.apply_feedback(event_of(entry="e-1"), ports)  # again: recorded once, nothing changed
    assert ports.statuses.changes == 1 and ports.events.counts(["2025-06-14T09"]) == {"delivered": 1}


def test_a_tagged_delivery_of_a_welcome_marks_its_user_alone(ports):
    email_feedback.apply_feedback(event_of(user=user_id_for(TAGGED)), ports)
    assert ports.statuses.calls == [("mark_user", user_id_for(TAGGED))]
    assert ports.statuses.users[user_id_for(TAGGED)]["email_status"] == "delivered"
    assert all("email_status" not in e for e in ports.statuses.entries.values())


def test_an_untagged_delivery_and_a_tagged_bounce_still_mark_the_whole_address(ports):
    email_feedback.apply_feedback(event_of(), ports)
    assert ports.statuses.calls == [
        ("mark_address", TAGGED),
        ("mark_entry", "e-1"),
        ("mark_entry", "e-2"),
        ("mark_user", user_id_for(TAGGED)),
    ]
    assert ports.statuses.changes == 3

    ports.statuses.calls.clear()
    bounce = event_of("Bounce", entry="e-1", at="2025-06-14T10:00:00.000000Z")
    email_feedback.apply_feedback(bounce, ports)
    assert ports.statuses.calls[0] == ("mark_address", TAGGED)
    assert {e["email_status"] for e in ports.statuses.entries.values()} == {"bounced"}
    assert ports.statuses.users[user_id_for(TAGGED)]["email_status"] == "bounced"
    assert ports.suppressions.suppressed([TAGGED]) == {TAGGED}


def test_a_tagged_delivery_older_than_a_bounce_changes_nothing(ports):
    email_feedback.apply_feedback(event_of("Bounce", at="2025-06-14T10:00:00.000000Z"), ports)
    email_feedback.apply_feedback(event_of(entry="e-1", at="2025-06-14T09:00:00.000000Z"), ports)
    assert ports.statuses.entries["e-1"]["email_status"] == "bounced"


def test_the_handler_reads_the_tags_of_a_queued_delivery(ports, lambda_context, monkeypatch):
    monkeypatch.setattr(email_feedback, "_ports", lambda: ports)
    record = load_sample("ses_delivery")
    record["mail"]["tags"][TAG_ENTRY] = ["e-2"]
    record["delivery"]["recipients"] = record["mail"]["destination"] = [TAGGED]
    assert email_feedback.handler(sqs_event(record), lambda_context) == {"batchItemFailures": []}
    assert ports.statuses.calls == [("mark_entry", "e-2")]
