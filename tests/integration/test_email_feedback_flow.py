"""SES's feedback end to end on moto: entries to the mailbox simulator's four addresses through the
API; the local SES publishes what SES would, the worker suppresses and marks; later emails to
those addresses are skipped; the operator sees the rates, the list, and lifts an address."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.tables import scan

pytestmark = pytest.mark.integration

BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
ON_LIST = "suppressionlist@simulator.amazonses.com"
SUCCESS = "success@simulator.amazonses.com"


def fleet_cli(*args: str) -> Any:
    """`fleet ARGS` in this process (a subprocess costs a second of imports each): exit_code, stdout, stderr."""
    from click.testing import CliRunner

    from fleet.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def emails_to(address: str) -> list:
    from lambda_platform.outbox import read_outbox

    return [e for e in read_outbox() if address in e.to]


def post(url: str, path: str, body: dict) -> None:
    response = requests.post(f"{url}{path}", json=body, timeout=10)
    assert response.status_code == 202, response.text


def test_the_simulator_addresses_end_bounced_complained_or_delivered_and_nothing_more_goes_to_the_suppressed(
    running_fleet, tmp_path
):
    from events.models import Campaign, user_id_for
    from fleet.status import queue_status
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("promo", "Promo", now - timedelta(days=1), now + timedelta(days=7), gives_codes=True))
    for address in (BOUNCE, COMPLAINT, ON_LIST, SUCCESS):  # no code in the pool yet: each is waitlisted
        post(
            running_fleet.api_url,
            "/v1/campaigns/promo/submissions",
            {"first_name": "Ada", "last_name": "L", "email": address, "consent": True},
        )
    running_fleet.drain()

    stored = {e["email"]: e for e in scan("submissions")}
    assert {a: stored[a].get("email_status") for a in stored} == {
        BOUNCE: "bounced",
        COMPLAINT: "complained",
        ON_LIST: "bounced",
        SUCCESS: "delivered",
    }
    suppressed = {s["address"]: s for s in scan("suppressions")}
    assert {a: s["reason"] for a, s in suppressed.items()} == {BOUNCE: "BOUNCE", COMPLAINT: "COMPLAINT", ON_LIST: "BOUNCE"}
    assert suppressed[ON_LIST]["detail"] == "OnAccountSuppressionList"
    assert all(len(emails_to(a)) == 1 for a in (BOUNCE, COMPLAINT, ON_LIST, SUCCESS))  # the confirmations

    # A signup of a suppressed address: stored, no welcome, the user says why.
    post(running_fleet.api_url, "/v1/users", {"email": BOUNCE, "first_name": "Ada", "last_name": "L"})
    # Codes for the waitlist: only the delivered address is mailed its code.
    codes = tmp_path / "codes.csv"
    codes.write_bytes(b"P-1\nP-2\nP-3\nP-4\n")
    imported = fleet_cli("campaigns", "codes", "import", "promo", str(codes))
    assert imported.exit_code == 0 and "4 given to waitlisted entries" in imported.stdout, imported.stderr
    running_fleet.drain()

    assert [e.subject for e in emails_to(SUCCESS)][-1] == "Your discount code for Promo"
    assert all(len(emails_to(a)) == 1 for a in (BOUNCE, COMPLAINT, ON_LIST))  # no code, no welcome
    stored = {e["email"]: e for e in scan("submissions")}
    assert all(stored[a].get("code") for a in stored)  # the codes stay given
    assert [stored[a]["email_status"] for a in (BOUNCE, COMPLAINT, ON_LIST)] == ["bounced", "complained", "bounced"]
    (user,) = [u for u in scan("users") if u["user_id"] == user_id_for(BOUNCE)]
    assert user["email_status"] == "suppressed"
    assert all(q.dead_lettered == 0 for q in queue_status())
    assert all(not (q.visible or q.in_flight) for q in queue_status() if q.name.endswith("-failures"))

    status = fleet_cli("campaigns", "codes", "status", "promo")
    assert status.stdout.strip() == "promo  pool empty  4 given  0 waitlisted  2 given to bounced addresses", status.stderr
    document = json.loads(fleet_cli("status", "--json").stdout)["emails"]
    # Deliveries: complaint@'s confirmation, success@'s confirmation and code.
    assert (document["delivered"], document["bounced"], document["complained"], document["suppressed"]) == (3, 2, 1, 3)
    assert document["bounce_rate"] == pytest.approx(0.4) and document["complaint_rate"] == pytest.approx(1 / 3)
    assert len(document["alarms"]) == 2
    check = fleet_cli("status", "--check")
    assert check.exit_code == 1 and "bounce rate 40 % is over the 2.50 % alarm" in check.stderr, check.stderr

    blocks = [b.splitlines() for b in fleet_cli("outbox", "--lines", "0").stdout.split("\n\n")[1:]]
    shown = {(b[0].split()[1], b[2].split()[1]) for b in blocks}
    assert shown == {(BOUNCE, "bounced"), (COMPLAINT, "complained"), (ON_LIST, "bounced"), (SUCCESS, "delivered")}

    listed = fleet_cli("suppression", "list")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == sorted(
        [BOUNCE, COMPLAINT, ON_LIST], key=lambda a: suppressed[a]["suppressed_at"]
    )
    lifted = fleet_cli("suppression", "remove", BOUNCE.upper(), "--by", "ops@example.com")
    assert lifted.exit_code == 0 and "lifted by ops@example.com" in lifted.stdout, lifted.stderr
    assert fleet_cli("suppression", "remove", BOUNCE).exit_code == 1  # not on the list any more
    everything = fleet_cli("suppression", "list", "--all", "--json").stdout.splitlines()
    (item,) = [json.loads(line) for line in everything if BOUNCE in line]
    assert item["lifted_by"] == "ops@example.com" and item["active"] is False
    assert BOUNCE not in fleet_cli("suppression", "list").stdout


def test_each_entry_to_one_address_gets_its_own_delivery_mark(running_fleet, make_campaign):
    """A confirmation names its entry in its SES tags: its delivery marks that entry, not the address's others."""
    make_campaign("twice", max_entries_per_email=2)
    body = {"first_name": "Ada", "last_name": "L", "email": SUCCESS, "consent": True}
    post(running_fleet.api_url, "/v1/campaigns/twice/submissions", body)
    running_fleet.drain()
    (first,) = scan("submissions")
    assert first["email_status"] == "delivered"

    post(running_fleet.api_url, "/v1/campaigns/twice/submissions", {**body, "first_name": "Bea"})
    running_fleet.drain()
    stored = {e["submission_id"]: e for e in scan("submissions")}
    (second,) = [e for i, e in stored.items() if i != first["submission_id"]]
    assert second["email_status"] == "delivered" and second["email_status_at"] > first["email_status_at"]
    # The second delivery is the second entry's alone: the first keeps the time of its own.
    assert stored[first["submission_id"]]["email_status_at"] == first["email_status_at"]
    assert len(emails_to(SUCCESS)) == 2
    assert [e["event"] for e in scan("email_events")].count(f"Delivery#{SUCCESS}") == 2
