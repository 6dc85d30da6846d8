"""What the edge stores, under which key and for how long: CloudFront's rules over `events.edge`.

The freshness arithmetic, revalidation and Vary are hishel's (RFC 9111); what CloudFront
adds is decided here, before hishel sees an answer (`for_the_cache`):

- the TTL is the origin's `s-maxage` or `max-age` (or `Expires` less the origin's `Date`)
  clamped to the behaviour's minimum and maximum, its default when the origin says
  nothing, its minimum when the origin says `no-cache`, `no-store` or `private`;
- what is stored: 2xx and 3xx answers (but 206 and 304), and the errors CloudFront
  caches (`events.edge.ERRORS_CACHED`, and `ERRORS_CACHED_WITH_MAX_AGE` when the origin
  gives a max-age) for the larger of the distribution's error caching minimum TTL and the
  origin's max-age;
- a TTL of 0 with a validator is still stored, stale at once: every later read revalidates
  it (a 304 costs no body), as CloudFront does with a minimum TTL of 0;
- hishel is shown that TTL as `s-maxage` (a shared cache reads it first), and a `Date`
  that makes its age count RFC 9111 §4.2.3's corrected initial age (the origin's `Age`
  and the time the answer took) where hishel 2.0 counts only now minus `Date`.

The viewer gets the origin's own `Cache-Control` and `Date` back (`for_the_viewer`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import parse_qsl, quote, urlencode

from events.edge import (
    ERRORS_CACHED,
    ERRORS_CACHED_WITH_MAX_AGE,
    PRIVATE_REQUEST_HEADERS,
    CacheBehaviour,
    Distribution,
)
from fleet.edge.fields import age_seconds, delta_seconds, directives, http_date

#: How the edge names itself in `X-Cache` and `Via`, as CloudFront says `cloudfront`.
EDGE_NAME = "fleet-edge"
#: The methods whose answers may be stored and answered from the store.
CACHED_METHODS = ("GET", "HEAD")
#: The origin's `Cache-Control` and `Date`, kept beside the ones hishel is shown, for the viewer.
ORIGIN_CACHE_CONTROL = "x-fleet-origin-cache-control"
ORIGIN_DATE = "x-fleet-origin-date"
#: When the stored answer's age was 0, in seconds to the microsecond: an HTTP date keeps whole
#: seconds only, and an age counted from one would gain a second whenever the answer arrived
#: late in its second (RFC 9111 §4.2.3 counts from the response time itself).
COUNTED_FROM = "x-fleet-counted-from"
#: CloudFront's limits on an invalidation path.
MAX_PURGE_PATH = 4096
MAX_PURGE_PATHS = 3000

_PRIVATE = {name.lower() for name in PRIVATE_REQUEST_HEADERS}
_REFUSED = ("no-store", "no-cache", "private")
#: Directives after which a stale answer is never served, not even when the origin is down (RFC 9111 §4.2.4).
_NEVER_STALE = ("must-revalidate", "proxy-revalidate", "no-cache", "s-maxage")


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
    """The query string the origin sees and the key holds: the behaviour's names only, in the
    viewer's order, as CloudFront forwards and keys them. Never sorted: `limit=5&limit=100`
    sorted is `limit=100&limit=5`, and an origin that reads the first value would read
    another request than the viewer sent."""
    if behaviour.origin == "site":
        return ""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k in behaviour.query_strings]
    return urlencode(kept, quote_via=quote)


def cache_key(behaviour: CacheBehaviour, path: str, query: str, headers: Mapping[str, str] | None = None) -> str:
    """The key an answer is stored under: the origin's path, the query strings that select it, and the
    values of the headers the behaviour keys on (`key_headers`, as CloudFront's key holds them), one a line."""
    kept = forwarded_query(behaviour, query)
    key = f"{path}?{kept}" if kept else path
    sent = {name.lower(): value for name, value in (headers or {}).items()}
    for name in behaviour.key_headers:
        value = sent.get(name.lower())
        if value is not None:
            key += f"\n{name.lower()}: {value}"
    return key


def key_path(key: str) -> str:
    """The path and query of a key, without the header values it holds."""
    return key.partition("\n")[0]


def _max_age(found: Mapping[str, str | None]) -> int | None:
    """The origin's explicit lifetime for a shared cache: `s-maxage`, else `max-age`; -1 when invalid."""
    for name in ("s-maxage", "max-age"):
        if name in found:
            seconds = delta_seconds(found[name])
            return -1 if seconds is None else seconds
    return None


def edge_ttl(
    behaviour: CacheBehaviour,
    cache_control: str | None,
    expires: str | None = None,
    now: float | None = None,
    status: int = 200,
    error_min_ttl: int = 0,
) -> int:
    """Seconds the edge keeps an answer fresh, as CloudFront reckons it for this behaviour.

    `now` is the origin's `Date` (or the time the answer arrived): `Expires` counts from it.
    An `Expires` that is not an HTTP-date means already expired (RFC 9111 §5.3)."""
    if not behaviour.cached:
        return 0
    found = directives(cache_control)

    def clamp(seconds: int) -> int:
        return max(behaviour.min_ttl, min(behaviour.max_ttl, seconds))

    if status >= 400:
        return _error_ttl(behaviour, status, found, error_min_ttl)
    if any(name in found for name in _REFUSED):
        return behaviour.min_ttl
    explicit = _max_age(found)
    if explicit is not None:
        return clamp(explicit) if explicit >= 0 else behaviour.min_ttl
    if expires is not None:
        expiry = http_date(expires)
        if expiry is None:
            return behaviour.min_ttl
        left = expiry - (time.time() if now is None else now)
        return clamp(max(0, int(left)))
    return clamp(behaviour.default_ttl)


def _error_ttl(behaviour: CacheBehaviour, status: int, found: Mapping[str, str | None], error_min_ttl: int) -> int:
    """An error's TTL: CloudFront keeps the errors it caches for the larger of the error caching
    minimum TTL and the origin's max-age, unless the origin forbids it."""
    if any(name in found for name in _REFUSED):
        return 0
    explicit = _max_age(found)
    if status in ERRORS_CACHED:
        return min(behaviour.max_ttl, max(error_min_ttl, explicit or 0))
    if status in ERRORS_CACHED_WITH_MAX_AGE and explicit is not None and explicit >= 0:
        return min(behaviour.max_ttl, max(error_min_ttl, explicit))
    return 0


def storable(status: int) -> bool:
    """True for a status the edge may store: 2xx and 3xx (not a part, not a 304), and the errors CloudFront caches."""
    return (200 <= status < 400 and status not in (206, 304)) or status in ERRORS_CACHED or status in ERRORS_CACHED_WITH_MAX_AGE


def for_the_cache(
    behaviour: CacheBehaviour,
    status: int,
    headers: Mapping[str, str],
    sent_at: float | None = None,
    received_at: float | None = None,
    error_min_ttl: int = 0,
) -> dict[str, str]:
    """An origin answer's headers as hishel must see them: the edge's TTL as `s-maxage`, a `Date` for its age.

    `sent_at` and `received_at` are when the request left and its answer's head arrived."""
    received_at = time.time() if received_at is None else received_at
    sent_at = received_at if sent_at is None else sent_at
    shown = {name.lower(): value for name, value in headers.items()}
    origin = shown.pop("cache-control", None)
    if origin is not None:
        shown[ORIGIN_CACHE_CONTROL] = origin
    # RFC 9110 §6.6.1: a recipient with a clock adds the `Date` an answer lacks.
    date_value = http_date(shown.get("date"))
    shown[ORIGIN_DATE] = shown.get("date") or formatdate(received_at, usegmt=True)
    if date_value is None:
        date_value = received_at
    # RFC 9111 §4.2.3: the corrected initial age; hishel counts now minus the `Date` it is shown.
    apparent_age = max(0.0, received_at - date_value)
    corrected_age = age_seconds(shown.get("age")) + (received_at - sent_at)
    born = received_at - max(apparent_age, corrected_age)
    shown["date"] = formatdate(born, usegmt=True)
    shown[COUNTED_FROM] = f"{born:.6f}"
    found = directives(origin)
    ttl = edge_ttl(behaviour, origin, shown.get("expires"), date_value, status, error_min_ttl) if storable(status) else 0
    validated = "etag" in shown or "last-modified" in shown
    if ttl > 0:
        shown["cache-control"] = f"s-maxage={ttl}"
    elif behaviour.cached and status < 400 and storable(status) and validated and not {"no-store", "private"} & found.keys():
        shown["cache-control"] = "s-maxage=0"  # stored, stale at once: revalidated on every read
    else:
        shown["cache-control"] = "no-store"
    return shown


def origin_fields(headers: Mapping[str, str]) -> dict[str, str]:
    """A stored answer's fields as its origin sent them: its own `Cache-Control` and `Date`, none of ours."""
    shown = {name.lower(): value for name, value in headers.items()}
    shown.pop("cache-control", None)
    shown.pop("date", None)
    origin = shown.pop(ORIGIN_CACHE_CONTROL, None)
    if origin is not None:
        shown["cache-control"] = origin
    shown.pop(COUNTED_FROM, None)
    origin_date = shown.pop(ORIGIN_DATE, None)
    if origin_date is not None:
        shown["date"] = origin_date
    return shown


#: Fields a 304 never updates (RFC 9111 §3.2): those the stored bytes depend on (their length,
#: coding, range and digest) and the validator that selected them.
_KEPT_FROM_THE_STORED = frozenset(("content-length", "content-encoding", "content-range", "content-md5", "etag"))


def refreshed(stored: Mapping[str, str], validation: Mapping[str, str]) -> dict[str, str]:
    """A stored answer's origin fields updated by a 304's (RFC 9111 §3.2): every field but those the stored body depends on.

    The stored `Age` goes: the 304 is the answer's new generation (its own `Age` counts)."""
    merged = origin_fields(stored)
    merged.pop("age", None)
    merged.update({name.lower(): value for name, value in validation.items() if name.lower() not in _KEPT_FROM_THE_STORED})
    return merged


def for_the_viewer(headers: Mapping[str, str], now: float | None = None, from_store: bool = False) -> dict[str, str]:
    """An answer's headers as the viewer gets them: the origin's fields, with `Age` as the cache counts it.

    From the store, `Age` is the answer's current age; passed on at once, the origin's `Age`
    (if it sent one) is brought up to date the same way."""
    counted_from = _counted_from(headers) if ORIGIN_DATE in headers else None
    shown = origin_fields(headers)
    if counted_from is not None and (from_store or "age" in shown):
        shown["age"] = str(max(0, int((time.time() if now is None else now) - counted_from)))
    return shown


def _counted_from(headers: Mapping[str, str]) -> float | None:
    """When a stored answer's age was 0: to the microsecond where the edge wrote it, else its `Date`."""
    exact = headers.get(COUNTED_FROM)
    if exact is not None:
        try:
            return float(exact)
        except ValueError:
            pass
    return http_date(headers.get("date"))


def may_serve_stale(headers: Mapping[str, str], now: float | None = None) -> bool:
    """True when a stored answer may be served stale while its origin fails (CloudFront's "Origin
    unavailable"): not when its `Cache-Control` forbids any stale answer (RFC 9111 §4.2.4), nor
    past its `stale-if-error` window (RFC 5861; `stale-if-error=0` is CloudFront's documented opt-out)."""
    found = directives(headers.get(ORIGIN_CACHE_CONTROL))
    if any(name in found for name in _NEVER_STALE):
        return False
    window = delta_seconds(found.get("stale-if-error")) if "stale-if-error" in found else None
    if window is None:
        return True
    counted_from = http_date(headers.get("date"))
    lifetime = delta_seconds(directives(headers.get("cache-control")).get("s-maxage")) or 0
    if counted_from is None:
        return False
    return (time.time() if now is None else now) - counted_from - lifetime <= window


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
    """True when a purge pattern covers a stored key: the same path and query, or a prefix ending in `*`.

    Whatever the header values in the key: an invalidation removes every version of a path."""
    path = key_path(key)
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern
