"""The admin API of campaigns on fakes: PUT a campaign, list, read and review its entries, with scoped keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events.messages.campaigns import ReviewEntry, SaveCampaign
from events.models import ACCEPTED, DUPLICATE, WAITLISTED
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.tables import FakeCampaigns, FakeQueue, FakeSubmissions, campaign
from tests.fakes.uploads import FakeUploads
from workers.campaign_admin import CampaignAdminPorts, apply

START = datetime(2025, 6, 14, 9, 0, tzinfo=UTC)
BODY = {
    "name": "Summer receipts",
    "opens_at": "2025-06-01T00:00:00+00:00",
    "closes_at": "2025-08-31T00:00:00+00:00",
    "max_entries_per_email": 3,
    "gives_codes": True,
    "draw_includes_unreviewed": False,
    "draw_includes_flagged": True,
}


@pytest.fixture
def world():
    keys = FakeApiKeys()
    ports = fake_ports(
        campaigns=FakeCampaigns(campaign("summer"), campaign("winter")),
        submissions=FakeSubmissions(),
        api_keys=keys,
        campaign_admin_queue=FakeQueue(),
        uploads=FakeUploads(),
    )
    client = create_app({"TESTING": True, "SERVICES": Ports(**ports)}).test_client()
    return {
        "client": client,
        "ports": ports,
        "queue": ports["campaign_admin_queue"],
        "entries": ports["submissions"].items,
        "read": {"x-api-key": keys.issue("campaigns:read", name="reader")},
        "write": {"x-api-key": keys.issue("campaigns:write", name="reviewer")},
        "other": {"x-api-key": keys.issue("articles:write")},
    }


def add_entries(world, n: int, campaign_id: str = "summer", status_of=lambda i: ACCEPTED, **extra) -> list[str]:
    ids = []
    for i in range(n):
        submission_id = str(uuid.uuid4())
        world["entries"][submission_id] = {
            "submission_id": submission_id,
            "campaign_id": campaign_id,
            "first_name": "Ana",
            "last_name": f"Souza {i}",
            "email": f"ana{i}@example.com",
            "consent": True,
            "status": status_of(i),
            "received_at": (START + timedelta(seconds=i)).isoformat(),
            "stored_at": (START + timedelta(seconds=i, milliseconds=300)).isoformat(),
            **extra,
        }
        ids.append(submission_id)
    return ids


# --- PUT /v1/campaigns/{id} ---------------------------------------------------------------


def test_put_queues_the_campaign_and_answers_with_it_as_it_will_be_stored(world):
    answer = world["client"].put("/v1/campaigns/autumn-2025", json=BODY, headers=world["write"])

    assert answer.status_code == 202, answer.json
    assert answer.headers["Location"] == "/v1/campaigns/autumn-2025"
    assert answer.json["campaign"] == {**BODY, "campaign_id": "autumn-2025"}
    (message,) = world["queue"].sent
    assert isinstance(message, SaveCampaign)
    assert (message.campaign_id, message.name, message.gives_codes, message.max_entries_per_email) == (
        "autumn-2025",
        "Summer receipts",
        True,
        3,
    )
    assert message.change_id == answer.json["change_id"]
    # Nothing is stored by the API: the worker does it.
    assert world["ports"]["campaigns"].get("autumn-2025") is None
    apply(message, CampaignAdminPorts(world["ports"]["campaigns"], world["ports"]["entries"]))
    assert world["client"].get("/v1/campaigns/autumn-2025").json["name"] == "Summer receipts"


def test_put_takes_the_reward_settings_defaults(world):
    body = {k: BODY[k] for k in ("name", "opens_at", "closes_at")}
    answer = world["client"].put("/v1/campaigns/spring", json=body, headers=world["write"])

    assert answer.status_code == 202
    assert answer.json["campaign"] == {
        **body,
        "campaign_id": "spring",
        "max_entries_per_email": 1,
        "gives_codes": False,
        "draw_includes_unreviewed": True,
        "draw_includes_flagged": False,
    }


def test_put_with_closes_before_opens_is_a_422_naming_closes_at(world):
    answer = world["client"].put(
        "/v1/campaigns/summer", json={**BODY, "closes_at": "2025-05-01T00:00:00+00:00"}, headers=world["write"]
    )

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "invalid_fields"
    assert list(answer.json["error"]["fields"]) == ["closes_at"]
    assert not world["queue"].sent


def test_put_refuses_unknown_fields_naming_them_and_a_campaign_id_in_the_body(world):
    answer = world["client"].put(
        "/v1/campaigns/summer", json={**BODY, "prize": "car", "campaign_id": "other"}, headers=world["write"]
    )

    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == {"prize", "campaign_id"}
    assert not world["queue"].sent


def test_put_of_an_id_that_cannot_be_a_campaign_is_a_422_naming_it(world):
    answer = world["client"].put("/v1/campaigns/Not_One", json=BODY, headers=world["write"])

    assert answer.status_code == 422
    assert list(answer.json["error"]["fields"]) == ["campaign_id"]


def test_put_with_the_same_idempotency_key_queues_under_the_same_change_id(world):
    headers = {**world["write"], "Idempotency-Key": "save-1"}
    first = world["client"].put("/v1/campaigns/summer", json=BODY, headers=headers)
    again = world["client"].put("/v1/campaigns/summer", json=BODY, headers=headers)

    assert first.json["change_id"] == again.json["change_id"]
    assert {m.change_id for m in world["queue"].sent} == {first.json["change_id"]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/v1/campaigns/summer", BODY),
        ("get", "/v1/campaigns/summer/entries", None),
        ("get", "/v1/campaigns/summer/entries/6f0c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", None),
        ("patch", "/v1/campaigns/summer/entries/7a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d", {"decision": "approved"}),
    ],
)
def test_every_admin_route_is_401_without_a_good_key_and_403_without_its_scope(world, method, path, body):
    call = getattr(world["client"], method)
    missing = call(path, json=body)
    wrong = call(path, json=body, headers={"x-api-key": "fleet_not-a-key"})
    unscoped = call(path, json=body, headers=world["other"])
    # Reading does not let a key write, nor writing read.
    crossed = call(path, json=body, headers=world["read" if method in ("put", "patch") else "write"])

    assert (missing.status_code, missing.json["error"]["code"]) == (401, "missing_api_key")
    assert (wrong.status_code, wrong.json["error"]["code"]) == (401, "invalid_api_key")
    assert (unscoped.status_code, unscoped.json["error"]["code"]) == (403, "insufficient_scope")
    assert crossed.status_code == 403
    assert not world["queue"].sent


# --- GET entries ---------------------------------------------------------------------------


def test_entries_are_listed_newest_first_with_a_cursor_one_query_a_page(world):
    ids = add_entries(world, 7)
    add_entries(world, 3, campaign_id="winter")
    client, seen, cursor, pages = world["client"], [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/v1/campaigns/summer/entries", query_string=query, headers=world["read"])
        assert answer.status_code == 200, answer.json
        seen += [e["submission_id"] for e in answer.json["entries"]]
        pages += 1
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(ids))
    assert pages == 3
    assert world["ports"]["entries"].queries == 3


def test_entries_are_filtered_by_status_and_default_to_25_a_page(world):
    statuses = [ACCEPTED, DUPLICATE, WAITLISTED]
    ids = add_entries(world, 30, status_of=lambda i: statuses[i % 3])

    everything = world["client"].get("/v1/campaigns/summer/entries", headers=world["read"]).json
    waitlisted = (
        world["client"]
        .get("/v1/campaigns/summer/entries", query_string={"status": "waitlisted", "limit": 100}, headers=world["read"])
        .json
    )

    assert len(everything["entries"]) == 25 and everything["next_cursor"]
    assert [e["submission_id"] for e in waitlisted["entries"]] == [ids[i] for i in reversed(range(2, 30, 3))]
    assert {e["status"] for e in waitlisted["entries"]} == {WAITLISTED}
    assert waitlisted["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [({"status": "approved"}, "status"), ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "x"}, "limit")],
)
def test_a_bad_status_or_limit_is_a_422_naming_it(world, query, field):
    answer = world["client"].get("/v1/campaigns/summer/entries", query_string=query, headers=world["read"])

    assert answer.status_code == 422
    assert list(answer.json["error"]["fields"]) == [field]


def test_a_cursor_not_made_here_or_made_for_another_campaign_is_a_400(world):
    add_entries(world, 3)
    add_entries(world, 3, campaign_id="winter")
    winter = world["client"].get("/v1/campaigns/winter/entries?limit=1", headers=world["read"]).json["next_cursor"]

    for cursor in ("nope", "%%%", winter):
        answer = world["client"].get("/v1/campaigns/summer/entries", query_string={"cursor": cursor}, headers=world["read"])
        assert answer.status_code == 400, cursor
        assert answer.json["error"]["code"] == "invalid_cursor"


def test_an_unknown_campaign_is_a_404_on_every_entries_route(world):
    entry = str(uuid.uuid4())
    for answer in (
        world["client"].get("/v1/campaigns/nope/entries", headers=world["read"]),
        world["client"].get(f"/v1/campaigns/nope/entries/{entry}", headers=world["read"]),
        world["client"].patch(f"/v1/campaigns/nope/entries/{entry}", json={"decision": "approved"}, headers=world["write"]),
    ):
        assert answer.status_code == 404
        assert answer.json["error"]["code"] == "campaign_not_found"


# --- GET one entry --------------------------------------------------------------------------


def test_an_entry_shows_its_thumbnails_as_presigned_urls_its_flags_review_and_code(world):
    upload_key = "uploads/campaigns/summer/7c/7c9e6679742540de944be07fc1f90ae7.jpg"
    world["ports"]["uploads"].create({"upload_id": "7c9e6679742540de944be07fc1f90ae7", "key": upload_key, "status": "pending"})
    world["ports"]["uploads"].record_outcome(
        "7c9e6679742540de944be07fc1f90ae7",
        {"status": "ready", "thumbnails": {"200": "thumbnails/a/200.jpg", "800": "thumbnails/a/800.jpg"}},
    )
    other = str(uuid.uuid4())
    review = {"decision": "approved", "key_id": "k1", "key_name": "reviewer", "reviewed_at": "t", "change_id": "c"}
    (entry,) = add_entries(
        world, 1, upload_key=upload_key, duplicate_receipt={other}, review=review, code="SUMMER-1", status=ACCEPTED
    )

    answer = world["client"].get(f"/v1/campaigns/summer/entries/{entry}", headers=world["read"])

    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["status"], body["code"], body["duplicate_receipt"], body["review"]) == (ACCEPTED, "SUMMER-1", [other], review)
    assert body["email"] == "ana0@example.com"
    assert body["upload"]["status"] == "ready"
    assert body["upload"]["thumbnails"] == {
        "200": "http://s3.test/bucket/thumbnails/a/200.jpg?signed",
        "800": "http://s3.test/bucket/thumbnails/a/800.jpg?signed",
    }
    assert 0 < body["upload"]["thumbnails_expire_in"] <= 900


def test_an_entry_of_another_campaign_is_a_404(world):
    (entry,) = add_entries(world, 1, campaign_id="winter")

    answer = world["client"].get(f"/v1/campaigns/summer/entries/{entry}", headers=world["read"])
    review = world["client"].patch(f"/v1/campaigns/summer/entries/{entry}", json={"decision": "approved"}, headers=world["write"])

    assert (answer.status_code, answer.json["error"]["code"]) == (404, "entry_not_found")
    assert review.status_code == 404
    assert not world["queue"].sent


# --- PATCH: review --------------------------------------------------------------------------


def test_a_review_is_queued_with_the_keys_id_and_name_and_recorded_by_the_worker(world):
    (entry,) = add_entries(world, 1)

    answer = world["client"].patch(
        f"/v1/campaigns/summer/entries/{entry}",
        json={"decision": "rejected", "reason": "The receipt predates the campaign."},
        headers=world["write"],
    )

    assert answer.status_code == 202, answer.json
    assert answer.headers["Location"] == f"/v1/campaigns/summer/entries/{entry}"
    (message,) = world["queue"].sent
    assert isinstance(message, ReviewEntry)
    assert (message.decision, message.key_name, message.submission_id) == ("rejected", "reviewer", entry)
    assert message.key_id
    apply(message, CampaignAdminPorts(world["ports"]["campaigns"], world["ports"]["entries"]))
    shown = world["client"].get(f"/v1/campaigns/summer/entries/{entry}", headers=world["read"]).json["review"]
    assert shown["decision"] == "rejected"
    assert shown["reason"] == "The receipt predates the campaign."
    assert (shown["key_id"], shown["key_name"], shown["reviewed_at"]) == (message.key_id, "reviewer", message.received_at)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "rejected"}, "reason"),
        ({"decision": "rejected", "reason": "   "}, "reason"),
        ({"decision": "rejected", "reason": "x" * 501}, "reason"),
        ({"decision": "maybe"}, "decision"),
        ({}, "decision"),
        ({"decision": "approved", "score": 3}, "score"),
    ],
)
def test_a_bad_review_is_a_422_naming_the_field(world, body, field):
    (entry,) = add_entries(world, 1)

    answer = world["client"].patch(f"/v1/campaigns/summer/entries/{entry}", json=body, headers=world["write"])

    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"]
    assert not world["queue"].sent


def test_an_approval_needs_no_reason(world):
    (entry,) = add_entries(world, 1)

    answer = world["client"].patch(f"/v1/campaigns/summer/entries/{entry}", json={"decision": "approved"}, headers=world["write"])

    assert answer.status_code == 202
    assert world["queue"].sent[0].reason is None


# --- the public read ------------------------------------------------------------------------


def test_the_public_submission_shows_no_review_code_or_flags(world):
    review = {
        "decision": "rejected",
        "reason": "Copy.",
        "key_id": "k1",
        "key_name": "reviewer",
        "reviewed_at": "t",
        "change_id": "c",
    }
    (entry,) = add_entries(
        world,
        1,
        review=review,
        code="SUMMER-1",
        code_given_at="t",
        duplicate_receipt={str(uuid.uuid4())},
        waitlisted_at="t",
    )

    answer = world["client"].get(f"/v1/submissions/{entry}")

    assert answer.status_code == 200
    assert set(answer.json) == {"submission_id", "campaign_id", "status", "received_at", "stored_at"}
    text = answer.get_data(as_text=True)
    for secret in ("review", "rejected", "Copy.", "reviewer", "SUMMER-1", "duplicate_receipt", "code", "ana0@example.com"):
        assert secret not in text


def test_the_openapi_document_lists_the_admin_routes_with_their_scopes(world):
    spec = world["client"].get("/v1/openapi.json").json
    paths = spec["paths"]

    assert "put" in paths["/v1/campaigns/{campaign_id}"]
    assert "get" in paths["/v1/campaigns/{campaign_id}/entries"]
    entry = paths["/v1/campaigns/{campaign_id}/entries/{submission_id}"]
    assert {"get", "patch"} <= set(entry)
    assert entry["patch"]["security"] == [{"ApiKey": []}]
    assert "campaigns:write" in entry["patch"]["description"]
    assert "campaigns:read" in entry["get"]["description"]
    status = next(p for p in paths["/v1/campaigns/{campaign_id}/entries"]["get"]["parameters"] if p["name"] == "status")
    assert status["schema"]["enum"] == ["accepted", "duplicate", "waitlisted"]
