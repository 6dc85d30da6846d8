"""Ingestion: our submission route vs a bare Flask route validating the same schema.

    make bench-ingest        (or: .venv/bin/python -m bench.ingest [--repeats N] [--requests N] [--seconds S])

1. In process, with Flask's test client: `POST /v1/campaigns/{id}/submissions` through
   our app (every port an in-memory fake, so it measures the app: origin check, both rate
   limits, campaign lookup, Idempotency-Key, validation, the message and its JSON
   envelope, the answer and its headers) vs a bare Flask route that only loads the body
   with SubmissionRequestSchema and answers 202. Requests per second, the median of N
   alternating rounds, and the ratio ours/bare. Target: 0.85 or more.
2. Over HTTP: `fleet up` in a subprocess on free loopback ports (moto, the API, every
   poller), and a load generator on loopback for a bounded time: wrk (Debian's) when it
   is installed, else a Python one (threads, keep-alive http.client). Requests per
   second, p50, p99 and errors, per round, and their medians.

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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.machine import describe_machine, free_port

ROOT = Path(__file__).resolve().parents[2]
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

    Not fleet.fakes.tables.FakeQueue, which also parses each body back and keeps every
    message: work and memory the SQS adapter does not spend.
    """

    def __init__(self) -> None:
        self.count = 0

    def send(self, message: Any) -> str:
        from events.schemas import dump_message

        dump_message(message)
        self.count += 1
        return str(self.count)


def our_app() -> Any:
    """Our app over in-memory ports, limits high enough never to refuse."""
    from events.models import Campaign
    from ingest_api import create_app
    from ingest_api.services import Services
    from fleet.fakes import fake_ports
    from fleet.fakes.tables import FakeCampaigns

    now = datetime.now(timezone.utc)
    campaign = Campaign(CAMPAIGN, "Bench", now - timedelta(days=1), now + timedelta(days=30), 1)
    services = Services(**fake_ports(submissions_queue=MemoryQueue(), campaigns=FakeCampaigns(campaign)))
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


def start_fleet(state_dir: str) -> tuple[subprocess.Popen, str]:
    """`fleet up` on free loopback ports; returns the process and the API's URL once ready."""
    aws_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "FLEET_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "FLEET_STATE_DIR": state_dir,
        # One client (127.0.0.1) sends everything: lift the per-client and per-campaign limits.
        "FLEET_RATE_PER_CLIENT": str(10**9),
        "FLEET_RATE_PER_CAMPAIGN": str(10**9),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet", "up", "--aws-port", str(aws_port), "--api-port", str(api_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    for line in process.stdout:
        if "fleet: ready" in line:
            break
        if time.monotonic() > deadline:
            break
    else:
        raise SystemExit("fleet up stopped before it was ready")
    # Keep reading its output so that the pipe never fills and blocks it.
    import threading

    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{api_port}"
    _create_campaign(env)
    return process, url


def _create_campaign(env: dict[str, str]) -> None:
    now = datetime.now(timezone.utc)
    subprocess.run(
        [
            sys.executable, "-m", "fleet", "campaigns", "create", CAMPAIGN, "--name", "Bench",
            "--opens", (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--closes", (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--max-entries-per-email", "100",
        ],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )


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
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script.name,
             f"{url}/v1/campaigns/{CAMPAIGN}/submissions"],
            capture_output=True, text=True, timeout=seconds + 30, check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    total, duration, p50, p99, errors = line.split()[1:]
    return {"rps": int(total) / float(duration), "p50": float(p50), "p99": float(p99), "errors": int(errors),
            "requests": int(total)}


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
                conn.request("POST", f"/v1/campaigns/{CAMPAIGN}/submissions", body=data, headers={
                    "Content-Type": "application/json", "Idempotency-Key": f"py-{uuid.uuid4()}"})
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
    return {"rps": len(latencies) / elapsed, "p50": pick(0.5), "p99": pick(0.99), "errors": errors[0],
            "requests": len(latencies)}


def over_http(repeats: int, seconds: int, connections: int) -> dict[str, float]:
    """Rounds of the load generator against `fleet up`; the medians."""
    generator = "wrk" if shutil.which("wrk") else "python"
    run_round = wrk_round if generator == "wrk" else python_round
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as state_dir:
        process, url = start_fleet(state_dir)
        try:
            run_round(url, 2, connections)  # warm-up: clients created, caches filled
            rounds = []
            for _ in range(repeats):
                rounds.append(run_round(url, seconds, connections))
                time.sleep(2)  # let the pollers take the queue back down between rounds
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    result = {k: statistics.median(r[k] for r in rounds) for k in ("rps", "p50", "p99", "errors")}
    print(f"over HTTP: fleet up (moto, API, pollers) on loopback; {generator}, {connections} connections, "
          f"{seconds} s a round, median of {repeats} rounds:")
    print(f"  {result['rps']:.0f} requests/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
          f"errors {result['errors']:.0f}")
    for r in rounds:
        print(f"    round: {r['requests']} requests, {r['rps']:.0f}/s, p50 {r['p50']:.1f} ms, "
              f"p99 {r['p99']:.1f} ms, errors {r['errors']}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000, help="POSTs per in-process round")
    parser.add_argument("--seconds", type=int, default=10, help="length of each HTTP round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args(argv)
    print(describe_machine())
    in_process(args.repeats, args.requests)
    if not args.skip_http:
        over_http(3, args.seconds, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
