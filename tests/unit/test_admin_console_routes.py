"""The admin API's routes that the review console uses, on fakes: the campaigns a key reaches,
filters and thumbnails of the listing, a flagged entry beside its copies, the codes, the
streamed export (the CLI's bytes), and the committed draw run and verified."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.draw import commit_draw
from campaigns.export import export_entries
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.tables import FakeCampaigns, FakeSubmissions, campaign

START = datetime(2025, 6, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
def world():
    keys = FakeApiKeys()
    ports = fake_ports(
        campaigns=FakeCampaigns(campaign("summer"), campaign("winter"), campaign("closed", closes_in_days=-1)),
        submissions=FakeSubmissions(),
        api_keys=keys,
    )
    client = create_app({"TESTING": True, "SERVICES": Ports(**ports)}).test_client()
    return {
        "client": client,
        "ports": ports,
        "entries": ports["submissions"].items,
        "summer_reader": {"x-api-key": keys.issue("campaigns:read", name="summer reader", campaigns=("summer", "gone"))},
        "every_reader": {"x-api-key": keys.issue("campaigns:read", name="agency")},
        "writer": {"x-api-key": keys.issue("campaigns:read", "campaigns:write", name="staff")},
    }


def add(world, n: int, campaign_id: str = "summer", **extra) -> list[str]:
    ids = []
    for i in range(n):
        submission_id = str(uuid.uuid4())
        world["entries"][submission_id] = {
            "submission_id": submission_id,
            "campaign_id": campaign_id,
            "first_name": "Ana",
            "last_name": f"Souza {i}",
            "email": f"ana{i}@example.com",
            "status": "accepted",
            "received_at": (START + timedelta(seconds=len(world["entries"]))).isoformat(),
            "stored_at": (START + timedelta(seconds=len(world["entries"]), milliseconds=300)).isoformat(),
            **extra,
        }
        ids.append(submission_id)
    return ids


def photo(world, entry_id: str, campaign_id: str = "summer") -> str:
    upload_id = uuid.uuid4().hex
    key = f"uploads/campaigns/{campaign_id}/{upload_id[:2]}/{upload_id}.jpg"
    thumbnails = {"256": f"thumbnails/{upload_id}/256.jpg", "1024": f"thumbnails/{upload_id}/1024.jpg"}
    world["ports"]["uploads"].create({"upload_id": upload_id, "key": key, "status": "ready", "thumbnails": thumbnails})
    world["entries"][entry_id]["upload_key"] = key
    return upload_id


def test_a_key_lists_the_campaigns_it_reaches_and_no_other_with_its_scopes(world):
    bound = world["client"].get("/v1/campaigns", headers=world["summer_reader"])
    assert bound.status_code == 200, bound.json
    assert [c["campaign_id"] for c in bound.json["campaigns"]] == ["summer"]  # "gone" is stored nowhere
    assert bound.json["key"] == {"name": "summer reader", "scopes": ["campaigns:read"]}
    assert bound.json["campaigns"][0]["open"] is True and bound.json["campaigns"][0]["closed"] is False

    every = world["client"].get("/v1/campaigns", headers=world["every_reader"]).json
    assert [c["campaign_id"] for c in every["campaigns"]] == ["closed", "summer", "winter"]
    assert every["campaigns"][0]["closed"] is True

    assert world["client"].get("/v1/campaigns").status_code == 401


def test_the_listing_filters_flagged_and_unreviewed_entries_and_shows_each_small_thumbnail(world):
    plain, flagged, reviewed = add(world, 3)
    world["entries"][flagged]["duplicate_receipt"] = {plain}
    world["entries"][reviewed]["review"] = {"decision": "approved", "reviewed_at": "t", "change_id": "c"}
    upload_id = photo(world, plain)

    def listed(**query):
        answer = world["client"].get("/v1/campaigns/summer/entries", query_string=query, headers=world["summer_reader"])
        assert answer.status_code == 200, answer.json
        return [e["submission_id"] for e in answer.json["entries"]], answer.json["entries"]

    assert listed()[0] == [reviewed, flagged, plain]
    assert listed(flagged="true")[0] == [flagged]
    assert listed(flagged="false")[0] == [reviewed, plain]
    assert listed(reviewed="false")[0] == [flagged, plain]
    assert listed(reviewed="false", flagged="true")[0] == [flagged]
    shown = {e["submission_id"]: e["thumbnail"] for e in listed()[1]}
    assert shown == {plain: f"http://s3.test/bucket/thumbnails/{upload_id}/256.jpg?signed", flagged: None, reviewed: None}


@pytest.mark.parametrize("name", ["flagged", "reviewed"])
def test_a_filter_that_is_not_true_or_false_is_a_422_naming_it(world, name):
    answer = world["client"].get(f"/v1/campaigns/summer/entries?{name}=yes", headers=world["summer_reader"])
    assert answer.status_code == 422 and answer.json["error"]["fields"] == {name: ["Must be true or false."]}


def test_a_rare_flag_is_found_past_pages_of_unflagged_entries(world):
    (old,) = add(world, 1, duplicate_receipt={"x"})
    add(world, 400)
    answer = world["client"].get("/v1/campaigns/summer/entries?flagged=true&limit=5", headers=world["summer_reader"])
    assert [e["submission_id"] for e in answer.json["entries"]] == [old] and answer.json["next_cursor"] is None


def test_a_flagged_entry_shows_each_entry_it_copies_with_their_photos_but_none_of_another_campaign(world):
    original, copy = add(world, 2)
    (elsewhere,) = add(world, 1, campaign_id="winter")
    world["entries"][copy]["duplicate_receipt"] = {original, elsewhere}
    photo(world, copy)
    original_upload = photo(world, original)

    body = world["client"].get(f"/v1/campaigns/summer/entries/{copy}", headers=world["summer_reader"]).json
    assert [c["submission_id"] for c in body["copies"]] == [original]
    shown = body["copies"][0]
    assert shown["email"] == "ana0@example.com"
    assert shown["upload"]["thumbnails"]["1024"] == f"http://s3.test/bucket/thumbnails/{original_upload}/1024.jpg?signed"
    assert body["upload"]["thumbnails"]["1024"].endswith("/1024.jpg?signed")
    plain = world["client"].get(f"/v1/campaigns/summer/entries/{original}", headers=world["summer_reader"]).json
    assert plain["copies"] == []


def test_the_codes_show_the_pool_and_the_waitlist(world):
    world["ports"]["campaigns"].put(campaign("coded", gives_codes=True))
    world["ports"]["codes"].add("coded", [("A-1", "1"), ("A-2", "2")], "t")
    answer = world["client"].get("/v1/campaigns/coded/codes", headers=world["every_reader"])
    assert answer.json == {"campaign_id": "coded", "gives_codes": True, "available": 2, "given": 0, "waitlisted": 0}
    plain = world["client"].get("/v1/campaigns/summer/codes", headers=world["every_reader"])
    assert plain.json == {"campaign_id": "summer", "gives_codes": False}


def test_the_export_streams_the_clis_bytes_and_only_for_a_reached_campaign(world):
    ids = add(world, 3, answers={"store": "=HYPERLINK(1)"})
    photo(world, ids[0])
    answer = world["client"].get("/v1/campaigns/summer/export", headers=world["summer_reader"])
    assert answer.status_code == 200 and answer.is_streamed
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="summer-entries.csv"'
    assert answer.headers["Cache-Control"] == "no-store"

    entries = world["ports"]["entries"].iter_campaign("summer", newest_first=False)
    uploads = world["ports"]["uploads"]
    expected = io.StringIO(newline="")
    export_entries(entries, lambda wanted: {r["upload_id"]: r for r in uploads.get_many(wanted)}, expected)
    assert answer.data == expected.getvalue().encode("utf-8")

    jsonl = world["client"].get("/v1/campaigns/summer/export?format=jsonl", headers=world["summer_reader"])
    assert len(jsonl.data.splitlines()) == 3
    bad = world["client"].get("/v1/campaigns/summer/export?format=xlsx", headers=world["summer_reader"])
    assert bad.status_code == 422 and "format" in bad.json["error"]["fields"]
    hidden = world["client"].get("/v1/campaigns/winter/export", headers=world["summer_reader"])
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "campaign_not_found"


def test_the_draw_shows_its_commitment_refuses_a_wrong_seed_and_runs_once_after_the_close(world):
    draws = world["ports"]["draws"]
    closed = world["ports"]["campaigns"].get("closed")
    add(world, 5, campaign_id="closed")
    seed = commit_draw(closed, 5, draws, now=closed.closes_at - timedelta(days=2)).seed
    client, path = world["client"], "/v1/campaigns/closed/draw"

    shown = client.get(path, headers=world["every_reader"]).json
    assert shown["closed"] is True and shown["draw"] is None
    assert seed not in str(shown) and len(shown["commitment"]["seed_sha256"]) == 64

    assert client.post(path, json={"winners": 2, "seed": seed}, headers=world["every_reader"]).status_code == 403
    wrong = client.post(path, json={"winners": 2, "seed": "0" * 64}, headers=world["writer"])
    assert wrong.status_code == 409 and "not the one committed" in wrong.json["error"]["message"]
    too_many = client.post(path, json={"winners": 6, "seed": seed}, headers=world["writer"])
    assert too_many.status_code == 422 and "winners" in too_many.json["error"]["fields"]
    malformed = client.post(path, json={"winners": 0, "seed": "not hex"}, headers=world["writer"])
    assert malformed.status_code == 422 and set(malformed.json["error"]["fields"]) == {"winners", "seed"}
    assert draws.draw("closed") is None

    drawn = client.post(path, json={"winners": 2, "seed": seed.upper()}, headers=world["writer"])
    assert drawn.status_code == 201 and drawn.json["created"] is True and len(drawn.json["draw"]["winners"]) == 2
    again = client.post(path, json={"winners": 3, "seed": seed}, headers=world["writer"])
    assert again.status_code == 200 and again.json["draw"]["winners"] == drawn.json["draw"]["winners"]

    checked = client.get(f"{path}/verification", headers=world["every_reader"]).json
    assert checked["verified"] is True and all(c["held"] for c in checked["checks"]) and len(checked["checks"]) == 5


def test_the_draw_is_refused_before_the_close_and_never_committed_here(world):
    summer = world["ports"]["campaigns"].get("summer")
    seed = commit_draw(summer, 0, world["ports"]["draws"]).seed
    early = world["client"].post("/v1/campaigns/summer/draw", json={"winners": 1, "seed": seed}, headers=world["writer"])
    assert early.status_code == 409 and "runs once the campaign has closed" in early.json["error"]["message"]
    none = world["client"].get("/v1/campaigns/winter/draw/verification", headers=world["writer"])
    assert none.status_code == 404
    # No route commits a draw: the seed is shown to the operator who commits it, never to reviewers.
    rules = {r.rule for r in world["client"].application.url_map.iter_rules()}
    assert not any("commit" in rule for rule in rules)


def test_the_local_api_serves_the_console_uncached_under_the_sites_csp_and_nothing_else_of_the_tree():
    local = create_app({"TESTING": True, "LOCAL": True, "SERVICES": Ports(**fake_ports())}).test_client()
    page = local.get("/admin/")
    assert page.status_code == 200 and b"<title>Review console</title>" in page.data
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert local.get("/admin/console.js").headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert local.get("/admin").status_code == 308
    for name in ("..%2Fconsole.py", ".hidden.js", "missing.js", "index.txt"):
        assert local.get(f"/admin/{name}").status_code == 404, name
    deployed = create_app({"TESTING": True, "LOCAL": False, "SERVICES": Ports(**fake_ports())}).test_client()
    assert deployed.get("/admin/").status_code == 404  # on AWS the edge serves it from the site bucket
