"""The welcome and confirmation workers over fakes, fed the canonical stream sample."""

from __future__ import annotations

import copy

import pytest

from events.email_feedback import TAG_ENTRY, TAG_USER, is_tag_text
from events.models import user_id_for
from events.sample_payloads import load_sample
from lambda_platform.adapters.mail import ses_tags
from lambda_platform.errors import RetryLater
from tests.fakes.email_feedback import FakeEmailStatuses, FakeSuppressionList
from tests.fakes.mail import FakeMailer, MemoryPersistence, once_over
from tests.fakes.tables import FakeCampaigns, campaign
from tests.unit.settling import Settling, entry
from workers import confirmations, welcome

#: The address of the tests of message tags.
TAGGED = "ana@example.com"


def user_image(email: str) -> dict:
    return {
        "user_id": {"S": user_id_for(email)},
        "email": {"S": email},
        "email_lower": {"S": email.lower()},
        "first_name": {"S": "Ada"},
        "last_name": {"S": "Lovelace"},
        "locale": {"S": "en"},
    }


def users_stream_event(*emails: str, event_name: str = "INSERT", first_sequence: int = 100) -> dict:
    """Stream records of the users table, shaped as the canonical sample."""
    template = load_sample("dynamodb_stream_insert")["Records"][0]
    records = []
    for n, email in enumerate(emails):
        record = copy.deepcopy(template)
        record["eventName"] = event_name
        record["eventSourceARN"] = record["eventSourceARN"].replace("submissions", "users")
        record["dynamodb"]["Keys"] = {"user_id": {"S": user_id_for(email)}}
        record["dynamodb"]["NewImage"] = user_image(email)
        record["dynamodb"]["SequenceNumber"] = str(first_sequence + n)
        records.append(record)
    return {"Records": records}


@pytest.fixture
def persistence() -> MemoryPersistence:
    return MemoryPersistence()


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def welcome_ports(monkeypatch, mailer, persistence):
    suppressions = FakeSuppressionList()
    ports = welcome.WelcomePorts(
        mailer, once_over(persistence), lambda a: bool(suppressions.suppressed([a])), FakeEmailStatuses()
    )
    monkeypatch.setattr(welcome, "_ports", lambda context, event: ports)
    return mailer, persistence


@pytest.fixture
def confirmation_ports(monkeypatch, mailer, persistence):
    campaigns = FakeCampaigns(campaign("summer", name="Summer Receipts"))
    monkeypatch.setattr(confirmations, "_ports", lambda context, event: Settling(campaigns, mailer, persistence).ports())
    return mailer, persistence


def test_the_welcome_email_has_text_and_html_from_the_templates():
    email = welcome.welcome_email({"user_id": "u-1", "email": "ada@example.com", "first_name": "Ada <script>", "last_name": "L"})
    assert email.to == "ada@example.com"
    assert email.subject == "Welcome to Fleet, Ada <script>"
    assert "Hello Ada <script>," in email.text and "u-1" in email.text
    assert "Ada &lt;script&gt;" in email.html and "<script>" not in email.html  # escaped in HTML only


def test_an_insert_sends_one_welcome_and_a_duplicate_record_none(welcome_ports, lambda_context):
    mailer, persistence = welcome_ports
    event = users_stream_event("ada@example.com", "ada@example.com", "bob@example.com")
    assert welcome.handler(event, lambda_context) == {"batchItemFailures": []}
    assert welcome.handler(event, lambda_context) == {"batchItemFailures": []}  # a replay of the batch
    assert [m["to"] for m in mailer.sent] == ["ada@example.com", "bob@example.com"]
    assert persistence.statuses() == ["COMPLETED", "COMPLETED"]


def test_modify_and_remove_records_send_nothing(welcome_ports, lambda_context):
    mailer, _ = welcome_ports
    welcome.handler(users_stream_event("ada@example.com", event_name="MODIFY"), lambda_context)
    welcome.handler(users_stream_event("ada@example.com", event_name="REMOVE"), lambda_context)
    assert mailer.sent == []


def test_a_throttled_send_fails_its_record_and_leaves_no_completed_record(welcome_ports, lambda_context):
    mailer, persistence = welcome_ports
    mailer.throttle_first = {"bob@example.com"}
    event = users_stream_event("ada@example.com", "bob@example.com", "cy@example.com")
    assert welcome.handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert len(persistence.records) == 2  # nothing kept for bob: his retry sends
    assert welcome.handler(event, lambda_context) == {"batchItemFailures": []}
    assert sorted(m["to"] for m in mailer.sent) == ["ada@example.com", "bob@example.com", "cy@example.com"]
    assert mailer.attempts == {"ada@example.com": 1, "bob@example.com": 2, "cy@example.com": 1}


def test_once_runs_an_action_once_and_forgets_a_failure(persistence):
    once = once_over(persistence)
    calls = []

    def ok():
        calls.append("ok")
        return {"n": len(calls)}

    def throttled():
        raise RetryLater("Throttling")

    assert once("s", "k", ok) == {"n": 1}
    assert once("s", "k", ok) == {"n": 1}
    with pytest.raises(RetryLater):
        once("s", "other", throttled)
    assert once("s", "other", ok) == {"n": 2}
    assert calls == ["ok", "ok"] and persistence.statuses() == ["COMPLETED", "COMPLETED"]


def test_a_stored_entry_gets_one_confirmation_naming_campaign_and_id(confirmation_ports, lambda_context):
    mailer, _ = confirmation_ports
    event = load_sample("dynamodb_stream_insert")
    duplicate_record = copy.deepcopy(event["Records"][0])
    event["Records"].append(duplicate_record)  # moto emits two INSERTs for an update_item
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    (email,) = mailer.sent
    assert email["to"] == "ana.souza@example.com"
    assert "Summer Receipts" in email["subject"]
    assert "3f8a1c52-6d0e-4b7a-9c1e-2a5b7d9e0f13" in email["text"] and "3f8a1c52" in email["html"]


def test_a_duplicate_entry_gets_no_confirmation(confirmation_ports, lambda_context):
    mailer, _ = confirmation_ports
    event = load_sample("dynamodb_stream_insert")
    event["Records"][0]["dynamodb"]["NewImage"]["status"] = {"S": "duplicate"}
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    assert mailer.sent == []


def test_the_mailer_keeps_the_tags_ses_accepts_and_leaves_out_the_others():
    assert ses_tags([(TAG_ENTRY, "entry-001"), (TAG_USER, user_id_for(TAGGED))]) == [
        {"Name": TAG_ENTRY, "Value": "entry-001"},
        {"Name": TAG_USER, "Value": user_id_for(TAGGED)},
    ]
    hostile = [(TAG_ENTRY, "a b"), (TAG_USER, "u" * 257), ("bad name", "v"), ("", "v"), ("n", ""), ("ses:x", "v")]
    assert ses_tags(hostile) == []
    assert ses_tags([(TAG_ENTRY, "x" * 256), (TAG_ENTRY, "second")]) == [{"Name": TAG_ENTRY, "Value": "x" * 256}]
    assert ses_tags(()) == []
    assert is_tag_text("A-z_09") and not is_tag_text(None) and not is_tag_text("ä")


def test_the_confirmation_and_code_emails_name_their_entry_and_the_welcome_its_user():
    stored = entry(1)
    assert confirmations.confirmation_email(stored, "Summer").tags == ((TAG_ENTRY, stored["submission_id"]),)
    assert confirmations.code_email({**stored, "code": "C-1"}, "Summer").tags == ((TAG_ENTRY, stored["submission_id"]),)
    user = {"user_id": user_id_for(TAGGED), "email": TAGGED, "first_name": "Ana", "last_name": "S"}
    assert welcome.welcome_email(user).tags == ((TAG_USER, user["user_id"]),)


def test_the_mailer_is_handed_the_emails_tags():
    settling = Settling()
    confirmations.confirm_entry(entry(1), settling.ports())
    (sent,) = settling.mailer.sent
    assert sent["tags"] == {TAG_ENTRY: entry(1)["submission_id"]}

    mailer = FakeMailer()
    user = {"user_id": user_id_for(TAGGED), "email": TAGGED, "first_name": "Ana", "last_name": "S"}
    ports = welcome.WelcomePorts(mailer, once_over(MemoryPersistence()), lambda _a: False, FakeEmailStatuses())
    welcome.welcome_user(user, ports)
    assert [m["tags"] for m in mailer.sent] == [{TAG_USER: user["user_id"]}]
