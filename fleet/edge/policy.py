"""What the edge stores, under which key and for how long: CloudFront's rules over `events.edge`.

The freshness arithmetic, revalidation and Age are hishel's (RFC 9111); what CloudFront
adds is decided here, before hishel sees an answer: the TTL is the origin's
`s-maxage` or `max-age` (or `Expires`) clamped to the behaviour's minimum and maximum,
its default when the origin says nothing, its minimum when the origin says `no-cache`,
`no-store` or `private`. hishel is shown that TTL as `s-maxage` (a shared cache reads it
first), and the viewer gets the origin's own `Cache-Control` back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import formatdate, mktime_tz, parsedate_tz
from urllib.parse import parse_qsl, quote, urlencode

from events.edge import PRIVATE_REQUEST_HEADERS, CacheBehaviour, Distribution

#: How the edge names itself in `X-Cache` and `Via`, as CloudFront says `cloudfront`.
EDGE_NAME = "fleet-edge"
#: The methods whose answers may be stored and answered from the store.
CACHED_METHODS = ("GET", "HEAD")
#: The origin's `Cache-Control`, kept beside the one hishel is shown, for the viewer.
ORIGIN_CACHE_CONTROL = "x-fleet-origin-cache-control"
#: Statuses the edge stores (a 304 refreshes a stored 200); errors always go to the origin.
STORED_STATUSES = (200, 304)
#: CloudFront's limits on an invalidation path.
MAX_PURGE_PATH = 4096
MAX_PURGE_PATHS = 3000

_PRIVATE = {name.lower() for name in PRIVATE_REQUEST_HEADERS}
_REFUSED = ("no-store", "no-cache", "private")


def is_private(headers: Mapping[str, str]) -> bool:
    """True when the request carries credentials (`Authorization`, `x-api-key`): never from a shared cache."""
    return any(name.lower() in _PRIVATE for name in headers)


def uses_cache(behaviour: CacheBehaviour, method: str, headers: Mapping[str, str]) -> bool:
    """True when a request may be answered from the cache and its answer stored."""
    return behaviour.cached and method.upper() in CACHED_METHODS and not is_private(headers)


def origin_path(behaviour: CacheBehaviour, path: str) -> str:
    """The path the origin is asked for: the behaviour's one object when it rewrites (a CloudFront Function)."""
    return behaviour.rewrite or path


def object_key(path: str) -> str | None:
    """The site bucket's key of a static path; None for a folder or the root, which no object is."""
    key = path.lstrip("/")
    return None if not key or key.endswith("/") else key


def forwarded_query(behaviour: CacheBehaviour, query: str) -> str:
    """The query string the origin sees and the key holds: the behaviour's names only, sorted."""
    if behaviour.origin == "site":
        return ""
    kept = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k in behaviour.query_strings)
    return urlencode(kept, quote_via=quote)


def cache_key(behaviour: CacheBehaviour, path: str, query: str) -> str:
    """The key an answer is stored under: the origin's path and the query strings that select it."""
    kept = forwarded_query(behaviour, query)
    return f"{path}?{kept}" if kept else path


def directives(cache_control: str | None) -> dict[str, str | None]:
    """`Cache-Control` as lower-case directive names and their values (None when bare)."""
    found: dict[str, str | None] = {}
    for part in (cache_control or "").split(","):
        name, eq, value = part.strip().partition("=")
        if name:
            found.setdefault(name.lower(), value.strip().strip('"') if eq else None)
    return found


def edge_ttl(behaviour: CacheBehaviour, cache_control: str | None, expires: str | None = None, now: float | None = None) -> int:
    """Seconds the edge keeps an answer fresh, as CloudFront reckons it for this behaviour."""
    if not behaviour.cached:
        return 0
    found = directives(cache_control)

    def clamp(seconds: int) -> int:
        return max(behaviour.min_ttl, min(behaviour.max_ttl, seconds))

    if any(name in found for name in _REFUSED):
        return behaviour.min_ttl
    for name in ("s-maxage", "max-age"):
        if name in found:
            value = found[name] or ""
            return clamp(int(value)) if value.isascii() and value.isdigit() else behaviour.min_ttl
    if expires:
        parsed = parsedate_tz(expires)
        if parsed is None:
            return behaviour.min_ttl
        left = mktime_tz(parsed) - (time.time() if now is None else now)
        return clamp(max(0, int(left)))
    return clamp(behaviour.default_ttl)


def for_the_cache(behaviour: CacheBehaviour, status: int, headers: Mapping[str, str]) -> dict[str, str]:
    """An origin answer's headers as hishel must see them: the edge's TTL as `s-maxage`, a `Date`."""
    shown = {name.lower(): value for name, value in headers.items()}
    origin = shown.pop("cache-control", None)
    if origin is not None:
        shown[ORIGIN_CACHE_CONTROL] = origin
    ttl = edge_ttl(behaviour, origin, shown.get("expires")) if status in STORED_STATUSES else 0
    shown["cache-control"] = f"s-maxage={ttl}" if ttl > 0 else "no-store"
    shown.setdefault("date", formatdate(usegmt=True))
    return shown


def for_the_viewer(headers: Mapping[str, str]) -> dict[str, str]:
    """A stored answer's headers as the viewer gets them: the origin's `Cache-Control`, none of ours."""
    shown = {name.lower(): value for name, value in headers.items() if name.lower() != "cache-control"}
    origin = shown.pop(ORIGIN_CACHE_CONTROL, None)
    if origin is not None:
        shown["cache-control"] = origin
    return shown


def purge_paths(document: object) -> list[str]:
    """The paths of a purge request `{"paths": [...]}`; ValueError saying what is wrong."""
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, list) or not paths or len(paths) > MAX_PURGE_PATHS:
        raise ValueError(f"paths must be a list of 1 to {MAX_PURGE_PATHS} paths")
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PURGE_PATH:
            raise ValueError(f"each path starts with / and has at most {MAX_PURGE_PATH} characters")
        if "*" in path[:-1]:
            raise ValueError("a * may only end a path (a prefix), as in /v1/articles*")
    return paths


def purge_patterns(distribution: Distribution, paths: list[str]) -> list[str]:
    """The patterns a purge removes: each path, and the object a rewriting behaviour serves it from."""
    patterns = dict.fromkeys(paths)
    for path in paths:
        behaviour = distribution.behaviour_for(path.rstrip("*") or "/")
        if behaviour is not None and behaviour.rewrite and not path.endswith("*"):
            patterns.setdefault(behaviour.rewrite)
    return list(patterns)


def purge_matches(pattern: str, key: str) -> bool:
    """True when a purge pattern covers a stored key: the same path and query, or a prefix ending in `*`."""
    return key.startswith(pattern[:-1]) if pattern.endswith("*") else key == pattern
