"""Origins match exactly: a `*` of `FLEET_WEB_ORIGINS` is one port number or one DNS label,
an Origin that is not a serialized origin is never echoed and its POST is a 403, and the
media bucket's CORS rule is rendered from the same patterns."""

from __future__ import annotations

import re

import pytest

from fleet.provision.buckets import bucket_cors_rules
from ingest_api import create_app
from ingest_api.auth import AccessRules
from lambda_platform import settings
from lambda_platform.origins import allowlist, normalize_pattern, s3_allowed_origins

PATTERNS = ("http://127.0.0.1:*", "https://*.shop.example", "https://forms.example.com", "http://[::1]:*")
COMMENTS = "/v1/articles/00000000-0000-4000-8000-000000000000/comments"
COMMENT = {"author": "A", "email": "a@example.com", "body": "hi"}

GOOD = [
    "http://127.0.0.1:8080",
    "http://127.0.0.1:1",
    "http://127.0.0.1:65535",
    "https://www.shop.example",
    "https://a-1.shop.example",
    "https://xn--bcher-kva.shop.example",
    "https://forms.example.com",
    "http://[::1]:5173",
]
BAD = [
    # What the probe sent through `http://127.0.0.1:*`.
    "http://127.0.0.1:8080.evil.com",
    "http://127.0.0.1:@evil.com",
    "http://127.0.0.1:80/../evil",
    "http://127.0.0.1:80\x00",
    "http://127.0.0.1:80\xff",
    "http://127.0.0.1:\x0b80",
    "http://127.0.0.1:8080\n",
    "http://127.0.0.1:8080\t",
    "http://127.0.0.1:8080 ",
    "http://127.0.0.1:8080/",
    "http://127.0.0.1:",
    "http://127.0.0.1",
    "http://127.0.0.1:0",
    "http://127.0.0.1:65536",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:080",
    "http://127.0.0.1:-1",
    "http://127.0.0.1:８０",
    "HTTP://127.0.0.1:8080",
    "https://127.0.0.1:8080",
    "http://127.0.0.1.evil.com:8080",
    # A label wildcard is one label, before a literal rest.
    "https://shop.example",
    "https://.shop.example",
    "https://a.b.shop.example",
    "https://-a.shop.example",
    "https://a_b.shop.example",
    "https://WWW.shop.example",
    "https://www.shop.example.evil",
    "https://evil.example/.shop.example",
    "https://evil.example?.shop.example",
    "https://evil.example#.shop.example",
    "https://evil@x.shop.example",
    "https://www.shop.example:8443",
    "https://bücher.shop.example",
    "http://www.shop.example",
    # An exact origin is itself and nothing else.
    "https://forms.example.com.",
    "https://forms.example.com:443",
    "https://forms.example.com/",
    "https://forms.example.com.evil",
    "null",
    "",
]


@pytest.fixture
def rules() -> AccessRules:
    return AccessRules.read({"WEB_ORIGINS": PATTERNS}, settings.current())


@pytest.fixture
def api(services):
    config = {"TESTING": True, "SERVICES": services, "WEB_ORIGINS": PATTERNS, "RATE_PER_CLIENT": 0}
    return create_app(config).test_client()


@pytest.mark.parametrize("origin", GOOD)
def test_a_serialized_origin_that_fits_a_pattern_is_allowed(rules, origin):
    assert rules.origin_allowed(origin)


@pytest.mark.parametrize("origin", BAD)
def test_anything_else_is_not(rules, origin):
    assert not rules.origin_allowed(origin)


@pytest.mark.parametrize("origin", BAD)
def test_a_bad_origin_is_never_echoed_by_a_preflight_or_an_answer(api, origin):
    for method in ("OPTIONS", "GET", "POST"):
        environ = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}
        answer = api.open(COMMENTS, method=method, json=COMMENT, environ_base=environ)
        # keys(): werkzeug's Headers iterate as (name, value) pairs.
        assert not any(name.startswith("Access-Control-") for name in answer.headers.keys()), (method, answer.headers)  # noqa: SIM118


@pytest.mark.parametrize("origin", BAD)
def test_a_post_from_a_bad_origin_is_a_403(api, services, origin):
    answer = api.post(COMMENTS, json=COMMENT, environ_base={"HTTP_ORIGIN": origin})
    assert answer.status_code == 403 and answer.json["error"]["code"] == "origin_not_allowed"
    assert services.blog_queue.sent == []


@pytest.mark.parametrize("origin", GOOD)
def test_a_good_origin_posts_and_is_echoed(api, origin):
    preflight = api.options(COMMENTS, environ_base={"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"})
    assert preflight.headers.getlist("Access-Control-Allow-Origin") == [origin]
    answer = api.post(COMMENTS, json=COMMENT, environ_base={"HTTP_ORIGIN": origin})
    assert answer.status_code == 202 and answer.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize(
    "pattern",
    [
        "http://127.0.0.1:*:*",
        "https://*.*.example",
        "https://a*b.test",
        "https://www.*.example",
        "https://*.example",
        "https://*",
        "*",
        "http://10.0.0.*",
        "http://*.0.0.1",
        "https://*.shop.example:*",
        "http://[x]?.io",
        "http://[::1*]:8080",
        "ftp://files.example",
        "shop.example",
        "https://shop.example/path",
        "https://user@shop.example",
        "https://shop.example?x",
        "https://bücher.example",
        "https://shop.example:0",
        "https://shop.example:65536",
        "https://shop.example:",
        "https://shop_1.example",
        "http://127.0.0.1:80\x00",
    ],
)
def test_a_pattern_that_is_not_one_origin_with_at_most_one_wildcard_is_refused(pattern):
    # Each refusal names the pattern as it was written.
    with pytest.raises(ValueError, match=re.escape(repr(pattern))):
        normalize_pattern(pattern)
    with pytest.raises(ValueError, match=re.escape(repr(pattern))):
        AccessRules.read({"WEB_ORIGINS": (pattern,)}, settings.current())
    with pytest.raises(ValueError, match=re.escape(repr(pattern))):
        bucket_cors_rules((pattern,))


def test_patterns_are_read_in_canonical_form():
    assert normalize_pattern(" HTTPS://Forms.Example.com/ ") == "https://forms.example.com"
    assert normalize_pattern("https://shop.example:443") == "https://shop.example"
    assert normalize_pattern("http://shop.example:80") == "http://shop.example"
    assert normalize_pattern("http://[0:0::1]:*") == "http://[::1]:*"
    assert allowlist(()) is None and allowlist(["", " "]) is None


def test_fleet_web_origins_is_read_in_canonical_form_and_a_bad_one_stops_the_settings(monkeypatch):
    monkeypatch.setenv("FLEET_WEB_ORIGINS", "HTTPS://Shop.Example/, http://127.0.0.1:*")
    settings.reset()
    try:
        assert settings.current().web_origins == ("https://shop.example", "http://127.0.0.1:*")
        monkeypatch.setenv("FLEET_WEB_ORIGINS", "https://shop.example, http://127.0.0.1*")
        settings.reset()
        with pytest.raises(ValueError, match="FLEET_WEB_ORIGINS"):
            settings.current()
    finally:
        settings.reset()


def test_the_bucket_cors_rule_lists_the_canonical_patterns():
    (rule,) = bucket_cors_rules(("HTTPS://Shop.Example/", "http://127.0.0.1:*", "https://*.shop.example"))
    assert rule["AllowedOrigins"] == ["http://127.0.0.1:*", "https://*.shop.example", "https://shop.example"]
    assert rule["AllowedMethods"] == ["POST"]
    assert bucket_cors_rules(()) == []


def test_s3s_wider_star_admits_no_browser_origin_outside_the_patterns_but_deeper_names_of_the_same_domain():
    # S3 matches its one * against any characters; a browser only ever sends serialized origins.
    rendered = s3_allowed_origins(PATTERNS)
    ours = allowlist(PATTERNS)
    serialized = [o for o in GOOD + BAD if _serialized(o)] + ["https://a.b.shop.example", "http://127.0.0.2:8080"]
    for origin in serialized:
        by_s3 = any(_s3_matches(origin, allowed) for allowed in rendered)
        assert by_s3 == bool(ours.fullmatch(origin)) or (by_s3 and origin.endswith(".shop.example")), origin


def _s3_matches(origin: str, allowed: str) -> bool:
    """S3's reading of an AllowedOrigin: at most one `*`, for any characters."""
    head, star, tail = allowed.partition("*")
    if not star:
        return origin == allowed
    return len(origin) >= len(head) + len(tail) and origin.startswith(head) and origin.endswith(tail)


def _serialized(origin: str) -> bool:
    """What a browser could send: an origin some pattern's scheme and host rules accept."""
    try:
        return normalize_pattern(origin) == origin and "*" not in origin
    except ValueError:
        return False
