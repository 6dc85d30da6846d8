"""Cold start of each entry point: import plus first event, in fresh processes, against a floor.

    make bench-coldstart        (or: .venv/bin/python -m bench.coldstart [--repeats N])

It starts moto's server on a free loopback port, provisions the `local` stage into it and
stores the samples' campaign. Our packages are compiled to bytecode first, as
site-packages was by pip and as the Lambda zip is by `fleet.bytecode`: a cold start on
Lambda reads bytecode, and without it this machine (PYTHONDONTWRITEBYTECODE) would time
the compiler. Then, for each case, it runs N fresh Python processes; each times, from its
first line, the imports and the first event (the process start itself is the same for
every case and left out):

- floor: `import boto3, flask, marshmallow` and nothing else;
- floor + the API's AWS calls: the floor, then a boto3 session and the very calls the
  API's first request makes (recorded from one run of it), made directly: what any
  handler doing this request's AWS work pays, however thin;
- api: `ingest_api.wsgi` (the app Zappa serves) answering the API Gateway sample, turned
  into a WSGI request by Zappa's own `create_wsgi_request`, as Zappa's handler does;
- workers/*: `lambda_platform.entry.lambda_handler` with one sample each (an SQS batch, a Pipes
  array, an S3 notice through SQS, a stream INSERT).

It prints the median of each case and its ratios to the floor and to the floor with the
AWS calls, measured in the same run. It asserts nothing and exits 0: a benchmark, not a
test. Target: the API within 1.25x the floor.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.machine import describe_machine, free_port

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
assert status[0].startswith("202"), (status, body)  # a new submission, queued: the whole path
print("COLDSTART", elapsed)
"""

# The API's first event once, recording every AWS call it makes (service, operation, params).
RECORD_API_CALLS = """
import json, sys
import botocore.client
calls = []
original = botocore.client.BaseClient._make_api_call
def record(self, operation, params):
    calls.append([self.meta.service_model.service_name, operation, params])
    return original(self, operation, params)
botocore.client.BaseClient._make_api_call = record
from zappa.wsgi import create_wsgi_request
from ingest_api.wsgi import app
environ = create_wsgi_request(json.loads(sys.argv[1]), trailing_slash=False)
b"".join(app(environ, lambda s, h, e=None: None))
print("CALLS", json.dumps(calls))
"""

FLOOR_AND_CALLS = """
import json, sys, time
t0 = time.perf_counter()
import boto3, flask, marshmallow
from botocore import xform_name
from botocore.exceptions import ClientError
session = boto3.session.Session()
clients = {}
for service, operation, params in json.loads(sys.argv[1]):
    if service not in clients:
        clients[service] = session.client(service)
    try:
        getattr(clients[service], xform_name(operation))(**params)
    except ClientError:
        pass  # a condition that fails (a key already recorded) is an answer as the API gets it
print("COLDSTART", time.perf_counter() - t0)
"""

WORKERS = """
import json, sys, time
t0 = time.perf_counter()
from lambda_platform.entry import lambda_handler

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
    from fleet.provision import provision
    from lambda_platform.adapters.tables import DynamoCampaigns

    provision()
    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("summer", "Summer", now - timedelta(days=1), now + timedelta(days=7), 5))
    return env


def new_visitor(sample: dict[str, Any]) -> str:
    """The API Gateway sample from another address with another Idempotency-Key, as JSON.

    Each cold start then answers a new submission (queued, six AWS calls), never a replay,
    and no visitor's rate limit fills however many repeats are asked for.
    """
    event = json.loads(json.dumps(sample))
    key, address = str(uuid.uuid4()), f"198.51.100.{random.randrange(1, 255)}"
    event["headers"].update({"Idempotency-Key": key, "X-Forwarded-For": address})
    event["multiValueHeaders"].update({"Idempotency-Key": [key], "X-Forwarded-For": [address]})
    event["requestContext"]["identity"]["sourceIp"] = address
    return json.dumps(event)


def compile_our_packages() -> None:
    """Bytecode for our packages, as the Lambda zip carries it (site-packages has it from pip)."""
    import compileall

    for package in ("events", "fleet", "ingest_api", "workers"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def marked(script: str, argument: str, env: dict[str, str], mark: str) -> str:
    """Run `script` in a fresh process; what follows `mark` on the last line that starts with it."""
    done = subprocess.run(
        [sys.executable, "-c", script, argument], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return next(line for line in reversed(done.stdout.splitlines()) if line.startswith(mark))[len(mark) :]


def record_api_calls(event: str, env: dict[str, str]) -> str:
    """The AWS calls the API's first request makes for `event`, as JSON."""
    return marked(RECORD_API_CALLS, event, env, "CALLS ")


def once(script: str, argument: str, env: dict[str, str]) -> float:
    """One fresh process: its own measure of import plus first event, in seconds."""
    return float(marked(script, argument, env, MARK))


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per case (default 7)")
    args = parser.parse_args()

    from events.sample_payloads import load_sample
    from fleet.runtime.local import EmbeddedAws

    compile_our_packages()
    server = EmbeddedAws(port=free_port())
    server.start()
    try:
        env = prepare(server.endpoint_url)
        sample = load_sample("apigw_request")
        calls = record_api_calls(new_visitor(sample), env)
        cases: list[tuple[str, str, Callable[[], str]]] = [
            ("floor (boto3, flask, marshmallow)", FLOOR, lambda: ""),
            (f"floor + the API's {len(json.loads(calls))} AWS calls", FLOOR_AND_CALLS, lambda: calls),
            ("api (Zappa WSGI request)", API, lambda: new_visitor(sample)),
        ]
        for name in WORKER_SAMPLES:
            cases.append((f"workers ({name})", WORKERS, functools.partial(json.dumps, load_sample(name))))
        times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        # Interleaved rounds, so that a slow spell of the machine falls on every case alike.
        for _ in range(args.repeats):
            for name, script, argument in cases:
                times[name].append(once(script, argument(), env))
    finally:
        server.stop()

    floor = statistics.median(times[cases[0][0]])
    with_calls = statistics.median(times[cases[1][0]])
    print(f"cold start: import + first event, median of {args.repeats} fresh processes each")
    print(describe_machine())
    print(f"{'case':<40} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'x floor':>8} {'x floor+calls':>14}")
    for name, _, _ in cases:
        median = statistics.median(times[name])
        print(
            f"{name:<40} {median * 1000:>10.0f} {min(times[name]) * 1000:>8.0f} "
            f"{max(times[name]) * 1000:>8.0f} {median / floor:>8.2f} {median / with_calls:>14.2f}"
        )
    print("target: the API within 1.25x the floor")


if __name__ == "__main__":
    main()
