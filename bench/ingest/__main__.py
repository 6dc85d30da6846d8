"""Ingestion: our submission route vs a bare Flask route validating the same schema.

    make bench-ingest        (or: .venv/bin/python -m bench.ingest [--quick] [--repeats N] [--requests N] [--seconds S])

1. In process, with Flask's test client: `POST /v1/campaigns/{id}/submissions` through
   our app (every port an in-memory fake, so it measures the app: origin check, both rate
   limits, campaign lookup, Idempotency-Key, validation, the message and its JSON
   envelope, the answer and its headers) vs a bare Flask route that only loads the body
   with SubmissionRequestSchema and answers 202. Requests per second, the median of N
   alternating rounds, and the ratio ours/bare. Target: 0.85 or more.
2. Over HTTP: the fleet in its processes on free loopback ports (`bench.processes`: moto,
   the API under gunicorn, the pollers), and a load generator on loopback for a bounded
   time: wrk (Debian's) when it is installed, else a Python one (threads, keep-alive
   http.client). The baseline, in the same run: a bare Flask route under the same
   gunicorn against the same moto that only makes the SendMessage (`bench.ingest.bare`).
   Rounds alternate, each on a drained fleet. Requests per second, p50, p99 and errors,
   per round, their medians, and the ratio ours/bare (target: 0.5 or more).

It asserts nothing and exits 0: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.machine import describe_machine, free_port
from bench.processes import ROOT, FleetProcesses

CAMPAIGN = "bench"

BODY = {
    "first_name": "Ana",
    "last_name": "Souza",
    "email": "ana.souza@example.com",
    "phone": "+55 11 91234-5678",
    "postal_code": "01310-100",
    "consent": True,
    "answers": {"favourite_flavour": "mango"},
}


# --- In process -------------------------------------------------------------------------


class MemoryQueue:
    """The queue port in memory: the message is serialised as the SQS adapter does.

    Not tests.fakes.tables.FakeQueue, which also parses each body back and keeps every
    message: work and memory the SQS adapter does not spend.
    """

    def __init__(self) -> None:
        self.count = 0

    def send(self, message: Any) -> str:
        """Serialise `message` as the SQS adapter does, and count it."""
        from events.messages.envelope import dump_message

        dump_message(message)
        self.count += 1
        return str(self.count)


def our_app() -> Any:
    """Our app over in-memory ports, limits high enough never to refuse."""
    from events.models import Campaign
    from ingest_api import create_app
    from lambda_platform.composition import Ports
    from tests.fakes import fake_ports
    from tests.fakes.tables import FakeCampaigns

    now = datetime.now(UTC)
    campaign = Campaign(CAMPAIGN, "Bench", now - timedelta(days=1), now + timedelta(days=30), 1)
    services = Ports(**fake_ports(submissions_queue=MemoryQueue(), campaigns=FakeCampaigns(campaign)))
    return create_app({"SERVICES": services, "LOCAL": False, "RATE_PER_CLIENT": 10**9, "RATE_PER_CAMPAIGN": 10**9})


def bare_app() -> Any:
    """A Flask route that only validates the same schema and answers 202."""
    from flask import Flask, request

    from events.schemas import SubmissionRequestSchema

    app = Flask("bare")
    schema = SubmissionRequestSchema()  # built once, as our route does

    @app.post("/v1/campaigns/<campaign_id>/submissions")
    def create_submission(campaign_id: str):
        schema.load(request.get_json())
        return {"submission_id": str(uuid.uuid4()), "status": "queued"}, 202

    return app


def requests_per_second(app: Any, count: int) -> tuple[float, float]:
    """POST `count` entries (each with its own Idempotency-Key) through the test client.

    Returns requests per wall-clock second and per CPU second of this thread (the second
    stays steady on a machine busy with other work).
    """
    client = app.test_client()
    data = json.dumps(BODY)
    url = f"/v1/campaigns/{CAMPAIGN}/submissions"
    keys = [f"bench-{uuid.uuid4()}" for _ in range(count)]
    started, cpu_started = time.perf_counter(), time.thread_time()
    for key in keys:
        response = client.post(url, data=data, content_type="application/json", headers={"Idempotency-Key": key})
        if response.status_code != 202:
            raise SystemExit(f"unexpected answer {response.status_code}: {response.get_data(as_text=True)}")
    return count / (time.perf_counter() - started), count / (time.thread_time() - cpu_started)


def in_process(repeats: int, count: int) -> dict[str, float]:
    """Alternating rounds of ours and bare; the medians and the ratios."""
    ours, bare = our_app(), bare_app()
    requests_per_second(ours, 200)  # warm both: first-request work is not the steady state
    requests_per_second(bare, 200)
    rounds: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": []}
    for _ in range(repeats):
        rounds["ours"].append(requests_per_second(ours, count))
        rounds["bare"].append(requests_per_second(bare, count))
    result: dict[str, float] = {}
    for name, measured in rounds.items():
        result[name] = statistics.median(r[0] for r in measured)
        result[f"{name}_cpu"] = statistics.median(r[1] for r in measured)
    result["ratio"] = result["ours"] / result["bare"]
    result["ratio_cpu"] = result["ours_cpu"] / result["bare_cpu"]
    print(f"in process (test client), {count} POSTs a round, median of {repeats} rounds:")
    print("          req/s (wall)  req/CPU-s")
    for name in ("ours", "bare"):
        print(f"  {name}  {result[name]:12.0f}  {result[name + '_cpu']:9.0f}")
    print(f"  ratio ours/bare: {result['ratio']:.2f} wall, {result['ratio_cpu']:.2f} CPU (target >= 0.85)")
    return result


# --- Over HTTP --------------------------------------------------------------------------


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
request = function()
  wrk.headers["Idempotency-Key"] = "wrk-" .. math.random(1, 2000000000) .. "-" .. math.random(1, 2000000000)
  return wrk.format()
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_round(url: str, seconds: int, connections: int) -> dict[str, float]:
    """One bounded wrk run: requests per second, p50 and p99 in ms, errors (non-2xx included)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % json.dumps(BODY))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                f"{url}/v1/campaigns/{CAMPAIGN}/submissions",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(row for row in out.splitlines() if row.startswith("RESULT "))
    total, duration, p50, p99, errors = line.split()[1:]
    return {
        "rps": int(total) / float(duration),
        "p50": float(p50),
        "p99": float(p99),
        "errors": int(errors),
        "requests": int(total),
    }


def python_round(url: str, seconds: int, connections: int) -> dict[str, float]:
    """One bounded run of `connections` threads, each with a keep-alive connection."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    data = json.dumps(BODY).encode()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    f"/v1/campaigns/{CAMPAIGN}/submissions",
                    body=data,
                    headers={"Content-Type": "application/json", "Idempotency-Key": f"py-{uuid.uuid4()}"},
                )
                response = conn.getresponse()
                response.read()
                if response.status != 202:
                    failed += 1
                if response.will_close:
                    conn.close()
            except OSError:
                failed += 1
                conn.close()
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.5), "p99": pick(0.99), "errors": errors[0], "requests": len(latencies)}


def start_bare(fleet: FleetProcesses) -> str:
    """The bare route (bench.ingest.bare) under the API's gunicorn, against the fleet's moto; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.runtime.gunicorn_app", "--port", str(port), "--app", "bench.ingest.bare:create_app"],
        cwd=ROOT,
        env=fleet.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    fleet.adopt(process, "bare").wait_for(r"ready")
    return f"http://127.0.0.1:{port}"


def settle(fleet: FleetProcesses, timeout: float = 180.0) -> None:
    """Wait until the fleet has drained what the last round queued: nothing queued, no new email for 2 s."""
    from lambda_platform import aws
    from lambda_platform.resources import queue_url

    sqs, url = aws.client("sqs"), queue_url("submissions")
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline, last, still_since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        depth = sum(int(v) for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())
        sent = fleet.sent_emails()
        if sent != last or depth:
            last, still_since = sent, time.monotonic()
        elif time.monotonic() - still_since >= 2:
            return
        time.sleep(0.5)


def over_http(repeats: int, seconds: int, connections: int) -> dict[str, float]:
    """Alternating rounds of the load generator against our API and the bare route, same server, same moto."""
    generator = "wrk" if shutil.which("wrk") else "python"
    run_round = wrk_round if generator == "wrk" else python_round
    rounds: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}
    with FleetProcesses() as fleet:
        urls = {"ours": fleet.api_url, "bare": start_bare(fleet)}
        for url in urls.values():
            run_round(url, 2, connections)  # warm-up: clients created, caches filled
        settle(fleet)
        for _ in range(repeats):
            for name, url in urls.items():
                cpu = fleet.moto_cpu()
                measured = run_round(url, seconds, connections)
                measured["moto_ms"] = (fleet.moto_cpu() - cpu) * 1000 / max(1, measured["requests"])
                rounds[name].append(measured)
                settle(fleet)  # the next round starts on a drained fleet
        how = fleet.how
    result: dict[str, float] = {}
    print(
        f"over HTTP: {how}; the API and the bare route under the same gunicorn, the same moto; "
        f"{generator}, {connections} connections, {seconds} s rounds alternating, median of {repeats}:"
    )
    for name in ("ours", "bare"):
        median = {k: statistics.median(r[k] for r in rounds[name]) for k in ("rps", "p50", "p99", "errors", "moto_ms")}
        result.update({f"{name}_{k}": v for k, v in median.items()})
        print(
            f"  {name}  {median['rps']:6.1f} requests/s, p50 {median['p50']:6.1f} ms, p99 {median['p99']:6.1f} ms, "
            f"errors {median['errors']:.0f}  (moto CPU {median['moto_ms']:.1f} ms a request during the round)"
        )
        for r in rounds[name]:
            print(
                f"      round: {r['requests']} requests, {r['rps']:.1f}/s, p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, errors {r['errors']}"
            )
    result["ratio"] = result["ours_rps"] / result["bare_rps"]
    print(f"  ratio ours/bare: {result['ratio']:.2f} requests/s (target >= 0.5)")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000, help="POSTs per in-process round")
    parser.add_argument("--seconds", type=int, default=10, help="length of each HTTP round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--http-repeats", type=int, default=3, help="rounds of each over HTTP")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (a minute or two)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.requests, args.seconds, args.http_repeats = 3, 1000, 5, 2
    print(describe_machine())
    in_process(args.repeats, args.requests)
    if not args.skip_http:
        over_http(args.http_repeats, args.seconds, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
