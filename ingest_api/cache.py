"""Cached reads: a short in-process TTL cache, and ETag / Cache-Control / 304 answers.

The cache stands in for the ElastiCache of the blog's design: a process (a Lambda
container, a `fleet up`) answers repeated reads of a hot article or feed page without a
DynamoDB call for `READ_CACHE_SECONDS` (5 s by default). Workers write in other processes,
so entries are never invalidated, only expired: a new article shows within that time.
Misses (404s) are never cached.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request

#: Default time a read stays in the in-process cache.
DEFAULT_TTL_SECONDS = 5.0


class TtlCache:
    """A small thread-safe dict whose entries expire; the oldest go first when it is full."""

    def __init__(self, ttl_seconds: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_load(self, key: str, load: Callable[[], Any]) -> Any:
        """The cached value of `key`, or `load()`'s (cached unless it is None)."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                self.hits += 1
                return hit[1]
            self.misses += 1
        value = load()
        if value is not None and self.ttl_seconds > 0:
            with self._lock:
                self._entries.pop(key, None)
                while len(self._entries) >= self.max_entries:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[key] = (now + self.ttl_seconds, value)
        return value


class _NoCache:
    """Reads straight from the store, for a request an edge cache will store."""

    def get_or_load(self, key: str, load: Callable[[], Any]) -> Any:
        """Load, every time."""
        return load()


def read_cache() -> TtlCache | _NoCache:
    """The app's read cache, made on first use; none for a request that came through an edge.

    A request through CloudFront or the local edge carries `Via`: the edge caches the
    answer and is purged when the worker applies a change, and a copy from this cache,
    read before the change, would be stored again at the edge for its whole TTL.
    """
    if "Via" in request.headers:
        return _NoCache()
    cache = current_app.extensions.get("fleet_read_cache")
    if cache is None:
        ttl = float(current_app.config.get("READ_CACHE_SECONDS", DEFAULT_TTL_SECONDS))
        cache = current_app.extensions.setdefault("fleet_read_cache", TtlCache(ttl))
    return cache


def etag_of(body: Any) -> str:
    """A strong ETag of a JSON body: the digest of its canonical form."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def cacheable(body: Any, max_age: int, private: bool = False) -> Response:
    """A 200 with `ETag` and `Cache-Control`, or a bodiless 304 when `If-None-Match` matches.

    `private` answers (a user's own data) are never stored by a shared cache, and a client
    revalidates them each time: a 304 costs the client no body."""
    response = jsonify(body)
    response.set_etag(etag_of(body))
    response.headers["Cache-Control"] = "private, no-cache" if private else f"public, max-age={max_age}"
    response.make_conditional(request)  # in place: a 304 keeps the headers and drops the body
    return response
