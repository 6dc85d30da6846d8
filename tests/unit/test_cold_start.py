"""Entry points import nothing heavy and create no AWS client at import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
import {module}
assert "flask" not in sys.modules, "flask imported"
import fleet.aws
assert fleet.aws._client.cache_info().currsize == 0, "an AWS client was created"
assert "boto3" not in sys.modules, "boto3 imported"
"""


def worker_modules() -> list[str]:
    """The entry point and the module of every function in the topology."""
    from events.topology import TOPOLOGY

    return ["fleet.entry"] + sorted({f.handler.rpartition(".")[0] for f in TOPOLOGY.functions})


def test_every_function_of_the_topology_is_checked():
    for module in ("workers.thumbnails", "workers.blog", "workers.comment_notifications"):
        assert module in worker_modules()


@pytest.mark.parametrize("module", worker_modules())
def test_importing_a_worker_entry_point_imports_no_flask_and_makes_no_client(module):
    done = subprocess.run([sys.executable, "-c", CHECK.format(module=module)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


API_CHECK = """
import sys
import ingest_api.wsgi
assert "boto3" not in sys.modules and "botocore" not in sys.modules, "boto3 imported"
import fleet.aws
assert fleet.aws._client.cache_info().currsize == 0, "an AWS client was created"
"""


def test_importing_the_api_entry_point_imports_no_boto3_and_makes_no_client():
    done = subprocess.run([sys.executable, "-c", API_CHECK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
