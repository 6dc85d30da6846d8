"""A campaign nobody can rig, end to end on moto: the attacks of a dishonest staff member or
integrator through the API, each failing. Retries repeat and never reorder; keys reach
only their campaigns and their articles."""

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
    return make_key("agency", "campaigns:write", "campaigns:read", campaigns=["prize"])


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
    other = make_key("intruder", "campaigns:write", "campaigns:read", campaigns=["prize"])
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


@pytest.mark.slow
def test_keys_reach_only_their_campaigns_and_their_articles(running_fleet, admin, writer, make_campaign):
    api = running_fleet.api_url
    make_campaign("prize")
    make_campaign("other")
    entry = an_entry(api, running_fleet, "other")
    operator = make_key("operator", "campaigns:write", "campaigns:read", all_campaigns=True)

    # The agency's key, bound to `prize`, sees `other` exactly as a campaign that does not exist.
    for method, path, body in [
        ("GET", "/entries", None),
        ("GET", f"/entries/{entry}", None),
        ("PATCH", f"/entries/{entry}", {"decision": "approved"}),
        ("PUT", "", {"name": "Mine now", **window()}),
    ]:
        reached = call(method, f"{api}/v1/campaigns/other{path}", admin, json=body)
        if method != "PUT":  # an operator's PUT of an unknown campaign creates it
            unknown = call(method, f"{api}/v1/campaigns/ghost{path}", operator, json=body)
            assert reached.text == unknown.text.replace("ghost", "other")
        assert reached.status_code == 404, reached.text
        assert reached.json()["error"]["code"] == "campaign_not_found"
    listed = call("GET", f"{api}/v1/campaigns/other/entries", operator).json()["entries"]
    assert [e["submission_id"] for e in listed] == [entry]
    assert call("GET", f"{api}/v1/campaigns/other/entries/{entry}", operator).json()["review"] is None
    running_fleet.drain()
    assert requests.get(f"{api}/v1/campaigns/other", timeout=10).json()["name"] == "Campaign other"

    # Another writer's key cannot edit or unpublish the article; an articles:admin key can.
    from lambda_platform.adapters.blog import DynamoArticles

    body = {"title": "Sourdough", "content": "Less yeast.", "author": "Ada"}
    article_id = queued("POST", f"{api}/v1/articles", writer, json=body)["article_id"]
    running_fleet.drain()
    rival = make_key("rival", "articles:write")
    missing = f"{api}/v1/articles/{uuid.uuid4()}"
    for method, change in [("PATCH", {"title": "Taken over"}), ("DELETE", None)]:
        taken = call(method, f"{api}/v1/articles/{article_id}", rival, json=change)
        assert taken.status_code == 404, taken.text
        assert taken.json() == call(method, missing, rival, json=change).json()
    running_fleet.drain()
    stored = DynamoArticles().get(article_id)
    assert (stored["title"], stored["published"]) == ("Sourdough", True)

    editor = make_key("editor", "articles:write", "articles:admin")
    queued("PATCH", f"{api}/v1/articles/{article_id}", editor, json={"title": "Edited by the editor"})
    queued("PATCH", f"{api}/v1/articles/{article_id}", writer, json={"content": "More water."})
    running_fleet.drain()
    stored = DynamoArticles().get(article_id)
    assert (stored["title"], stored["content"]) == ("Edited by the editor", "More water.")
    assert "created_by" not in requests.get(f"{api}/v1/articles/{article_id}", timeout=10).json()


class TargetRecorder:
    """An origin that records the target (path and query) of every request and answers `{}`."""

    def __init__(self) -> None:
        import http.server
        import threading

        targets = self.targets = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                targets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def api(provisioned):
    from fleet.runtime.local import ApiServer

    server = ApiServer(port=0)
    server.start()
    yield server.url
    server.stop()


def edge_before(origin_url: str):
    from fleet.edge.server import EdgeServer

    server = EdgeServer(origin_url)
    server.start()
    return server


def test_admin_input_is_strict_and_a_repeated_query_parameter_is_refused_through_the_edge(api, admin, make_campaign):
    make_campaign("prize")
    campaign_url = f"{api}/v1/campaigns/prize"

    for field, value in [
        ("name", "Prize\nprize  open  0 entries  Forged"),
        ("name", "\u202eezirP"),
        ("gives_codes", "yes"),
        ("max_entries_per_email", "5"),
    ]:
        refused = call("PUT", campaign_url, admin, json={"name": "Prize", **window(), field: value})
        assert refused.status_code == 422, (field, refused.text)
        assert list(refused.json()["error"]["fields"]) == [field]

    edge = edge_before(api)
    try:
        for base in (api, edge.url):
            repeated = call("GET", f"{campaign_url.replace(api, base)}/entries?limit=5&limit=100", admin)
            assert repeated.status_code == 400, (base, repeated.text)
            assert repeated.json()["error"] == {
                "code": "repeated_parameter",
                "message": "A query parameter is given more than once.",
                "fields": {"limit": ["Given more than once: send each query parameter once."]},
            }
            public = requests.get(f"{base}/v1/articles?limit=5&limit=100", timeout=10)
            assert (public.status_code, public.json()["error"]["code"]) == (400, "repeated_parameter")
        assert call("GET", f"{edge.url}/v1/campaigns/prize/entries?limit=5", admin).status_code == 200
    finally:
        edge.stop()


def test_the_edge_passes_query_parameters_in_the_viewers_order(provisioned):
    origin = TargetRecorder()
    edge = edge_before(origin.url)
    try:
        for query in ("limit=5&limit=100", "limit=100&limit=5", "limit=5&cursor=abc", "cursor=abc&limit=5"):
            assert requests.get(f"{edge.url}/v1/articles?{query}", timeout=10).status_code == 200
            assert requests.get(f"{edge.url}/v1/articles?{query}", headers={"x-api-key": "k"}, timeout=10).status_code == 200
    finally:
        edge.stop()
        origin.stop()

    asked = [target for target in origin.targets if target.startswith("/v1/articles")]
    assert asked == [
        f"/v1/articles?{query}"
        for query in ("limit=5&limit=100", "limit=100&limit=5", "limit=5&cursor=abc", "cursor=abc&limit=5")
        for _ in range(2)
    ]
