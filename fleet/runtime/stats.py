"""What the local runtime's triggers have done: records handled and failed per second, the latest failures.

The pollers run in the `workers` process and the live view (`/_local/dashboard`) is
served by the `api` process, so the figures cross a process boundary. The workers write
a small JSON snapshot once a second into the fleet's run directory (`FLEET_RUN_DIR`,
which the supervisor makes for each `fleet up` and passes to every process): written to
a temporary file and renamed over the last one, so a reader never sees half a snapshot,
and a reload of either process costs the reader one stale second at most. Not moto's
CloudWatch (PutMetricData, GetMetricData): on two cores the fleet waits for moto, and
that would add calls to it every second, where a file costs a write. A restarted
workers process takes its counts up from the last snapshot, so a reload does not wipe
the chart. Counts are per delivery, as Lambda's are: a retried record counts again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from events.topology import TOPOLOGY, Function, PipeTrigger, SqsTrigger, StreamTrigger, Topology

#: Seconds of per-second counts kept (the chart's width).
WINDOW_SECONDS = 300
#: How many of the latest failed records are kept.
LATEST_FAILURES = 20
#: An error's text is cut to this many characters.
ERROR_CHARS = 300
#: The snapshot's file in the run directory.
SNAPSHOT_FILE = "workers-stats.json"
#: A snapshot older than this (seconds) means the workers are not writing: stopped, or reloading.
STALE_SECONDS = 5.0

log = logging.getLogger("fleet.runtime")


def trigger_name(function: Function, trigger: SqsTrigger | PipeTrigger | StreamTrigger) -> str:
    """`sqs:uploads->thumbnails`, `pipe:submissions->submissions`, `stream:submissions->confirmations`."""
    source = trigger.table if isinstance(trigger, StreamTrigger) else trigger.queue
    return f"{trigger.kind}:{source}->{function.name}"


def topology_triggers(topology: Topology = TOPOLOGY) -> list[dict[str, str]]:
    """Every trigger the local runtime polls: its name, kind, source (queue or table) and function."""
    return [
        {
            "name": trigger_name(function, trigger),
            "kind": trigger.kind,
            "source": trigger.table if isinstance(trigger, StreamTrigger) else trigger.queue,
            "function": function.name,
        }
        for function in topology.functions
        for trigger in function.triggers
        if isinstance(trigger, (SqsTrigger, PipeTrigger, StreamTrigger))
    ]


class PerSecond:
    """A ring of per-second buckets (handled, failed) over the last `seconds` seconds."""

    def __init__(self, seconds: int = WINDOW_SECONDS) -> None:
        self.seconds = seconds
        self._stamps = [-1] * seconds
        self._handled = [0] * seconds
        self._failed = [0] * seconds

    def add(self, now: float, handled: int, failed: int) -> None:
        """Count records in the bucket of the second `now` falls in."""
        second = int(now)
        slot = second % self.seconds
        if self._stamps[slot] != second:  # a bucket from a lap ago: start it afresh
            self._stamps[slot], self._handled[slot], self._failed[slot] = second, 0, 0
        self._handled[slot] += handled
        self._failed[slot] += failed

    def series(self, now: float) -> tuple[int, list[int], list[int]]:
        """(first second, handled, failed): one value a second, oldest first, ending with the second of `now`."""
        last = int(now)
        first = last - self.seconds + 1
        handled, failed = [], []
        for second in range(first, last + 1):
            slot = second % self.seconds
            fresh = self._stamps[slot] == second
            handled.append(self._handled[slot] if fresh else 0)
            failed.append(self._failed[slot] if fresh else 0)
        return first, handled, failed


@dataclass(frozen=True)
class RecordFailure:
    """One record that a delivery reported failed: when, where, which, and why."""

    at: float
    trigger: str
    record_id: str
    error: str


class TriggerCounts:
    """One trigger's totals and per-second counts."""

    def __init__(self) -> None:
        self.handled = 0
        self.failed = 0
        self.per_second = PerSecond()


class RuntimeStats:
    """Counts of every trigger of one runtime, and its latest failures; safe across poller threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._triggers: dict[str, TriggerCounts] = {}
        self._failures: deque[RecordFailure] = deque(maxlen=LATEST_FAILURES)

    def record(
        self,
        trigger: str,
        handled: int,
        failed_ids: Sequence[str],
        errors: Sequence[str] = (),
        now: float | None = None,
    ) -> None:
        """Count one delivery: `handled` records, of which `failed_ids` failed with the `errors` logged for them."""
        now = time.time() if now is None else now
        with self._lock:
            counts = self._triggers.setdefault(trigger, TriggerCounts())
            counts.handled += handled
            counts.failed += len(failed_ids)
            counts.per_second.add(now, handled, len(failed_ids))
            for record_id, error in pair_errors(failed_ids, errors):
                self._failures.append(RecordFailure(now, trigger, record_id, error))

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Everything counted, as JSON-ready data, its per-second series ending at `now`."""
        now = time.time() if now is None else now
        with self._lock:
            triggers = {}
            for name, counts in self._triggers.items():
                first, handled, failed = counts.per_second.series(now)
                triggers[name] = {
                    "handled": counts.handled,
                    "failed": counts.failed,
                    "per_second": {"first": first, "handled": handled, "failed": failed},
                }
            failures = [asdict(f) for f in reversed(self._failures)]  # newest first
        return {"written_at": now, "window_seconds": WINDOW_SECONDS, "triggers": triggers, "failures": failures}

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Take the counts of an earlier snapshot up again (a restarted workers process)."""
        with self._lock:
            for name, data in (snapshot.get("triggers") or {}).items():
                counts = self._triggers.setdefault(name, TriggerCounts())
                counts.handled += int(data.get("handled", 0))
                counts.failed += int(data.get("failed", 0))
                series = data.get("per_second") or {}
                first = int(series.get("first", 0))
                # Not strict: a snapshot is read from a file, and a short series reads as zeros.
                for offset, (h, f) in enumerate(zip(series.get("handled", []), series.get("failed", []), strict=False)):
                    if h or f:
                        counts.per_second.add(first + offset, int(h), int(f))
            for item in reversed(snapshot.get("failures") or []):
                self._failures.append(RecordFailure(**item))


def pair_errors(failed_ids: Sequence[str], errors: Sequence[str]) -> list[tuple[str, str]]:
    """Each failed record with its error: in order when one was logged per record, else the last one logged."""
    if len(errors) == len(failed_ids):
        return list(zip(failed_ids, errors, strict=True))
    fallback = errors[-1] if errors else "reported failed by the handler (no error logged)"
    return [(record_id, fallback) for record_id in failed_ids]


#: Per runtime (its stop event), as `fleet.runtime.queues` keeps its backlog signals.
_runtimes: weakref.WeakKeyDictionary[threading.Event, RuntimeStats] = weakref.WeakKeyDictionary()
_runtimes_lock = threading.Lock()


def runtime_stats(stop: threading.Event) -> RuntimeStats:
    """The counts shared by every poller of the runtime whose stop event is `stop`."""
    with _runtimes_lock:
        found = _runtimes.get(stop)
        if found is None:
            found = _runtimes[stop] = RuntimeStats()
        return found


# --- The errors a delivery logs -----------------------------------------------------------

_capture = threading.local()
_capture_installed = False
_capture_lock = threading.Lock()


class _ErrorCapture(logging.Handler):
    """Keeps the text of each error logged by the thread that is inside `capturing()`.

    A failed record is logged with its exception where it fails (Powertools' batch
    processor, a worker's own warning with an `error`), in the poller's thread; the
    batch response names only its id.
    """

    def emit(self, record: logging.LogRecord) -> None:
        found = getattr(_capture, "errors", None)
        if found is None or record.levelno < logging.WARNING:
            return
        error = getattr(record, "error", None)  # a worker's warning with extra={"error": ...}
        if record.exc_info and record.exc_info[1] is not None:
            found.append(describe_error(record.exc_info[1]))
        elif error:
            found.append(str(error)[:ERROR_CHARS])


def describe_error(exc: BaseException) -> str:
    """`UnknownCampaign: winter`, cut to ERROR_CHARS."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]


@contextlib.contextmanager
def capturing() -> Iterator[list[str]]:
    """Collect the errors this thread logs (on the `fleet` loggers) while inside, in order."""
    global _capture_installed
    with _capture_lock:
        if not _capture_installed:
            logging.getLogger("fleet").addHandler(_ErrorCapture())
            _capture_installed = True
    errors: list[str] = []
    outer = getattr(_capture, "errors", None)
    _capture.errors = errors
    try:
        yield errors
    finally:
        _capture.errors = outer


# --- The snapshot file --------------------------------------------------------------------


def snapshot_path(run_dir: str | Path) -> Path:
    """Where the workers' snapshot lives in a run directory."""
    return Path(run_dir) / SNAPSHOT_FILE


def write_snapshot(path: Path, data: dict[str, Any]) -> None:
    """Write the snapshot whole or not at all: a temporary file renamed over the last one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_text(json.dumps(data, separators=(",", ":")))
    os.replace(temporary, path)


def read_snapshot(run_dir: str | Path | None) -> dict[str, Any] | None:
    """The workers' last snapshot, or None when there is no run directory or nothing written yet."""
    if not run_dir:
        return None
    try:
        return json.loads(snapshot_path(run_dir).read_text())
    except FileNotFoundError:
        return None


class SnapshotWriter(threading.Thread):
    """Writes a runtime's snapshot every `interval` seconds until `stop()`, which writes a last one."""

    def __init__(self, stats: RuntimeStats, run_dir: str | Path, interval: float = 1.0) -> None:
        super().__init__(name="stats-snapshot", daemon=True)
        self.stats = stats
        self.path = snapshot_path(run_dir)
        self.interval = interval
        self._done = threading.Event()

    def run(self) -> None:
        """Write until stopped; a failed write is logged and the next one tried."""
        while True:
            stopping = self._done.wait(self.interval)
            try:
                write_snapshot(self.path, self.stats.snapshot())
            except OSError:  # a full disk or a removed run dir: the view goes stale, the fleet goes on
                log.warning("workers' stats not written to %s", self.path, exc_info=True)
            if stopping:
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Write the last snapshot and end (call it once the pollers are done, so it holds their last batches)."""
        self._done.set()
        if self.is_alive():
            self.join(timeout)


def live_view(snapshot: dict[str, Any] | None, topology: Topology = TOPOLOGY, now: float | None = None) -> dict[str, Any]:
    """Every trigger of the topology with its counts (zeros where the snapshot has none), per second up to `now`."""
    now = time.time() if now is None else now
    found = (snapshot or {}).get("triggers") or {}
    last = int(now)
    first = last - WINDOW_SECONDS + 1
    rows = []
    for trigger in topology_triggers(topology):
        data = found.get(trigger["name"]) or {}
        handled, failed = [0] * WINDOW_SECONDS, [0] * WINDOW_SECONDS
        series = data.get("per_second") or {}
        start = int(series.get("first", first))
        # Aligned to now: a snapshot a few seconds old shifts left, its last seconds zero.
        # Not strict: a snapshot is read from a file, and a short series reads as zeros.
        for offset, (h, f) in enumerate(zip(series.get("handled", []), series.get("failed", []), strict=False)):
            index = start + offset - first
            if 0 <= index < WINDOW_SECONDS:
                handled[index], failed[index] = h, f
        rows.append(
            {
                **trigger,
                "handled": int(data.get("handled", 0)),
                "failed": int(data.get("failed", 0)),
                "per_second": {"first": first, "handled": handled, "failed": failed},
            }
        )
    written = (snapshot or {}).get("written_at")
    return {
        "triggers": rows,
        "failures": list((snapshot or {}).get("failures") or []),
        "workers": {
            "reporting": written is not None and now - float(written) <= STALE_SECONDS,
            "written_at": written,
        },
    }
