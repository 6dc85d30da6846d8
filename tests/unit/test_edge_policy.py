"""The local edge's cache policy: CloudFront's TTL rules over the declared behaviours, the keys, what is never stored."""

from __future__ import annotations

import pytest

from events.edge import CacheBehaviour
from events.topology import TOPOLOGY
from fleet.edge import policy

API = CacheBehaviour("/v1/*", origin="api", min_ttl=0, default_ttl=0, max_ttl=300, query_strings=("limit", "cursor"))
PAGES = CacheBehaviour("/blog/", origin="site", min_ttl=10, default_ttl=60, max_ttl=300, rewrite="/blog/index.html")
NEVER = CacheBehaviour("/live/*", origin="api")


@pytest.mark.parametrize(
    ("behaviour", "cache_control", "ttl"),
    [
        (API, "public, max-age=60", 60),
        (API, "public, max-age=86400", 300),  # clamped to the maximum
        (API, "max-age=60, s-maxage=20", 20),  # a shared cache reads s-maxage first
        (API, None, 0),  # the origin says nothing: the default, 0, is not cached
        (API, "private, no-cache", 0),
        (API, "no-store", 0),
        (API, "max-age=garbage", 0),
        (PAGES, None, 60),  # the default
        (PAGES, "max-age=1", 10),  # raised to the minimum
        (PAGES, "no-cache", 10),  # a minimum above 0 caches even what the origin would not
        (PAGES, "public, max-age=31536000, immutable", 300),
        (NEVER, "public, max-age=60", 0),  # a behaviour whose maximum is 0 stores nothing
    ],
)
def test_the_ttl_is_the_origins_within_the_behaviours_bounds(behaviour, cache_control, ttl):
    assert policy.edge_ttl(behaviour, cache_control) == ttl


def test_expires_counts_when_no_max_age_is_given():
    assert policy.edge_ttl(API, None, expires="Thu, 01 Jan 2099 00:00:00 GMT") == 300
    assert policy.edge_ttl(API, None, expires="Thu, 01 Jan 1970 00:00:00 GMT") == 0
    assert policy.edge_ttl(API, "max-age=5", expires="Thu, 01 Jan 2099 00:00:00 GMT") == 5


def test_the_key_holds_the_declared_query_strings_only_in_the_viewers_order():
    assert policy.cache_key(API, "/v1/articles", "cursor=abc&limit=5") == "/v1/articles?cursor=abc&limit=5"
    # CloudFront keys (and forwards) them as the viewer sent them: another order is another key.
    assert policy.cache_key(API, "/v1/articles", "limit=5&cursor=abc") == "/v1/articles?limit=5&cursor=abc"
    assert policy.cache_key(API, "/v1/articles", "limit=5&utm_source=mail&_=123") == "/v1/articles?limit=5"
    assert policy.cache_key(API, "/v1/articles", "") == "/v1/articles"
    # A site behaviour keys on its object, whatever the query.
    assert policy.cache_key(PAGES, "/blog/index.html", "limit=5") == "/blog/index.html"


def test_a_rewrite_names_the_object_every_path_of_the_behaviour_reads():
    site = TOPOLOGY.site.distribution
    assert policy.origin_path(site.behaviour_for("/c/demo"), "/c/demo") == "/web/entry.html"
    assert policy.origin_path(site.behaviour_for("/blog/a/x"), "/blog/a/x") == "/blog/article.html"
    assert policy.origin_path(site.behaviour_for("/web/entry.js"), "/web/entry.js") == "/web/entry.js"
    assert policy.object_key("/downloads/app-2.0.zip") == "downloads/app-2.0.zip"
    # Never a listing: a folder or the root is no object.
    assert policy.object_key("/") is None
    assert policy.object_key("/blog/") is None


@pytest.mark.parametrize(
    ("method", "headers", "stored"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("POST", {}, False),
        ("PATCH", {}, False),
        ("DELETE", {}, False),
        ("OPTIONS", {}, False),
        ("GET", {"Authorization": "Bearer abc"}, False),
        ("GET", {"authorization": "Bearer abc"}, False),
        ("GET", {"X-Api-Key": "k"}, False),
        ("HEAD", {"x-api-key": "k"}, False),
    ],
)
def test_private_requests_and_unsafe_methods_never_use_the_cache(method, headers, stored):
    assert policy.uses_cache(API, method, headers) is stored
    assert policy.uses_cache(NEVER, method, headers) is False


def test_what_the_cache_sees_is_the_edges_ttl_and_the_viewer_gets_the_origins_header_back():
    headers = policy.for_the_cache(API, 200, {"cache-control": "public, max-age=86400", "etag": '"x"'})
    assert headers["cache-control"] == "s-maxage=300"
    assert headers["date"]  # Age is counted from it
    assert policy.for_the_viewer(headers)["cache-control"] == "public, max-age=86400"
    refused = policy.for_the_cache(API, 200, {"cache-control": "private, no-cache"})
    assert refused["cache-control"] == "no-store"
    assert policy.for_the_viewer(refused)["cache-control"] == "private, no-cache"
    silent = policy.for_the_cache(PAGES, 200, {})
    assert silent["cache-control"] == "s-maxage=60"
    assert "cache-control" not in policy.for_the_viewer(silent)
    # An error is stored only as CloudFront stores it: a 404 for its max-age, never a 410.
    assert policy.for_the_cache(PAGES, 404, {"cache-control": "max-age=60"})["cache-control"] == "s-maxage=60"
    assert policy.for_the_cache(PAGES, 404, {})["cache-control"] == "no-store"
    assert policy.for_the_cache(PAGES, 410, {"cache-control": "max-age=60"})["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("pattern", "key", "purged"),
    [
        ("/v1/articles/x", "/v1/articles/x", True),
        ("/v1/articles/x", "/v1/articles/x/comments", False),
        ("/v1/articles/x", "/v1/articles/xy", False),
        ("/v1/articles*", "/v1/articles?cursor=abc&limit=5", True),
        ("/v1/articles*", "/v1/articles/x/comments?limit=20", True),
        ("/v1/articles*", "/v1/campaigns/demo", False),
        ("/*", "/web/entry.html", True),
    ],
)
def test_a_purge_path_is_exact_or_a_prefix_with_a_trailing_star(pattern, key, purged):
    assert policy.purge_matches(pattern, key) is purged


def test_a_purge_of_a_rewritten_path_purges_its_object():
    site = TOPOLOGY.site.distribution
    assert set(policy.purge_patterns(site, ["/c/demo"])) == {"/c/demo", "/web/entry.html"}
    assert set(policy.purge_patterns(site, ["/v1/articles*"])) == {"/v1/articles*"}


@pytest.mark.parametrize("paths", [None, "x", [], ["no-slash"], ["/a*b"], [3], ["/" + "a" * 5000]])
def test_a_purge_takes_a_list_of_paths_each_from_the_root_with_a_star_only_at_the_end(paths):
    with pytest.raises(ValueError, match="path"):
        policy.purge_paths({"paths": paths})


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.93, 0.999])
def test_an_age_counts_whole_seconds_from_the_response_time_not_from_its_date_cut_to_the_second(fraction):
    """An origin's `Age: 7200` arriving 50 ms after the request, read back 30 ms later: 7200 wherever in its second it came."""
    received = 1_800_000_000 + fraction
    stored = policy.for_the_cache(PAGES, 200, {"age": "7200"}, sent_at=received - 0.05, received_at=received)
    assert policy.COUNTED_FROM not in policy.for_the_viewer(stored, now=received + 0.03)
    assert policy.for_the_viewer(stored, now=received + 0.03, from_store=True)["age"] == "7200"
    assert policy.for_the_viewer(stored, now=received + 1.2, from_store=True)["age"] == "7201"
    old = {name: value for name, value in stored.items() if name != policy.COUNTED_FROM}  # stored before the field
    assert int(policy.for_the_viewer(old, now=received + 0.03, from_store=True)["age"]) in (7200, 7201)
