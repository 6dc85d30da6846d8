"""A campaign nobody can rig, end to end on moto: the attacks of a dishonest staff member or
integrator through the API, each failing. Retries repeat and never reorder."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

pytestmark = pytest.mark.integration


def make_key(name: str, *scopes: str, **binding) -> dict[str, str]:
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys

    return {"x-api-key": new_key(name, list(scopes), DynamoApiKeys(), **binding)[0]}


def window(days: int = 7) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"opens_at": (now - timedelta(days=1)).isoformat(), "closes_at": (now + timedelta(days=days)).isoformat()}


def call(method: str, url: str, headers: dict[str, str], key: str | None = None, json=None) -> requests.Response:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return requests.request(method, url, json=json, headers=headers, timeout=10)


def queued(method: str, url: str, headers: dict[str, str], key: str | None = None, json=None) -> dict:
    answer = call(method, url, headers, key, json)
    assert answer.status_code == 202, answer.text
    return answer.json()


@pytest.fixture
def admin(provisioned) -> dict[str, str]:
    return make_key("agency", "campaigns:write", "campaigns:read")


@pytest.fixture
def writer(provisioned) -> dict[str, str]:
    return make_key("cms", "articles:write")


def an_entry(api: str, running_fleet, campaign_id: str = "prize") -> str:
    entry = {"first_name": "Ana", "last_name": "Souza", "email": f"{uuid.uuid4().hex[:8]}@example.com", "consent": True}
    posted = requests.post(f"{api}/v1/campaigns/{campaign_id}/submissions", json=entry, timeout=10)
    assert posted.status_code == 202, posted.text
    running_fleet.drain()
    return posted.json()["submission_id"]


@pytest.mark.slow
def test_retries_repeat_and_never_reorder(running_fleet, admin, writer, make_campaign):
    api = running_fleet.api_url
    make_campaign("prize")
    entry = an_entry(api, running_fleet)
    review_url = f"{api}/v1/campaigns/prize/entries/{entry}"

    # Approve with key A, reject for fraud, retry the approval with key A: still rejected.
    approved = queued("PATCH", review_url, admin, "A", {"decision": "approved"})
    running_fleet.drain()
    queued("PATCH", review_url, admin, "B", {"decision": "rejected", "reason": "fraud"})
    running_fleet.drain()
    retried = queued("PATCH", review_url, admin, "A", {"decision": "approved"})
    running_fleet.drain()
    assert retried["change_id"] == approved["change_id"]
    review = call("GET", review_url, admin).json()["review"]
    assert (review["decision"], review["reason"]) == ("rejected", "fraud")

    # A second key sending the first's Idempotency-Key makes its own request: no takeover.
    other = make_key("intruder", "campaigns:write", "campaigns:read")
    theirs = queued("PATCH", review_url, other, "B", {"decision": "rejected", "reason": "fraud"})
    running_fleet.drain()
    review = call("GET", review_url, admin).json()["review"]
    assert theirs["change_id"] != approved["change_id"]
    assert (review["key_name"], review["change_id"]) == ("intruder", theirs["change_id"])

    # A closed campaign stays closed when its old, open settings are retried.
    campaign_url = f"{api}/v1/campaigns/prize"
    opened = {"name": "Prize", **window()}
    queued("PUT", campaign_url, admin, "open", opened)
    running_fleet.drain()
    ended = datetime.now(UTC) - timedelta(minutes=1)
    closed = {"name": "Prize (ended)", "opens_at": (ended - timedelta(days=2)).isoformat(), "closes_at": ended.isoformat()}
    queued("PUT", campaign_url, admin, "close", closed)
    running_fleet.drain()
    queued("PUT", campaign_url, admin, "open", opened)
    running_fleet.drain()
    shown = requests.get(campaign_url, timeout=10).json()
    assert (shown["name"], shown["open"]) == ("Prize (ended)", False)

    # An old title retried after a newer one; an unpublishing retried after a republishing
    # (read from the table: the API's reads are cached for a few seconds).
    from lambda_platform.adapters.blog import DynamoArticles

    body = {"title": "Sourdough", "content": "Less yeast.", "author": "Ada"}
    article_id = queued("POST", f"{api}/v1/articles", writer, json=body)["article_id"]
    article_url = f"{api}/v1/articles/{article_id}"
    running_fleet.drain()
    queued("PATCH", article_url, writer, "old", {"title": "Old title"})
    running_fleet.drain()
    queued("PATCH", article_url, writer, "new", {"title": "New title"})
    running_fleet.drain()
    queued("PATCH", article_url, writer, "old", {"title": "Old title"})
    running_fleet.drain()
    assert DynamoArticles().get(article_id)["title"] == "New title"

    queued("DELETE", article_url, writer, "off")
    running_fleet.drain()
    assert DynamoArticles().get(article_id)["published"] is False
    queued("PATCH", article_url, writer, "on", {"published": True})
    running_fleet.drain()
    queued("DELETE", article_url, writer, "off")
    running_fleet.drain()
    stored = DynamoArticles().get(article_id)
    assert stored["published"] is True and "unpublished_at" not in stored
