"""The local stage's routes answer only to a loopback Host; the outbox page has the entry page's CSP."""

from __future__ import annotations

import pytest

from ingest_api import create_app
from lambda_platform.origins import is_loopback_host
from lambda_platform.outbox import OutboxEmail

LOOPBACK = ["127.0.0.1", "127.0.0.1:8080", "localhost", "localhost:1", "LOCALHOST:8080", "[::1]", "[::1]:8080"]
NOT_LOOPBACK = [
    "attacker.example:8080",
    "attacker.example",
    "127.0.0.1.attacker.example",
    "localhost.attacker.example:8080",
    "127.0.0.2:8080",
    "0.0.0.0:8080",
    "[::1].attacker.example",
    "127.0.0.1:8080@attacker.example",
    "127.0.0.1:",
    "127.0.0.1:80:80",
    "localhost:８０",
    "",
]
#: Hosts no HTTP client sends, that the rule refuses all the same.
NOT_SENDABLE = ["localhost\n", "127.0.0.1\n", "localhost\x00"]


@pytest.fixture
def local(services, monkeypatch, tmp_path):
    """The local stage's app on the fakes (the issuer's key in a temporary state dir)."""
    from lambda_platform import settings

    monkeypatch.setenv("FLEET_STATE_DIR", str(tmp_path))
    settings.reset()
    emails = [OutboxEmail("m-1", "s@example.com", ("ada@example.com",), "Hi", "<p>Hello</p>")]
    monkeypatch.setattr("ingest_api.outbox.read_outbox", lambda: emails)
    app = create_app({"TESTING": True, "SERVICES": services, "LOCAL": True})
    yield app
    settings.reset()


def local_paths(app) -> list[str]:
    paths = sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/_local/"))
    assert {"/_local/outbox", "/_local/issuer/.well-known/jwks.json"} <= set(paths)
    return paths


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_every_local_route_refuses_a_host_that_is_not_loopback(local, host):
    client = local.test_client()
    for path in [*local_paths(local), "/_local/nothing-here"]:
        answer = client.get(path, headers={"Host": host})
        assert answer.status_code == 403, (path, host, answer.status_code)
        assert answer.get_json()["error"]["code"] == "not_loopback"
        assert "ada@example.com" not in answer.text


@pytest.mark.parametrize("host", LOOPBACK)
def test_every_local_route_answers_a_loopback_host(local, host):
    client = local.test_client()
    for path in local_paths(local):
        assert client.get(path, headers={"Host": host}).status_code == 200, (path, host)


def test_the_loopback_rule_matches_the_whole_host():
    assert all(is_loopback_host(h) for h in LOOPBACK)
    assert not any(is_loopback_host(h) for h in NOT_LOOPBACK + NOT_SENDABLE)


def test_routes_that_are_not_local_answer_any_host(local):
    assert local.test_client().get("/health", headers={"Host": "api.example.com"}).status_code == 200


def test_the_outbox_page_has_the_entry_pages_content_security_policy(local):
    client = local.test_client()
    page = client.get("/_local/outbox")
    entry = client.get("/c/summer")
    assert page.status_code == 200 and entry.status_code == 200
    assert page.headers.getlist("Content-Security-Policy") == entry.headers.getlist("Content-Security-Policy")
    # That policy takes no inline style: the page's style is a file of this origin.
    assert "<style" not in page.text and "style=" not in page.text
    style = client.get("/_local/outbox.css")
    assert style.status_code == 200 and style.mimetype == "text/css" and "font:" in style.text


@pytest.mark.parametrize("origin", ["http://127.0.0.1:3000", "http://localhost:5173", "http://127.0.0.1:8080"])
def test_a_local_page_never_carries_a_cors_header_whatever_the_allowlist_admits(local, origin):
    from ingest_api.auth import rules_of

    client = local.test_client()
    assert rules_of(local).origin_allowed(origin)  # the local stage admits every loopback page
    for path in ["/_local/outbox", "/_local/dashboard.json", "/_local/dashboard/replay", "/_local"]:
        for method in ("GET", "OPTIONS"):
            answer = client.open(path, method=method, headers={"Host": "127.0.0.1:8080", "Origin": origin})
            cors = [name for name, _ in answer.headers.items() if name.lower().startswith("access-control-")]
            assert cors == [], (path, method, cors)
    # The API's own routes still answer the allowlist's pages.
    api = client.get("/health", headers={"Host": "127.0.0.1:8080", "Origin": origin})
    assert api.headers.get("Access-Control-Allow-Origin") == origin
