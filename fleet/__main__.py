"""`python -m fleet`: the same command line as the `fleet` console script."""

from __future__ import annotations

from fleet.cli import main

main()
