"""The local edge's cache against RFC 9111 and CloudFront's rules, on a scripted origin (no sockets).

What the HTTP caching tests (`make conformance-edge`) found, each pinned here: the origin's
`Age` and `Date` count, `Expires` is reckoned from the origin's `Date`, a 304 updates the
stored fields, the statuses CloudFront caches are stored, a TTL of 0 with a validator is
revalidated rather than fetched again, and an origin that cannot answer is a 502 (or the
stale answer, when it may be served stale).
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest
from werkzeug.test import Client

from events.edge import CacheBehaviour, Distribution
from fleet.edge import policy
from fleet.edge.origins import OriginStats, OriginUnavailable
from fleet.edge.proxy import Edge
from tests.fakes.edge import ScriptedOrigin, ScriptedSite

ALL_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
API = CacheBehaviour("/v1/*", origin="api", max_ttl=3600, query_strings=("limit", "cursor"), allowed_methods=ALL_METHODS)
PAGES = CacheBehaviour("/c/*", origin="site", default_ttl=60, max_ttl=300, rewrite="/web/entry.html")
FILES = CacheBehaviour("*", origin="site", default_ttl=60, max_ttl=3600)
DISTRIBUTION = Distribution("site", "site", (API, PAGES, FILES))


def http_date(offset: float = 0.0) -> str:
    return formatdate(time.time() + offset, usegmt=True)


def edge_over(api: ScriptedOrigin, site: ScriptedOrigin | None = None, **bounds) -> Client:
    stats = OriginStats()
    return Client(Edge(DISTRIBUTION, ScriptedSite(site or ScriptedOrigin()), api, stats, **bounds))


def test_the_origins_age_counts_toward_staleness_and_is_passed_on():
    api = ScriptedOrigin(
        {
            "/v1/young": [(200, {"cache-control": "max-age=60", "age": "50", "date": http_date()}, b"young")],
            "/v1/old": [(200, {"cache-control": "max-age=60", "age": "100", "date": http_date()}, b"old")],
        }
    )
    edge = edge_over(api)
    first = edge.get("/v1/young")
    assert first.headers["X-Cache"] == "Miss from fleet-edge" and int(first.headers["Age"]) >= 50
    again = edge.get("/v1/young")
    assert again.headers["X-Cache"] == "Hit from fleet-edge" and 50 <= int(again.headers["Age"]) < 60
    # Stored with its age past its lifetime: stale at once, so the next read goes to the origin.
    edge.get("/v1/old")
    assert edge.get("/v1/old").headers["X-Cache"] != "Hit from fleet-edge"
    assert api.targets().count("/v1/old") == 2


def test_the_origins_date_is_passed_on():
    sent = "Mon, 07 Dec 2026 10:00:00 GMT"
    api = ScriptedOrigin({"/v1/a": [(200, {"cache-control": "max-age=600", "date": sent}, b"a")]})
    edge = edge_over(api)
    assert edge.get("/v1/a").headers["Date"] == sent
    assert edge.get("/v1/a").headers["Date"] == sent  # from the store too


def test_expires_counts_from_the_origins_date_and_an_invalid_one_means_expired():
    # An origin whose clock runs an hour fast: its answer lives 30 s, not an hour and a half.
    fast = time.time() + 3600
    fields = {"date": formatdate(fast, usegmt=True), "expires": formatdate(fast + 30, usegmt=True)}
    assert policy.for_the_cache(API, 200, fields)["cache-control"] == "s-maxage=30"
    for invalid in ("0", "-1", "Thursday", "Thu, 01 Dec 2099 16:00:00", "Mon, 32 Dec 2099 16:00:00 GMT"):
        assert policy.edge_ttl(FILES, None, expires=invalid) == 0, invalid


def test_a_304_updates_the_stored_fields_and_keeps_the_stored_body():
    stored = {"etag": '"v1"', "cache-control": "no-cache", "content-type": "text/plain", "content-length": "5"}
    refreshed = {
        "etag": '"v1"',
        "content-type": "text/plain;charset=utf-8",
        "date": "Mon, 07 Dec 2026 11:00:00 GMT",
        "x-new": "1",
        "content-length": "99",
    }
    api = ScriptedOrigin({"/v1/a": [(200, stored, b"hello"), (304, refreshed, b"")]})
    edge = edge_over(api)
    assert edge.get("/v1/a").data == b"hello"
    again = edge.get("/v1/a")
    # No-cache with a validator: stored and revalidated (If-None-Match), never fetched whole again.
    assert api.asked[-1][2]["if-none-match"] == '"v1"'
    assert again.status_code == 200 and again.data == b"hello" and again.headers["X-Cache"] == "RefreshHit from fleet-edge"
    assert again.headers["Content-Type"] == "text/plain;charset=utf-8"
    assert again.headers["Date"] == "Mon, 07 Dec 2026 11:00:00 GMT" and again.headers["X-New"] == "1"
    assert again.headers["Content-Length"] == "5"


def test_a_ttl_of_0_without_a_validator_is_not_stored():
    api = ScriptedOrigin({"/v1/a": [(200, {"cache-control": "max-age=0"}, b"a")]})
    edge = edge_over(api)
    edge.get("/v1/a")
    edge.get("/v1/a")
    assert "if-none-match" not in api.asked[-1][2] and len(api.asked) == 2


@pytest.mark.parametrize(
    ("status", "cache_control", "stored"),
    [
        (301, "max-age=60", True),  # "CloudFront caches the redirect"
        (302, None, False),  # the default TTL, 0
        (203, "max-age=60", True),
        (404, "max-age=60", True),  # always cached, for the larger of max-age and the error minimum TTL
        (404, None, False),  # the error minimum TTL is 0
        (503, "s-maxage=30", True),
        (404, "max-age=60, no-store", False),
        (400, "max-age=60", True),  # cached when the origin gives a max-age
        (403, None, False),
        (410, "max-age=60", False),  # not a status CloudFront caches
        (429, "max-age=60", False),
    ],
)
def test_the_statuses_cloudfront_caches_are_stored(status, cache_control, stored):
    fields = {"cache-control": cache_control} if cache_control else {}
    api = ScriptedOrigin({"/v1/a": [(status, fields, b"x")]})
    edge = edge_over(api)
    assert edge.get("/v1/a").status_code == status
    assert edge.get("/v1/a").status_code == status
    assert len(api.asked) == (1 if stored else 2)


def test_an_origin_that_cannot_answer_is_a_502_or_a_504_in_the_one_format():
    api = ScriptedOrigin(
        {"/v1/down": [OriginUnavailable("refused")], "/v1/slow": [OriginUnavailable("timed out", timed_out=True)]}
    )
    edge = edge_over(api)
    for path, status, code in (("/v1/down", 502, "origin_unreachable"), ("/v1/slow", 504, "origin_timeout")):
        for headers in ({}, {"Authorization": "Bearer t"}):  # through the cache, and straight on
            answer = edge.get(path, headers=headers)
            assert answer.status_code == status and answer.json["error"]["code"] == code
            assert answer.headers["X-Cache"] == "Error from fleet-edge"


def test_a_stale_answer_is_served_while_the_origin_is_down_unless_it_forbids_it():
    stale = {"cache-control": "max-age=1", "age": "5", "etag": '"a"'}
    strict = {"cache-control": "max-age=1, must-revalidate", "age": "5", "etag": '"b"'}
    api = ScriptedOrigin(
        {
            "/v1/a": [(200, stale, b"kept"), OriginUnavailable("refused")],
            "/v1/b": [(200, strict, b"strict"), OriginUnavailable("refused")],
            "/v1/c": [(200, stale, b"c"), (503, {}, b"busy")],
        }
    )
    edge = edge_over(api)
    for path in ("/v1/a", "/v1/b", "/v1/c"):
        edge.get(path)
    served = edge.get("/v1/a")
    assert served.status_code == 200 and served.data == b"kept"
    assert edge.get("/v1/b").status_code == 502
    # A 5xx to a revalidation: CloudFront serves the object it has.
    assert edge.get("/v1/c").data == b"c"


def test_the_key_holds_the_origin_so_one_pages_cors_answer_never_reaches_another():
    def cors(method, target, headers):
        # As the API answers: Vary: Origin, a strong ETag of the body, a 304 when it matches.
        asked = {k.lower(): v for k, v in headers.items()}
        fields = {"cache-control": "max-age=60", "vary": "Origin", "etag": '"same-body"'}
        if asked.get("origin"):
            fields["access-control-allow-origin"] = asked["origin"]
        if asked.get("if-none-match") == '"same-body"':
            return 304, fields, b""
        return 200, fields, b"[]"

    api = ScriptedOrigin({"/v1/articles": [cors]})
    edge = edge_over(api)
    for origin in ("http://127.0.0.1:3000", "http://localhost:5173", None):
        headers = {"Origin": origin} if origin else {}
        first = edge.get("/v1/articles", headers=headers)
        assert first.headers.get("Access-Control-Allow-Origin") == origin
        assert first.headers["X-Cache"] == "Miss from fleet-edge", origin
        again = edge.get("/v1/articles", headers=headers)
        assert again.headers.get("Access-Control-Allow-Origin") == origin and again.headers["X-Cache"] == "Hit from fleet-edge"
    # And the first page's answer is still its own, after the others were stored.
    assert edge.get("/v1/articles", headers={"Origin": "http://127.0.0.1:3000"}).headers["Access-Control-Allow-Origin"] == (
        "http://127.0.0.1:3000"
    )
    assert len(api.asked) == 3
    # The key and the forwarded headers come from the one declaration CloudFront's is rendered from.
    assert policy.cache_key(API, "/v1/articles", "", {"Origin": "http://a"}) == "/v1/articles\norigin: http://a"
    assert policy.cache_key(PAGES, "/web/entry.html", "", {"Origin": "http://a"}) == "/web/entry.html"


def test_a_purge_removes_every_version_of_a_path_whatever_its_origin():
    api = ScriptedOrigin({"/v1/articles": [(200, {"cache-control": "max-age=60"}, b"[]")]})
    edge = edge_over(api)
    for origin in ("http://a.example", "http://b.example"):
        edge.get("/v1/articles", headers={"Origin": origin})
    purged = edge.post("/_edge/purge", json={"paths": ["/v1/articles"]}, headers={"Host": "127.0.0.1"})
    assert purged.json == {"paths": ["/v1/articles"], "purged": 2}


def test_a_forged_cursor_flood_stays_within_the_stores_bounds_and_a_real_answer_is_still_stored():
    api = ScriptedOrigin({"/v1/articles": [(200, {"cache-control": "max-age=300"}, b'{"articles": []}')]})
    edge = edge_over(api, max_stored_entries=50, max_store_bytes=200 * 1024)
    for n in range(500):
        assert edge.get(f"/v1/articles?cursor=forged-{n:04d}&limit=5").status_code == 200
    stats = edge.get("/_edge/stats", headers={"Host": "127.0.0.1"}).json
    assert stats["stored_keys"] <= 50 and stats["stored_entries"] <= 50 and stats["stored_bytes"] <= 200 * 1024
    assert stats["evicted_entries"] >= 450
    # The cap evicts the least recently used: a page read now is stored and hit.
    edge.get("/v1/articles?limit=20")
    assert edge.get("/v1/articles?limit=20").headers["X-Cache"] == "Hit from fleet-edge"


def test_the_store_never_holds_more_bytes_than_its_bound():
    big = b"x" * (300 * 1024)
    api = ScriptedOrigin({"/v1/big": [(200, {"cache-control": "max-age=300"}, big)]})
    edge = edge_over(api, max_store_bytes=1024 * 1024, max_object_bytes=512 * 1024)
    for n in range(10):
        assert edge.get(f"/v1/big?cursor={n}").data == big
    assert edge.get("/_edge/stats", headers={"Host": "127.0.0.1"}).json["stored_bytes"] <= 1024 * 1024
    # Larger than one object may be: served whole, never stored; announced so, streamed at once.
    huge = b"y" * (600 * 1024)
    api.answers["/v1/huge"] = [(200, {"cache-control": "max-age=300", "content-length": str(len(huge))}, huge)]
    api.answers["/v1/chunked"] = [(200, {"cache-control": "max-age=300"}, [huge[:300_000], huge[300_000:]])]
    for path in ("/v1/huge", "/v1/chunked"):
        assert edge.get(path).data == huge and edge.get(path).data == huge
    assert api.targets().count("/v1/huge") == 2
    assert api.targets().count("/v1/chunked") == 4  # each read: the try to store it, then the stream


def test_a_get_with_a_body_is_refused_in_the_one_format():
    edge = edge_over(ScriptedOrigin())
    for method in ("GET", "HEAD"):
        answer = edge.open("/v1/articles", method=method, data=b"{}")
        assert answer.status_code == 400
    assert json.loads(edge.get("/v1/articles", data=b"{}").data)["error"]["code"] == "body_not_allowed"


def test_stale_if_error_bounds_how_stale_an_answer_may_be_served_while_the_origin_is_down():
    api = ScriptedOrigin(
        {
            "/v1/never": [(200, {"cache-control": "max-age=1, stale-if-error=0", "age": "5"}, b"n"), OriginUnavailable("x")],
            "/v1/within": [(200, {"cache-control": "max-age=1, stale-if-error=60", "age": "5"}, b"w"), OriginUnavailable("x")],
        }
    )
    edge = edge_over(api)
    edge.get("/v1/never")
    edge.get("/v1/within")
    assert edge.get("/v1/never").status_code == 502
    assert edge.get("/v1/within").data == b"w"


def test_every_answer_of_a_behaviour_that_serves_pages_carries_the_response_headers_policy():
    site = ScriptedOrigin({"/web/entry.html": [(200, {"content-type": "text/html", "cache-control": "max-age=60"}, b"<p>")]})
    api = ScriptedOrigin({"/v1/a": [(200, {"content-type": "application/json"}, b"{}")]})
    edge = Client(Edge(DISTRIBUTION, ScriptedSite(site), api, OriginStats(), upload_origins=("http://127.0.0.1:4566",)))
    declared = DISTRIBUTION.response_headers
    for path in ("/c/demo", "/c/demo", "/missing.html"):  # a miss, a hit, the edge's own 404
        page = edge.get(path)
        assert page.headers["Content-Security-Policy"] == declared.csp(("http://127.0.0.1:4566",)), path
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        # Plain HTTP: a browser ignores HSTS there; CloudFront sends it over HTTPS.
        assert "Strict-Transport-Security" not in page.headers
    assert "Content-Security-Policy" not in edge.get("/v1/a").headers  # the API's answers carry its own


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        # A `no-cors` POST from any web page: text/plain, with the page's Origin and Sec-Fetch-Site.
        ({"Content-Type": "text/plain", "Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"}, 403, "cross_origin"),
        ({"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        ({"Content-Type": "application/json", "Origin": "https://attacker.example"}, 403, "cross_origin"),
        ({"Content-Type": "application/json", "Origin": "null"}, 403, "cross_origin"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403, "cross_origin"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403, "cross_origin"),
        # The command line and the workers (no Origin), or a page of the edge itself.
        ({"Content-Type": "application/json"}, 200, None),
        ({"Content-Type": "application/json", "Origin": "http://127.0.0.1:8081", "Sec-Fetch-Site": "same-origin"}, 200, None),
    ],
)
def test_a_purge_is_json_from_no_other_page(headers, status, code):
    api = ScriptedOrigin({"/v1/a": [(200, {"cache-control": "max-age=60"}, b"a")]})
    edge = edge_over(api)
    edge.get("/v1/a")
    answer = edge.post("/_edge/purge", data=b'{"paths": ["/*"]}', headers={"Host": "127.0.0.1:8081", **headers})
    assert answer.status_code == status
    if code:
        assert answer.json["error"]["code"] == code
        assert edge.get("/v1/a").headers["X-Cache"] == "Hit from fleet-edge"  # nothing was purged
    else:
        assert answer.json["purged"] == 1
