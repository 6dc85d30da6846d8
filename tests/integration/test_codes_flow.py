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
    assert status.stdout.strip() == "promo  pool empty  5 given  0 waitlisted"


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
