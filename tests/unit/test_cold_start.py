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


@pytest.mark.parametrize(
    "module",
    ["fleet.entry", "workers.thumbnails", "workers.submissions", "workers.users", "workers.welcome", "workers.confirmations"],
)
def test_importing_a_worker_entry_point_imports_no_flask_and_makes_no_client(module):
    done = subprocess.run([sys.executable, "-c", CHECK.format(module=module)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
