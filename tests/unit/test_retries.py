"""Retries repeat, never reorder, over fakes: a change's version is fixed when its
Idempotency-Key is first claimed, so an older change retried after a newer one changes
nothing (campaigns, reviews, articles); a key is scoped to its caller."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from events.messages.blog import EditArticle, UnpublishArticle
from events.messages.campaigns import ReviewEntry, SaveCampaign
from events.messages.envelope import load_message
from events.models import ACCEPTED
from ingest_api import create_app
from lambda_platform.adapters.dynamo import to_item
from lambda_platform.adapters.tables import DynamoRequestKeys
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.tables import FakeCampaigns, FakeQueue, FakeRequestKeys, FakeSubmissions, campaign
from workers.blog import change_article, store_article
from workers.campaign_admin import CampaignAdminPorts, apply

CAMPAIGN = {
    "name": "Summer receipts",
    "opens_at": "2025-06-01T00:00:00+00:00",
    "closes_at": "2025-08-31T00:00:00+00:00",
}


class World:
    """The app over fakes, two writers' keys, and the workers applying what was queued."""

    def __init__(self) -> None:
        self.keys = FakeApiKeys()
        self.request_keys = FakeRequestKeys()
        self.ports = fake_ports(
            campaigns=FakeCampaigns(campaign("summer")),
            submissions=FakeSubmissions(),
            api_keys=self.keys,
            request_keys=self.request_keys,
            campaign_admin_queue=FakeQueue(),
            blog_queue=FakeQueue(),
        )
        config = {"TESTING": True, "SERVICES": Ports(**self.ports), "READ_CACHE_SECONDS": 0}
        self.client = create_app(config).test_client()
        scopes = ("campaigns:write", "campaigns:read", "articles:write")
        self.first = {"x-api-key": self.keys.issue(*scopes, name="first")}
        self.second = {"x-api-key": self.keys.issue(*scopes, name="second")}

    def drain(self) -> list[str]:
        """Apply every queued admin and blog change, in the order sent; what each did."""
        done = []
        admin = CampaignAdminPorts(self.ports["campaigns"], self.ports["entries"])
        for message in take(self.ports["campaign_admin_queue"]):
            done.append(apply(message, admin))
        for message in take(self.ports["blog_queue"]):
            if isinstance(message, (EditArticle, UnpublishArticle)):
                done.append("changed" if change_article(message, self.ports["articles"], self.ports["edge"]) else "skipped")
            else:
                store_article(message, self.ports["articles"])
                done.append("stored")
        return done

    def send(self, method: str, path: str, headers: dict[str, str], key: str | None = None, json=None):
        if key is not None:
            headers = {**headers, "Idempotency-Key": key}
        answer = self.client.open(path, method=method, json=json, headers=headers)
        assert answer.status_code == 202, answer.get_json()
        return answer.get_json()


def take(queue: FakeQueue) -> list:
    """What a queue was sent since last taken, read back as a worker reads it."""
    bodies = list(queue.bodies)
    queue.sent.clear()
    queue.bodies.clear()
    return [load_message(body) for body in bodies]


@pytest.fixture
def world() -> World:
    return World()


def an_entry(world: World) -> str:
    submission_id = str(uuid.uuid4())
    world.ports["submissions"].items[submission_id] = {
        "submission_id": submission_id,
        "campaign_id": "summer",
        "first_name": "Ana",
        "last_name": "Souza",
        "email": "ana@example.com",
        "consent": True,
        "status": ACCEPTED,
        "received_at": datetime(2025, 6, 14, tzinfo=UTC).isoformat(),
        "stored_at": datetime(2025, 6, 14, tzinfo=UTC).isoformat(),
    }
    return submission_id


def an_article(world: World, title: str = "Sourdough") -> str:
    body = {"title": title, "content": "Less yeast.", "author": "Ada"}
    article_id = world.send("POST", "/v1/articles", world.first, json=body)["article_id"]
    assert world.drain() == ["stored"]
    return article_id


# --- reviews ----------------------------------------------------------------------------


def test_an_approval_retried_after_a_rejection_leaves_the_entry_rejected(world):
    entry = an_entry(world)
    path = f"/v1/campaigns/summer/entries/{entry}"
    approved = world.send("PATCH", path, world.first, "A", {"decision": "approved"})
    assert world.drain() == ["reviewed"]
    world.send("PATCH", path, world.first, "B", {"decision": "rejected", "reason": "fraud"})
    assert world.drain() == ["reviewed"]

    retried = world.send("PATCH", path, world.first, "A", {"decision": "approved"})

    assert retried["change_id"] == approved["change_id"]
    assert world.drain() == ["skipped"]
    review = world.ports["submissions"].items[entry]["review"]
    assert (review["decision"], review["reason"]) == ("rejected", "fraud")


def test_a_retry_sends_the_version_its_key_was_first_claimed_with(world):
    entry = an_entry(world)
    path = f"/v1/campaigns/summer/entries/{entry}"
    world.send("PATCH", path, world.first, "A", {"decision": "approved"})
    (first,) = take(world.ports["campaign_admin_queue"])
    world.send("PATCH", path, world.first, "A", {"decision": "approved"})
    (again,) = take(world.ports["campaign_admin_queue"])

    assert isinstance(first, ReviewEntry)
    assert again == first, "the same id, the same version, the same key"
    (record,) = world.request_keys.records.values()
    assert record["received_at"] == first.received_at


def test_another_keys_request_with_the_same_idempotency_key_is_its_own_and_takes_no_attribution(world):
    entry = an_entry(world)
    path = f"/v1/campaigns/summer/entries/{entry}"
    mine = world.send("PATCH", path, world.first, "A", {"decision": "rejected", "reason": "fraud"})
    assert world.drain() == ["reviewed"]

    theirs = world.send("PATCH", path, world.second, "A", {"decision": "rejected", "reason": "fraud"})

    assert theirs["change_id"] != mine["change_id"], "a new request of the second key, never the first's"
    (message,) = take(world.ports["campaign_admin_queue"])
    assert (message.change_id, message.key_name) == (theirs["change_id"], "second")
    assert len(world.request_keys.records) == 2
    first_review = world.ports["submissions"].items[entry]["review"]
    assert (first_review["change_id"], first_review["key_name"]) == (mine["change_id"], "first")


def test_a_second_key_sending_another_body_under_the_same_key_is_no_422(world):
    entry = an_entry(world)
    path = f"/v1/campaigns/summer/entries/{entry}"
    world.send("PATCH", path, world.first, "A", {"decision": "approved"})

    world.send("PATCH", path, world.second, "A", {"decision": "rejected", "reason": "fraud"})


# --- campaigns --------------------------------------------------------------------------


def test_a_campaign_save_retried_after_a_newer_save_changes_nothing(world):
    old = {**CAMPAIGN, "closes_at": "2025-07-01T00:00:00+00:00", "max_entries_per_email": 5}
    world.send("PUT", "/v1/campaigns/summer", world.first, "open-again", old)
    closed = {**CAMPAIGN, "closes_at": "2025-06-02T00:00:00+00:00", "name": "Summer (closed)"}
    world.send("PUT", "/v1/campaigns/summer", world.first, "close", closed)
    assert world.drain() == ["saved", "saved"]

    world.send("PUT", "/v1/campaigns/summer", world.first, "open-again", old)

    assert world.drain() == ["skipped"]
    stored = world.ports["campaigns"].get("summer")
    assert (stored.name, stored.closes_at.isoformat(), stored.max_entries_per_email) == (
        "Summer (closed)",
        "2025-06-02T00:00:00+00:00",
        1,
    )


def test_a_retried_save_is_the_same_message(world):
    world.send("PUT", "/v1/campaigns/summer", world.first, "k", CAMPAIGN)
    world.send("PUT", "/v1/campaigns/summer", world.first, "k", CAMPAIGN)

    first, again = take(world.ports["campaign_admin_queue"])
    assert isinstance(first, SaveCampaign) and again == first


# --- articles ---------------------------------------------------------------------------


def test_a_title_edit_retried_after_a_newer_edit_changes_nothing(world):
    article_id = an_article(world)
    world.send("PATCH", f"/v1/articles/{article_id}", world.first, "old", {"title": "Old title"})
    world.send("PATCH", f"/v1/articles/{article_id}", world.first, "new", {"title": "New title"})
    assert world.drain() == ["changed", "changed"]

    world.send("PATCH", f"/v1/articles/{article_id}", world.first, "old", {"title": "Old title"})

    assert world.drain() == ["skipped"]
    assert world.ports["articles"].items[article_id]["title"] == "New title"


def test_an_unpublishing_retried_after_a_republishing_changes_nothing(world):
    article_id = an_article(world)
    world.send("DELETE", f"/v1/articles/{article_id}", world.first, "off")
    world.send("PATCH", f"/v1/articles/{article_id}", world.first, "on", {"published": True})
    assert world.drain() == ["changed", "changed"]

    world.send("DELETE", f"/v1/articles/{article_id}", world.first, "off")

    assert world.drain() == ["skipped"]
    stored = world.ports["articles"].items[article_id]
    assert stored["published"] is True and "unpublished_at" not in stored
    assert world.client.get(f"/v1/articles/{article_id}").status_code == 200


def test_an_article_retried_is_queued_with_its_first_time(world):
    body = {"title": "Sourdough", "content": "Less yeast.", "author": "Ada"}
    world.send("POST", "/v1/articles", world.first, "post-1", body)
    world.send("POST", "/v1/articles", world.first, "post-1", body)

    first, again = take(world.ports["blog_queue"])
    assert again == first


# --- the key's record -------------------------------------------------------------------


def test_keys_are_scoped_to_their_caller(world):
    entry = an_entry(world)
    world.send("PATCH", f"/v1/campaigns/summer/entries/{entry}", world.first, "A", {"decision": "approved"})
    first_id = world.keys.list()[0]["key_id"]

    (scoped,) = world.request_keys.records
    assert scoped == f"campaigns:summer:review:{entry}:key:{first_id}:A"


def test_a_key_claimed_before_versions_were_stored_retries_with_the_time_it_was_claimed():
    claimed = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    item = to_item(
        {
            "request_key": "articles:k",
            "fingerprint": "f",
            "message_id": "m",
            "expires_at": int(claimed.timestamp()) + DynamoRequestKeys.ttl_seconds,
        }
    )

    known = DynamoRequestKeys()._known("articles:k", item)

    assert known["received_at"] == claimed.isoformat()
