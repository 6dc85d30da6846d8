"""The whole fleet in this process for the fleet benchmarks (moto on a free loopback port,
the API, every poller, and a counter of every AWS call made through `lambda_platform.aws`), and a
load generator of entries over keep-alive HTTP connections."""

from __future__ import annotations

import collections
import http.client
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bench.machine import free_port

CAMPAIGN = "bench"
#: Responses with nothing in them: a poller asked and there was nothing to deliver.
EMPTY_WHEN = {"ReceiveMessage": "Messages", "GetRecords": "Records"}


class CallCounter:
    """Counts AWS calls by operation, telling empty polls apart (a botocore after-call hook).

    A stream poll is GetShardIterator then GetRecords on one thread: the iterator of a poll
    whose GetRecords came back empty counts as part of the empty poll.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()
        self.empty: collections.Counter[str] = collections.Counter()
        self._local = threading.local()

    def __call__(self, model: Any = None, parsed: Any = None, **_: Any) -> None:
        """Count one call of `model`'s operation, and whether it came back empty."""
        name = model.name
        with self.lock:
            self.calls[name] += 1
            if name == "GetShardIterator":
                self._local.iterator = True
            elif name in EMPTY_WHEN and isinstance(parsed, dict) and not parsed.get(EMPTY_WHEN[name]):
                self.empty[name] += 1
                if name == "GetRecords" and getattr(self._local, "iterator", False):
                    self.empty["GetShardIterator"] += 1
            if name == "GetRecords":
                self._local.iterator = False

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self.lock:
            self.calls.clear()
            self.empty.clear()

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """(calls, empty polls) by operation, as they stand."""
        with self.lock:
            return dict(self.calls), dict(self.empty)


class LocalFleet:
    """moto, the provisioned topology, an open campaign, the API and every poller."""

    def __init__(self, counter: CallCounter | None = None) -> None:
        self.counter = counter
        self.state_dir = tempfile.TemporaryDirectory(prefix="fleet-bench-")
        self.aws: Any = None
        self.api: Any = None
        self.runtime: Any = None

    def __enter__(self) -> LocalFleet:
        from fleet.runtime.local import EmbeddedAws

        self.aws = EmbeddedAws(port=free_port())
        self.aws.start()
        os.environ.update(
            FLEET_STAGE="local",
            AWS_ENDPOINT_URL=self.aws.endpoint_url,
            FLEET_STATE_DIR=self.state_dir.name,
            # One client (127.0.0.1) posts everything: lift the per-client and campaign limits.
            FLEET_RATE_PER_CLIENT=str(10**9),
            FLEET_RATE_PER_CAMPAIGN=str(10**9),
        )
        # The workers' per-record INFO lines would drown the figures.
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        from lambda_platform import aws, idempotency, settings

        settings.reset()
        aws.reset()
        idempotency.reset()
        if self.counter is not None:
            aws.on_every_call(self.counter)

        from events.models import Campaign
        from fleet.provision import provision
        from fleet.runtime.local import ApiServer, LocalRuntime
        from lambda_platform.adapters.tables import DynamoCampaigns

        provision()
        now = datetime.now(UTC)
        DynamoCampaigns().put(Campaign(CAMPAIGN, "Bench", now - timedelta(days=1), now + timedelta(days=30), 1))
        self.api = ApiServer(port=0)
        self.api.start()
        self.runtime = LocalRuntime()
        self.runtime.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.runtime is not None:
            self.runtime.stop()
        if self.api is not None:
            self.api.stop()
        if self.aws is not None:
            self.aws.stop()
        self.state_dir.cleanup()

    def post_submissions(self, count: int, threads: int = 8, tag: str = "") -> list[str]:
        """POST `count` entries (distinct emails, each with an Idempotency-Key); their ids."""
        port = self.api.port
        tag = tag or uuid.uuid4().hex[:8]

        def post(n: int) -> str:
            body = json.dumps(
                {
                    "first_name": "Ana",
                    "last_name": "Souza",
                    "email": f"ana.{tag}.{n}@example.com",
                    "consent": True,
                }
            )
            for attempt in range(5):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    conn.request(
                        "POST",
                        f"/v1/campaigns/{CAMPAIGN}/submissions",
                        body=body,
                        headers={"Content-Type": "application/json", "Idempotency-Key": f"{tag}-{n}"},
                    )
                    response = conn.getresponse()
                    answer = response.read()
                finally:
                    conn.close()
                if response.status == 202:
                    return json.loads(answer)["submission_id"]
                time.sleep(0.2 * (attempt + 1))
            raise RuntimeError(f"POST {n}: {response.status} {answer[:200]!r}")

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(post, range(count)))

    def sent_emails(self) -> int:
        """Emails the embedded SES has accepted (read in process, no AWS call)."""
        from moto.ses.models import ses_backends

        from lambda_platform import aws, settings

        return len(ses_backends[aws.account_id()][settings.current().region].sent_messages)


def wait_for(condition: Any, timeout: float, every: float = 0.05) -> bool:
    """Poll `condition()` until true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def rounds(repeats: int) -> Iterator[int]:
    """1..repeats, printed as they start."""
    for n in range(1, repeats + 1):
        print(f"  round {n}/{repeats}...", flush=True)
        yield n


def post_entries(api_url: str, count: int, connections: int = 8, tag: str = "") -> dict[str, Any]:
    """POST `count` entries (distinct emails, each its own Idempotency-Key) over keep-alive connections.

    As fast as the API takes them, `connections` at a time. Returns the seconds it took,
    the latencies in ms (sorted) and the errors (answers other than 202, refused connections).
    """
    parts = urlsplit(api_url)
    tag = tag or uuid.uuid4().hex[:8]
    numbers = iter(range(count))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def run() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine, failed = [], 0
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                break
            body = json.dumps({"first_name": "Ana", "last_name": "Souza", "email": f"ana.{tag}.{n}@example.com", "consent": True})
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"{tag}-{n}"}
            for attempt in range(5):  # the same key and body again: the same entry, never a second
                started = time.perf_counter()
                try:
                    conn.request("POST", f"/v1/campaigns/{CAMPAIGN}/submissions", body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.will_close:
                        conn.close()
                except OSError:
                    status = 0
                    conn.close()
                mine.append((time.perf_counter() - started) * 1000)
                if status == 202:
                    break
                failed += 1
                time.sleep(0.2 * (attempt + 1))
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"seconds": time.monotonic() - started, "latencies": sorted(latencies), "errors": errors[0]}


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
