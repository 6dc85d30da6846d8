"""Discount codes end to end on moto: entries through the API, codes in their confirmations, the
waitlist when the pool runs out, codes imported with the CLI going out to the waitlist by email."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.tables import scan

pytestmark = pytest.mark.integration

FLEET = str(Path(sys.executable).with_name("fleet"))
CODE = re.compile(r"Your discount code: (\S+)")


def fleet_cli(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "FLEET_STAGE": "local"}
    return subprocess.run([FLEET, *args], env=env, capture_output=True, text=True, timeout=120)


def emails_to(address: str) -> list:
    from lambda_platform.outbox import read_outbox

    return [e for e in read_outbox() if address in e.to]


def code_in(email) -> str | None:
    found = [m.group(1) for line in email.text_lines() if (m := CODE.search(line))]
    return found[0] if found else None


@pytest.mark.slow
def test_a_pool_of_three_five_entries_then_two_codes_imported_for_the_waitlist(running_fleet, tmp_path):
    from events.models import Campaign
    from lambda_platform.adapters.tables import DynamoCampaigns

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("promo", "Promo", now - timedelta(days=1), now + timedelta(days=7), gives_codes=True))
    first = tmp_path / "codes.csv"
    first.write_bytes(b"PROMO-1\nPROMO-2\nPROMO-3\n")
    imported = fleet_cli(endpoint, "campaigns", "codes", "import", "promo", str(first))
    assert imported.returncode == 0, imported.stderr
    assert "3 added, 0 skipped" in imported.stdout

    addresses = [f"entrant{n}@example.com" for n in range(5)]
    for address in addresses:  # one after another: the waitlist goes by order of entry
        body = {"first_name": "Ada", "last_name": "Lovelace", "email": address, "consent": True}
        response = requests.post(f"{running_fleet.api_url}/v1/campaigns/promo/submissions", json=body, timeout=10)
        assert response.status_code == 202, response.text
    running_fleet.drain()

    confirmations = {a: emails_to(a) for a in addresses}
    assert all(len(found) == 1 for found in confirmations.values()), confirmations
    codes = {a: code_in(found[0]) for a, found in confirmations.items()}
    given = {a: c for a, c in codes.items() if c}
    assert sorted(given.values()) == ["PROMO-1", "PROMO-2", "PROMO-3"]
    waiting = [a for a in addresses if a not in given]
    assert len(waiting) == 2
    assert all(any("on the waitlist" in line for line in confirmations[a][0].text_lines()) for a in waiting)
    stored = {e["email"]: e for e in scan("submissions")}
    assert all(stored[a]["status"] == "waitlisted" and stored[a]["waitlisted_in"] == "promo" for a in waiting)
    assert {stored[a]["code"] for a in given} == set(given.values())

    more = tmp_path / "more.csv"
    more.write_bytes(b"PROMO-3\nLATE-1\n\nLATE-2\n")
    imported = fleet_cli(endpoint, "campaigns", "codes", "import", "promo", str(more))
    assert imported.returncode == 0, imported.stderr
    assert "2 added, 2 skipped" in imported.stdout and "2 given to waitlisted entries" in imported.stdout
    assert "line 1: already in the campaign's codes" in imported.stderr and "line 3: blank line" in imported.stderr
    running_fleet.drain()

    late = {}
    for address in waiting:
        found = emails_to(address)
        assert len(found) == 2, [e.subject for e in found]
        assert found[1].subject == "Your discount code for Promo"
        late[address] = code_in(found[1])
    assert sorted(late.values()) == ["LATE-1", "LATE-2"]
    assert all(len(emails_to(a)) == 1 for a in given)  # nothing more for those who had a code
    stored = {e["email"]: e for e in scan("submissions")}
    assert all(stored[a]["status"] == "accepted" and stored[a]["code"] == late[a] for a in waiting)

    status = fleet_cli(endpoint, "campaigns", "codes", "status", "promo")
    assert status.returncode == 0, status.stderr
    assert status.stdout.strip() == "promo  pool empty  5 given  0 waitlisted  0 given to bounced addresses"


def test_a_code_file_that_is_not_utf8_is_refused_with_its_line(provisioned, tmp_path):
    from events.models import Campaign
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("promo", "Promo", now - timedelta(days=1), now + timedelta(days=7), gives_codes=True))
    bad = tmp_path / "codes.csv"
    bad.write_bytes("OK-1\nCAFÉ-2\n".encode("cp1252"))
    result = fleet_cli(provisioned.endpoint_url, "campaigns", "codes", "import", "promo", str(bad))
    assert result.returncode != 0 and "line 2 is not UTF-8" in result.stderr
    assert scan("codes") == []
    good = tmp_path / "good.csv"
    good.write_bytes(b"OK-1\n")
    unknown = fleet_cli(provisioned.endpoint_url, "campaigns", "codes", "import", "nope", str(good))
    assert unknown.returncode != 0 and "no campaign 'nope'" in unknown.stderr


@pytest.mark.slow
def test_waitlisted_entries_flagged_or_rejected_later_get_no_code_and_no_email(running_fleet, tmp_path):
    from events.models import Campaign
    from lambda_platform.adapters.entries import DynamoEntries
    from lambda_platform.adapters.receipts import DynamoReceiptFlags
    from lambda_platform.adapters.tables import DynamoCampaigns

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("promo", "Promo", now - timedelta(days=1), now + timedelta(days=7), gives_codes=True))
    addresses = ["clean@example.com", "copy@example.com", "refused@example.com"]
    for address in addresses:
        body = {"first_name": "Ada", "last_name": "Lovelace", "email": address, "consent": True}
        response = requests.post(f"{running_fleet.api_url}/v1/campaigns/promo/submissions", json=body, timeout=10)
        assert response.status_code == 202, response.text
    running_fleet.drain()
    assert all(len(emails_to(a)) == 1 for a in addresses)
    stored = {e["email"]: e for e in scan("submissions")}
    assert all(stored[a]["status"] == "waitlisted" for a in addresses)

    # A later receipt check flags one; a reviewer rejects another (what workers.campaign_admin records).
    assert DynamoReceiptFlags().flag(stored["copy@example.com"]["submission_id"], ["an-earlier-entry"])
    review = {"decision": "rejected", "reason": "blurry", "reviewed_at": now.isoformat(), "change_id": "c1"}
    assert DynamoEntries().record_review(stored["refused@example.com"]["submission_id"], "promo", review)

    codes = tmp_path / "codes.csv"
    codes.write_bytes(b"LATE-1\nLATE-2\nLATE-3\n")
    imported = fleet_cli(endpoint, "campaigns", "codes", "import", "promo", str(codes))
    assert imported.returncode == 0, imported.stderr
    assert "3 added" in imported.stdout and "1 given to waitlisted entries" in imported.stdout
    assert "1 flagged or rejected entries taken off the waitlist" in imported.stdout
    running_fleet.drain()

    assert [e.subject for e in emails_to("clean@example.com")][1] == "Your discount code for Promo"
    assert len(emails_to("copy@example.com")) == 1 and len(emails_to("refused@example.com")) == 1
    stored = {e["email"]: e for e in scan("submissions")}
    assert "code" in stored["clean@example.com"]
    for address in ("copy@example.com", "refused@example.com"):
        assert "code" not in stored[address] and "waitlisted_in" not in stored[address], address
        assert stored[address]["status"] == "accepted"
    status = fleet_cli(endpoint, "campaigns", "codes", "status", "promo")
    assert status.stdout.strip() == "promo  2 available  1 given  0 waitlisted  0 given to bounced addresses"


def test_codes_are_normalised_and_read_from_a_pipe(provisioned):
    from events.models import Campaign
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("promo", "Promo", now - timedelta(days=1), now + timedelta(days=7), gives_codes=True))
    env = {**os.environ, "AWS_ENDPOINT_URL": provisioned.endpoint_url, "FLEET_STAGE": "local"}

    def pipe(data: bytes) -> subprocess.CompletedProcess:
        return subprocess.run(
            [FLEET, "campaigns", "codes", "import", "promo", "-"], env=env, input=data, capture_output=True, timeout=120
        )

    first = pipe("ABC\nabc\nＡＢＣ\nABC\u200b\nA\u0412C\n\u200b\nOK\u202e-1\n".encode())
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().startswith("promo: 1 added, 6 skipped")
    assert first.stderr.decode().splitlines() == [
        "line 2: duplicate of line 1",
        "line 3: duplicate of line 1",
        "line 4: duplicate of line 1",
        "line 5: code holds U+0412 CYRILLIC CAPITAL LETTER VE: a code is ASCII letters, digits and - _ .",
        "line 6: blank line",
        "line 7: code holds U+202E RIGHT-TO-LEFT OVERRIDE: a code is ASCII letters, digits and - _ .",
    ]
    again = pipe(b"abc\nNEW-1\n")
    assert again.returncode == 0 and "1 added" in again.stdout.decode()
    assert again.stderr.decode().splitlines() == ["line 1: already in the campaign's codes"]
    assert sorted((c["code"], c["text"]) for c in scan("codes")) == [("ABC", "ABC"), ("NEW-1", "NEW-1")]

    bad = pipe(b"".join(b"GOOD-%d\n" % n for n in range(3000)) + "CAFÉ\n".encode("cp1252"))
    assert bad.returncode != 0 and "line 3001 is not UTF-8" in bad.stderr.decode()
    assert len(scan("codes")) == 2  # nothing of it written
