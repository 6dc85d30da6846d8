"""Run Zappa's command line without its PyPI version check (the tests touch loopback only)."""

from __future__ import annotations

import sys

import zappa.cli

zappa.cli.check_new_version_available = lambda version: False

if __name__ == "__main__":
    sys.exit(zappa.cli.handle())
