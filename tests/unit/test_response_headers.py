"""The headers every answer carries (ingest_api.security) and the public-write rules they
share with the origin check (ingest_api.auth.AccessRules), on a small app of their own."""

from __future__ import annotations

import pytest
from flask import Flask, Response

from ingest_api.auth import AccessRules, rules_of
from ingest_api.security import API_CSP, SECURITY_HEADERS, register_response_headers
from lambda_platform import settings

ORIGIN = "https://forms.example.com"


@pytest.fixture
def client():
    app = Flask(__name__)
    app.config.update(TESTING=True, WEB_ORIGINS=(ORIGIN, "http://127.0.0.1:*"))

    @app.get("/json")
    def json_answer():
        return {"ok": True}

    @app.get("/page")
    def page():
        answer = Response("<p>hi</p>", mimetype="text/html")
        answer.headers["Content-Security-Policy"] = "default-src 'self'"
        answer.headers["X-Frame-Options"] = "SAMEORIGIN"
        answer.headers["Vary"] = "Accept-Encoding"
        return answer

    @app.post("/json")
    def post_json():
        return {"ok": True}, 202

    register_response_headers(app)
    return app.test_client()


def test_a_json_answer_gets_every_security_header_once_and_the_api_csp(client):
    answer = client.get("/json")
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.getlist(name) == [value]
    assert answer.headers.getlist("Content-Security-Policy") == [API_CSP]
    assert answer.headers.getlist("Vary") == ["Origin"]
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_headers_a_view_set_are_kept_and_vary_gains_origin(client):
    answer = client.get("/page")
    assert answer.headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert answer.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert answer.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert answer.headers.getlist("Vary") == ["Accept-Encoding, Origin"]


def test_an_allowed_origin_is_echoed_and_a_preflight_lists_methods_and_headers(client):
    answer = client.post("/json", headers={"Origin": "http://127.0.0.1:8080"})
    assert answer.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    assert "Location" in answer.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/json", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.getlist("Access-Control-Allow-Origin") == [ORIGIN]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize("origin", ["https://evil.example", "https://forms.example.com.evil"])
def test_other_origins_get_no_cors_header(client, origin):
    answer = client.get("/json", headers={"Origin": origin})
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_an_origin_with_a_line_break_is_never_echoed(client):
    # Only a serialized origin is ever echoed; Werkzeug's test client will not even send this one.
    middleware = client.application.wsgi_app
    origin = "http://127.0.0.1:1\r\nX-Evil: 1"
    headers = middleware.headers_for({"HTTP_ORIGIN": origin, "REQUEST_METHOD": "GET"}, [("Content-Type", "application/json")])
    assert all("\n" not in value for _, value in headers)
    assert "Access-Control-Allow-Origin" not in dict(headers)


def test_the_origin_patterns_match_one_port_or_one_label_and_nothing_else():
    patterns = ("http://127.0.0.1:*", "https://*.example.com", "https://forms.example.com")
    rules = AccessRules.read({"WEB_ORIGINS": patterns}, settings.current())
    for origin, allowed in (
        ("http://127.0.0.1:5000", True),
        ("http://127.0.0.1", False),
        ("http://127.0.0.1:5000.evil.com", False),
        ("https://www.example.com", True),
        ("https://example.com", False),
        ("https://a.b.example.com", False),
        ("https://forms.example.com", True),
        ("https://forms.example.com.evil", False),
        ("HTTPS://FORMS.EXAMPLE.COM", False),
    ):
        assert rules.origin_allowed(origin) is allowed, origin
    assert not AccessRules.read({"WEB_ORIGINS": ()}, settings.current()).origin_allowed("http://127.0.0.1:5000")


def test_the_rules_are_read_again_after_the_settings_are(monkeypatch):
    app = Flask(__name__)
    monkeypatch.setenv("FLEET_RATE_PER_CLIENT", "7")
    settings.reset()
    try:
        assert rules_of(app).rate_per_client == 7
        monkeypatch.setenv("FLEET_RATE_PER_CLIENT", "5")
        assert rules_of(app).rate_per_client == 7  # read once ...
        settings.reset()
        assert rules_of(app).rate_per_client == 5  # ... until the settings are read again
        app.config["RATE_PER_CLIENT"] = 3
        settings.reset()
        assert rules_of(app).rate_per_client == 3  # the app's config wins
    finally:
        settings.reset()
