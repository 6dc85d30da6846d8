"""Entry points import nothing heavy and create no AWS client at import time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import workers

CHECK = """
import sys
import {module}
assert "flask" not in sys.modules, "flask imported"
import lambda_platform.aws
assert lambda_platform.aws._client.cache_info().currsize == 0, "an AWS client was created"
assert "boto3" not in sys.modules, "boto3 imported"
"""


def worker_modules() -> list[str]:
    """The entry point and the module of every function in the topology."""
    from events.topology import TOPOLOGY

    return ["lambda_platform.entry", *sorted({f.handler.rpartition(".")[0] for f in TOPOLOGY.functions})]


def test_every_worker_module_with_a_handler_is_a_function_of_the_topology():
    """A handler the topology does not declare would escape the import check below (and AWS)."""
    folder = Path(workers.__file__).parent
    with_handler = {
        f"workers.{path.stem}"
        for path in folder.glob("*.py")
        if re.search(r"^(def handler\(|handler = )", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert with_handler, "no worker module defines a handler"
    assert with_handler <= set(worker_modules()), sorted(with_handler - set(worker_modules()))


@pytest.mark.parametrize("module", worker_modules())
def test_importing_a_worker_entry_point_imports_no_flask_and_makes_no_client(module):
    done = subprocess.run([sys.executable, "-c", CHECK.format(module=module)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


API_CHECK = """
import sys
import ingest_api.wsgi
assert "boto3" not in sys.modules and "botocore" not in sys.modules, "boto3 imported"
import lambda_platform.aws
assert lambda_platform.aws._client.cache_info().currsize == 0, "an AWS client was created"
"""


def test_importing_the_api_entry_point_imports_no_boto3_and_makes_no_client():
    done = subprocess.run([sys.executable, "-c", API_CHECK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
