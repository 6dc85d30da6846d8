"""`python -m fleet`: the same command line as the `fleet` console script."""

from fleet.cli import main

main()
