"""A worker's cold start imports the adapters it uses and no other's (the composition root builds them lazily).

Each worker runs in a fresh interpreter, against a provisioned moto, on a real batch: the
thumbnail worker on an S3 notice, the confirmations worker on a stream INSERT of an entry
of a campaign that gives codes. What each process imported is read from `sys.modules`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC

RUN = """
import json, sys
import {module} as worker
from fleet.runtime.invoke import LocalContext
event = json.loads(sys.stdin.read())
answer = worker.handler(event, LocalContext("{function}", 512, "arn:aws:lambda:us-east-1:123456789012:function:fleet-local-workers", 30))
print(json.dumps({{"answer": answer, "modules": sorted(sys.modules)}}))
"""

#: What the thumbnail worker must not import, and what it must.
THUMBNAILS_NEVER = {
    "lambda_platform.adapters.codes",
    "lambda_platform.adapters.mail",
    "lambda_platform.idempotency",
    "campaigns.codes",
    "aws_lambda_powertools.utilities.idempotency",
}
#: What the confirmations worker must not import.
CONFIRMATIONS_NEVER = {
    "lambda_platform.adapters.objects",
    "workers.imaging",
    "PIL",
    "imagehash",
    "numpy",
    "campaigns.receipts",
}


def run_worker(module: str, function: str, event: dict, endpoint_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint_url, AWS_ACCESS_KEY_ID="fleet-test", AWS_SECRET_ACCESS_KEY="fleet-test", FLEET_STAGE="local"
    )
    done = subprocess.run(
        [sys.executable, "-c", RUN.format(module=module, function=function)],
        input=json.dumps(event),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["answer"] == {"batchItemFailures": []}, done.stdout[-3000:]
    return found


def test_the_thumbnail_worker_imports_no_mail_and_no_codes(provisioned):
    from events.sample_payloads import load_sample

    done = run_worker("workers.thumbnails", "thumbnails", load_sample("s3_via_sqs"), provisioned.endpoint_url)
    assert done["answer"] == {"batchItemFailures": []}
    modules = set(done["modules"])
    assert "lambda_platform.adapters.objects" in modules and "lambda_platform.adapters.uploads" in modules
    assert not THUMBNAILS_NEVER & modules, sorted(THUMBNAILS_NEVER & modules)


def test_the_confirmations_worker_imports_no_s3_objects_and_no_imaging(provisioned):
    from datetime import datetime, timedelta

    from events.models import Campaign
    from events.sample_payloads import load_sample
    from lambda_platform.composition import ports

    now = datetime.now(UTC)
    event = load_sample("dynamodb_stream_insert")
    image = event["Records"][0]["dynamodb"]["NewImage"]
    campaign_id = image["campaign_id"]["S"]
    ports().campaigns.put(Campaign(campaign_id, "Codes", now - timedelta(days=1), now + timedelta(days=1), gives_codes=True))
    # The entry as the submissions worker stored it: waitlisting it is a conditional write on it.
    ports().submissions.put_many([{k: next(iter(v.values())) for k, v in image.items()}])
    done = run_worker("workers.confirmations", "confirmations", event, provisioned.endpoint_url)
    assert done["answer"] == {"batchItemFailures": []}
    modules = set(done["modules"])
    # It mailed the entry and gave it a place on the (empty) pool's waitlist.
    assert {"lambda_platform.adapters.mail", "lambda_platform.adapters.codes", "campaigns.codes"} <= modules
    assert not CONFIRMATIONS_NEVER & modules, sorted(CONFIRMATIONS_NEVER & modules)
