"""The edge as a WSGI app: each request to its behaviour, through the cache or straight on.

The cache (`fleet.edge.cache`: hishel's RFC 9111 states over a bounded store) answers
GETs and HEADs a behaviour caches; what hishel 2.0 leaves to its caller is done here:
it sends every Range request to the origin, so the edge asks the cache for the whole
object and cuts the range from the stored body (206, or 416 beyond the end); it answers
a viewer's `If-None-Match` with the stored 200, so the edge turns a match into the 304.
Anything else goes to its origin and back as it comes (a credentialed Range request as a
Range request). The edge frames what it sends, both ways: a GET or HEAD that announces a
body is refused, and no viewer framing reaches the API (`origins.ApiOrigin`).

The behaviours that serve pages get the distribution's response headers policy (CSP,
`X-Frame-Options`, ...), as CloudFront's is attached to them; over plain HTTP, no HSTS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.utils import formatdate
from typing import Any

from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Request

from events.edge import CacheBehaviour, Distribution
from fleet.edge import policy
from fleet.edge.cache import EdgeCache
from fleet.edge.fields import byte_range
from fleet.edge.origins import ApiOrigin, OriginAnswer, OriginStats, OriginUnavailable, SiteOrigin, end_to_end
from fleet.edge.store import MemoryStore, StoredBody
from lambda_platform.origins import is_loopback_host

#: Largest request body passed to the API (API Gateway's limit).
MAX_BODY_BYTES = 10 * 1024 * 1024
#: The store's bounds, the edge's memory beside its code: every stored answer's bytes, their
#: number (each key holds one, or one per variant), and one answer (larger: served, not stored).
MAX_STORE_BYTES = 256 * 1024 * 1024
MAX_STORED_ENTRIES = 10_000
MAX_OBJECT_BYTES = 64 * 1024 * 1024
#: Request headers the cache answers itself, never passed to the origin through it.
_VIEWER_ONLY = ("if-none-match", "if-modified-since", "if-range", "range", "cache-control", "pragma")

Answer = tuple[int, dict[str, str], Iterable[bytes]]


class Edge:
    """The distribution's behaviours over the site bucket and the API, with one cache."""

    def __init__(
        self,
        distribution: Distribution,
        site: SiteOrigin,
        api: ApiOrigin,
        stats: OriginStats,
        upload_origins: Sequence[str] = (),
        max_store_bytes: int = MAX_STORE_BYTES,
        max_stored_entries: int = MAX_STORED_ENTRIES,
        max_object_bytes: int = MAX_OBJECT_BYTES,
    ) -> None:
        self.distribution = distribution
        self.site = site
        self.api = api
        self.stats = stats
        store = MemoryStore(max_store_bytes, max_stored_entries, max_object_bytes)
        self.cache = EdgeCache(store, distribution.error_caching_min_ttl)
        # Plain HTTP on loopback: a browser ignores HSTS there, so it is not sent.
        page_fields = distribution.response_headers.fields(upload_origins, secure=False)
        self.page_headers = {name.lower(): value for name, value in page_fields.items()}

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Serve one viewer request."""
        request = Request(environ)
        status: int
        headers: dict[str, str]
        body: Iterable[bytes]
        if request.method.upper() in policy.CACHED_METHODS and _carries_a_body(environ):
            # Never passed on (its length would be stale on the API's pooled connection),
            # as CloudFront refuses a GET with a body.
            status, headers, body = _error(400, "body_not_allowed", "A GET or HEAD request carries no body.")
        elif request.path.startswith("/_edge/"):
            status, headers, body = self._local(request)
        else:
            status, headers, body = self.answer(request)
        # The origin's Date stands (the server is told not to write its own); else now.
        headers.setdefault("date", formatdate(usegmt=True))
        start_response(_status_line(status), list(headers.items()))
        return body

    def answer(self, request: Request) -> Answer:
        """The edge's answer to a viewer request: its status, headers and body."""
        behaviour = self.distribution.behaviour_for(request.path)
        if behaviour is None:
            return _error(404, "not_found", "No behaviour of the distribution serves this path.")
        status, headers, body = self._answer(behaviour, request)
        if behaviour.serves_pages:
            headers.update(self.page_headers)
        return status, headers, body

    def _answer(self, behaviour: CacheBehaviour, request: Request) -> Answer:
        method = request.method.upper()
        if method not in behaviour.allowed_methods:
            return _error(403, "method_not_allowed", f"This path takes {', '.join(behaviour.allowed_methods)} only.")
        path = policy.origin_path(behaviour, request.path)
        if behaviour.origin == "site" and policy.object_key(path) is None:
            return _error(404, "not_found", "No such file.")
        viewer = end_to_end(request.headers.items())
        try:
            if policy.uses_cache(behaviour, method, viewer):
                status, headers, body, cache = self._through_cache(behaviour, request, path, viewer)
            else:
                answer = self._fetch(behaviour, request, path, viewer, method)
                status, headers, body, cache = answer.status, answer.headers, answer.body, "Miss"
        except OriginUnavailable as exc:
            # As CloudFront: 504 when the origin does not answer in time, 502 when it cannot be reached.
            if exc.timed_out:
                return _error(504, "origin_timeout", "The origin did not answer in time.")
            return _error(502, "origin_unreachable", "The origin could not be reached.")
        if behaviour.origin == "site" and status == 404:
            _closed(body)
            return _error(404, "not_found", "No such file.")
        headers.pop("server", None)  # the edge's server writes its own
        headers["x-cache"] = f"{'Error' if status >= 400 else cache} from {policy.EDGE_NAME}"
        headers["via"] = f"1.1 {policy.EDGE_NAME}"
        if status == 200 and method in policy.CACHED_METHODS:
            return _conditional_or_range(request, headers, body)
        if isinstance(body, StoredBody):
            headers["content-length"] = str(body.length)
        return status, headers, _closed(body) if method == "HEAD" else body

    def _through_cache(
        self, behaviour: CacheBehaviour, request: Request, path: str, viewer: dict[str, str]
    ) -> tuple[int, dict[str, str], Iterable[bytes], str]:
        key = policy.cache_key(behaviour, path, request.query_string.decode("latin-1"), viewer)
        asked = {name: value for name, value in viewer.items() if name not in _VIEWER_ONLY}

        def fetch(validators: Mapping[str, str]) -> OriginAnswer:
            return self._fetch(behaviour, request, path, {**asked, **validators}, "GET")

        cached = self.cache.answer(behaviour, key, asked, fetch)
        return cached.status, cached.headers, cached.body, cached.outcome

    def _fetch(self, behaviour: CacheBehaviour, request: Request, path: str, headers: dict, method: str) -> OriginAnswer:
        if behaviour.origin == "site":
            # A Range the cache does not answer (a credentialed request) is S3's to cut; with an
            # If-Range S3 cannot check, the whole object (a Range may be ignored).
            wanted = None if "if-range" in headers else headers.get("range")
            return self.site.fetch(policy.object_key(path) or "", headers.get("if-none-match"), wanted)
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
        removed = self.cache.purge(lambda key: any(policy.purge_matches(p, key) for p in patterns))
        self.stats.purged(removed)
        return removed

    def _local(self, request: Request) -> Answer:
        """`POST /_edge/purge` and `GET /_edge/stats`, to a loopback Host only; a purge from no other page."""
        if not is_loopback_host(request.headers.get("Host", "")):
            return _error(403, "not_loopback", "The edge's own routes answer only to a loopback Host.")
        if request.path == "/_edge/stats" and request.method == "GET":
            held = self.cache.store.counts()
            counts = {"stored_keys": held["keys"], "stored_entries": held["entries"], "stored_bytes": held["bytes"]}
            return _json(200, {**self.stats.as_dict(), **counts, "evicted_entries": held["evicted"]})
        if request.path != "/_edge/purge":
            return _error(404, "not_found", "No such route of the edge.")
        if request.method != "POST":
            return _error(405, "method_not_allowed", 'POST a purge: {"paths": [...]}.')
        if _from_another_site(request):
            return _error(403, "cross_origin", "A purge is taken from the command line or the edge's own pages only.")
        if request.mimetype != "application/json":
            return _error(415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json).")
        try:
            paths = policy.purge_paths(json.loads(request.get_data(cache=False) or b"null"))
        except ValueError as exc:  # a JSONDecodeError is one
            return _error(422, "invalid_fields", "The purge is not valid.", {"paths": [str(exc)]})
        return _json(200, {"paths": paths, "purged": self.purge(paths)})


def _from_another_site(request: Request) -> bool:
    """True when a browser says another page sent the request: a foreign `Origin`, or a
    `Sec-Fetch-Site` other than same-origin or none (a `no-cors` POST from any page carries one)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return True
    return request.headers.get("Sec-Fetch-Site", "none") not in ("same-origin", "none")


def _carries_a_body(environ: dict[str, Any]) -> bool:
    """True when the request announces a body: a `Content-Length` above 0, or any `Transfer-Encoding`."""
    length = (environ.get("CONTENT_LENGTH") or "").strip()
    return bool(length and length != "0") or bool(environ.get("HTTP_TRANSFER_ENCODING"))


def _conditional_or_range(request: Request, headers: dict[str, str], body: Iterable[bytes]) -> Answer:
    """A 200 as the viewer asked it: a 304 when its validators match; from the store, a 206 or 416 for a Range."""
    head = request.method.upper() == "HEAD"
    if not is_resource_modified(request.environ, etag=headers.get("etag"), last_modified=headers.get("last-modified")):
        kept = {k: v for k, v in headers.items() if k not in ("content-length", "content-type", "content-encoding")}
        return 304, kept, _closed(body)
    if not isinstance(body, StoredBody):
        return 200, headers, _closed(body) if head else body  # the origin's answer, as it came
    headers["accept-ranges"] = "bytes"
    headers["content-length"] = str(body.length)
    # RFC 9110 §14.2: only a GET has ranges; a Range the edge does not understand is ignored.
    wanted = byte_range(request.headers.get("Range")) if not head else None
    if wanted is None or body.length == 0 or not _if_range_holds(request, headers):
        return 200, headers, [] if head else body
    span = wanted.span(body.length)
    if span is None:
        status, shown, error = _error(416, "range_not_satisfiable", f"The file has {body.length} bytes.")
        return status, {**shown, "content-range": f"bytes */{body.length}", "accept-ranges": "bytes"}, error
    start, stop = span
    headers.update({"content-range": f"bytes {start}-{stop - 1}/{body.length}", "content-length": str(stop - start)})
    return 206, headers, body.part(start, stop)


def _if_range_holds(request: Request, headers: dict[str, str]) -> bool:
    """RFC 9110 §13.1.5: the Range applies when `If-Range` is absent or names the stored answer strongly."""
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    if if_range.startswith("W/"):
        return False
    return if_range == headers.get("etag") or (not if_range.startswith('"') and if_range == headers.get("last-modified"))


def _closed(body: Iterable[bytes]) -> list[bytes]:
    """No body: the one given is closed unread."""
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
