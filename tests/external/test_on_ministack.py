"""Fleet on MiniStack through `fleet up --external`: entries, emails, the outbox, a second provision.

No hand step: provisioning verifies the sender itself, and the outbox reads MiniStack's
own listing of sent mail.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import requests

from tests.integration.fleet_up import FLEET


def outbox_addresses() -> list[str]:
    """Every recipient in the local outbox, read as `fleet outbox` reads it."""
    from lambda_platform.outbox import read_outbox

    return [address for email in read_outbox() for address in email.to]


def wait_for_email(address: str, timeout: float = 60.0) -> None:
    """Until the outbox holds an email to `address`."""
    deadline = time.monotonic() + timeout
    while address not in outbox_addresses():
        assert time.monotonic() < deadline, f"no email to {address} in {timeout} s"
        time.sleep(0.3)


def test_an_entry_is_stored_and_confirmed_by_email(external_fleet, on_ministack):
    """POST an entry: stored by the submissions worker, confirmed from the stream, seen in the outbox."""
    address = f"grace.{uuid.uuid4().hex[:8]}@example.com"
    body = {"first_name": "Grace", "last_name": "Hopper", "email": address, "consent": True}
    posted = requests.post(f"{external_fleet.api_url}/v1/campaigns/demo/submissions", json=body, timeout=10)
    assert posted.status_code == 202, posted.text
    status_url = f"{external_fleet.api_url}{posted.json()['status_url']}"
    deadline = time.monotonic() + 60
    while (shown := requests.get(status_url, timeout=10)).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shown.status_code == 200 and shown.json()["status"] == "accepted", shown.text
    wait_for_email(address)
    page = requests.get(f"{external_fleet.api_url}/_local/outbox", timeout=10)
    assert page.status_code == 200 and address in page.text


def test_a_signup_gets_one_welcome_email(external_fleet, on_ministack):
    """POST a user: stored, welcomed once, and `fleet outbox` shows it."""
    address = f"ada.{uuid.uuid4().hex[:8]}@example.com"
    for _ in range(3):  # the same signup again: still one user, one email
        posted = requests.post(
            f"{external_fleet.api_url}/v1/users",
            json={"email": address, "first_name": "Ada", "last_name": "Lovelace"},
            headers={"Idempotency-Key": address},
            timeout=10,
        )
        assert posted.status_code in (201, 202), posted.text
    wait_for_email(address)
    time.sleep(2)  # time for a second email, if one were coming
    assert outbox_addresses().count(address) == 1
    shown = subprocess.run([FLEET, "outbox", "--last", "50"], env=external_fleet.env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and address in shown.stdout, shown.stdout + shown.stderr


def test_a_second_provision_changes_nothing(external_fleet):
    """`fleet provision` after `fleet up` provisioned: every resource unchanged (the pipe, the sender)."""
    done = subprocess.run([FLEET, "provision"], env=external_fleet.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(" 0 changed"), done.stdout
