"""The local outbox: reading moto's data document, and the local-only page."""

from __future__ import annotations

import urllib.error

import pytest

from ingest_api import create_app
from lambda_platform.outbox import OutboxEmail, html_to_lines, parse_moto_data, read_outbox

MOTO_DATA = {
    "ses": {
        "Message": [
            {
                "id": "m-1",
                "source": "Fleet <no-reply@example.com>",
                "subject": "Welcome to Fleet, Ada",
                "body": "<html><head><title>t</title><style>p{}</style></head><body><p>Hello Ada,</p>\n<p>Line  two</p></body></html>",
                "destinations": {"ToAddresses": ["ada@example.com"]},
            }
        ]
    }
}


def test_moto_data_becomes_emails_with_text_lines_derived_from_html():
    (email,) = parse_moto_data(MOTO_DATA)
    assert email.to == ("ada@example.com",) and email.subject == "Welcome to Fleet, Ada"
    assert email.text_lines() == ["Hello Ada,", "Line two"]
    assert email.text_lines(1) == ["Hello Ada,"]
    assert parse_moto_data({}) == []


def test_html_to_lines_drops_markup_and_decodes_entities():
    assert html_to_lines("<p>a &amp; b</p><br><div>c<b>d</b></div>") == ["a & b", "cd"]


def test_the_outbox_page_exists_only_on_the_local_stage(services, monkeypatch):
    emails = [OutboxEmail("m-1", "s@example.com", ("ada@example.com",), "Hi <there>", "<p>Hello</p>")]
    monkeypatch.setattr("ingest_api.outbox.read_outbox", lambda: emails)
    local = create_app({"TESTING": True, "SERVICES": services, "LOCAL": True}).test_client()
    page = local.get("/_local/outbox")
    assert page.status_code == 200
    assert "Hi &lt;there&gt;" in page.text and "ada@example.com" in page.text and "Hello" in page.text
    assert "<strong>sent</strong>" in page.text  # SES has reported nothing of it yet
    remote = create_app({"TESTING": True, "SERVICES": services, "LOCAL": False}).test_client()
    assert remote.get("/_local/outbox").status_code == 404


class _FlakyData:
    """A loopback server answering /moto-api/data.json with 500 `failures` times, then the data."""

    def __init__(self, failures: int) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.asked = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.asked += 1
                failing = owner.asked <= failures
                body = b"Internal Server Error" if failing else json.dumps(MOTO_DATA).encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_moto_data_document_that_fails_now_and_then_is_asked_again():
    flaky = _FlakyData(failures=2)
    try:
        (email,) = read_outbox(flaky.url, pause=0.01)
    finally:
        flaky.close()
    assert email.subject == "Welcome to Fleet, Ada" and flaky.asked == 3


def test_a_moto_data_document_that_keeps_failing_is_an_error():
    flaky = _FlakyData(failures=100)
    try:
        with pytest.raises(urllib.error.HTTPError):
            read_outbox(flaky.url, attempts=3, pause=0.01)
    finally:
        flaky.close()
    assert flaky.asked == 3


class _Listing:
    """A loopback server answering one path with a JSON document, every other with 404."""

    def __init__(self, path: str | None, document: dict) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.asked: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.asked.append(self.path)
                found = self.path == path
                body = json.dumps(document).encode() if found else b'{"__type": "NotFound"}'
                self.send_response(200 if found else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


MINISTACK_MESSAGES = {
    "messages": {
        "000000000000": [
            {
                "MessageId": "ms-1",
                "Source": "no-reply@example.com",
                "To": ["ada@example.com"],
                "CC": [],
                "Subject": "Thanks for entering",
                "BodyText": "Hello Ada,\n\nYour entry is in.",
                "BodyHtml": None,
            }
        ]
    }
}
LOCALSTACK_MESSAGES = {
    "messages": [
        {
            "Id": "ls-1",
            "Source": "no-reply@example.com",
            "Destination": {"ToAddresses": ["bob@example.com"]},
            "Subject": "Welcome",
            "Body": {"text_part": None, "html_part": "<p>Hello Bob</p>"},
        }
    ]
}


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        (
            "/_ministack/ses/messages",
            MINISTACK_MESSAGES,
            ("ada@example.com", "Thanks for entering", ["Hello Ada,", "Your entry is in."]),
        ),
        ("/_aws/ses", LOCALSTACK_MESSAGES, ("bob@example.com", "Welcome", ["Hello Bob"])),
    ],
)
def test_other_emulators_sent_mail_listings_are_read(path, document, expected, monkeypatch):
    """MiniStack's and LocalStack's own listings of sent mail, where moto's answers 404."""
    monkeypatch.setenv("FLEET_STAGE", "local")
    listing = _Listing(path, document)
    try:
        (email,) = read_outbox(listing.url)
    finally:
        listing.close()
    assert (email.to[0], email.subject, email.text_lines()) == expected


def test_an_aws_without_a_listing_says_the_outbox_is_unavailable(services, monkeypatch):
    """`fleet outbox` and `/_local/outbox` say so plainly: never a 500."""
    from lambda_platform import settings
    from lambda_platform.outbox import OutboxUnavailable

    monkeypatch.setenv("FLEET_STAGE", "local")
    listing = _Listing(None, {})
    monkeypatch.setenv("AWS_ENDPOINT_URL", listing.url)
    settings.reset()
    try:
        with pytest.raises(OutboxUnavailable, match="outbox unavailable on this AWS"):
            read_outbox()
        page = create_app({"TESTING": True, "SERVICES": services, "LOCAL": True}).test_client().get("/_local/outbox")
    finally:
        listing.close()
        settings.reset()
    assert page.status_code == 501 and "outbox unavailable on this AWS" in page.text


def test_an_emails_status_is_the_worst_that_ses_reported_of_it():
    from events.email_feedback import outcome

    assert outcome([]) == "sent"
    assert outcome([("Delivery", "")]) == "delivered"
    assert outcome([("Delivery", ""), ("Complaint", "")]) == "complained"
    assert outcome([("Bounce", "Permanent")]) == "bounced"
    assert outcome([("Bounce", "Transient")]) == "soft-bounced"
    assert outcome([("Bounce", "Transient"), ("Delivery", "")]) == "delivered"
    assert outcome([("Reject", "")]) == "rejected"
