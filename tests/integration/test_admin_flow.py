"""The admin API end to end on moto: PUT a campaign -> the campaign-admin queue -> workers.campaign_admin;
entries listed a page at a time by cursor; a review queued, recorded and read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from lambda_platform import aws
from lambda_platform.adapters.queues import queue_url

pytestmark = pytest.mark.integration

FLEET = str(Path(sys.executable).with_name("fleet"))


@pytest.fixture
def keys(provisioned) -> dict[str, dict[str, str]]:
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys

    store = DynamoApiKeys()
    return {
        "admin": {"x-api-key": new_key("agency-admin", ["campaigns:write", "campaigns:read"], store, all_campaigns=True)[0]},
        "reader": {"x-api-key": new_key("agency-reader", ["campaigns:read"], store, all_campaigns=True)[0]},
    }


def window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"opens_at": (now - timedelta(days=1)).isoformat(), "closes_at": (now + timedelta(days=7)).isoformat()}


@pytest.mark.slow
def test_put_list_by_cursor_review_and_read_back(running_fleet, keys):
    api, admin = running_fleet.api_url, keys["admin"]
    body = {"name": "Prize draw", "max_entries_per_email": 5, "draw_includes_unreviewed": False, **window()}

    saved = requests.put(f"{api}/v1/campaigns/prize", json=body, headers=admin, timeout=10)
    assert saved.status_code == 202, saved.text
    assert saved.headers["Location"] == "/v1/campaigns/prize"
    running_fleet.drain()
    assert requests.get(f"{api}/v1/campaigns/prize", timeout=10).json()["name"] == "Prize draw"

    # A newer change, then a replay of the first one's message: the newer stays.
    first_message = _queued_body(saved.json()["change_id"])
    renamed = requests.put(f"{api}/v1/campaigns/prize", json={**body, "name": "Grand prize draw"}, headers=admin, timeout=10)
    assert renamed.status_code == 202
    running_fleet.drain()
    aws.client("sqs").send_message(QueueUrl=queue_url("campaign-admin"), MessageBody=first_message)
    running_fleet.drain()
    from lambda_platform.adapters.tables import DynamoCampaigns

    stored = DynamoCampaigns().get("prize")
    assert stored.name == "Grand prize draw"
    assert (stored.max_entries_per_email, stored.draw_includes_unreviewed, stored.gives_codes) == (5, False, False)

    ids = []
    for i in range(7):
        entry = {"first_name": "Ana", "last_name": f"Souza {i}", "email": f"ana{i}@example.com", "consent": True}
        posted = requests.post(f"{api}/v1/campaigns/prize/submissions", json=entry, timeout=10)
        assert posted.status_code == 202, posted.text
        ids.append(posted.json()["submission_id"])
    running_fleet.drain()

    listed, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{api}/v1/campaigns/prize/entries", params=params, headers=keys["reader"], timeout=10)
        assert page.status_code == 200, page.text
        listed += page.json()["entries"]
        pages += 1
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(e["submission_id"] for e in listed) == sorted(ids)
    times = [e["received_at"] for e in listed]
    assert times == sorted(times, reverse=True)
    accepted = requests.get(
        f"{api}/v1/campaigns/prize/entries", params={"status": "accepted", "limit": 100}, headers=keys["reader"], timeout=10
    ).json()
    assert len(accepted["entries"]) == 7 and accepted["next_cursor"] is None

    chosen = ids[3]
    review = {"decision": "rejected", "reason": "The receipt is from another shop."}
    refused = requests.patch(f"{api}/v1/campaigns/prize/entries/{chosen}", json=review, headers=keys["reader"], timeout=10)
    assert refused.status_code == 403
    queued = requests.patch(f"{api}/v1/campaigns/prize/entries/{chosen}", json=review, headers=admin, timeout=10)
    assert queued.status_code == 202, queued.text
    running_fleet.drain()

    shown = requests.get(f"{api}/v1/campaigns/prize/entries/{chosen}", headers=keys["reader"], timeout=10).json()
    assert shown["review"]["decision"] == "rejected"
    assert shown["review"]["reason"] == review["reason"]
    assert shown["review"]["key_name"] == "agency-admin" and shown["review"]["key_id"]
    assert shown["review"]["change_id"] == queued.json()["change_id"]
    assert shown["email"] == "ana3@example.com" and shown["duplicate_receipt"] == []
    public = requests.get(f"{api}/v1/submissions/{chosen}", timeout=10)
    assert public.status_code == 200 and "review" not in public.json() and "rejected" not in public.text

    unknown = requests.get(f"{api}/v1/campaigns/nope/entries", headers=keys["reader"], timeout=10)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "campaign_not_found")


def _queued_body(change_id: str) -> str:
    """The envelope the API queued for the stored change, rebuilt from the item as a replay would carry it."""
    from events.messages.campaigns import SaveCampaign
    from events.messages.envelope import dump_message
    from lambda_platform.adapters.dynamo import get_one

    item = get_one("campaigns", "campaign_id", "prize")
    assert item["change_id"] == change_id
    fields = {
        k: item[k] for k in ("campaign_id", "name", "opens_at", "closes_at", "max_entries_per_email", "draw_includes_unreviewed")
    }
    return dump_message(SaveCampaign(change_id=change_id, received_at=item["changed_at"], **fields))


@pytest.mark.slow
def test_campaigns_create_takes_the_reward_settings_and_list_shows_them(provisioned):
    env = {**os.environ, "AWS_ENDPOINT_URL": provisioned.endpoint_url, "FLEET_STAGE": "local"}
    create = [
        FLEET,
        "campaigns",
        "create",
        "codes",
        "--name",
        "Codes",
        "--opens",
        "2020-01-01T00:00:00Z",
        "--closes",
        "2100-01-01T00:00:00Z",
        "--gives-codes",
        "--draw-only-approved",
        "--draw-includes-flagged",
    ]
    made = subprocess.run(create, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert "gives codes" in made.stdout and "approved only" in made.stdout

    listed = subprocess.run([FLEET, "campaigns", "list", "--json"], env=env, capture_output=True, text=True, timeout=60)
    (campaign,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (campaign["gives_codes"], campaign["draw_includes_unreviewed"], campaign["draw_includes_flagged"]) == (
        True,
        False,
        True,
    )
