"""The local outbox: reading moto's data document, and the local-only page."""

from __future__ import annotations

from fleet.outbox import OutboxEmail, html_to_lines, parse_moto_data
from ingest_api import create_app

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
    remote = create_app({"TESTING": True, "SERVICES": services, "LOCAL": False}).test_client()
    assert remote.get("/_local/outbox").status_code == 404
