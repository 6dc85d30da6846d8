"""Strict admin input, over fakes: names on one line (422 naming the field, a click error in the
CLI), JSON booleans and integers only, a repeated query parameter a 400, and the edge
forwarding query parameters in the viewer's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from events.edge import CacheBehaviour, Distribution
from events.models import Campaign
from fleet.cli import main
from fleet.edge.origins import OriginStats
from fleet.edge.proxy import Edge
from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.access import FakeApiKeys
from tests.fakes.edge import ScriptedOrigin, ScriptedSite
from tests.fakes.tables import FakeCampaigns, FakeQueue, campaign

BODY = {"name": "Summer", "opens_at": "2025-06-01T00:00:00+00:00", "closes_at": "2025-08-31T00:00:00+00:00"}
#: What would forge or reorder a row of `fleet campaigns list`: line breaks, controls, separators, bidi.
NOT_ONE_LINE = [
    "Summer\nsummer  open        0 entries  Forged",
    "Summer\r",
    "Sum\tmer",
    "Summer\x1b[2J",
    "Summer\x85",
    "Summer\u2028Forged",
    "Summer\u2029",
    "\u202eremmuS",
    "Summer \u2066draw\u2069",
    "Summer\u200f",
]


@pytest.fixture
def admin():
    keys = FakeApiKeys()
    queue = FakeQueue()
    ports = fake_ports(campaigns=FakeCampaigns(campaign("summer")), api_keys=keys, campaign_admin_queue=queue)
    client = create_app({"TESTING": True, "SERVICES": Ports(**ports)}).test_client()
    client.environ_base["HTTP_X_API_KEY"] = keys.issue("campaigns:write", "campaigns:read")
    return client, queue


@pytest.mark.parametrize("name", NOT_ONE_LINE)
def test_a_campaign_name_off_one_line_is_a_422_naming_it(admin, name):
    client, queue = admin

    answer = client.put("/v1/campaigns/summer", json={**BODY, "name": name})

    assert answer.status_code == 422, answer.json
    assert list(answer.json["error"]["fields"]) == ["name"]
    assert queue.sent == []


def test_a_name_in_any_script_with_its_punctuation_is_taken(admin):
    client, _ = admin
    for name in ("Été à Paris: 10% off", "夏のキャンペーン", "حملة الصيف", "Sommer – Gewinnspiel"):
        assert client.put("/v1/campaigns/summer", json={**BODY, "name": name}).status_code == 202, name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gives_codes", "yes"),
        ("gives_codes", "true"),
        ("gives_codes", 1),
        ("draw_includes_unreviewed", 0),
        ("draw_includes_flagged", "false"),
        ("max_entries_per_email", "5"),
        ("max_entries_per_email", 5.0),
        ("max_entries_per_email", 5.5),
        ("max_entries_per_email", True),
    ],
)
def test_booleans_and_integers_are_json_booleans_and_integers(admin, field, value):
    client, queue = admin

    answer = client.put("/v1/campaigns/summer", json={**BODY, field: value})

    assert answer.status_code == 422, answer.json
    assert list(answer.json["error"]["fields"]) == [field]
    assert queue.sent == []


def test_json_booleans_and_integers_are_taken(admin):
    client, _ = admin
    body = {**BODY, "gives_codes": True, "draw_includes_unreviewed": False, "draw_includes_flagged": True}

    answer = client.put("/v1/campaigns/summer", json={**body, "max_entries_per_email": 5})

    assert answer.status_code == 202
    assert answer.json["campaign"]["max_entries_per_email"] == 5 and answer.json["campaign"]["gives_codes"] is True


# --- query strings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["limit=5&limit=100", "limit=100&limit=5", "limit=5&status=accepted&limit=5", "limit=5&li%6Dit=100", "limit&limit"],
)
def test_a_repeated_query_parameter_is_a_400_naming_it(admin, query):
    client, _ = admin

    answer = client.get(f"/v1/campaigns/summer/entries?{query}")

    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["code"] == "repeated_parameter"
    assert list(answer.json["error"]["fields"]) == ["limit"]


def test_every_route_refuses_a_repeated_query_parameter(admin):
    client, _ = admin
    for path in ("/v1/articles", "/v1/campaigns/summer", "/health", "/v1/openapi.json"):
        answer = client.get(f"{path}?limit=5&limit=100", headers={"x-api-key": ""})
        assert answer.status_code == 400 and answer.json["error"]["code"] == "repeated_parameter", path
    assert client.get("/v1/campaigns/summer/entries?limit=5&status=accepted").status_code == 200


API = CacheBehaviour("/v1/*", origin="api", max_ttl=300, query_strings=("limit", "cursor", "status"))
FILES = CacheBehaviour("*", origin="site", default_ttl=3600, max_ttl=86400)


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "k"}], ids=["through the cache", "credentialed"])
def test_the_edge_forwards_query_parameters_in_the_viewers_order(headers):
    api = ScriptedOrigin({"/v1/articles": [(200, {"cache-control": "max-age=60"}, b"{}")]})
    edge = Client(Edge(Distribution("site", "site", (API, FILES)), ScriptedSite(ScriptedOrigin()), api, OriginStats()))

    edge.get("/v1/articles?limit=5&utm=x&limit=100", headers=headers)
    edge.get("/v1/articles?status=accepted&cursor=c1&limit=5", headers=headers)

    assert api.targets() == ["/v1/articles?limit=5&limit=100", "/v1/articles?status=accepted&cursor=c1&limit=5"]


# --- the CLI ----------------------------------------------------------------------------


def test_campaigns_create_refuses_a_name_off_one_line():
    campaigns = FakeCampaigns()
    args = ["campaigns", "create", "summer", "--opens", BODY["opens_at"], "--closes", BODY["closes_at"]]

    refused = CliRunner().invoke(main, [*args, "--name", "Summer\nwinter  open"], obj=Ports(**fake_ports(campaigns=campaigns)))

    assert refused.exit_code == 2
    assert "--name" in refused.stderr
    assert campaigns.items == {}


def test_campaigns_list_shows_a_name_stored_before_the_check_on_its_own_line():
    now = datetime.now(UTC)
    stored = Campaign("summer", "Summer\nwinter  open  0 entries  Forged", now - timedelta(days=1), now + timedelta(days=1))

    listed = CliRunner().invoke(main, ["campaigns", "list"], obj=Ports(**fake_ports(campaigns=FakeCampaigns(stored))))

    assert listed.exit_code == 0, listed.output
    assert len(listed.stdout.splitlines()) == 1
    assert "'Summer\\nwinter  open  0 entries  Forged'" in listed.stdout


@pytest.mark.parametrize("name", ["cms\nforged  active  admin", "\u202eadmin", "", "   "])
def test_keys_create_refuses_a_name_off_one_line_or_blank(name):
    keys = FakeApiKeys()

    refused = CliRunner().invoke(
        main, ["keys", "create", "--name", name, "--scope", "articles:write"], obj=Ports(**fake_ports(api_keys=keys))
    )

    assert refused.exit_code == 2
    assert keys.records == {}
