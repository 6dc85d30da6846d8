"""Ranges at the local edge: cut from the stored body without copying it, RFC 9110's cases, and a
credentialed (uncached) Range passed to its origin as a Range request."""

from __future__ import annotations

import tracemalloc

import pytest
from werkzeug.test import Client

from events.edge import CacheBehaviour, Distribution
from fleet.edge.fields import ByteRange, byte_range
from fleet.edge.origins import OriginStats
from fleet.edge.proxy import Edge
from fleet.edge.store import StoredBody
from tests.fakes.edge import ScriptedOrigin, ScriptedSite

DOWNLOAD = bytes(range(256)) * (8 * 1024 * 1024 // 256)  # 8 MiB
API = CacheBehaviour("/v1/*", origin="api", max_ttl=300)
FILES = CacheBehaviour("*", origin="site", default_ttl=3600, max_ttl=86400)
ETAG = '"d1"'


@pytest.fixture
def site() -> ScriptedOrigin:
    def serve(method, target, headers):
        asked = headers.get("range")
        if asked:  # as S3 cuts one range
            first, _, last = asked.removeprefix("bytes=").partition("-")
            part = DOWNLOAD[int(first) : int(last) + 1]
            fields = {"etag": ETAG, "content-range": f"bytes {first}-{last}/{len(DOWNLOAD)}", "content-length": str(len(part))}
            return 206, fields, part
        chunks = [DOWNLOAD[i : i + 128 * 1024] for i in range(0, len(DOWNLOAD), 128 * 1024)]
        return 200, {"etag": ETAG, "content-length": str(len(DOWNLOAD)), "cache-control": "max-age=3600"}, chunks

    return ScriptedOrigin({"/downloads/app.bin": [serve]})


@pytest.fixture
def edge(site) -> Client:
    api = ScriptedOrigin()
    return Client(Edge(Distribution("site", "site", (API, FILES)), ScriptedSite(site), api, OriginStats()))


def get(edge: Client, range_: str | None = None, method: str = "GET", **headers: str):
    if range_ is not None:
        headers["Range"] = range_
    return edge.open("/downloads/app.bin", method=method, headers=headers)


def test_a_range_is_cut_from_the_stored_body_without_copying_it(edge, site):
    assert get(edge).data == DOWNLOAD  # stored
    tracemalloc.start()
    try:
        one = get(edge, "bytes=4000000-4000000")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert one.status_code == 206 and one.data == DOWNLOAD[4000000:4000001]
    assert one.headers["Content-Range"] == f"bytes 4000000-4000000/{len(DOWNLOAD)}" and one.headers["Content-Length"] == "1"
    assert peak < 1024 * 1024, peak  # the 8 MiB object is neither joined nor listed again
    assert len(site.asked) == 1


def test_a_range_on_a_miss_reads_the_origin_once_and_is_cut_from_the_store(edge, site):
    tracemalloc.start()
    try:
        one = get(edge, "bytes=0-0")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert one.status_code == 206 and one.data == DOWNLOAD[:1]
    assert peak < len(DOWNLOAD) + 2 * 1024 * 1024, peak  # the stored copy, once
    assert get(edge, "bytes=-10").data == DOWNLOAD[-10:]
    assert len(site.asked) == 1


SIZE = len(DOWNLOAD)


@pytest.mark.parametrize(
    ("asked", "status", "span"),
    [
        ("items=0-9", 200, None),  # a unit the edge does not know: ignored (RFC 9110 §14.2)
        ("bytes=0-1,5-6", 200, None),  # several ranges: the whole, as a server may
        ("bytes=5-2", 200, None),  # invalid: ignored
        ("bytes=-99999999999", 206, (0, SIZE)),  # a suffix longer than the object is all of it
        ("bytes=-10", 206, (SIZE - 10, SIZE)),
        ("bytes=10-", 206, (10, SIZE)),
        ("bytes=10-19", 206, (10, 20)),
        ("BYTES=10-19", 206, (10, 20)),
        (f"bytes={SIZE - 1}-{SIZE + 100}", 206, (SIZE - 1, SIZE)),
        (f"bytes={SIZE}-", 416, None),
        ("bytes=-0", 416, None),
    ],
)
def test_what_rfc_9110_says_of_each_range(edge, asked, status, span):
    answer = get(edge, asked)
    assert answer.status_code == status
    if status == 416:
        assert answer.headers["Content-Range"] == f"bytes */{SIZE}"
        return
    start, stop = span or (0, SIZE)
    assert answer.data == DOWNLOAD[start:stop] and int(answer.headers["Content-Length"]) == stop - start
    if status == 206:
        assert answer.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{SIZE}"


def test_a_head_or_a_stale_if_range_gets_the_whole_answer(edge):
    head = get(edge, "bytes=0-0", method="HEAD")
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(DOWNLOAD)) and head.data == b""
    assert get(edge, "bytes=0-0", **{"If-Range": '"other"'}).status_code == 200
    assert get(edge, "bytes=0-0", **{"If-Range": f"W/{ETAG}"}).status_code == 200
    assert get(edge, "bytes=0-0", **{"If-Range": ETAG}).status_code == 206


def test_a_credentialed_range_is_passed_to_its_origin_as_a_range(edge, site):
    answer = get(edge, "bytes=100-101", Authorization="Bearer t")
    assert answer.status_code == 206 and answer.data == DOWNLOAD[100:102]
    assert site.asked[-1][2]["range"] == "bytes=100-101"
    assert site.bytes_sent == 2  # not the whole object, once per range
    assert answer.headers["X-Cache"] == "Miss from fleet-edge"


def test_the_api_gets_a_credentialed_range_as_it_was_sent():
    api = ScriptedOrigin({"/v1/export": [(206, {"content-range": "bytes 0-0/10"}, b"a")]})
    edge = Client(Edge(Distribution("site", "site", (API, FILES)), ScriptedSite(ScriptedOrigin()), api, OriginStats()))
    answer = edge.get("/v1/export", headers={"Range": "bytes=0-0", "x-api-key": "k"})
    assert answer.status_code == 206 and api.asked[-1][2]["range"] == "bytes=0-0"


def test_a_range_header_is_parsed_strictly():
    assert byte_range("bytes=0-9") == ByteRange(0, 9)
    assert byte_range("bytes=-5") == ByteRange(None, None, suffix=5)
    for ignored in (None, "", "items=0-9", "bytes=", "bytes=-", "bytes=a-b", "bytes=1-2,3-4", "bytes=0x1-2"):
        assert byte_range(ignored) is None, ignored
    assert ByteRange(None, None, suffix=50).span(10) == (0, 10)
    assert ByteRange(10, None).span(10) is None
    assert ByteRange(None, None, suffix=1).span(0) is None


def test_a_stored_body_is_read_in_part_across_its_chunks():
    body = StoredBody((b"abc", b"defg", b"h"))
    assert body.length == 8 and b"".join(body) == b"abcdefgh"
    for start in range(8):
        for stop in range(start + 1, 9):
            assert b"".join(body.part(start, stop)) == b"abcdefgh"[start:stop]
