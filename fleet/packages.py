"""Fleet's top-level packages by floor: what runs on Lambda, and what runs on this machine.

Each imports only those before it in `LAMBDA_PACKAGES` (the apps, `ingest_api` and
`workers`, not each other), and the host imports them all: `tests/unit/test_layers.py`
holds the tree to it.
"""

from __future__ import annotations

#: The contract, the platform, the campaign rules and the two apps: the Lambda zips' code.
LAMBDA_PACKAGES = ("events", "lambda_platform", "campaigns", "ingest_api", "workers")
#: The operator's machine: the `fleet` command, the local runtime, the edge, provisioning.
HOST_PACKAGE = "fleet"
#: Every package of ours, bottom floor first.
PACKAGES = (*LAMBDA_PACKAGES, HOST_PACKAGE)
