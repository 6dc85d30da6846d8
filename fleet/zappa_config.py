"""`zappa_settings.json`, rendered from the topology: one Zappa stage per deploy unit.

Zappa names each Lambda function `{project_name}-{zappa stage}`; with the project named
`fleet-{stage}` and a Zappa stage per deploy unit (`api`, `workers`), they are
`fleet-{stage}-api` and `fleet-{stage}-workers`, the units' physical names, so `fleet wire`
and `fleet provision` find them without being told.
"""

from __future__ import annotations

import json
from typing import Any

from events.topology import TOPOLOGY, DeployUnit, Topology, physical_name, project_name
from fleet.packages import HOST_PACKAGE

#: The stage the checked-in `zappa_settings.json` deploys.
DEFAULT_STAGE = "prod"
RUNTIME = "python3.11"

#: Left out of both zips. Zappa matches these against every file and folder *name* in the
#: project and in site-packages (shutil.ignore_patterns), so a package is dropped by its
#: folder name. Never "*.gz": botocore's service models are gzipped JSON.
EXCLUDE = [
    # ours, not needed at run time
    "tests",
    "bench",
    ".ci",
    ".pytest_cache",
    ".hypothesis",
    # make lint's caches (mypy's is ~50 MB)
    ".mypy_cache",
    ".ruff_cache",
    "test-artifacts",
    "fleet.egg-info",
    "zappa_settings.json",
    "*.pyc",
    # dev and bench-only packages (requirements-dev.txt, requirements-bench.txt) and their
    # largest dependencies
    "moto",
    "gunicorn",
    "watchfiles",
    # the local edge's HTTP cache (fleet.edge; CloudFront is the edge on AWS)
    "hishel",
    "msgpack",
    "playwright",
    "greenlet",
    "pytest",
    "_pytest",
    "pyvips",
    "pyvips_binary",
    "pyvips_binary.libs",
    "cfnlint",
    "sympy",
    "mpmath",
    "networkx",
    "graphql",
    "docker",
    "hypothesis",
    "_hypothesis*",
    "schemathesis",
    "pip",
    # the type checker (make lint) and its compiled runtime: 60 MB the zips cannot hold
    "mypy",
    "mypy-*",
    "mypyc",
    "*__mypyc.*",
    "librt",
    "librt-*",
    "ast_serialize",
    "ast_serialize-*",
    "pathspec",
    "pathspec-*",
    "ruff-*",
    # the IAM policy linter of the tests
    "parliament",
    "parliament-*",
    "jsoncfg",
    "json_cfg-*",
    "kwonly_args",
    "kwonly_args-*",
    # imagehash's optional back ends (phash, whash), never imported: 150 MB the zips cannot hold
    "scipy",
    "scipy.libs",
    "pywt",
    # the editable install's path hook points at this checkout, not at the zip
    "__editable__*",
]


#: Left out of both zips by their path from the project's root (Zappa's `exclude_glob`), where
#: a bare name would also drop a library's folder of that name (botocore has a `docs`).
EXCLUDE_PATHS = [
    # the host (the `fleet` command, the local runtime, the edge, provisioning) never runs on Lambda
    HOST_PACKAGE,
    # the docs' sources and every build's output (`make docs` writes build/docs)
    "docs",
    "build",
]


def render(stage: str = DEFAULT_STAGE, topology: Topology = TOPOLOGY, region: str = "us-east-1") -> dict[str, Any]:
    """The Zappa settings of a Fleet stage, as a dict of Zappa stages."""
    common: dict[str, Any] = {
        "project_name": project_name(stage),
        "runtime": RUNTIME,
        "aws_region": region,
        "s3_bucket": physical_name(stage, topology.deploy_bucket),
        "keep_warm": False,
        # Our venv holds manylinux wheels already; Zappa would otherwise fetch them again.
        "use_precompiled_packages": False,
        "exclude": EXCLUDE,
        "exclude_glob": EXCLUDE_PATHS,
        "environment_variables": {"FLEET_STAGE": stage},
        "callbacks": {
            # Each zip gets its modules' bytecode: Zappa leaves __pycache__ out, and /var/task
            # is read-only, so a cold start would compile every module it imports.
            "zip": "fleet.bytecode.zappa_zip_callback",
            # After each deploy or update: mappings, the pipe, the S3 notification, the usage plan.
            "post": "fleet.wire.zappa_post_deploy",
        },
    }
    return {
        topology.api.name: {**common, **_unit(topology.api, topology), **_role(stage, topology.api), **_api_edge(topology)},
        topology.workers.name: {
            **common,
            "apigateway_enabled": False,
            **_unit(topology.workers, topology),
            **_role(stage, topology.workers),
        },
    }


def _role(stage: str, unit: DeployUnit) -> dict[str, Any]:
    # Zappa's own role grants s3:*, sqs:*, dynamodb:* on every resource and no SES: each
    # function runs as the role `fleet provision` renders from the topology (`fleet iam`).
    return {"manage_roles": False, "role_name": physical_name(stage, unit.name)}


def _unit(unit: DeployUnit, topology: Topology) -> dict[str, Any]:
    entry = {"app_function": unit.app_function} if unit.app_function else {"lambda_handler": unit.lambda_handler}
    # The workers unit runs every Function: it needs the most that any of them needs.
    return {
        **entry,
        "memory_size": unit.memory_mb or max(f.memory_mb for f in topology.functions),
        "timeout_seconds": unit.timeout_seconds or max(f.timeout_seconds for f in topology.functions),
    }


def _api_edge(topology: Topology) -> dict[str, Any]:
    edge = topology.api_edge
    # Zappa creates each deployment with these, so a `zappa update` keeps the stage cache
    # `fleet wire` set; its TTL goes on every method (`*/*`): 0, so only the GETs that
    # `fleet wire` names are ever cached.
    return {
        "endpoint_configuration": [edge.endpoint_type],
        "cache_cluster_enabled": bool(edge.cached_gets),
        "cache_cluster_size": float(edge.cache_size_gb),
        "cache_cluster_encrypted": edge.cache_encrypted,
        "cache_cluster_ttl": 0,
    }


def render_json(stage: str = DEFAULT_STAGE, topology: Topology = TOPOLOGY) -> str:
    """The rendering as the text of `zappa_settings.json`."""
    return json.dumps(render(stage, topology), indent=4) + "\n"
