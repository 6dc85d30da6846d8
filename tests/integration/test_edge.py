"""The local edge against moto's site bucket and the API: hits and misses, Age, 304s, ranges, 404s, purges, keys."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from events.edge import CacheBehaviour, Distribution
from events.topology import TOPOLOGY
from lambda_platform import aws

pytestmark = pytest.mark.integration

PAGE = b"<!doctype html><title>Campaign</title><h1>Enter</h1>"
#: A download big enough to be several chunks of the store.
DOWNLOAD = hashlib.sha256(b"fleet").digest() * (3 * 1024 * 1024 // 32)


def put_site_object(key: str, body: bytes, content_type: str, cache_control: str) -> str:
    """An object of the site bucket as publishing leaves it; its ETag."""
    from lambda_platform.resources import bucket_name

    put = aws.client("s3").put_object(
        Bucket=bucket_name("site"), Key=key, Body=body, ContentType=content_type, CacheControl=cache_control
    )
    return put["ETag"]


@pytest.fixture
def api(provisioned):
    from fleet.runtime.local import ApiServer

    server = ApiServer(port=0)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def edge(api):
    from fleet.edge.server import EdgeServer

    put_site_object("web/entry.html", PAGE, "text/html; charset=utf-8", "public, max-age=60")
    put_site_object("downloads/app.bin", DOWNLOAD, "application/octet-stream", "public, max-age=3600")
    server = EdgeServer(api)
    server.start()
    yield server
    server.stop()


def stats(edge) -> dict:
    return requests.get(f"{edge.url}/_edge/stats", timeout=10).json()


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


def test_a_static_page_is_a_miss_then_hits_with_its_age_and_strong_etag(edge):
    first = get(f"{edge.url}/c/demo")
    assert first.status_code == 200 and first.content == PAGE
    assert first.headers["X-Cache"] == "Miss from fleet-edge"
    assert first.headers["Cache-Control"] == "public, max-age=60"  # the origin's, not the edge's TTL
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    time.sleep(1.1)
    # Every campaign's page is the one object: another campaign's path hits it.
    again = get(f"{edge.url}/c/summer")
    assert again.headers["X-Cache"] == "Hit from fleet-edge" and again.content == PAGE
    assert int(again.headers["Age"]) >= 1 and again.headers["ETag"] == etag
    assert stats(edge)["origin_requests"]["site"] == 1

    unchanged = get(f"{edge.url}/c/demo", **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["X-Cache"] == "Hit from fleet-edge" and unchanged.headers["ETag"] == etag
    assert get(f"{edge.url}/c/demo", **{"If-None-Match": '"other"'}).status_code == 200
    assert stats(edge)["origin_requests"]["site"] == 1


def test_a_stale_object_is_revalidated_with_its_etag(edge):
    put_site_object("web/short.txt", b"short", "text/plain", "max-age=1")
    assert get(f"{edge.url}/web/short.txt").headers["X-Cache"] == "Miss from fleet-edge"
    time.sleep(2.1)
    refreshed = get(f"{edge.url}/web/short.txt")
    assert refreshed.content == b"short" and refreshed.headers["X-Cache"] == "RefreshHit from fleet-edge"
    assert stats(edge)["origin_bytes"]["site"] == len(b"short")  # the 304 carried no body


def test_ranges_of_a_download_are_cut_from_the_cache_and_the_origin_read_once(edge):
    url = f"{edge.url}/downloads/app.bin"
    first = get(url, Range="bytes=0-99")
    assert first.status_code == 206 and first.content == DOWNLOAD[:100]
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(DOWNLOAD)}"
    assert first.headers["Accept-Ranges"] == "bytes"
    tail = get(url, Range="bytes=-10")
    assert tail.status_code == 206 and tail.content == DOWNLOAD[-10:]
    assert tail.headers["X-Cache"] == "Hit from fleet-edge"
    middle = get(url, Range="bytes=1048576-2097151")
    assert middle.content == DOWNLOAD[1048576:2097152]
    beyond = get(url, Range=f"bytes={len(DOWNLOAD)}-")
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(DOWNLOAD)}"
    whole = get(url)
    assert whole.status_code == 200 and whole.content == DOWNLOAD and whole.headers["Accept-Ranges"] == "bytes"
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(DOWNLOAD)
    counted = stats(edge)
    assert counted["origin_requests"]["site"] == 1 and counted["origin_bytes"]["site"] == len(DOWNLOAD)


def test_nothing_outside_a_behaviour_or_the_bucket_is_served_and_never_a_listing(edge, api):
    for path in ("/", "/blog/", "/web/", "/nothing.html", "/downloads/missing.zip"):
        answer = get(f"{edge.url}{path}")
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"
        assert "entry.html" not in answer.text and "app.bin" not in answer.text
    # A distribution without a default behaviour serves nothing else.
    from werkzeug.test import Client

    from fleet.edge.origins import ApiOrigin, OriginStats, SiteOrigin
    from fleet.edge.proxy import Edge
    from lambda_platform.resources import bucket_name

    only = Distribution("site", "site", (CacheBehaviour("/downloads/*", origin="site", default_ttl=60, max_ttl=60),))
    counts = OriginStats()
    narrow = Client(Edge(only, SiteOrigin(bucket_name("site"), counts), ApiOrigin(api, counts), counts))
    assert narrow.get("/web/entry.html").status_code == 404
    assert narrow.get("/downloads/app.bin").status_code == 200
    assert counts.requests == {"site": 1, "api": 0}


def test_api_reads_are_cached_by_their_declared_query_strings_and_no_cache_is_honoured(edge):
    first = get(f"{edge.url}/v1/articles?limit=5")
    assert first.status_code == 200 and first.headers["X-Cache"] == "Miss from fleet-edge"
    # Another query string is not in the key (nor sent to the API).
    assert get(f"{edge.url}/v1/articles?utm=x&limit=5").headers["X-Cache"] == "Hit from fleet-edge"
    assert get(f"{edge.url}/v1/articles?limit=6").headers["X-Cache"] == "Miss from fleet-edge"
    # A campaign is `no-cache` at the origin, and /v1/* has no minimum TTL: never a hit.
    for _ in range(2):
        assert get(f"{edge.url}/v1/campaigns/nope").headers["X-Cache"] == "Error from fleet-edge"
    assert stats(edge)["origin_requests"]["api"] == 4


def test_a_request_with_a_key_or_a_token_is_never_answered_from_the_cache_nor_stored(edge):
    url = f"{edge.url}/v1/articles?limit=3"
    keyed = get(url, **{"x-api-key": "k-1"})
    assert keyed.status_code == 200 and keyed.headers["X-Cache"] == "Miss from fleet-edge"
    assert get(url).headers["X-Cache"] == "Miss from fleet-edge"  # the keyed answer was not stored
    assert get(url).headers["X-Cache"] == "Hit from fleet-edge"
    for private in ({"x-api-key": "k-1"}, {"Authorization": "Bearer t"}, {"X-API-Key": "k-2"}):
        assert get(url, **private).headers["X-Cache"] == "Miss from fleet-edge", private
    assert stats(edge)["origin_requests"]["api"] == 5


def test_a_post_goes_to_the_api_and_is_never_cached(edge):
    body = {"title": "T", "content": "C", "author": "Ada"}
    for _ in range(2):
        posted = requests.post(f"{edge.url}/v1/articles", json=body, timeout=10)
        assert posted.status_code == 401 and posted.headers["X-Cache"] == "Error from fleet-edge"
    assert stats(edge)["origin_requests"]["api"] == 2
    # A site behaviour takes GET and HEAD only.
    assert requests.post(f"{edge.url}/c/demo", data=b"x", timeout=10).status_code == 403


def test_a_purge_removes_exact_paths_and_prefixes_and_answers_loopback_only(edge):
    get(f"{edge.url}/c/demo")
    get(f"{edge.url}/v1/articles?limit=5")
    get(f"{edge.url}/v1/articles?limit=7")
    purge = f"{edge.url}/_edge/purge"
    assert requests.post(purge, json={"paths": ["/c/demo"]}, timeout=10).json() == {"paths": ["/c/demo"], "purged": 1}
    assert get(f"{edge.url}/c/demo").headers["X-Cache"] == "Miss from fleet-edge"
    assert get(f"{edge.url}/v1/articles?limit=5").headers["X-Cache"] == "Hit from fleet-edge"
    assert requests.post(purge, json={"paths": ["/v1/articles*"]}, timeout=10).json()["purged"] == 2
    assert get(f"{edge.url}/v1/articles?limit=5").headers["X-Cache"] == "Miss from fleet-edge"

    refused = requests.post(purge, json={"paths": ["/*"]}, headers={"Host": "attacker.example"}, timeout=10)
    assert refused.status_code == 403
    assert get(f"{edge.url}/c/demo").headers["X-Cache"] == "Hit from fleet-edge"
    bad = requests.post(purge, json={"paths": ["no-slash"]}, timeout=10)
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["paths"]
    assert requests.get(purge, timeout=10).status_code == 405


def test_pages_through_the_edge_carry_the_response_headers_policy_and_cannot_be_framed(edge):
    from fleet.edge.origins import page_upload_origins

    declared = TOPOLOGY.site.distribution.response_headers
    for path in ("/c/demo", "/c/demo", "/blog/", "/blog/a/x"):
        page = get(f"{edge.url}{path}")
        assert page.headers["Content-Security-Policy"] == declared.csp(page_upload_origins()), path
        assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"
