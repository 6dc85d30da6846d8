"""The edge's cache: hishel's RFC 9111 states over the bounded store, driven with CloudFront's rules.

hishel decides from the stored entries whether an answer is fresh, which to revalidate
and with which validators, and what may be stored; `policy` shapes every origin answer
before hishel sees it. What the loop here adds to hishel 2.0's own `handle_request_with_rfc`:

- a 304 refreshes a stored answer with every field it carries but `Content-Length` (RFC
  9111 §3.2: hishel keeps the stored `Content-Type` and `Content-Encoding`), its TTL
  reckoned again from the merged fields, its age restarted;
- an origin that cannot be reached, or answers a 5xx to a revalidation, gets the stored
  answer served stale (CloudFront's "Origin unavailable"), unless the origin's
  `Cache-Control` forbids it; otherwise `OriginUnavailable` goes up to the proxy;
- an answer being stored is read to its end into the store before the key's lock goes,
  so simultaneous misses of one key wait for the first and then hit; then it is served
  from the store, whose body is never copied (ranges are cut from it);
- an answer too large to store is fetched again and streamed to the viewer, uncached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import hishel
from hishel import CacheMiss, CouldNotBeStored, FromCache, IdleClient, NeedRevalidation, NeedToBeUpdated, StoreAndUse
from hishel._core._spec import InvalidateEntries, vary_headers_match

from events.edge import CacheBehaviour
from fleet.edge import fields, policy
from fleet.edge.origins import OriginAnswer, OriginUnavailable
from fleet.edge.store import MemoryStore

#: Locks a miss may hold (keys share them by hash): misses of one key wait for the first.
MISS_LOCKS = 64
#: The validators hishel adds to a revalidation, passed to the origin.
VALIDATORS = ("if-none-match", "if-modified-since")

#: Asks the origin, with these extra request headers (validators), for the answer to store.
Fetch = Callable[[Mapping[str, str]], OriginAnswer]


@dataclass
class Exchange:
    """One request to the origin: its answer, when it was sent and received, and the answer's fields as hishel sees them."""

    origin: OriginAnswer
    sent_at: float
    received_at: float
    shaped: dict[str, str] = field(default_factory=dict)


@dataclass
class Cached:
    """What the cache answers: status, the viewer's headers, the body, and how (`Hit`, `RefreshHit`, `Miss`)."""

    status: int
    headers: dict[str, str]
    body: Iterable[bytes]
    outcome: str


class EdgeCache:
    """One store and hishel's states, for every behaviour that caches."""

    def __init__(self, store: MemoryStore, error_min_ttl: int = 0) -> None:
        self.store = store
        self.error_min_ttl = error_min_ttl
        self.options = hishel.CacheOptions(shared=True, supported_methods=list(policy.CACHED_METHODS))
        self._miss_locks = [threading.Lock() for _ in range(MISS_LOCKS)]

    def answer(self, behaviour: CacheBehaviour, key: str, viewer: Mapping[str, str], fetch: Fetch) -> Cached:
        """The answer to a GET or HEAD stored under `key`: from the store, revalidated, or fetched and stored."""
        request = hishel.Request("GET", key, hishel.Headers(dict(viewer)))
        with self._miss_locks[hash(key) % MISS_LOCKS]:
            state = IdleClient(options=self.options).next(request, self.store.get_entries(key))
            return self._follow(state, behaviour, request, key, fetch)

    def _follow(self, state: object, behaviour: CacheBehaviour, request: hishel.Request, key: str, fetch: Fetch) -> Cached:
        stale: list[hishel.Entry] = []
        while True:
            if isinstance(state, FromCache):
                return self._stored(state.entry, "RefreshHit" if stale else "Hit")
            if isinstance(state, NeedRevalidation):
                stale = state.revalidating_entries
            if isinstance(state, (CacheMiss, NeedRevalidation)):
                try:
                    got, exchange = self._ask(behaviour, state.request, fetch)
                except OriginUnavailable:
                    usable = self._servable_stale(stale)
                    if usable is None:
                        raise
                    return usable
                if isinstance(state, NeedRevalidation) and got.status_code >= 500:
                    usable = self._servable_stale(stale)
                    if usable is not None:
                        _close(exchange.origin.body)
                        return usable
                if isinstance(state, NeedRevalidation) and got.status_code == 304:
                    _close(exchange.origin.body)
                    nxt = state.next(got)
                    if isinstance(nxt, NeedToBeUpdated):
                        return self._refresh(behaviour, nxt, stale, exchange)
                    state = nxt
                    continue
                state = state.next(got)
            elif isinstance(state, InvalidateEntries):
                for entry_id in state.entry_ids:
                    self.store.remove_entry(entry_id)
                state = state.next()
            elif isinstance(state, StoreAndUse):
                return self._store(behaviour, request, key, state.response, fetch, replaced=stale)
            elif isinstance(state, CouldNotBeStored):
                shown = policy.for_the_viewer(state.response.headers)
                return Cached(state.response.status_code, shown, state.response.stream or iter(()), "Miss")  # type: ignore[arg-type]
            else:
                raise AssertionError(f"hishel state {type(state).__name__} is not handled")

    def _ask(self, behaviour: CacheBehaviour, asked: hishel.Request, fetch: Fetch) -> tuple[hishel.Response, Exchange]:
        """The origin's answer to `asked` (hishel's request, with its validators), shaped for hishel."""
        validators = {name: asked.headers[name] for name in VALIDATORS if name in asked.headers}
        sent_at = time.time()
        origin = fetch(validators)
        exchange = Exchange(origin, sent_at, time.time())
        shaped = policy.for_the_cache(behaviour, origin.status, origin.headers, sent_at, exchange.received_at, self.error_min_ttl)
        length = fields.digits(origin.headers.get("content-length"))
        if length is not None and length > self.store.max_object_bytes:
            shaped["cache-control"] = "no-store"  # announced too large to store: streamed through at once
        exchange.shaped = shaped
        return hishel.Response(origin.status, hishel.Headers(shaped), origin.body), exchange

    def _refresh(
        self, behaviour: CacheBehaviour, state: NeedToBeUpdated, stale: list[hishel.Entry], exchange: Exchange
    ) -> Cached:
        """Each stored answer the 304 validates, its fields updated from the 304's and stored; the newest served."""
        before = {entry.id: entry for entry in stale}
        # The 304's fields as its origin sent them, with the `Date` a recipient adds when it has none.
        validation = policy.origin_fields(exchange.shaped)
        served: hishel.Entry | None = None
        for updated in state.updating_entries:
            stored = before.get(updated.id, updated)
            status = stored.response.status_code
            merged = policy.refreshed(stored.response.headers, validation)
            shaped = hishel.Headers(
                policy.for_the_cache(behaviour, status, merged, exchange.sent_at, exchange.received_at, self.error_min_ttl)
            )
            self.store.update_headers(updated.id, shaped)
            served = self.store.entry(updated.id) or hishel.Entry(updated.id, stored.request, hishel.Response(status, shaped))
        assert served is not None  # hishel names at least one entry to update
        return self._stored(served, "RefreshHit")

    def _store(
        self,
        behaviour: CacheBehaviour,
        request: hishel.Request,
        key: str,
        response: hishel.Response,
        fetch: Fetch,
        replaced: list[hishel.Entry],
    ) -> Cached:
        """Store an answer, reading it to its end, then serve it from the store; the stored
        answers it replaces (those the same request selects, RFC 9111 §4.1) go."""
        entry = self.store.create_entry(request, response, key)
        for _ in entry.response.stream or ():  # type: ignore[union-attr]
            pass
        stored = self.store.entry(entry.id)
        for old in replaced:
            if vary_headers_match(request, old):
                self.store.remove_entry(old.id)
        if stored is not None:
            return self._stored(stored, "Miss")
        # Too large for the store (or evicted at once): ask again, and stream it through.
        sent_at = time.time()
        origin = fetch({})
        shaped = policy.for_the_cache(behaviour, origin.status, origin.headers, sent_at, time.time(), self.error_min_ttl)
        return Cached(origin.status, policy.for_the_viewer(shaped), origin.body, "Miss")

    def _stored(self, entry: hishel.Entry, outcome: str) -> Cached:
        shown = policy.for_the_viewer(entry.response.headers, from_store=True)
        return Cached(entry.response.status_code, shown, entry.response.stream or iter(()), outcome)  # type: ignore[arg-type]

    def _servable_stale(self, stale: list[hishel.Entry]) -> Cached | None:
        """The newest stored answer that may be served stale while the origin fails, or None."""
        for entry in stale:
            if policy.may_serve_stale(entry.response.headers):
                return self._stored(entry, "Hit")
        return None

    def purge(self, covered: Callable[[str], bool]) -> int:
        """Remove every stored answer whose key `covered` says yes to; how many."""
        return self.store.remove_keys(covered)


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()
