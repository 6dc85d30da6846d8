"""Cold start of each entry point: import plus first event, in fresh processes, against a floor.

    make bench-coldstart        (or: .venv/bin/python -m bench.coldstart [--repeats N])

It starts moto's server on a free loopback port, provisions the `local` stage into it and
stores the samples' campaign. Then, for each case, it runs N fresh Python processes; each
times, from its first line, the imports and the first event (the process start itself is
the same for every case and left out):

- floor: `import boto3, flask, marshmallow` and nothing else;
- api: `ingest_api.wsgi` (the app Zappa serves) answering the API Gateway sample, turned
  into a WSGI request by Zappa's own `create_wsgi_request`, as Zappa's handler does;
- workers/*: `fleet.entry.lambda_handler` with one sample each (an SQS batch, a Pipes
  array, an S3 notice through SQS, a stream INSERT).

It prints the median of each case and its ratio to the floor measured in the same run.
It asserts nothing and exits 0: a benchmark, not a test. Target: the API within 1.25x.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARK = "COLDSTART "

FLOOR = """
import time
t0 = time.perf_counter()
import boto3, flask, marshmallow
print("COLDSTART", time.perf_counter() - t0)
"""

API = """
import json, sys, time
t0 = time.perf_counter()
from zappa.wsgi import create_wsgi_request
from ingest_api.wsgi import app
event = json.loads(sys.argv[1])
environ = create_wsgi_request(event, trailing_slash=False)
status = []
body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
elapsed = time.perf_counter() - t0
assert int(status[0].split()[0]) < 500, (status, body)
print("COLDSTART", elapsed)
"""

WORKERS = """
import json, sys, time
t0 = time.perf_counter()
from fleet.entry import lambda_handler

class Context:
    function_name = "fleet-local-workers"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers"
    aws_request_id = "coldstart"
    def get_remaining_time_in_millis(self):
        return 60000

answer = lambda_handler(json.loads(sys.argv[1]), Context())
elapsed = time.perf_counter() - t0
assert answer == {"batchItemFailures": []}, answer
assert "flask" not in sys.modules
print("COLDSTART", elapsed)
"""

WORKER_SAMPLES = ("sqs_batch", "pipes_sqs", "s3_via_sqs", "dynamodb_stream_insert")


def free_port() -> int:
    """A TCP port that nothing listens on now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(endpoint_url: str) -> dict[str, str]:
    """Provision the local stage into moto, store the samples' campaign; the children's env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLEET_"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_ACCESS_KEY_ID="fleet-bench",
        AWS_SECRET_ACCESS_KEY="fleet-bench",
        AWS_DEFAULT_REGION="us-east-1",
        FLEET_STAGE="local",
        PYTHONPATH=str(ROOT),
    )
    os.environ.update({k: env[k] for k in env if k.startswith(("AWS_", "FLEET_"))})
    from events.models import Campaign
    from fleet.adapters.tables import DynamoCampaigns
    from fleet.provision import provision

    provision()
    now = datetime.now(timezone.utc)
    DynamoCampaigns().put(Campaign("summer", "Summer", now - timedelta(days=1), now + timedelta(days=7), 5))
    return env


def once(script: str, argument: str, env: dict[str, str]) -> float:
    """One fresh process: its own measure of import plus first event, in seconds."""
    done = subprocess.run(
        [sys.executable, "-c", script, argument], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith(MARK))
    return float(line[len(MARK) :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per case (default 7)")
    args = parser.parse_args()

    from events.sample_payloads import load_sample
    from fleet.runtime.local import EmbeddedAws

    server = EmbeddedAws(port=free_port())
    server.start()
    try:
        env = prepare(server.endpoint_url)
        cases = [("floor (boto3, flask, marshmallow)", FLOOR, ""), ("api (Zappa WSGI request)", API, json.dumps(load_sample("apigw_request")))]
        cases += [(f"workers ({name})", WORKERS, json.dumps(load_sample(name))) for name in WORKER_SAMPLES]
        times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        # Interleaved rounds, so that a slow spell of the machine falls on every case alike.
        for _ in range(args.repeats):
            for name, script, argument in cases:
                times[name].append(once(script, argument, env))
    finally:
        server.stop()

    floor = statistics.median(times[cases[0][0]])
    print(f"cold start: import + first event, median of {args.repeats} fresh processes each")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"{'case':<36} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'x floor':>8}")
    for name, _, _ in cases:
        median = statistics.median(times[name])
        print(
            f"{name:<36} {median * 1000:>10.0f} {min(times[name]) * 1000:>8.0f} "
            f"{max(times[name]) * 1000:>8.0f} {median / floor:>8.2f}"
        )
    print("target: the API within 1.25x the floor")


if __name__ == "__main__":
    main()
