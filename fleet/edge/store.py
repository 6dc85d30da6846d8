"""The edge's store: hishel's storage interface over memory, bounded, its key index evicted with it.

hishel's own `SqliteStorage` bounds its bytes only (never its entries), evicts only what
went unused for three minutes (so a flood of forged keys is simply not stored, and every
real answer with it), keeps a removed entry's rows for those three minutes, and reads a
body back only whole. Here, one lock guards an LRU of entries and the index of their keys
together: storing past `max_entries` or `max_bytes` evicts the least recently used entries
first, a removed entry's memory is freed as soon as no reader holds its body, and a body
is read in part (`StoredBody.part`) without being copied whole.

What an entry counts against `max_bytes`: its body, its fields, its key and its request's
fields, plus `ENTRY_OVERHEAD` for the objects around them.
"""

from __future__ import annotations

import bisect
import itertools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import hishel

#: Bytes an entry counts beyond its fields and body (the Python objects that hold them).
ENTRY_OVERHEAD = 1024


class StoredBody(Iterator[bytes]):
    """A stored answer's body: read whole as an iterator, or in part, never copied whole."""

    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self.chunks = chunks
        self._starts = list(itertools.accumulate((len(c) for c in chunks), initial=0))
        self.length = self._starts[-1]
        self._next = 0

    def __next__(self) -> bytes:
        """The next chunk."""
        if self._next >= len(self.chunks):
            raise StopIteration
        self._next += 1
        return self.chunks[self._next - 1]

    def part(self, start: int, stop: int) -> Iterator[bytes]:
        """Bytes [start, stop) of the body, a chunk's worth at a time."""
        index = bisect.bisect_right(self._starts, start) - 1
        while start < stop and index < len(self.chunks):
            offset = start - self._starts[index]
            piece = self.chunks[index][offset : offset + stop - start]
            start += len(piece)
            index += 1
            yield piece


@dataclass
class _Record:
    entry_id: uuid.UUID
    key: str
    request: hishel.Request
    status: int
    headers: hishel.Headers
    chunks: tuple[bytes, ...]
    size: int = 0

    def entry(self) -> hishel.Entry:
        return hishel.Entry(self.entry_id, self.request, hishel.Response(self.status, self.headers, StoredBody(self.chunks)))


def _fields_size(headers: Any) -> int:
    return sum(len(name) + len(value) for name, value in headers.items())


class MemoryStore(hishel.BaseStorage):
    """Entries in memory, at most `max_entries` of them and `max_bytes` in all, least recently used evicted first.

    An answer larger than `max_object_bytes` is served but never stored."""

    def __init__(self, max_bytes: int, max_entries: int, max_object_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_object_bytes = max_object_bytes
        self._lock = threading.Lock()
        #: Every entry, least recently used first.
        self._entries: OrderedDict[uuid.UUID, _Record] = OrderedDict()
        #: The key index: the entries stored under each key (several when the origin varies).
        self._keys: dict[str, list[uuid.UUID]] = {}
        self.bytes = 0
        self.evicted = 0

    def create_entry(
        self, request: hishel.Request, response: hishel.Response, key: str, *, ttl: float | None = None, tti: float | None = None
    ) -> hishel.Entry:
        """An entry whose stream stores the body as it is read; stored once read to its end, if it fits."""
        entry_id = uuid.uuid4()
        source: Any = response.stream if response.stream is not None else iter(())

        def saving() -> Iterator[bytes]:
            chunks: list[bytes] | None = []
            size = 0
            for chunk in source:
                size += len(chunk)
                if chunks is not None and size > self.max_object_bytes:
                    chunks = None  # too large to keep: served, not stored
                elif chunks is not None:
                    chunks.append(chunk)
                yield chunk
            # Only a body read to its end is stored: a cut one (an error, a viewer gone) never is.
            if chunks is not None:
                self._insert(_Record(entry_id, key, request, response.status_code, response.headers, tuple(chunks)))

        return hishel.Entry(entry_id, request, replace(response, stream=saving()))

    def _insert(self, record: _Record) -> None:
        record.size = (
            sum(len(c) for c in record.chunks)
            + _fields_size(record.headers)
            + _fields_size(record.request.headers)
            + len(record.key)
            + ENTRY_OVERHEAD
        )
        if record.size > self.max_bytes:
            return
        with self._lock:
            while self._entries and (len(self._entries) >= self.max_entries or self.bytes + record.size > self.max_bytes):
                self._drop(next(iter(self._entries)))
                self.evicted += 1
            self._entries[record.entry_id] = record
            self._keys.setdefault(record.key, []).append(record.entry_id)
            self.bytes += record.size

    def _drop(self, entry_id: uuid.UUID) -> None:
        record = self._entries.pop(entry_id, None)
        if record is None:
            return
        self.bytes -= record.size
        ids = self._keys.get(record.key, [])
        if entry_id in ids:
            ids.remove(entry_id)
        if not ids:
            self._keys.pop(record.key, None)

    def get_entries(self, key: str) -> list[hishel.Entry]:
        """The entries stored under `key`, each marked as used now."""
        with self._lock:
            records = [self._entries[i] for i in self._keys.get(key, ())]
            for record in records:
                self._entries.move_to_end(record.entry_id)
        return [record.entry() for record in records]

    def entry(self, entry_id: uuid.UUID) -> hishel.Entry | None:
        """The stored entry with this id, or None (never stored, or evicted since)."""
        with self._lock:
            record = self._entries.get(entry_id)
        return record.entry() if record is not None else None

    def update_headers(self, id: uuid.UUID, headers: hishel.Headers) -> None:  # noqa: A002 (hishel's name)
        """Replace an entry's stored fields (after a 304)."""
        with self._lock:
            record = self._entries.get(id)
            if record is not None:
                grown = _fields_size(headers) - _fields_size(record.headers)
                record.headers = headers
                record.size += grown
                self.bytes += grown

    def remove_entry(self, id: uuid.UUID) -> None:  # noqa: A002 (hishel's name)
        """Remove an entry now; a reader still holding its body finishes it."""
        with self._lock:
            self._drop(id)

    def remove_keys(self, covered: Callable[[str], bool]) -> int:
        """Remove every entry whose key `covered` says yes to; how many."""
        with self._lock:
            ids = [entry_id for key, entry_ids in self._keys.items() if covered(key) for entry_id in entry_ids]
            for entry_id in ids:
                self._drop(entry_id)
        return len(ids)

    def counts(self) -> dict[str, int]:
        """Keys, entries and bytes held now, and entries evicted so far."""
        with self._lock:
            return {"keys": len(self._keys), "entries": len(self._entries), "bytes": self.bytes, "evicted": self.evicted}
