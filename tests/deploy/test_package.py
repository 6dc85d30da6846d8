"""`zappa package` for both stages, offline, and the packaged handlers fed events/samples.

Each zip is unzipped and run in a fresh `python -S` (no site-packages: only the zip's
contents can be imported) against moto's server, provisioned for the stage `prod`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fleet.packages import HOST_PACKAGE, LAMBDA_PACKAGES
from tests.deploy.conftest import STAGE, dummy_aws_env


def test_the_zips_leave_dev_packages_out_and_keep_botocores_models(packages):
    for zappa_stage, (_zip_path, folder) in packages.items():
        for left_out in ("moto", "pytest", "_pytest", "playwright", "pyvips", "tests", "bench"):
            assert not (folder / left_out).exists(), f"{left_out} is in the {zappa_stage} zip"
        assert list((folder / "botocore" / "data" / "sqs").glob("*/service-2.json.gz"))
        assert (folder / "zappa_settings.py").exists() and (folder / "handler.py").exists()


def test_the_zips_hold_no_host_code_and_every_lambda_package(packages):
    # The host (the `fleet` command, the local runtime, the edge, provisioning) never runs on Lambda.
    for zappa_stage, (zip_path, _folder) in packages.items():
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
        host = sorted(n for n in names if n.split("/", 1)[0] == HOST_PACKAGE)
        assert host == [], f"the {zappa_stage} zip holds host code: {host[:5]}"
        for package in LAMBDA_PACKAGES:
            assert f"{package}/__init__.py" in names, f"{package} is not in the {zappa_stage} zip"
        unzipped = sum(info.file_size for info in zipfile.ZipFile(zip_path).infolist())
        print(f"{zappa_stage}: {zip_path.stat().st_size / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped")
        assert unzipped < 250e6, "Lambda refuses a function over 250 MB unzipped"


# Imports an entry point with its sources present and lists every module compiled from source.
COMPILED_FROM_SOURCE = """
import importlib._bootstrap_external as external, json, sys
compiled = []
original = external.SourceLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return original(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = source_to_code
sys.path.insert(0, ".")
for module in sys.argv[1:]:
    __import__(module)
print(json.dumps(compiled))
"""


@pytest.mark.parametrize(
    ("zappa_stage", "modules"),
    [
        ("api", ["handler", "ingest_api.wsgi"]),
        ("workers", ["handler", "lambda_platform.entry", "workers.thumbnails", "workers.welcome"]),
    ],
)
def test_the_packaged_entry_points_are_imported_from_bytecode(packages, zappa_stage, modules):
    # /var/task is read-only: a module the zip has no bytecode for is compiled on every cold start.
    _, folder = packages[zappa_stage]
    done = subprocess.run(
        [sys.executable, "-S", "-c", COMPILED_FROM_SOURCE, *modules],
        cwd=folder,
        env={**dummy_aws_env("http://127.0.0.1:9"), "PYTHONPATH": str(folder), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


RUN_WORKERS = """
import json, sys
sys.path.insert(0, ".")
from lambda_platform.entry import lambda_handler

class Context:  # what Lambda passes, as far as Powertools reads it
    function_name = "fleet-prod-workers"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fleet-prod-workers"
    aws_request_id = "packaged-test"
    def get_remaining_time_in_millis(self):
        return 60000

answers = {}
for name, event in json.load(sys.stdin).items():
    answers[name] = lambda_handler(event, Context())
assert "flask" not in sys.modules, "the workers imported Flask"
print(json.dumps(answers))
"""

RUN_API = """
import json, sys
sys.path.insert(0, ".")
from handler import lambda_handler
answer = lambda_handler(json.load(sys.stdin), None)
print(json.dumps({"statusCode": answer["statusCode"], "body": answer["body"]}))
"""


def _run(folder: Path, script: str, payload, endpoint_url: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=folder,
        env={**dummy_aws_env(endpoint_url), "PYTHONPATH": str(folder)},
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prod(sample: str):
    from events.sample_payloads import load_sample

    return json.loads(json.dumps(load_sample(sample)).replace("fleet-local-", f"fleet-{STAGE}-"))


def test_the_packaged_workers_entry_answers_every_sample(packages, prod_stage):
    _, folder = packages["workers"]
    events = {name: _prod(name) for name in ("sqs_batch", "pipes_sqs", "s3_via_sqs", "dynamodb_stream_insert")}
    answers = _run(folder, RUN_WORKERS, events, prod_stage.endpoint_url)
    # Entries of an open campaign are stored; the stream INSERT sends its confirmation.
    assert answers["sqs_batch"] == {"batchItemFailures": []}
    assert answers["pipes_sqs"] == {"batchItemFailures": []}
    assert answers["dynamodb_stream_insert"] == {"batchItemFailures": []}
    # An S3 notice for an upload nobody asked for is skipped, not failed.
    assert answers["s3_via_sqs"] == {"batchItemFailures": []}

    from lambda_platform.adapters.tables import DynamoSubmissions

    stored = {json.loads(r["body"])["body"]["submission_id"] for r in events["sqs_batch"]["Records"]}
    assert DynamoSubmissions().existing(stored) == stored


def test_the_packaged_workers_entry_fails_an_unroutable_event(packages, prod_stage):
    _, folder = packages["workers"]
    with pytest.raises(AssertionError, match="UnroutableEvent"):
        _run(
            folder,
            RUN_WORKERS,
            {"stray": _prod("sqs_batch") | {"Records": [{"eventSource": "aws:kinesis"}]}},
            prod_stage.endpoint_url,
        )


def test_the_packaged_api_answers_an_api_gateway_request(packages, prod_stage):
    _, folder = packages["api"]
    health = _prod("apigw_request") | {"path": "/health", "httpMethod": "GET", "body": None}
    answer = _run(folder, RUN_API, health, prod_stage.endpoint_url)
    assert answer["statusCode"] == 200
    answer = _run(folder, RUN_API, _prod("apigw_request"), prod_stage.endpoint_url)
    assert answer["statusCode"] < 500, answer
    assert "error" in json.loads(answer["body"]) or answer["statusCode"] == 202
