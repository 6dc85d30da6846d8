"""A campaign's outcome against moto: entries stored as the worker stores them, then the real
`fleet campaigns export` and `fleet campaigns draw`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.integration

UPLOAD_ID = "ab" + "7" * 30
UPLOAD_KEY = f"uploads/campaigns/outcome/ab/{UPLOAD_ID}.jpg"


def stored_entry(n: int, **extra) -> dict:
    """A submissions item with the attributes workers.submissions writes (and later workers add)."""
    item = {
        "submission_id": f"sub-{n:04d}",
        "campaign_id": "outcome",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": f"grace{n}@example.com",
        "email_lower": f"grace{n}@example.com",
        "phone": "+33 6 12 34 56 78",
        "postal_code": "75001",
        "consent": True,
        "received_at": f"2030-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00",
        "stored_at": f"2030-01-01T00:{n // 60:02d}:{n % 60:02d}.5+00:00",
        "status": "accepted",
    }
    item.update(extra)
    return item


@pytest.fixture
def outcome_campaign(make_campaign):
    """Campaign `outcome` with 120 entries: one reviewed, flagged, with a photo and a code; one rejected; one over the limit."""
    from lambda_platform.adapters.tables import DynamoSubmissions
    from lambda_platform.adapters.uploads import DynamoUploads

    make_campaign("outcome")
    make_campaign("empty")
    entries = [stored_entry(n) for n in range(120)]
    entries[0].update(
        answers={"store": "=cmd|' /C calc'!A0"},
        upload_key=UPLOAD_KEY,
        duplicate_receipt={"sub-0005"},
        review={
            "decision": "approved",
            "reason": "clear",
            "key_id": "k1",
            "key_name": "agency",
            "reviewed_at": "2030-01-02T00:00:00+00:00",
            "change_id": "c1",
        },
        code="WELCOME-1",
    )
    entries[1]["review"] = {
        "decision": "rejected",
        "reason": "blurry",
        "key_id": "k1",
        "key_name": "agency",
        "reviewed_at": "2030-01-02T00:00:00+00:00",
        "change_id": "c2",
    }
    entries[2]["status"] = "duplicate"
    assert DynamoSubmissions().put_many(entries) == set()
    DynamoUploads().create({"upload_id": UPLOAD_ID, "key": UPLOAD_KEY, "status": "ready", "campaign_id": "outcome"})
    return entries


def fleet(*args: str):
    from fleet.cli import main

    return CliRunner().invoke(main, list(args))


@pytest.mark.slow
def test_export_and_draw_against_moto(outcome_campaign, tmp_path):
    target = tmp_path / "entries.csv"
    exported = fleet("campaigns", "export", "outcome", "--excel", "-o", str(target))
    assert exported.exit_code == 0, exported.output
    assert "exported 120 entries of outcome" in exported.stderr
    raw = target.read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 120
    first = dict(zip(header, rows[0], strict=True))
    assert first["entry_id"] == "sub-0000" and first["upload_status"] == "ready"
    assert first["phone"] == "'+33 6 12 34 56 78"
    assert json.loads(first["answers"]) == {"store": "=cmd|' /C calc'!A0"}  # JSON starts with "{": no formula
    assert first["duplicate_receipt_of"] == "sub-0005" and first["review_decision"] == "approved"
    assert first["reviewer_key_name"] == "agency" and first["code"] == "WELCOME-1"

    jsonl = fleet("campaigns", "export", "outcome", "--format", "jsonl", "--status", "duplicate")
    assert jsonl.exit_code == 0, jsonl.output
    (only,) = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert only["entry_id"] == "sub-0002" and only["status"] == "duplicate"

    empty = fleet("campaigns", "export", "empty")
    assert empty.exit_code == 0 and empty.stdout.splitlines() == [",".join(f'"{c}"' for c in header)]

    # Eligible: accepted, not rejected, not flagged (the campaign's defaults): 120 - 3.
    refused = fleet("campaigns", "draw", "outcome", "--winners", "118")
    assert refused.exit_code == 1 and "only 117 eligible entries" in refused.output
    drawn = fleet("campaigns", "draw", "outcome", "--winners", "3", "--seed", "2030-final")
    assert drawn.exit_code == 0, drawn.output
    assert "eligible entries: 117" in drawn.output and "draw of outcome stored" in drawn.output
    again = fleet("campaigns", "draw", "outcome", "--winners", "3", "--seed", "2030-final")
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert _winners(again.output) == _winners(drawn.output) and len(_winners(drawn.output)) == 3
    for excluded in ("sub-0000", "sub-0001", "sub-0002"):
        assert excluded not in _winners(drawn.output)

    from lambda_platform.adapters.draws import DynamoDraws

    stored = DynamoDraws().get("outcome", "2030-final")
    assert stored is not None and stored["winners"] == _winners(drawn.output) and stored["eligible"] == 117
    verified = fleet("campaigns", "draw", "outcome", "--verify", "2030-final")
    assert verified.exit_code == 0 and "verified" in verified.output
    unknown = fleet("campaigns", "export", "nowhere")
    assert unknown.exit_code == 1 and "no campaign 'nowhere'" in unknown.output


def _winners(output: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in output.splitlines() if line.startswith("  ") and ". " in line]
