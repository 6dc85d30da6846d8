"""What a key can reach, over fakes: campaigns:* keys bound to their campaigns (a key reaching
another gets the unknown campaign's 404), articles:write keys to the articles they created
(unless articles:admin), and `fleet keys create/list` with the binding."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from events.messages.blog import PublishArticle
from events.models import ACCEPTED
from fleet.cli import main
from ingest_api import create_app
from lambda_platform import access
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.blog import FakeArticles
from tests.fakes.tables import FakeCampaigns, FakeQueue, FakeSubmissions, campaign
from workers.blog import store_article

CAMPAIGN = {"name": "Winter", "opens_at": "2025-12-01T00:00:00+00:00", "closes_at": "2026-02-28T00:00:00+00:00"}


# --- new_key and what a record reaches ---------------------------------------------------


def test_a_campaigns_key_names_its_campaigns_or_says_all_campaigns():
    keys = FakeApiKeys()
    with pytest.raises(ValueError, match="--all-campaigns"):
        access.new_key("agency", ["campaigns:read"], keys)
    _, bound = access.new_key("agency", ["campaigns:read", "campaigns:write"], keys, ["summer", "summer", "autumn"])
    _, every = access.new_key("operator", ["campaigns:read"], keys, all_campaigns=True)

    assert (bound["campaigns"], bound["all_campaigns"]) == (["autumn", "summer"], False)
    assert every["all_campaigns"] is True and "campaigns" not in every
    assert access.reach(bound) == "campaigns autumn, summer"
    assert access.reach(every) == "all campaigns"


@pytest.mark.parametrize(
    ("scopes", "campaigns", "every", "problem"),
    [
        (["articles:write"], ["summer"], False, "has none"),
        (["articles:write"], [], True, "has none"),
        (["campaigns:read"], ["summer"], True, "exclude each other"),
        (["campaigns:read"], ["Summer!"], False, "not a campaign id"),
        (["articles:admin"], [], False, "give both"),
    ],
)
def test_a_binding_that_makes_no_sense_is_refused(scopes, campaigns, every, problem):
    keys = FakeApiKeys()
    with pytest.raises(ValueError, match=problem):
        access.new_key("k", scopes, keys, campaigns, every)
    assert keys.records == {}


def test_a_key_made_before_binding_reaches_every_campaign_and_says_so():
    legacy = {"key_id": "k1", "name": "old", "scopes": ["campaigns:read"]}

    assert access.campaigns_of(legacy) is None
    assert access.reaches_campaign(legacy, "anything")
    assert access.reach(legacy) == "all campaigns (made before binding)"
    assert access.reach({"scopes": ["articles:write"]}) == ""


def test_a_record_bound_to_nothing_reaches_nothing():
    assert not access.reaches_campaign({"scopes": ["campaigns:read"], "campaigns": []}, "summer")


# --- the admin API ----------------------------------------------------------------------


@pytest.fixture
def admin():
    keys = FakeApiKeys()
    ports = fake_ports(
        campaigns=FakeCampaigns(campaign("summer"), campaign("winter")),
        submissions=FakeSubmissions(),
        api_keys=keys,
        campaign_admin_queue=FakeQueue(),
    )
    entries = {}
    for campaign_id in ("summer", "winter"):
        submission_id = str(uuid.uuid4())
        ports["submissions"].items[submission_id] = {
            "submission_id": submission_id,
            "campaign_id": campaign_id,
            "first_name": "Ana",
            "last_name": "Souza",
            "email": f"ana@{campaign_id}.example.com",
            "phone": "+44 20 7946 0000",
            "consent": True,
            "status": ACCEPTED,
            "received_at": datetime(2025, 6, 14, tzinfo=UTC).isoformat(),
            "stored_at": datetime(2025, 6, 14, tzinfo=UTC).isoformat(),
        }
        entries[campaign_id] = submission_id
    client = create_app({"TESTING": True, "SERVICES": Ports(**ports)}).test_client()
    summer_only = keys.issue("campaigns:read", "campaigns:write", name="summer agency", campaigns=("summer",))
    return {"client": client, "ports": ports, "entries": entries, "summer": {"x-api-key": summer_only}, "keys": keys}


def routes(entries: dict[str, str], campaign_id: str) -> list[tuple[str, str, dict | None]]:
    entry = entries.get(campaign_id, str(uuid.uuid4()))
    return [
        ("GET", f"/v1/campaigns/{campaign_id}/entries", None),
        ("GET", f"/v1/campaigns/{campaign_id}/entries/{entry}", None),
        ("PATCH", f"/v1/campaigns/{campaign_id}/entries/{entry}", {"decision": "rejected", "reason": "fraud"}),
        ("PUT", f"/v1/campaigns/{campaign_id}", CAMPAIGN),
    ]


def test_a_key_bound_to_one_campaign_gets_the_unknown_campaigns_404_on_another(admin):
    client, entries = admin["client"], admin["entries"]
    for (method, path, body), (_, unknown_path, _) in zip(routes(entries, "winter"), routes(entries, "nope"), strict=True):
        reached = client.open(path, method=method, json=body, headers=admin["summer"])
        unknown = client.open(unknown_path, method=method, json=body, headers=admin["summer"])

        assert reached.status_code == 404, (method, path, reached.json)
        assert reached.json == {**unknown.json, "error": {**unknown.json["error"], "message": "No campaign 'winter'."}}
        assert reached.json["error"]["code"] == "campaign_not_found"
    assert admin["ports"]["campaign_admin_queue"].sent == [], "nothing queued for a campaign the key does not reach"
    assert "review" not in admin["ports"]["submissions"].items[entries["winter"]]


def test_a_key_bound_to_a_campaign_reaches_it(admin):
    client, entries = admin["client"], admin["entries"]
    for method, path, body in routes(entries, "summer"):
        answer = client.open(path, method=method, json=body, headers=admin["summer"])
        assert answer.status_code in (200, 202), (method, path, answer.json)
    listed = client.get("/v1/campaigns/summer/entries", headers=admin["summer"]).json["entries"]
    assert [e["email"] for e in listed] == ["ana@summer.example.com"]


def test_a_key_may_create_a_campaign_it_is_bound_to_and_no_other(admin):
    keys = admin["keys"]
    autumn = {"x-api-key": keys.issue("campaigns:write", campaigns=("autumn",))}

    assert admin["client"].put("/v1/campaigns/autumn", json=CAMPAIGN, headers=autumn).status_code == 202
    assert admin["client"].put("/v1/campaigns/spring", json=CAMPAIGN, headers=autumn).status_code == 404


def test_a_key_made_before_binding_still_reaches_every_campaign(admin):
    key = "fleet_" + "x" * 43
    admin["keys"].put({"key_hash": access.hash_key(key), "key_id": "old1", "name": "old", "scopes": ["campaigns:read"]})

    for campaign_id in ("summer", "winter"):
        answer = admin["client"].get(f"/v1/campaigns/{campaign_id}/entries", headers={"x-api-key": key})
        assert answer.status_code == 200 and len(answer.json["entries"]) == 1


def test_the_scope_is_checked_before_the_binding(admin):
    reader = {"x-api-key": admin["keys"].issue("campaigns:read", campaigns=("summer",))}
    for campaign_id in ("summer", "winter"):
        answer = admin["client"].put(f"/v1/campaigns/{campaign_id}", json=CAMPAIGN, headers=reader)
        assert answer.status_code == 403


def test_the_app_refuses_a_campaigns_route_without_a_campaign_in_its_path():
    from flask import Blueprint

    import ingest_api
    from ingest_api.auth import api_key

    bp = Blueprint("stray", __name__)

    @bp.get("/v1/every-entry")
    @api_key("campaigns:read")
    def every_entry():
        return {}

    app = create_app({"TESTING": True})
    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match="/v1/every-entry"):
        ingest_api._require_campaign_in_campaign_routes(app)


# --- articles ---------------------------------------------------------------------------


@pytest.fixture
def blog():
    keys = FakeApiKeys()
    articles = FakeArticles()
    ports = fake_ports(api_keys=keys, articles=articles, blog_queue=FakeQueue())
    client = create_app({"TESTING": True, "SERVICES": Ports(**ports), "READ_CACHE_SECONDS": 0}).test_client()
    mine, theirs = keys.issue("articles:write", name="mine"), keys.issue("articles:write", name="theirs")
    editor = keys.issue("articles:write", "articles:admin", name="editor")
    return {
        "client": client,
        "ports": ports,
        "articles": articles,
        "mine": {"x-api-key": mine},
        "theirs": {"x-api-key": theirs},
        "editor": {"x-api-key": editor},
    }


def created_through_the_api(blog, headers) -> str:
    answer = blog["client"].post("/v1/articles", json={"title": "Mine", "content": "Text.", "author": "Ada"}, headers=headers)
    assert answer.status_code == 202
    (message,) = blog["ports"]["blog_queue"].sent
    blog["ports"]["blog_queue"].sent.clear()
    assert store_article(message, blog["articles"])
    return answer.json["article_id"]


WRITES = [
    ("PATCH", "", {"title": "Taken over"}),
    ("DELETE", "", None),
    ("POST", "/uploads", {"content_type": "image/png", "content_length": 10}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_another_writers_key_cannot_change_an_article_and_sees_the_unknown_articles_404(blog, method, suffix, body):
    article_id = created_through_the_api(blog, blog["mine"])
    client = blog["client"]

    taken = client.open(f"/v1/articles/{article_id}{suffix}", method=method, json=body, headers=blog["theirs"])
    unknown = client.open(f"/v1/articles/{uuid.uuid4()}{suffix}", method=method, json=body, headers=blog["theirs"])

    assert (taken.status_code, taken.json) == (404, unknown.json)
    assert blog["ports"]["blog_queue"].sent == []
    assert client.open(f"/v1/articles/{article_id}{suffix}", method=method, json=body, headers=blog["mine"]).status_code in (
        201,
        202,
    )


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_an_articles_admin_key_changes_any_article(blog, method, suffix, body):
    article_id = created_through_the_api(blog, blog["mine"])

    answer = blog["client"].open(f"/v1/articles/{article_id}{suffix}", method=method, json=body, headers=blog["editor"])

    assert answer.status_code in (201, 202)


def test_an_article_records_the_key_that_created_it_and_never_shows_it(blog):
    article_id = created_through_the_api(blog, blog["mine"])

    stored = blog["articles"].items[article_id]
    assert stored["created_by"] and stored["created_by"] != "theirs"
    shown = blog["client"].get(f"/v1/articles/{article_id}")
    assert shown.status_code == 200 and "created_by" not in shown.json
    assert stored["created_by"] not in blog["client"].get("/v1/articles").get_data(as_text=True)


def test_an_article_stored_before_creators_were_recorded_is_changed_by_an_admin_key_only(blog):
    article_id = str(uuid.uuid4())
    old = PublishArticle(article_id, "Old", "Text.", "Ada", True, "2025-01-01T00:00:00+00:00")
    assert store_article(old, blog["articles"])
    path = f"/v1/articles/{article_id}"

    assert blog["client"].patch(path, json={"title": "New"}, headers=blog["mine"]).status_code == 404
    assert blog["client"].patch(path, json={"title": "New"}, headers=blog["editor"]).status_code == 202


# --- fleet keys -------------------------------------------------------------------------


def keys_cli(keys: FakeApiKeys, *args: str):
    return CliRunner().invoke(main, ["keys", *args], obj=Ports(**fake_ports(api_keys=keys)))


def test_keys_create_binds_a_key_to_its_campaigns_and_list_shows_it():
    keys = FakeApiKeys()
    made = keys_cli(
        keys, "create", "--name", "agency", "--scope", "campaigns:read", "--campaign", "summer", "--campaign", "autumn"
    )
    every = keys_cli(keys, "create", "--name", "ops", "--scope", "campaigns:write", "--all-campaigns")
    keys.put({"key_hash": "h", "key_id": "old1", "name": "old", "scopes": ["campaigns:read"], "created_at": "2020-01-01"})

    assert made.exit_code == 0 and every.exit_code == 0, made.output + every.output
    assert "campaigns autumn, summer" in made.stderr
    listed = keys_cli(keys, "list").stdout.splitlines()
    assert listed[0].endswith("campaigns:read  (all campaigns (made before binding))")
    assert listed[1].endswith("campaigns:read  (campaigns autumn, summer)")
    assert listed[2].endswith("campaigns:write  (all campaigns)")


def test_keys_create_refuses_a_campaigns_key_without_its_binding():
    keys = FakeApiKeys()
    refused = keys_cli(keys, "create", "--name", "agency", "--scope", "campaigns:read")

    assert refused.exit_code == 2
    assert "--campaign" in refused.stderr and "--all-campaigns" in refused.stderr
    assert keys.records == {}


def test_keys_create_takes_articles_admin():
    keys = FakeApiKeys()
    made = keys_cli(keys, "create", "--name", "editor", "--scope", "articles:write", "--scope", "articles:admin")

    assert made.exit_code == 0, made.output
    (record,) = keys.records.values()
    assert record["scopes"] == ["articles:admin", "articles:write"]
