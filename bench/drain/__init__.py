"""The end-to-end drain benchmark: `make bench-drain`."""
