"""The edge's two origins: the site bucket, read as the Origin Access Control reads it, and the API.

Each answers an `OriginAnswer`: a status, headers and a body read lazily in chunks, so a
20 MB download streams from the origin into the cache and to the first viewer at once.
Both count what they served (`OriginStats`), which `make bench-edge` reads.
"""

from __future__ import annotations

import builtins
import http.client
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

#: Bytes a chunk of a body, from either origin.
CHUNK_BYTES = 128 * 1024
#: Headers of one connection only (RFC 9110 §7.6.1), never passed on by a proxy; with them go
#: the fields the `Connection` header names.
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    )
)
#: A request's framing (RFC 9112 §6): the edge frames what it sends itself, so the viewer's
#: never reaches the API. A stale `Content-Length` on a pooled keep-alive connection would make
#: the API read the start of the next request as this one's body (request smuggling).
REQUEST_FRAMING = frozenset(("content-length", "transfer-encoding", "expect"))
#: What S3 answers of an object, by GetObject's field.
_OBJECT_HEADERS = {
    "ContentType": "content-type",
    "ContentLength": "content-length",
    "ETag": "etag",
    "CacheControl": "cache-control",
    "ContentEncoding": "content-encoding",
    "Expires": "expires",
    "ContentRange": "content-range",
}


def page_upload_origins() -> tuple[str, ...]:
    """The origins this stage's pages upload to directly (the topology's `browser_uploads`
    buckets), which the pages' Content-Security-Policy lets them reach."""
    from events.topology import TOPOLOGY
    from lambda_platform.adapters.objects import upload_origins

    found: dict[str, None] = {}
    for bucket in TOPOLOGY.buckets:
        if bucket.browser_uploads:
            found.update(dict.fromkeys(upload_origins(bucket.name)))
    return tuple(found)


@dataclass
class OriginAnswer:
    """An origin's answer: the status, its headers (lower-case names) and the body's chunks."""

    status: int
    headers: dict[str, str]
    body: Iterator[bytes] = field(default_factory=lambda: iter(()))


class OriginUnavailable(Exception):
    """The origin could not be reached or did not answer in time (`timed_out`): no answer at all."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def end_to_end(fields: Iterable[tuple[str, str]], also_dropped: frozenset[str] = frozenset()) -> dict[str, str]:
    """The fields a proxy passes on (lower-case names, repeated ones joined): none of one hop,
    none that `Connection` names (RFC 9110 §7.6.1), none of `also_dropped`."""
    fields = list(fields)
    named = {token.strip().lower() for name, value in fields if name.lower() == "connection" for token in value.split(",")}
    dropped = HOP_BY_HOP | also_dropped | named
    kept: dict[str, str] = {}
    for name, value in fields:
        name = name.lower()
        if name not in dropped:
            kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


@dataclass
class OriginStats:
    """Requests and body bytes each origin served since the edge started."""

    requests: dict[str, int] = field(default_factory=lambda: {"site": 0, "api": 0})
    bytes: dict[str, int] = field(default_factory=lambda: {"site": 0, "api": 0})
    #: Purges received, the entries they removed, and when the last one landed (epoch seconds).
    purges: int = 0
    purged_entries: int = 0
    last_purge_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # builtins.bytes: inside the class, `bytes` is the field above.
    def counted(self, origin: str, body: Iterator[builtins.bytes] | None = None) -> Iterator[builtins.bytes]:
        """`body`, its request counted now and its bytes as they are read."""
        with self.lock:
            self.requests[origin] += 1
        return self._bytes_of(origin, body if body is not None else iter(()))

    def _bytes_of(self, origin: str, body: Iterator[builtins.bytes]) -> Iterator[builtins.bytes]:
        for chunk in body:
            with self.lock:
                self.bytes[origin] += len(chunk)
            yield chunk

    def purged(self, entries: int) -> None:
        """Count a purge that removed `entries` stored answers."""
        with self.lock:
            self.purges += 1
            self.purged_entries += entries
            self.last_purge_at = time.time()

    def as_dict(self) -> dict[str, Any]:
        """The counts, as `GET /_edge/stats` answers them."""
        with self.lock:
            return {
                "origin_requests": dict(self.requests),
                "origin_bytes": dict(self.bytes),
                "purges": self.purges,
                "purged_entries": self.purged_entries,
                "last_purge_at": self.last_purge_at,
            }


class SiteOrigin:
    """The site bucket through the stage's S3 client: GetObject, as the distribution's OAC may."""

    def __init__(self, bucket: str, stats: OriginStats, client: Any = None) -> None:
        self.bucket = bucket
        self.stats = stats
        self._client = client

    @property
    def client(self) -> Any:
        """The S3 client, made on first use."""
        if self._client is None:
            from lambda_platform import aws

            self._client = aws.client("s3")
        return self._client

    def fetch(self, key: str, if_none_match: str | None = None, byte_range: str | None = None) -> OriginAnswer:
        """The object at `key` (200, or 206 for a `byte_range`), unchanged (304), or missing (404: the OAC may not list the bucket)."""
        from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

        asked = {"IfNoneMatch": if_none_match} if if_none_match else {}
        if byte_range:
            asked["Range"] = byte_range
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key, **asked)
        except (EndpointConnectionError, ReadTimeoutError) as exc:
            raise OriginUnavailable(f"the site bucket could not be read: {exc}", isinstance(exc, ReadTimeoutError)) from exc
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            code = exc.response.get("Error", {}).get("Code")
            if status == 304 or code in ("304", "NotModified"):
                sent = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                kept = {k: v for k, v in sent.items() if k in ("etag", "cache-control", "expires", "last-modified")}
                self.stats.counted("site")
                return OriginAnswer(304, {"etag": if_none_match or "", **kept, "date": formatdate(usegmt=True)})
            if code in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403"):
                self.stats.counted("site")
                return OriginAnswer(404, {"date": formatdate(usegmt=True)})
            if code == "InvalidRange":
                self.stats.counted("site")
                size = exc.response.get("Error", {}).get("ActualObjectSize", "*")
                return OriginAnswer(416, {"content-range": f"bytes */{size}", "date": formatdate(usegmt=True)})
            raise
        headers = {name: str(got[field]) for field, name in _OBJECT_HEADERS.items() if got.get(field) is not None}
        if got.get("LastModified") is not None:
            headers["last-modified"] = formatdate(got["LastModified"].timestamp(), usegmt=True)
        headers["date"] = formatdate(usegmt=True)
        status = 206 if "content-range" in headers else 200
        return OriginAnswer(status, headers, self.stats.counted("site", _chunks(got["Body"])))


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


class _FinalResponse(http.client.HTTPResponse):
    """http.client's response, reading past interim answers (a `103 Early Hints`) to the final one.

    http.client skips `100 Continue` only, and would take a 103 for the answer: its fields
    for the response's, and the real answer for the start of the next one on the connection.
    A proxy passes no interim answer on here (WSGI has no way to), so each is dropped.
    """

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            # http.client's private reader of one status line (typeshed does not list it).
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 <= status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's fields, dropped with it


def _connection_pool(url: str, timeout: float) -> Any:
    """A pool of keep-alive connections to `url` whose answers are read as `_FinalResponse`."""
    import urllib3
    from urllib3.connection import HTTPConnection
    from urllib3.util import parse_url

    class Connection(HTTPConnection):
        response_class = _FinalResponse

    class Pool(urllib3.HTTPConnectionPool):
        ConnectionCls = Connection

    where = parse_url(url)
    return Pool(
        where.host or "127.0.0.1",
        where.port,
        maxsize=16,
        block=False,
        retries=False,
        timeout=urllib3.Timeout(connect=5.0, read=timeout),
    )


class ApiOrigin:
    """The API as a custom origin: the request passed on over a pool of keep-alive connections.

    Only end-to-end fields go (`end_to_end`), never the viewer's framing: the pool frames
    the body it is given (a `Content-Length` of its own), so no request can leave a pooled
    connection expecting bytes that belong to the next one."""

    def __init__(self, url: str, stats: OriginStats, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.stats = stats
        self._pool = _connection_pool(self.url, timeout)

    def fetch(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None = None) -> OriginAnswer:
        """Ask the API for `target` (path and query) with the viewer's end-to-end headers; OriginUnavailable when it cannot answer."""
        import urllib3

        sent = end_to_end(headers.items(), REQUEST_FRAMING | {"via"})
        # As CloudFront does: the origin learns that an edge will store what it answers.
        earlier = next((v for k, v in headers.items() if k.lower() == "via"), None)
        sent["via"] = f"{earlier}, 1.1 fleet-edge" if earlier else "1.1 fleet-edge"
        try:
            answer = self._pool.urlopen(
                method,
                target,
                body=body,
                headers=sent,
                preload_content=False,
                redirect=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.TimeoutError as exc:
            raise OriginUnavailable(f"the API did not answer in time: {exc}", timed_out=True) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise OriginUnavailable(f"the API could not be reached: {exc}") from exc
        received = end_to_end(answer.headers.items())
        return OriginAnswer(answer.status, received, self.stats.counted("api", _released(answer)))


def _released(answer: Any) -> Iterator[bytes]:
    import urllib3

    try:
        yield from answer.stream(CHUNK_BYTES, decode_content=False)
    except urllib3.exceptions.TimeoutError as exc:
        raise OriginUnavailable(f"the API stopped sending: {exc}", timed_out=True) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise OriginUnavailable(f"the API's answer was cut: {exc}") from exc
    finally:
        answer.release_conn()
