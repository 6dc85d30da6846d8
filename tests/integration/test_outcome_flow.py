"""A campaign's outcome against moto: entries stored as the worker stores them, then the real
`fleet campaigns export` and `fleet campaigns draw` (commit, close, draw, verify)."""

from __future__ import annotations

import csv
import hashlib
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
def test_export_against_moto(outcome_campaign, tmp_path):
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

    unknown = fleet("campaigns", "export", "nowhere")
    assert unknown.exit_code == 1 and "no campaign 'nowhere'" in unknown.output


def close(campaign_id: str) -> None:
    """The campaign as stored, closed a minute ago."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from lambda_platform.adapters.tables import DynamoCampaigns

    stored = DynamoCampaigns().get(campaign_id)
    assert stored is not None
    DynamoCampaigns().put(replace(stored, closes_at=datetime.now(UTC) - timedelta(minutes=1)))


@pytest.mark.slow
def test_a_draw_committed_closed_run_and_verified_against_moto(outcome_campaign, tmp_path):
    from tests.tables import scan

    # Commit while the campaign is open: only the seed's hash is stored.
    made = fleet("campaigns", "draw", "outcome", "--commit")
    assert made.exit_code == 0, made.output
    seed = made.output.splitlines()[-1]
    assert len(seed) == 64 and made.output.count(seed) == 1
    assert "committed AFTER the campaign opened" in made.output and "with 120 entries stored then" in made.output
    (commitment,) = scan("draws")
    assert commitment["seed"] == "commitment" and commitment["seed_sha256"] == hashlib.sha256(seed.encode()).hexdigest()
    assert seed not in json.dumps(commitment, default=str)
    assert fleet("campaigns", "draw", "outcome", "--commit").exit_code == 1  # never replaced
    early = fleet("campaigns", "draw", "outcome", "--winners", "3", "--seed", seed)
    assert early.exit_code == 1 and "once the campaign has closed" in early.output

    close("outcome")
    assert fleet("campaigns", "draw", "outcome", "--commit").exit_code == 1
    other = fleet("campaigns", "draw", "outcome", "--winners", "3", "--seed", "0" * 64)
    assert other.exit_code == 1 and "not the one committed" in other.output
    # Eligible: accepted, not rejected, not flagged (the campaign's defaults): 120 - 3.
    refused = fleet("campaigns", "draw", "outcome", "--winners", "118", "--seed", seed)
    assert refused.exit_code == 1 and "only 117 eligible entries" in refused.output
    assert [d["seed"] for d in scan("draws")] == ["commitment"]

    ids_file = tmp_path / "eligible.txt"
    drawn = fleet("campaigns", "draw", "outcome", "--winners", "3", "--seed", seed, "--ids-file", str(ids_file))
    assert drawn.exit_code == 0, drawn.output
    assert "eligible entries: 117" in drawn.output and "the campaign's one draw" in drawn.output
    winners = _winners(drawn.output)
    assert len(winners) == 3 and not {"sub-0000", "sub-0001", "sub-0002"} & set(winners)
    again = fleet("campaigns", "draw", "outcome", "--winners", "3", "--seed", seed)
    assert again.exit_code == 0 and "nothing changed" in again.output and _winners(again.output) == winners

    # Re-run by hand, as an auditor would, from the ids file and the seed.
    ids = ids_file.read_bytes().decode().split("\n")
    assert len(ids) == 117 and ids == sorted(ids)
    stored = {d["seed"]: d for d in scan("draws")}
    assert stored["draw"]["digest"] == hashlib.sha256(ids_file.read_bytes()).hexdigest()
    assert sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())[:3] == winners
    assert stored["draw"]["revealed_seed"] == seed and stored["draw"]["winners"] == winners

    # A winner rejected after the draw changes nothing: the draw stands on the frozen ids.
    from lambda_platform.adapters.entries import DynamoEntries

    review = {"decision": "rejected", "reason": "late", "reviewed_at": "2030-02-01T00:00:00+00:00", "change_id": "c9"}
    assert DynamoEntries().record_review(winners[0], "outcome", review)
    verified = fleet("campaigns", "draw", "outcome", "--verify")
    assert verified.exit_code == 0, verified.output
    assert "verified: the committed seed, the frozen entries and the same winners" in verified.output
    assert "note: 116 entries are eligible today" in verified.output


@pytest.mark.slow
def test_a_draw_committed_before_opening_says_so_and_a_large_frozen_set_is_stored_in_parts(make_campaign):
    from datetime import timedelta

    from lambda_platform.adapters.draws import DynamoDraws

    make_campaign("future", opens_in=timedelta(days=1))
    made = fleet("campaigns", "draw", "future", "--commit")
    assert made.exit_code == 0, made.output
    assert "committed before the campaign opened" in made.output and "with 0 entries stored then" in made.output

    ids = sorted(f"{n:08d}-aaaa-bbbb-cccc-{n:012d}" for n in range(20_000))  # 740 KB of ids: three parts
    draws = DynamoDraws()
    draw = {"campaign_id": "big", "seed": "f" * 64, "digest": "d" * 64, "winners": ids[:2]}
    assert draws.put_draw(draw, ids)
    assert not draws.put_draw({**draw, "winners": ids[2:4]}, ids)  # one draw per campaign
    assert draws.eligible("big", "d" * 64) == ids
    assert draws.draw("big") == draw


def _winners(output: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in output.splitlines() if line.startswith("  ") and ". " in line]
