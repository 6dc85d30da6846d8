"""The edge as a WSGI app: each request to its behaviour, through hishel's RFC 9111 cache or straight on.

hishel decides from its store (`SqliteStorage` in memory, one per edge process) whether
an answer is fresh, revalidates a stale one with its validators, and counts Age; the
behaviour's TTLs reach it through `policy.for_the_cache`. What hishel 2.0 leaves to its
caller, done here with the least code: it sends every Range request to the origin, so
the edge asks the cache for the whole object and cuts the range itself (206, or 416
beyond the end); it answers a viewer's `If-None-Match` with the stored 200, so the edge
turns a match into the 304; it purges by entry id only, so the edge remembers the keys
it stored to find what a purge path covers; and it does not collapse concurrent misses,
so a miss holds its key's lock until the answer is stored and the others then hit.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

import hishel
from hishel._sync_rfc import handle_request_with_rfc
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Request

from events.edge import CacheBehaviour, Distribution
from fleet.edge import policy
from fleet.edge.origins import ApiOrigin, OriginAnswer, OriginStats, SiteOrigin
from lambda_platform.origins import is_loopback_host

#: Largest request body passed to the API (API Gateway's limit).
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Largest store of one edge process; hishel evicts the least recently used past it.
MAX_STORE_BYTES = 512 * 1024 * 1024
#: Locks a miss may hold (keys share them by hash): misses of one key wait for the first.
MISS_LOCKS = 64
#: Request headers the cache answers itself, never passed to the origin through it.
_VIEWER_ONLY = ("if-none-match", "if-modified-since", "if-range", "range", "cache-control", "pragma")


class Edge:
    """The distribution's behaviours over the site bucket and the API, with one cache."""

    def __init__(self, distribution: Distribution, site: SiteOrigin, api: ApiOrigin, stats: OriginStats) -> None:
        self.distribution = distribution
        self.site = site
        self.api = api
        self.stats = stats
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.storage = hishel.SqliteStorage(connection=connection, max_size=MAX_STORE_BYTES)
        self.options = hishel.CacheOptions(shared=True, supported_methods=list(policy.CACHED_METHODS))
        self._keys: set[str] = set()
        self._keys_lock = threading.Lock()
        self._miss_locks = [threading.Lock() for _ in range(MISS_LOCKS)]

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Serve one viewer request."""
        request = Request(environ)
        status: int
        headers: dict[str, str]
        body: Iterable[bytes]
        if request.method.upper() in policy.CACHED_METHODS and _carries_a_body(environ):
            # Never passed on (its length would be stale on the API's pooled connection), as
            # CloudFront refuses a GET with a body.
            status, headers, body = _error(400, "body_not_allowed", "A GET or HEAD request carries no body.")
        elif request.path.startswith("/_edge/"):
            status, headers, body = self._local(request)
        else:
            status, headers, body = self.answer(request)
        start_response(_status_line(status), list(headers.items()))
        return body

    def answer(self, request: Request) -> tuple[int, dict[str, str], Iterable[bytes]]:
        """The edge's answer to a viewer request: its status, headers and body."""
        behaviour = self.distribution.behaviour_for(request.path)
        if behaviour is None:
            return _error(404, "not_found", "No behaviour of the distribution serves this path.")
        method = request.method.upper()
        viewer = {name.lower(): value for name, value in request.headers.items()}
        if method not in behaviour.allowed_methods:
            return _error(403, "method_not_allowed", f"This path takes {', '.join(behaviour.allowed_methods)} only.")
        path = policy.origin_path(behaviour, request.path)
        if behaviour.origin == "site" and policy.object_key(path) is None:
            return _error(404, "not_found", "No such file.")
        if policy.uses_cache(behaviour, method, viewer):
            status, headers, body, cache = self._through_cache(behaviour, request, path, viewer)
        else:
            answer = self._fetch(behaviour, request, path, viewer, method)
            status, headers, body, cache = answer.status, answer.headers, answer.body, "Miss"
        if behaviour.origin == "site" and status == 404:
            _closed(body)
            return _error(404, "not_found", "No such file.")
        for own in ("server", "date"):  # the edge's server writes its own
            headers.pop(own, None)
        headers["x-cache"] = f"{'Error' if status >= 400 else cache} from {policy.EDGE_NAME}"
        headers["via"] = f"1.1 {policy.EDGE_NAME}"
        if status == 200 and method in policy.CACHED_METHODS:
            return _conditional_or_range(request, headers, body)
        return status, headers, _closed(body) if method == "HEAD" else body

    def _through_cache(self, behaviour: CacheBehaviour, request: Request, path: str, headers: dict[str, str]):
        key = policy.cache_key(behaviour, path, request.query_string.decode("latin-1"))
        viewer = {k: v for k, v in headers.items() if k not in _VIEWER_ONLY}

        def send(asked: hishel.Request) -> hishel.Response:
            # hishel's revalidation adds the stored validators to what the viewer sent.
            validators = {k: asked.headers[k] for k in ("if-none-match", "if-modified-since") if k in asked.headers}
            got = self._fetch(behaviour, request, path, {**viewer, **validators}, "GET")
            shown = policy.for_the_cache(behaviour, got.status, got.headers)
            return hishel.Response(got.status, hishel.Headers(shown), got.body)

        with self._miss_locks[hash(key) % MISS_LOCKS]:
            response, status = handle_request_with_rfc(
                hishel.Request("GET", key, hishel.Headers(viewer)), send, self.storage, key, self.options
            )
            # hishel types a stream as sync or async; from our sync storage it is always sync.
            body: Iterable[bytes] = response.stream or iter(())  # type: ignore[assignment]
            if status["stored"]:
                # Read whole before the lock goes: the entry exists once its body is stored.
                body = list(body)
                with self._keys_lock:
                    self._keys.add(key)
        shown = policy.for_the_viewer(response.headers)
        cache = "Miss" if not status["from_cache"] else "RefreshHit" if status["revalidated"] else "Hit"
        return response.status_code, shown, body, cache

    def _fetch(self, behaviour: CacheBehaviour, request: Request, path: str, headers: dict, method: str) -> OriginAnswer:
        if behaviour.origin == "site":
            return self.site.fetch(policy.object_key(path) or "", headers.get("if-none-match"))
        query = policy.forwarded_query(behaviour, request.query_string.decode("latin-1"))
        target = _raw_path(request) if path == request.path else path
        body = None
        if method not in policy.CACHED_METHODS:
            body = request.stream.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                status, shown, error = _error(413, "payload_too_large", "The body is larger than 10 MiB.")
                return OriginAnswer(status, shown, iter(error))
        forwarded = {**headers, "x-forwarded-for": request.remote_addr or "", "x-forwarded-host": request.host}
        return self.api.fetch(method, target + (f"?{query}" if query else ""), forwarded, body)

    def purge(self, paths: list[str]) -> int:
        """Remove every stored answer a purge path covers (exact, or a prefix ending in `*`); how many."""
        patterns = policy.purge_patterns(self.distribution, paths)
        with self._keys_lock:
            covered = [key for key in self._keys if any(policy.purge_matches(p, key) for p in patterns)]
            self._keys.difference_update(covered)
        removed = 0
        for key in covered:
            for entry in self.storage.get_entries(key):
                self.storage.remove_entry(entry.id)
                removed += 1
        self.stats.purged(removed)
        return removed

    def _local(self, request: Request) -> tuple[int, dict[str, str], Iterable[bytes]]:
        """`POST /_edge/purge` and `GET /_edge/stats`, to a loopback Host only."""
        if not is_loopback_host(request.headers.get("Host", "")):
            return _error(403, "not_loopback", "The edge's own routes answer only to a loopback Host.")
        if request.path == "/_edge/stats" and request.method == "GET":
            return _json(200, {**self.stats.as_dict(), "stored_keys": len(self._keys)})
        if request.path != "/_edge/purge":
            return _error(404, "not_found", "No such route of the edge.")
        if request.method != "POST":
            return _error(405, "method_not_allowed", 'POST a purge: {"paths": [...]}.')
        try:
            paths = policy.purge_paths(json.loads(request.get_data(cache=False) or b"null"))
        except ValueError as exc:  # a JSONDecodeError is one
            return _error(422, "invalid_fields", "The purge is not valid.", {"paths": [str(exc)]})
        return _json(200, {"paths": paths, "purged": self.purge(paths)})


def _carries_a_body(environ: dict[str, Any]) -> bool:
    """True when the request announces a body: a `Content-Length` above 0, or any `Transfer-Encoding`."""
    length = (environ.get("CONTENT_LENGTH") or "").strip()
    return bool(length and length != "0") or bool(environ.get("HTTP_TRANSFER_ENCODING"))


def _conditional_or_range(request: Request, headers: dict[str, str], body: Iterable[bytes]):
    """A 200 as the viewer asked it: a 304 when its validators match, a 206 or 416 for a Range."""
    headers["accept-ranges"] = "bytes"
    head = request.method.upper() == "HEAD"
    if not is_resource_modified(request.environ, etag=headers.get("etag"), last_modified=headers.get("last-modified")):
        kept = {k: v for k, v in headers.items() if k not in ("content-length", "content-type", "content-encoding")}
        return 304, kept, _closed(body)
    wanted = request.range
    if wanted is None or len(wanted.ranges) != 1 or not _if_range_holds(request, headers):
        return 200, headers, _closed(body) if head else body
    chunks = list(body)  # the whole object, from the cache or just stored
    length = sum(len(c) for c in chunks)
    span = wanted.range_for_length(length)
    if span is None:
        status, shown, error = _error(416, "range_not_satisfiable", f"The file has {length} bytes.")
        return status, {**shown, "content-range": f"bytes */{length}", "accept-ranges": "bytes"}, error
    start, stop = span
    part = b"".join(chunks)[start:stop]
    headers.update({"content-range": f"bytes {start}-{stop - 1}/{length}", "content-length": str(len(part))})
    return 206, headers, [] if head else [part]


def _if_range_holds(request: Request, headers: dict[str, str]) -> bool:
    if_range = request.headers.get("If-Range")
    return if_range is None or if_range == headers.get("etag") or if_range == headers.get("last-modified")


def _closed(body: Iterable[bytes]) -> list[bytes]:
    """No body: the one given is closed unread (an answer being stored was read whole already)."""
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return []


def _raw_path(request: Request) -> str:
    """The path as the viewer wrote it (percent-escapes kept), for the API to route."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    return raw.split("?", 1)[0]


def _json(status: int, document: dict[str, Any]) -> tuple[int, dict[str, str], list[bytes]]:
    body = json.dumps(document, separators=(",", ":")).encode()
    return status, {"content-type": "application/json", "content-length": str(len(body)), "cache-control": "no-store"}, [body]


def _error(status: int, code: str, message: str, fields: dict | None = None) -> tuple[int, dict[str, str], list[bytes]]:
    """An error of the edge itself, in the API's one JSON format."""
    error: dict[str, Any] = {"code": code, "message": message, **({"fields": fields} if fields else {})}
    shown = _json(status, {"error": error})
    shown[1]["x-cache"] = f"Error from {policy.EDGE_NAME}"
    return shown


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Status"
