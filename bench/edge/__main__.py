"""`make bench-edge`: what the local edge absorbs, and how soon a write shows through it.

A benchmark, not a test: it prints figures and asserts nothing. `fleet up` runs in its own
processes on free ports; then, in one run, reads of a hot article, the article list, the
entry page and a 20 MB download (10,000 reads in all, `--quick` 2,000), once through the
edge and once straight from each origin (the API, the site bucket in moto), from eight
clients. It prints, per target, the origin requests per 1,000 reads through the edge (the
target: at most 5 with a 60 s TTL), p50 and p99 through the edge and from the origin, and
the bytes the origin served against the bytes the readers got. Last, an article is
edited through the edge and read through it every 50 ms: the delay until the worker's
purge landed, and until the edit showed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.local_fleet import percentile
from bench.machine import describe_machine, free_port
from bench.processes import ROOT, bench_env

#: The share of the reads each target gets: downloads are few and large, as in a release.
MIX = {"article": 0.40, "list": 0.30, "entry page": 0.25, "download": 0.05}
DOWNLOAD_BYTES = 20 * 1024 * 1024
DOWNLOAD_KEY = "downloads/bench-20mb.bin"
CLIENTS = 8
#: The most a write may take to show through the edge before the bench stops waiting.
VISIBLE_TIMEOUT = 120.0


class Fleet:
    """`fleet up --no-reload` on free ports, until closed."""

    def __init__(self, state_dir: str) -> None:
        self.aws_port, self.api_port, self.edge_port = free_port(), free_port(), free_port()
        self.env = bench_env(self.aws_port, state_dir)
        argv = [
            sys.executable,
            "-m",
            "fleet",
            "up",
            "--no-reload",
            "--aws-port",
            str(self.aws_port),
            "--api-port",
            str(self.api_port),
            "--edge-port",
            str(self.edge_port),
        ]
        self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        deadline = time.monotonic() + 180
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("fleet: ready") or time.monotonic() > deadline:
                break
        if not self.lines or not self.lines[-1].startswith("fleet: ready"):
            raise SystemExit("fleet up did not get ready:\n" + "\n".join(self.lines[-40:]))
        # Drain the rest of the output; stdout is a pipe (asserted above), which mypy does not carry into the lambda.
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()  # type: ignore[union-attr]

    @property
    def aws(self) -> str:
        """moto's URL."""
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def api(self) -> str:
        """The API's URL."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def edge(self) -> str:
        """The edge's URL."""
        return f"http://127.0.0.1:{self.edge_port}"

    def close(self) -> None:
        """Ctrl-C, as a developer stops it."""
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def prepare(fleet: Fleet) -> tuple[str, str, str]:
    """A writer's key, a stored article and the 20 MB download in the site bucket: (key, article id, bucket)."""
    os.environ.update({k: fleet.env[k] for k in ("AWS_ENDPOINT_URL", "FLEET_STAGE", "FLEET_STATE_DIR")})
    from lambda_platform import aws, settings
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys
    from lambda_platform.resources import bucket_name

    settings.reset()
    aws.reset()
    key = new_key("bench-edge", ["articles:write"], DynamoApiKeys())[0]
    article = {"title": "Hot article", "content": "Read by everyone. " * 60, "author": "Ada"}
    posted = requests.post(f"{fleet.api}/v1/articles", json=article, headers={"x-api-key": key}, timeout=10)
    posted.raise_for_status()
    article_id = posted.json()["article_id"]
    deadline = time.monotonic() + 60
    while requests.get(f"{fleet.api}/v1/articles/{article_id}", timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            raise SystemExit("the article was not stored in 60 s")
        time.sleep(0.2)
    bucket = bucket_name("site")
    aws.client("s3").put_object(
        Bucket=bucket,
        Key=DOWNLOAD_KEY,
        Body=os.urandom(DOWNLOAD_BYTES),
        ContentType="application/octet-stream",
        CacheControl="public, max-age=3600",
    )
    return key, article_id, bucket


def read_all(url: str, count: int) -> tuple[list[float], int, int]:
    """`count` GETs of `url` from CLIENTS threads: sorted seconds each, bytes read, failures."""
    local = threading.local()
    got = {"bytes": 0, "failed": 0}
    lock = threading.Lock()

    def one(_: int) -> float:
        session = getattr(local, "session", None) or setattr(local, "session", requests.Session()) or local.session
        began = time.perf_counter()
        with session.get(url, stream=True, timeout=60) as answer:
            size = sum(len(chunk) for chunk in answer.iter_content(1 << 20))
        spent = time.perf_counter() - began
        with lock:
            got["bytes"] += size
            got["failed"] += answer.status_code != 200
        return spent

    with ThreadPoolExecutor(CLIENTS) as pool:
        seconds = sorted(pool.map(one, range(count)))
    return seconds, got["bytes"], got["failed"]


def edge_stats(fleet: Fleet) -> dict[str, Any]:
    """The edge's counts of what its origins served."""
    return requests.get(f"{fleet.edge}/_edge/stats", timeout=10).json()


def measure_reads(fleet: Fleet, article_id: str, bucket: str, reads: int) -> list[dict[str, Any]]:
    """Each target read through the edge, then from its origin."""
    targets = {
        "article": (f"/v1/articles/{article_id}", f"{fleet.api}/v1/articles/{article_id}"),
        "list": ("/v1/articles?limit=10", f"{fleet.api}/v1/articles?limit=10"),
        "entry page": ("/c/demo", f"{fleet.aws}/{bucket}/web/entry.html"),
        "download": (f"/{DOWNLOAD_KEY}", f"{fleet.aws}/{bucket}/{DOWNLOAD_KEY}"),
    }
    rows = []
    for name, (path, origin_url) in targets.items():
        count = max(10, int(reads * MIX[name]))
        before = edge_stats(fleet)
        began = time.monotonic()
        through, viewer_bytes, failed = read_all(fleet.edge + path, count)
        spent = time.monotonic() - began
        after = edge_stats(fleet)
        straight, _, origin_failed = read_all(origin_url, count)
        asked = sum(after["origin_requests"].values()) - sum(before["origin_requests"].values())
        served = sum(after["origin_bytes"].values()) - sum(before["origin_bytes"].values())
        rows.append(
            {
                "target": name,
                "reads": count,
                "seconds": spent,
                "origin_requests": asked,
                "per_1000": 1000 * asked / count,
                "edge": through,
                "origin": straight,
                "origin_bytes": served,
                "viewer_bytes": viewer_bytes,
                "failed": failed + origin_failed,
            }
        )
        print(f"  {name}: {count} reads through the edge in {spent:.1f} s, {asked} origin requests", flush=True)
    return rows


def measure_write(fleet: Fleet, key: str, article_id: str) -> dict[str, float | None]:
    """Edit the article through the edge, then read it through the edge until the edit shows."""
    url = f"{fleet.edge}/v1/articles/{article_id}"
    requests.get(url, timeout=10)  # a cached copy to be invalidated
    purges_before = edge_stats(fleet)["purges"]
    title = f"Edited at {time.time():.0f}"
    began_wall, began = time.time(), time.monotonic()
    edited = requests.patch(url, json={"title": title}, headers={"x-api-key": key}, timeout=10)
    edited.raise_for_status()
    shown_after = None
    while time.monotonic() - began < VISIBLE_TIMEOUT:
        if requests.get(url, timeout=10).json().get("title") == title:
            shown_after = time.monotonic() - began
            break
        time.sleep(0.05)
    stats = edge_stats(fleet)
    purged_after = stats["last_purge_at"] - began_wall if stats["purges"] > purges_before else None
    return {"purged_after": purged_after, "shown_after": shown_after}


def report(rows: list[dict[str, Any]], write: dict[str, float | None]) -> None:
    """The figures, one line a target."""
    ms = lambda seconds: f"{seconds * 1000:8.1f}"  # noqa: E731
    print()
    print(
        f"{'target':<11} {'reads':>6} {'origin req':>10} {'per 1,000':>9}  {'edge p50':>8} {'edge p99':>8}"
        f"  {'orig p50':>8} {'orig p99':>8}  {'origin bytes':>12} {'readers bytes':>14} {'failed':>6}"
    )
    for row in rows:
        print(
            f"{row['target']:<11} {row['reads']:>6} {row['origin_requests']:>10} {row['per_1000']:>9.2f}"
            f"  {ms(percentile(row['edge'], 0.5))} {ms(percentile(row['edge'], 0.99))}"
            f"  {ms(percentile(row['origin'], 0.5))} {ms(percentile(row['origin'], 0.99))}"
            f"  {row['origin_bytes']:>12,} {row['viewer_bytes']:>14,} {row['failed']:>6}"
        )
    total_reads = sum(r["reads"] for r in rows)
    total_asked = sum(r["origin_requests"] for r in rows)
    print(
        f"\nall: {total_reads} reads through the edge, {total_asked} origin requests, "
        f"{1000 * total_asked / total_reads:.2f} per 1,000 (target: at most 5 with a 60 s TTL); times in ms"
    )
    purged, shown = write["purged_after"], write["shown_after"]
    print(
        f"write through the edge (PATCH): the worker's purge landed after "
        f"{'-' if purged is None else f'{purged:.2f} s'}; the edit showed through the edge after "
        f"{f'more than {VISIBLE_TIMEOUT:.0f} s' if shown is None else f'{shown:.2f} s'} (the article's TTL: 60 s)"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(prog="bench.edge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 reads instead of 10,000")
    parser.add_argument("--reads", type=int, default=None, help="reads in all, shared by the targets as MIX says")
    args = parser.parse_args(argv)
    reads = args.reads or (2000 if args.quick else 10_000)
    print(describe_machine())
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as state:
        fleet = Fleet(state)
        try:
            key, article_id, bucket = prepare(fleet)
            print(f"fleet up: AWS {fleet.aws}, API {fleet.api}, edge {fleet.edge}; {reads} reads from {CLIENTS} clients")
            rows = measure_reads(fleet, article_id, bucket, reads)
            write = measure_write(fleet, key, article_id)
        finally:
            fleet.close()
    report(rows, write)


if __name__ == "__main__":
    main()
